// `hoga admin reseal-api-keys --rotate` (issue 18): a new server key, every secret re-sealed under
// it, the old key file gone, and the keys still sign after a restart; refused while the exchange runs.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { resealApiKeys } from '../../src/cli/reseal-api-keys.js';
import { startExchange } from '../../src/main.js';
import { createKey, SignedClient } from '../binance/support/signed.js';
import { Api, startTestExchange, type TestExchange } from '../gateway/support/exchange.js';

describe('hoga admin reseal-api-keys', () => {
  let test: TestExchange;

  before(async () => {
    test = await startTestExchange();
  });
  after(async () => test.close());

  it('rotates the server key and keeps every key working', async () => {
    await test.api.register('rotator');
    const token = await test.api.login('rotator');
    const keys = [
      await createKey(test.api, token, { label: 'a' }),
      await createKey(test.api, token, { label: 'b' }),
    ];
    await assert.rejects(resealApiKeys({ dataDir: test.dataDir, rotate: true }), /Stop the exchange/);

    const keyFile = join(test.dataDir, 'api-key-secret.key');
    const before = readFileSync(keyFile, 'utf8');
    await test.exchange.close();
    const report = await resealApiKeys({ dataDir: test.dataDir, rotate: true });
    assert.equal(report.resealed, 2);
    assert.deepEqual(report.unreadable, []);
    assert.notEqual(readFileSync(keyFile, 'utf8'), before);
    assert.equal(existsSync(join(test.dataDir, 'api-key-secret.key.previous')), false);
    // A second run finds everything current.
    assert.equal((await resealApiKeys({ dataDir: test.dataDir })).alreadyCurrent, 2);

    test.exchange = await startExchange({ ...test.config, port: 0 }, { logger: pino({ level: 'silent' }) });
    test.api = new Api(test.exchange.url);
    for (const key of keys) {
      const reply = await new SignedClient(test.exchange.url, key).call('GET', '/api/v3/account');
      assert.equal(reply.status, 200, JSON.stringify(reply.body));
    }
  });
});
