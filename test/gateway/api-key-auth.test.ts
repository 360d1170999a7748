// Signed-request authentication without a server (issue 18): the parameter parser fuzzed with
// fast-check, every refusal's Binance code, replays, the window, and the sealed secrets.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { FastifyRequest } from 'fastify';
import { pino } from 'pino';
import {
  ApiKeyAuthError,
  type ApiKeyAuthServices,
  authenticateApiKey,
  parseSignedParams,
  ReplayGuard,
} from '../../src/gateway/api-key-auth.js';
import {
  loadSecretBox,
  parseSecretKey,
  SecretBox,
  secretLogRedaction,
} from '../../src/gateway/api-key-secrets.js';
import { ApiKeyService } from '../../src/gateway/api-keys.js';
import type { ApiKeyRecord, ApiKeyStore } from '../../src/store/ports.js';
import { sign } from '../binance/support/signed.js';

class MemoryApiKeyStore implements ApiKeyStore {
  readonly rows = new Map<string, ApiKeyRecord>();

  async createApiKey(record: ApiKeyRecord, perUserMax: number): Promise<boolean> {
    if ([...this.rows.values()].filter((row) => row.userId === record.userId).length >= perUserMax)
      return false;
    this.rows.set(record.keyId, record);
    return true;
  }
  async findApiKey(keyId: string) {
    return this.rows.get(keyId);
  }
  async listApiKeys(userId: number) {
    return [...this.rows.values()].filter((row) => row.userId === userId);
  }
  async deleteApiKey(userId: number, keyId: string) {
    return this.rows.get(keyId)?.userId === userId && this.rows.delete(keyId);
  }
  async apiKeySecretsAfter(afterKeyId: string, limit: number) {
    return [...this.rows.values()]
      .filter((row) => row.keyId > afterKeyId)
      .sort((left, right) => (left.keyId < right.keyId ? -1 : 1))
      .slice(0, limit)
      .map((row) => ({ keyId: row.keyId, secretCiphertext: row.secretCiphertext }));
  }
  async replaceApiKeySecret(keyId: string, from: string, to: string) {
    const row = this.rows.get(keyId);
    if (row === undefined || row.secretCiphertext !== from) return false;
    row.secretCiphertext = to;
    return true;
  }
}

const serverKey = Buffer.alloc(32, 7);

function setup(nowMs = 1_700_000_000_000) {
  const clock = { nowMs };
  const store = new MemoryApiKeyStore();
  const apiKeys = new ApiKeyService(
    store,
    new SecretBox(serverKey),
    { perUserMax: 5, cacheEntriesMax: 10, recheckMs: 1_000 },
    () => clock.nowMs,
  );
  const denied: string[] = [];
  const services: ApiKeyAuthServices = {
    apiKeys,
    replay: new ReplayGuard(1_000, () => clock.nowMs),
    clock: () => clock.nowMs,
    audit: pino({ level: 'silent' }),
    countAudit: (event) => denied.push(event),
  };
  return { clock, store, apiKeys, services, denied };
}

function request(
  url: string,
  headers: Record<string, string>,
  body?: string,
  ip = '127.0.0.1',
): FastifyRequest {
  return { url, headers, body, ip, id: 'req-1' } as unknown as FastifyRequest;
}

async function refusal(promise: Promise<unknown>): Promise<number> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof ApiKeyAuthError, String(error));
    return error.binance.code;
  }
  assert.fail('expected a refusal');
}

