// API keys over REST (issue 18): create (secret shown once), list, revoke, the per-user bound,
// input checks, audit lines, and that keys are not sessions (logout-all leaves them). Signed use of
// a key is in test/binance/private-rest.test.ts.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createKey, SignedClient } from '../binance/support/signed.js';
import { startTestExchange, type TestExchange } from './support/exchange.js';

describe('API keys', () => {
  let test: TestExchange;
  let token: string;
  let otherToken: string;

  before(async () => {
    test = await startTestExchange((config) => {
      config.gateway.apiKeys.perUserMax = 3;
    });
    await test.api.register('keyowner');
    await test.api.register('stranger');
    token = await test.api.login('keyowner');
    otherToken = await test.api.login('stranger');
  });
  after(async () => test.close());

  it('creates a key whose secret is shown once and never listed', async () => {
    const created = await createKey(test.api, token, { label: 'bot', permissions: ['trade', 'read'] });
    assert.match(created.keyId, /^[0-9a-f]{64}$/);
    assert.match(created.secret, /^[0-9a-f]{64}$/);
    assert.deepEqual(created.body.permissions, ['read', 'trade']);
    assert.deepEqual(created.body.ipAllowlist, []);
    const listed = await test.api.expect(200, 'GET', '/api/v1/api-keys', undefined, token);
    const mine = listed.find((key: any) => key.keyId === created.keyId);
    assert.equal(mine.label, 'bot');
    assert.equal(mine.secret, undefined);
    assert.ok(!JSON.stringify(listed).includes(created.secret));
    // Another user sees none of them.
    assert.deepEqual(await test.api.expect(200, 'GET', '/api/v1/api-keys', undefined, otherToken), []);
    await test.api.expect(200, 'DELETE', `/api/v1/api-keys/${created.keyId}`, undefined, token);
  });

  it('refuses bad labels, permissions and addresses with a field', async () => {
    const cases: Array<[unknown, string]> = [
      [{ label: '' }, 'label'],
      [{ label: 'a\u0001b' }, 'label'],
      [{ label: 'x', permissions: ['withdraw'] }, 'permissions/0'],
      [{ label: 'x', permissions: [] }, 'permissions'],
      [{ label: 'x', ipAllowlist: ['300.1.1.1'] }, 'ipAllowlist'],
      [{ label: 'x', ipAllowlist: ['10.0.0.0/33'] }, 'ipAllowlist'],
      [{ label: 'x', extra: 1 }, 'extra'],
    ];
    for (const [body, field] of cases) {
      const reply = await test.api.call('POST', '/api/v1/api-keys', body, token);
      assert.equal(reply.status, 400, JSON.stringify(body));
      assert.equal(reply.body.code, 'VALIDATION_FAILED');
      assert.equal(reply.body.field, field, JSON.stringify(reply.body));
    }
    assert.deepEqual(await test.api.expect(200, 'GET', '/api/v1/api-keys', undefined, token), []);
  });

  it('needs a session: no token, and an API key cannot manage keys', async () => {
    assert.equal((await test.api.call('GET', '/api/v1/api-keys')).status, 401);
    const key = await createKey(test.api, token);
    const viaKey = await new SignedClient(test.exchange.url, key).call('GET', '/api/v1/api-keys');
    assert.equal(viaKey.status, 403);
    assert.equal(viaKey.body.code, 'FORBIDDEN');
    // A key does authenticate native reads (query-signed), but not a request with a body.
    const balances = await new SignedClient(test.exchange.url, key).call('GET', '/api/v1/balances');
    assert.equal(balances.status, 200, JSON.stringify(balances.body));
    await test.api.expect(200, 'DELETE', `/api/v1/api-keys/${key.keyId}`, undefined, token);
  });

  it('bounds the keys per user and frees a place on revoke', async () => {
    const keys = [];
    for (let index = 0; index < 3; index += 1)
      keys.push(await createKey(test.api, token, { label: `k${index}` }));
    const refused = await test.api.call('POST', '/api/v1/api-keys', { label: 'one too many' }, token);
    assert.equal(refused.status, 409);
    assert.equal(refused.body.code, 'API_KEY_LIMIT');
    // Another user's revoke of my key is not found and changes nothing.
    const foreign = await test.api.call('DELETE', `/api/v1/api-keys/${keys[0].keyId}`, undefined, otherToken);
    assert.equal(foreign.status, 404);
    await test.api.expect(200, 'DELETE', `/api/v1/api-keys/${keys[0].keyId}`, undefined, token);
    assert.equal(
      (await test.api.call('DELETE', `/api/v1/api-keys/${keys[0].keyId}`, undefined, token)).status,
      404,
    );
    const replacement = await createKey(test.api, token, { label: 'replacement' });
    const listed = await test.api.expect(200, 'GET', '/api/v1/api-keys', undefined, token);
    assert.deepEqual(
      listed.map((key: any) => key.label),
      ['k1', 'k2', 'replacement'],
    );
    for (const key of [keys[1], keys[2], replacement])
      await test.api.expect(200, 'DELETE', `/api/v1/api-keys/${key.keyId}`, undefined, token);
  });

  it('outlives logout-all and is not counted as a session', async () => {
    const key = await createKey(test.api, token, { label: 'survivor' });
    const client = new SignedClient(test.exchange.url, key);
    assert.equal((await client.call('GET', '/api/v3/account')).status, 200);
    await test.api.expect(200, 'POST', '/api/v1/auth/logout-all', undefined, token);
    assert.equal((await client.call('GET', '/api/v3/account')).status, 200);
    token = await test.api.login('keyowner');
    const sessions = await test.api.expect(200, 'GET', '/api/v1/sessions', undefined, token);
    assert.equal(sessions.length, 1);
    const listed = await test.api.expect(200, 'GET', '/api/v1/api-keys', undefined, token);
    assert.deepEqual(
      listed.map((entry: any) => entry.keyId),
      [key.keyId],
    );
    await test.api.expect(200, 'DELETE', `/api/v1/api-keys/${key.keyId}`, undefined, token);
    const revoked = await client.call('GET', '/api/v3/account');
    assert.equal(revoked.status, 401);
    assert.equal(revoked.body.code, -2015);
  });

  it('survives a restart (sealed under the same server key file)', async () => {
    const key = await createKey(test.api, token, { label: 'durable' });
    await test.restart();
    const client = new SignedClient(test.exchange.url, key);
    assert.equal((await client.call('GET', '/api/v3/account')).status, 200);
    token = await test.api.login('keyowner');
    await test.api.expect(200, 'DELETE', `/api/v1/api-keys/${key.keyId}`, undefined, token);
  });
});
