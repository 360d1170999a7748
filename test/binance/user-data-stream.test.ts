// Binance listen-key user data streams: the registry's lifetime rules with an injected clock, and
// over a real exchange the userDataStream REST endpoints (API key only, no signature), raw and
// combined sockets receiving executionReport / outboundAccountPosition / balanceUpdate, close,
// revoke and expiry.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { ListenKeys } from '../../src/binance/listen-keys.js';
import { listenKeyPattern } from '../../src/binance/ws-routes.js';
import { startTestExchange, type TestExchange } from '../gateway/support/exchange.js';
import { type ApiKey, createKey, SignedClient } from './support/signed.js';

const minuteMs = 60_000;

describe('ListenKeys registry', () => {
  function registry(perUserMax = 3) {
    const clock = { nowMs: 1_000_000 };
    let next = 0;
    const keys = new ListenKeys(
      { validityMs: 60 * minuteMs, perUserMax },
      () => clock.nowMs,
      () => String(next++).padStart(60, 'k'),
    );
    return { clock, keys };
  }

  it('gives one listen key per API key, extended when asked again or kept alive', () => {
    const { clock, keys } = registry();
    const first = keys.open(1, 'key-a');
    assert.equal(first.expiresAtMs, clock.nowMs + 60 * minuteMs);
    clock.nowMs += 30 * minuteMs;
    const again = keys.open(1, 'key-a');
    assert.equal(again.listenKey, first.listenKey);
    assert.equal(again.expiresAtMs, clock.nowMs + 60 * minuteMs);
    assert.notEqual(keys.open(1, 'key-b').listenKey, first.listenKey);
    clock.nowMs += 59 * minuteMs;
    keys.keepAlive(first.listenKey, 1);
    clock.nowMs += 59 * minuteMs;
    assert.ok(keys.find(first.listenKey), 'still alive after its keepalive');
  });

  it('expires a listen key 60 minutes after its last keepalive', () => {
    const { clock, keys } = registry();
    const entry = keys.open(1, 'key-a');
    clock.nowMs += 60 * minuteMs - 1;
    assert.ok(keys.find(entry.listenKey));
    assert.deepEqual(keys.sweep(), []);
    clock.nowMs += 1;
    assert.equal(keys.find(entry.listenKey), undefined, 'gone the moment it expires');
    assert.throws(() => keys.keepAlive(entry.listenKey, 1), { code: -1125 });
    assert.deepEqual(
      keys.sweep().map((expired) => expired.listenKey),
      [entry.listenKey],
    );
    assert.equal(keys.size, 0);
    assert.notEqual(keys.open(1, 'key-a').listenKey, entry.listenKey, 'a fresh key after expiry');
  });

  it('refuses another user, bounds the keys per user and drops a revoked key', () => {
    const { keys } = registry(2);
    const mine = keys.open(1, 'key-a');
    assert.throws(() => keys.keepAlive(mine.listenKey, 2), { code: -1125 });
    assert.throws(() => keys.close(mine.listenKey, 2), { code: -1125 });
    keys.open(1, 'key-b');
    assert.throws(() => keys.open(1, 'key-c'), { code: -1003 });
    keys.open(2, 'key-c');
    assert.equal(keys.dropKey('key-a', 1)?.listenKey, mine.listenKey);
    assert.equal(keys.find(mine.listenKey), undefined);
    keys.open(1, 'key-c');
    assert.equal(keys.close(keys.open(1, 'key-c').listenKey, 1).keyId, 'key-c');
    assert.equal(keys.size, 2);
  });
});