describe('parseSignedParams', () => {
  it('takes the signature out of the signed text wherever it is', () => {
    const parsed = parseSignedParams('symbol=BTCUSDT&signature=ab&timestamp=5', 'quantity=1');
    assert.equal(parsed.signature, 'ab');
    assert.equal(parsed.payload, 'symbol=BTCUSDT&timestamp=5quantity=1');
    assert.deepEqual(
      [...parsed.params],
      [
        ['symbol', 'BTCUSDT'],
        ['timestamp', '5'],
        ['quantity', '1'],
      ],
    );
  });

  it('refuses duplicates (also across query and body) and malformed names', () => {
    for (const [query, body, code] of [
      ['a=1&a=2', '', -1101],
      ['a=1', 'a=1', -1101],
      ['signature=1', 'signature=2', -1101],
      ['a%ZZ=1', '', -1100],
      ['a=%E0%A4%A', '', -1100],
      ['b-c=1', '', -1100],
      ['=1', '', -1100],
    ] as const) {
      assert.throws(
        () => parseSignedParams(query, body),
        (error: unknown) => error instanceof ApiKeyAuthError && error.binance.code === code,
        `${query} | ${body}`,
      );
    }
  });

  it('never throws anything but a refusal, whatever the input (fuzz)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), fc.string({ maxLength: 300 }), (query, body) => {
        try {
          const parsed = parseSignedParams(query, body);
          assert.ok(parsed.params.size <= 64);
          assert.ok(!parsed.params.has('signature'));
        } catch (error) {
          assert.ok(error instanceof ApiKeyAuthError, String(error));
        }
      }),
      { numRuns: 2_000 },
    );
  });

  it('reads back what a client encoded, and signs exactly the text it sent (fuzz)', () => {
    const name = fc.stringMatching(/^[A-Za-z0-9_]{1,20}$/).filter((text) => text !== 'signature');
    fc.assert(
      fc.property(
        fc.dictionary(name, fc.string({ maxLength: 40 }), { maxKeys: 20 }),
        fc.boolean(),
        (params, inBody) => {
          const text = new URLSearchParams(params).toString();
          const withSignature = `${text}${text === '' ? '' : '&'}signature=00`;
          const parsed = inBody ? parseSignedParams('', withSignature) : parseSignedParams(withSignature, '');
          assert.deepEqual([...parsed.params], Object.entries(params));
          assert.equal(parsed.payload, text);
          assert.equal(parsed.signature, '00');
        },
      ),
      { numRuns: 1_000 },
    );
  });
});