/** A socket on a listen-key path: events in arrival order, waited for by predicate. */
class StreamSocket {
  readonly messages: any[] = [];
  private readonly watchers: Array<{ match: (message: any) => boolean; resolve: (message: any) => void }> =
    [];
  readonly closed: Promise<{ code: number; reason: string }>;

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data) => {
      const message = JSON.parse(data.toString());
      this.messages.push(message);
      for (const watcher of [...this.watchers])
        if (watcher.match(message)) {
          this.watchers.splice(this.watchers.indexOf(watcher), 1);
          watcher.resolve(message);
        }
    });
    this.closed = new Promise((resolve) =>
      socket.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
    );
  }

  static async open(url: string, path: string): Promise<StreamSocket> {
    const socket = new WebSocket(`${url.replace('http', 'ws')}${path}`);
    const stream = new StreamSocket(socket);
    await new Promise((resolve, reject) => {
      socket.once('open', resolve);
      socket.once('error', reject);
    });
    return stream;
  }

  next(match: (message: any) => boolean): Promise<any> {
    const seen = this.messages.find(match);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve) => this.watchers.push({ match, resolve }));
  }
}

describe('Binance listen-key user data streams', () => {
  let test: TestExchange;
  let adminToken: string;
  let userId: number;
  let token: string;
  let key: ApiKey;
  /** Moves the gateway's clock (expiry), not the client's. */
  let clockOffsetMs = 0;

  before(async () => {
    test = await startTestExchange(
      (config) => {
        config.gateway.webSocket.heartbeatMs = 100;
      },
      { gatewayClock: () => Date.now() + clockOffsetMs },
    );
    adminToken = await test.api.adminToken();
    await test.api.createMarket(adminToken, 'BTC-USD', 'BTC', 'USD');
    userId = await test.api.register('lkuser');
    const otherId = await test.api.register('lkother');
    for (const user of [userId, otherId]) {
      await test.api.deposit(adminToken, user, 'BTC', '10');
      await test.api.deposit(adminToken, user, 'USD', '100000');
    }
    token = await test.api.login('lkuser');
    key = await createKey(test.api, token, { permissions: ['read', 'trade'] });
  });
  after(async () => test.close());

  /** `X-MBX-APIKEY` only, parameters in the query (PUT and DELETE also accept a form body). */
  async function userDataStream(
    method: string,
    keyId: string | undefined,
    params = '',
    body?: string,
  ): Promise<{ status: number; body: any }> {
    const headers: Record<string, string> = {};
    if (keyId !== undefined) headers['x-mbx-apikey'] = keyId;
    if (body !== undefined) headers['content-type'] = 'application/x-www-form-urlencoded';
    const response = await fetch(`${test.exchange.url}/api/v3/userDataStream${params ? `?${params}` : ''}`, {
      method,
      headers,
      body,
    });
    return { status: response.status, body: await response.json() };
  }

  async function listenKeyOf(apiKey: ApiKey): Promise<string> {
    const reply = await userDataStream('POST', apiKey.keyId);
    assert.equal(reply.status, 200, JSON.stringify(reply.body));
    return reply.body.listenKey;
  }

  it('hands out a listen key for the API key alone, keeps it alive and refuses bad calls', async () => {
    const listenKey = await listenKeyOf(key);
    assert.match(listenKey, listenKeyPattern);
    assert.equal(await listenKeyOf(key), listenKey, 'asking again returns the same key');
    assert.deepEqual(await userDataStream('PUT', key.keyId, `listenKey=${listenKey}`), {
      status: 200,
      body: {},
    });
    assert.deepEqual(await userDataStream('PUT', key.keyId, '', `listenKey=${listenKey}`), {
      status: 200,
      body: {},
    });

    const noKey = await userDataStream('POST', undefined);
    assert.equal(noKey.status, 401);
    assert.equal(noKey.body.code, -2014);
    const unknownKey = await userDataStream('POST', 'f'.repeat(64));
    assert.equal(unknownKey.status, 401);
    assert.equal(unknownKey.body.code, -2015);
    const missing = await userDataStream('PUT', key.keyId);
    assert.equal(missing.status, 400);
    assert.equal(missing.body.code, -1102);
    const unknown = await userDataStream('PUT', key.keyId, `listenKey=${'a'.repeat(60)}`);
    assert.equal(unknown.status, 400);
    assert.equal(unknown.body.code, -1125);
    // Another user's key cannot keep this listen key alive or close it.
    const otherKey = await createKey(test.api, await test.api.login('lkother'));
    const foreign = await userDataStream('DELETE', otherKey.keyId, `listenKey=${listenKey}`);
    assert.equal(foreign.body.code, -1125);
  });

  it('pushes the user events to raw and combined sockets', async () => {
    const listenKey = await listenKeyOf(key);
    const raw = await StreamSocket.open(test.exchange.url, `/binance/ws/${listenKey}`);
    const combined = await StreamSocket.open(test.exchange.url, `/binance/stream?streams=${listenKey}`);
    const client = new SignedClient(test.exchange.url, key);
    const placed = await client.call('POST', '/api/v3/order', {
      symbol: 'BTCUSD',
      side: 'SELL',
      type: 'LIMIT',
      timeInForce: 'GTC',
      quantity: '1',
      price: '100',
      newClientOrderId: 'lk-1',
    });
    assert.equal(placed.status, 200, JSON.stringify(placed.body));
    const report = await raw.next((event) => event.e === 'executionReport');
    assert.equal(report.x, 'NEW');
    assert.equal(report.c, 'lk-1');
    assert.equal(report.i, placed.body.orderId);
    const position = await raw.next((event) => event.e === 'outboundAccountPosition');
    assert.equal(Number(position.B.find((entry: any) => entry.a === 'BTC').l), 1);
    const wrapped = await combined.next((message) => message.data?.e === 'executionReport');
    assert.equal(wrapped.stream, listenKey);
    assert.deepEqual(wrapped.data, report);

    await test.api.deposit(adminToken, userId, 'USD', '7');
    const deposit = await raw.next((event) => event.e === 'balanceUpdate');
    assert.equal(deposit.a, 'USD');
    assert.equal(Number(deposit.d), 7);
    await combined.next((message) => message.data?.e === 'balanceUpdate');

    // Closing the listen key: it is gone for keepalives and new sockets.
    assert.deepEqual(await userDataStream('DELETE', key.keyId, `listenKey=${listenKey}`), {
      status: 200,
      body: {},
    });
    assert.equal((await userDataStream('PUT', key.keyId, `listenKey=${listenKey}`)).body.code, -1125);
    const late = await StreamSocket.open(test.exchange.url, `/binance/ws/${listenKey}`);
    const refused = await late.closed;
    assert.equal(refused.code, 1008);
    assert.match(refused.reason, /listenKey does not exist/);
    raw.socket.close();
    combined.socket.close();
  });

  it('refuses a socket on an unknown listen key', async () => {
    const socket = await StreamSocket.open(test.exchange.url, `/binance/ws/${'b'.repeat(60)}`);
    assert.equal((await socket.closed).code, 1008);
  });

  it('closes the sockets and ends the listen key when its API key is revoked', async () => {
    const revoked = await createKey(test.api, token, { permissions: ['read'] });
    const listenKey = await listenKeyOf(revoked);
    const socket = await StreamSocket.open(test.exchange.url, `/binance/ws/${listenKey}`);
    await test.api.expect(200, 'DELETE', `/api/v1/api-keys/${revoked.keyId}`, undefined, token);
    assert.equal((await socket.closed).code, 4001);
    const after = await userDataStream('PUT', revoked.keyId, `listenKey=${listenKey}`);
    assert.equal(after.status, 401);
    assert.equal(after.body.code, -2015);
    const again = await StreamSocket.open(test.exchange.url, `/binance/ws/${listenKey}`);
    assert.equal((await again.closed).code, 1008);
  });

  it('expires a listen key 60 minutes after its last keepalive, telling its sockets', async () => {
    const listenKey = await listenKeyOf(key);
    const socket = await StreamSocket.open(test.exchange.url, `/binance/ws/${listenKey}`);
    clockOffsetMs += 61 * minuteMs;
    const expired = await socket.next((event) => event.e === 'listenKeyExpired');
    assert.equal(expired.listenKey, listenKey);
    const refused = await StreamSocket.open(test.exchange.url, `/binance/ws/${listenKey}`);
    assert.equal((await refused.closed).code, 1008);
    socket.socket.close();
  });
});