describe('authenticateApiKey', () => {
  async function withKey(permissions: Array<'read' | 'trade'> = ['read', 'trade'], ipAllowlist?: string[]) {
    const context = setup();
    const key = await context.apiKeys.create(42, { label: 'k', permissions, ipAllowlist });
    const signed = (text: string) => `${text}&signature=${sign(key.secret, text)}`;
    return { ...context, key, signed };
  }

  it('accepts a signed request once and names the user, key and permissions', async () => {
    const { key, services, clock, signed } = await withKey();
    const url = `/api/v3/account?${signed(`timestamp=${clock.nowMs}`)}`;
    const principal = await authenticateApiKey(request(url, { 'x-mbx-apikey': key.keyId }), services);
    assert.equal(principal.userId, 42);
    assert.equal(principal.via, 'apiKey');
    assert.equal(principal.keyId, key.keyId);
    assert.deepEqual([...principal.permissions], ['read', 'trade']);
    // The same signed request again is a replay.
    assert.equal(
      await refusal(authenticateApiKey(request(url, { 'x-mbx-apikey': key.keyId }), services)),
      -1021,
    );
  });

  it('signs query and form body together', async () => {
    const { key, services, clock } = await withKey();
    const queryText = 'symbol=BTCUSDT&side=BUY';
    const bodyText = `quantity=1&timestamp=${clock.nowMs}`;
    const body = `${bodyText}&signature=${sign(key.secret, queryText + bodyText)}`;
    const principal = await authenticateApiKey(
      request(`/api/v3/order?${queryText}`, { 'x-mbx-apikey': key.keyId }, body),
      services,
      { permission: 'trade' },
    );
    assert.equal(principal.userId, 42);
  });

  it('refuses with Binance codes and changes nothing', async () => {
    const { key, services, clock, signed, denied } = await withKey(['read'], ['10.1.0.0/16']);
    const now = clock.nowMs;
    const headers = { 'x-mbx-apikey': key.keyId };
    const from = '10.1.2.3';
    const cases: Array<[string, FastifyRequest, number]> = [
      ['no key', request(`/x?${signed(`timestamp=${now}`)}`, {}, undefined, from), -2014],
      [
        'malformed key',
        request(`/x?${signed(`timestamp=${now}`)}`, { 'x-mbx-apikey': 'abc' }, undefined, from),
        -2014,
      ],
      [
        'unknown key',
        request(`/x?${signed(`timestamp=${now}`)}`, { 'x-mbx-apikey': 'f'.repeat(64) }, undefined, from),
        -2015,
      ],
      ['address not allowed', request(`/x?${signed(`timestamp=${now}`)}`, headers), -2015],
      ['unsigned', request(`/x?timestamp=${now}`, headers, undefined, from), -1102],
      ['no timestamp', request(`/x?${signed('a=1')}`, headers, undefined, from), -1102],
      [
        'bad signature',
        request(`/x?timestamp=${now}&signature=${'0'.repeat(64)}`, headers, undefined, from),
        -1022,
      ],
      ['short signature', request(`/x?timestamp=${now}&signature=abc`, headers, undefined, from), -1022],
      ['too old', request(`/x?${signed(`timestamp=${now - 5_001}`)}`, headers, undefined, from), -1021],
      ['ahead', request(`/x?${signed(`timestamp=${now + 1_001}`)}`, headers, undefined, from), -1021],
      [
        'window too big',
        request(`/x?${signed(`timestamp=${now}&recvWindow=60001`)}`, headers, undefined, from),
        -1131,
      ],
    ];
    for (const [name, incoming, code] of cases)
      assert.equal(await refusal(authenticateApiKey(incoming, services)), code, name);
    // A read key may not trade.
    const trade = request(`/x?${signed(`timestamp=${now}&n=1`)}`, headers, undefined, '::ffff:10.1.9.9');
    assert.equal(await refusal(authenticateApiKey(trade, services, { permission: 'trade' })), -2015);
    // Within a larger window an older timestamp passes; the IPv4-mapped form of an allowed address too.
    const late = request(
      `/x?${signed(`timestamp=${now - 30_000}&recvWindow=60000`)}`,
      headers,
      undefined,
      '::ffff:10.1.9.9',
    );
    assert.equal((await authenticateApiKey(late, services)).userId, 42);
    assert.ok(denied.includes('apiKeyDenied'));
  });

  it('never accepts a request whose signed text was changed (fuzz)', async () => {
    const { key, services, clock } = await withKey();
    const text = `symbol=BTCUSDT&side=BUY&quantity=1.5&timestamp=${clock.nowMs}`;
    const signature = sign(key.secret, text);
    await fc.assert(
      fc.asyncProperty(
        fc.nat(text.length - 1),
        fc.string({ minLength: 1, maxLength: 1 }),
        async (at, replacement) => {
          const changed = text.slice(0, at) + replacement + text.slice(at + 1);
          fc.pre(changed !== text);
          const incoming = request(`/x?${changed}&signature=${signature}`, { 'x-mbx-apikey': key.keyId });
          await assert.rejects(authenticateApiKey(incoming, services), ApiKeyAuthError);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('drops a revoked key at once here and after the recheck time elsewhere', async () => {
    const { key, services, clock, signed, apiKeys, store } = await withKey();
    const revoked: string[] = [];
    apiKeys.onRevoked((keyId) => revoked.push(keyId));
    const ask = () =>
      authenticateApiKey(
        request(`/x?${signed(`timestamp=${clock.nowMs}&n=${Math.random()}`)}`, { 'x-mbx-apikey': key.keyId }),
        services,
      );
    assert.equal((await ask()).userId, 42);
    // Deleted behind this process's back (another gateway): cached until the recheck.
    store.rows.delete(key.keyId);
    assert.equal((await ask()).userId, 42);
    clock.nowMs += 1_000;
    assert.equal(await refusal(ask()), -2015);
    assert.deepEqual(revoked, [key.keyId]);
  });
});

describe('ReplayGuard', () => {
  it('forgets a signature only after every window has passed, and is bounded', () => {
    const clock = { nowMs: 0 };
    const guard = new ReplayGuard(2, () => clock.nowMs);
    assert.equal(guard.admit('a'), true);
    assert.equal(guard.admit('a'), false);
    assert.equal(guard.admit('b'), true);
    assert.throws(
      () => guard.admit('c'),
      (error: unknown) => error instanceof ApiKeyAuthError && error.binance.code === -1003,
    );
    clock.nowMs = 61_000;
    assert.equal(guard.admit('a'), true);
    assert.equal(guard.size, 1);
  });
});

describe('SecretBox', () => {
  it('opens only with the right key and for the right key id', () => {
    const box = new SecretBox(serverKey);
    const sealed = box.seal('key-1', 'secret');
    assert.ok(!sealed.includes('secret'));
    assert.equal(box.open('key-1', sealed), 'secret');
    assert.equal(box.open('key-2', sealed), undefined);
    assert.equal(new SecretBox(Buffer.alloc(32, 8)).open('key-1', sealed), undefined);
    const tampered = `${sealed.slice(0, -2)}${sealed.endsWith('A') ? 'B' : 'A'}A`;
    assert.equal(box.open('key-1', tampered), undefined);
    // Rotation: the new box opens the old ciphertext through `previous`, seals under the new key.
    const rotated = new SecretBox(Buffer.alloc(32, 8), serverKey);
    assert.equal(rotated.open('key-1', sealed), 'secret');
    assert.equal(rotated.isCurrent(sealed), false);
    assert.equal(rotated.isCurrent(rotated.seal('key-1', 'secret')), true);
  });

  it('parses hex and base64 keys and refuses others', () => {
    assert.deepEqual(parseSecretKey('07'.repeat(32), 'k'), serverKey);
    assert.deepEqual(parseSecretKey(serverKey.toString('base64'), 'k'), serverKey);
    assert.throws(() => parseSecretKey('07'.repeat(31), 'k'), /32 bytes/);
    assert.throws(() => parseSecretKey('not a key', 'k'), /32 bytes/);
  });

  it('generates <dataDir>/api-key-secret.key with mode 0600 once, and uses .previous when present', () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'hoga-secret-'));
    try {
      const settings = { key: '', file: '', previousKey: '', previousFile: '' };
      const first = loadSecretBox(settings, dataDir);
      assert.equal(first.source.generated, true);
      assert.equal(statSync(join(dataDir, 'api-key-secret.key')).mode & 0o777, 0o600);
      const again = loadSecretBox(settings, dataDir);
      assert.equal(again.source.generated, false);
      assert.equal(again.box.fingerprint, first.box.fingerprint);
      const sealed = first.box.seal('k', 's');
      writeFileSync(join(dataDir, 'api-key-secret.key.previous'), `${'07'.repeat(32)}\n`);
      const withPrevious = loadSecretBox(settings, dataDir);
      assert.equal(withPrevious.box.open('k', sealed), 's');
      assert.equal(withPrevious.box.open('k', new SecretBox(serverKey).seal('k', 'old')), 'old');
      const explicit = loadSecretBox({ ...settings, key: '07'.repeat(32) }, dataDir);
      assert.equal(explicit.box.fingerprint, new SecretBox(serverKey).fingerprint);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('log redaction', () => {
  it('censors secrets, server key settings and the API key header wherever they are logged', () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const logger = pino({ redact: secretLogRedaction }, sink);
    logger.info({ secret: 'top-secret-1', key: { secret: 'top-secret-2' } }, 'created');
    logger.info(
      { apiKeySecretKey: { key: 'top-secret-3' }, headers: { 'x-mbx-apikey': 'top-secret-4' } },
      'config',
    );
    logger.info(
      { req: { headers: { 'x-mbx-apikey': 'top-secret-5', authorization: 'Bearer top-secret-6' } } },
      'req',
    );
    const text = lines.join('');
    assert.ok(!text.includes('top-secret'), text);
    assert.equal(text.split('[redacted]').length - 1, 6);
  });
});
