// Two gateways in one process over one SQL store (PGlite in memory), one engine and one Redis of
// the test's own (a redis-server on a free port, so it can be killed and started again): a session
// made on one works on the other, logout-all on one closes the other's WebSocket and REST access,
// login limits and abnormal-traffic suspensions count across both, and after a Redis outage a
// gateway re-checks its sockets against the store (an end it could not hear of closes the socket).
// API-key orders share the session's limits, a signed request is accepted once in the cluster, and
// a key revoked on one gateway closes its user-data sockets on the other.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { type Redis, Redis as RedisClient } from 'ioredis';
import { pino } from 'pino';
import WebSocket from 'ws';
import { registerBinanceApi } from '../../src/binance/plugin.js';
import { binancePrivateModules } from '../../src/binance/private-modules.js';
import { openRedisServices, type RedisServices } from '../../src/cluster/redis-services.js';
import { Engine } from '../../src/core/engine.js';
import type { Command } from '../../src/core/types.js';
import { SecretBox } from '../../src/gateway/api-key-secrets.js';
import { buildGateway } from '../../src/gateway/app.js';
import { defaultGatewayConfig, type GatewayConfig } from '../../src/gateway/config.js';
import type { GatewayServices } from '../../src/gateway/services.js';
import { hashToken } from '../../src/gateway/sessions.js';
import { GatewayState } from '../../src/gateway/state.js';
import { InProcessBus } from '../../src/marketdata/bus.js';
import { MarketData } from '../../src/marketdata/index.js';
import { openStore, type Store } from '../../src/store/store.js';
import { createKey, SignedClient, sign } from '../binance/support/signed.js';
import { Api, TestSocket } from '../gateway/support/exchange.js';
import { MemorySequencer } from '../gateway/support/memory-sequencer.js';
import { testRedisSettings, uniquePrefix } from './redis-support.js';

const logger = pino({ level: process.env.HOGA_TEST_LOG ?? 'silent' });

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  server.close();
  await once(server, 'close');
  return port;
}

/** A redis-server of the test's own, without persistence; resolves once it accepts connections. */
async function startRedis(port: number): Promise<ChildProcess> {
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  let output = '';
  await new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`redis-server exited with ${code}: ${output}`)));
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Ready to accept connections')) resolve();
    });
  });
  child.removeAllListeners('exit');
  return child;
}

/** Resolves once the client is connected (at once when it already is). */
async function ready(client: Redis): Promise<void> {
  if (client.status !== 'ready') await once(client, 'ready');
}

async function stopRedis(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGKILL');
  await exited;
}

function gatewayConfig(): GatewayConfig {
  const config = defaultGatewayConfig();
  config.passwords.cost = { ...config.passwords.cost, costLog2: 10 };
  config.logRequests = false;
  config.sessions.sessionsPerUserMax = 2;
  config.limits.loginsPerIp = { ratePerSecond: 0.001, burst: 1_000, bucketsMax: 1_000 };
  config.limits.loginsPerUsername = { ratePerSecond: 0.001, burst: 4, bucketsMax: 1_000 };
  // One long window: the fourth order of a user in it is past the floor.
  config.abnormal = { ...config.abnormal, windowMs: 3_600_000, ordersPerWindowFloor: 3 };
  // The Binance socket heartbeat re-checks subscribed API keys (a revoke on the other gateway).
  config.webSocket.heartbeatMs = 2_000;
  return config;
}

interface TestGateway {
  app: FastifyInstance;
  services: GatewayServices;
  shared: RedisServices;
  api: Api;
  url: string;
}

/** Resolves true once `condition` holds, re-checked at each session end `services` hears of. */
function waitFor(condition: () => boolean, services: GatewayServices): Promise<boolean> {
  if (condition()) return Promise.resolve(true);
  return new Promise((resolve) =>
    services.sessions.onEnded(() => {
      if (condition()) resolve(true);
    }),
  );
}

/** The close of the socket and when it arrived. */
function closedWithin(socket: TestSocket): Promise<{ code: number; reason: string; atMs: number }> {
  return socket.closed.then((closed) => ({ ...closed, atMs: performance.now() }));
}

describe('two gateways sharing Redis', () => {
  let redisPort: number;
  let redis: ChildProcess;
  let store: Store;
  const gateways: TestGateway[] = [];
  const prefix = uniquePrefix();
  // The gateways' clock moves only when a test moves it: the abnormal-traffic window (an hour)
  // cannot roll between two orders of a test.
  const startMs = Date.now();
  let nowMs = startMs;

  before(async () => {
    redisPort = await freePort();
    redis = await startRedis(redisPort);
    store = await openStore({ dataDir: 'memory://', logger });
    const engine = new Engine();
    const sequencer = new MemorySequencer(engine);
    const config = gatewayConfig();
    // One server key for both gateways: a key created on one opens on the other.
    const secretBox = new SecretBox(Buffer.alloc(32, 7));
    for (let index = 0; index < 2; index += 1) {
      const state = new GatewayState(config.state);
      state.useEngine(engine);
      sequencer.onApplied(state.apply);
      const shared = await openRedisServices(
        { ...testRedisSettings(prefix, `redis://127.0.0.1:${redisPort}`), commandTimeoutMs: 2_000 },
        logger,
      );
      const { app, services } = await buildGateway({
        config,
        engine,
        sequencer,
        users: store.users,
        sessions: store.sessions,
        apiKeys: store.apiKeys,
        secretBox,
        state,
        logger,
        shared,
        clock: () => nowMs,
      });
      // The Binance-compatible API (private modules included) as the single process registers it.
      await registerBinanceApi(
        app,
        {
          context: services,
          data: new MarketData({ publisher: new InProcessBus() }),
          candles: store.candles,
        },
        binancePrivateModules,
      );
      const url = await app.listen({ host: '127.0.0.1', port: 0 });
      gateways.push({ app, services, shared, api: new Api(url), url });
    }
    // A market both gateways know (their states listen to the one sequencer), for API-key orders.
    await sequencer.submit({
      op: 'symbol',
      symbol: 'X-Y',
      base: 'X',
      quote: 'Y',
      lotSize: 1,
      tickSize: 1,
      makerFeeBps: 0,
      takerFeeBps: 0,
      baseDecimals: 0,
      quoteDecimals: 0,
      lotSizeDecimal: '1',
      tickSizeDecimal: '1',
    } as Command);
  });

  after(async () => {
    for (const gateway of gateways) {
      await gateway.app.close();
      await gateway.shared.close();
    }
    await store?.close();
    if (redis !== undefined) await stopRedis(redis);
  });

  it('serves a session made on one gateway on the other, and logout-all on either ends it everywhere', async (t) => {
    const [one, two] = gateways;
    const userId = await one.api.register('alice');
    const token = await one.api.login('alice');
    assert.equal((await two.api.expect(200, 'GET', '/api/v1/me', undefined, token)).userId, userId);
    assert.equal((await one.api.expect(200, 'GET', '/api/v1/me', undefined, token)).userId, userId);
    const socket = await TestSocket.open(one.url);
    assert.equal((await socket.request('auth', { token })).ok, true);
    const closed = closedWithin(socket);
    const ended = await two.api.expect(200, 'POST', '/api/v1/auth/logout-all', undefined, token);
    const repliedAtMs = performance.now();
    assert.equal(ended.ended, 1);
    const close = await closed;
    assert.deepEqual([close.code, close.reason], [4001, 'logoutAll']);
    const latencyMs = close.atMs - repliedAtMs;
    t.diagnostic(
      `gateway 1's WebSocket closed ${latencyMs.toFixed(1)} ms after gateway 2's logout-all reply`,
    );
    assert.equal((await one.api.call('GET', '/api/v1/me', undefined, token)).status, 401);
    assert.equal((await two.api.call('GET', '/api/v1/me', undefined, token)).status, 401);
  });

  it('drops the cached session on the other gateway at a single logout too', async () => {
    const [one, two] = gateways;
    await one.api.register('bruno');
    const token = await one.api.login('bruno');
    await one.api.expect(200, 'GET', '/api/v1/me', undefined, token);
    assert.ok(one.services.sessions.liveCached(hashToken(token)) !== undefined, 'cached on gateway 1');
    const socket = await TestSocket.open(one.url);
    assert.equal((await socket.request('auth', { token })).ok, true);
    await two.api.expect(200, 'POST', '/api/v1/auth/logout', undefined, token);
    assert.equal((await socket.closed).code, 4001);
    assert.equal(one.services.sessions.liveCached(hashToken(token)), undefined);
    assert.equal((await one.api.call('GET', '/api/v1/me', undefined, token)).status, 401);
  });

  it('keeps the session cap when logins of one user race on both gateways', async () => {
    const [one, two] = gateways;
    const userId = await one.api.register('frida');
    const capEnds: string[] = [];
    one.services.sessions.onEnded((_hash, user, reason) => {
      if (user === userId) capEnds.push(reason);
    });
    const tokens = await Promise.all([one, two, one, two].map((gateway) => gateway.api.login('frida')));
    const live = await store.sessions.listSessions(userId);
    assert.equal(live.length, 2, 'four logins, a cap of two');
    const issued = tokens.map(hashToken);
    assert.ok(live.every((session) => issued.includes(session.tokenHash)));
    // Gateway one hears of every cap end: its own directly, gateway two's through Redis.
    const heard = await waitFor(() => capEnds.length >= 2, one.services);
    assert.ok(heard);
    assert.deepEqual(capEnds, ['sessionCap', 'sessionCap']);
  });

  it('counts login attempts for a username across both gateways', async () => {
    const [one, two] = gateways;
    await one.api.register('carol');
    const wrong = { username: 'carol', password: 'not-the-password' };
    const statuses: number[] = [];
    for (const gateway of [one, two, one, two, one, two])
      statuses.push((await gateway.api.call('POST', '/api/v1/auth/login', wrong)).status);
    assert.deepEqual(statuses, [401, 401, 401, 401, 429, 429], 'a burst of 4 over both gateways');
  });

  it('trusts on one gateway the device cookie another issued, through a locked username', async () => {
    const [one, two] = gateways;
    await one.api.register('gina');
    const login = await one.api.call('POST', '/api/v1/auth/login', {
      username: 'gina',
      password: 'gina-password',
    });
    assert.equal(login.status, 200);
    const device = login.headers
      .getSetCookie()
      .map((cookie) => /^__Host-hoga_device=([^;]+)/.exec(cookie)?.[1])
      .find((value) => value !== undefined);
    assert.ok(device, 'a device cookie');
    const wrong = { username: 'gina', password: 'not-the-password' };
    const statuses: number[] = [];
    for (const gateway of [one, two, one, two])
      statuses.push((await gateway.api.call('POST', '/api/v1/auth/login', wrong)).status);
    assert.deepEqual(statuses, [401, 401, 401, 429], 'the name is locked on both');
    const trusted = await two.api.call(
      'POST',
      '/api/v1/auth/login',
      { username: 'gina', password: 'gina-password' },
      undefined,
      { cookie: `__Host-hoga_device=${device}` },
    );
    assert.equal(trusted.status, 200, JSON.stringify(trusted.body));
  });

  it('suspends a user for abnormal traffic on every gateway once the orders on both pass the floor', async () => {
    const [one, two] = gateways;
    await one.api.register('dora');
    const token = await one.api.login('dora');
    const order = { symbol: 'NONE-USD', side: 'buy', type: 'limit', price: '1', qty: '1' };
    const codes: string[] = [];
    for (const gateway of [one, two, one, two, one])
      codes.push((await gateway.api.call('POST', '/api/v1/orders', order, token)).body.code);
    // Each order is admitted (then refused for its unknown symbol) until the fourth passes the floor.
    assert.deepEqual(codes, [
      'UNKNOWN_SYMBOL',
      'UNKNOWN_SYMBOL',
      'UNKNOWN_SYMBOL',
      'UNKNOWN_SYMBOL',
      'SUSPENDED',
    ]);
    const onTwo = await two.api.call('POST', '/api/v1/orders', order, token);
    assert.equal(onTwo.status, 403);
    assert.equal(onTwo.body.code, 'SUSPENDED');
  });

  it('counts API-key and session orders of one user against one suspension across gateways', async () => {
    const [one, two] = gateways;
    await one.api.register('greta');
    const token = await one.api.login('greta');
    const key = await createKey(one.api, token, { permissions: ['read', 'trade'] });
    // Every signed request a new timestamp (the gateways' clock stands still), so none is a replay.
    let tick = 0;
    const signedClock = () => nowMs + tick++;
    const [keyOne, keyTwo] = [one, two].map((gateway) => new SignedClient(gateway.url, key, signedClock));
    const binanceOrder = {
      symbol: 'XY',
      side: 'BUY',
      type: 'LIMIT',
      timeInForce: 'GTC',
      quantity: '1',
      price: '1',
    };
    const sessionOrder = { symbol: 'X-Y', side: 'buy', type: 'limit', price: '1', qty: '1' };
    const codes: unknown[] = [];
    codes.push((await one.api.call('POST', '/api/v1/orders', sessionOrder, token)).body.code);
    codes.push((await keyTwo.call('POST', '/api/v3/order', binanceOrder)).body.code);
    codes.push((await keyOne.call('POST', '/api/v3/order', binanceOrder)).body.code);
    codes.push((await two.api.call('POST', '/api/v1/orders', sessionOrder, token)).body.code);
    const suspended = await keyTwo.call('POST', '/api/v3/order', binanceOrder);
    // Admitted (then refused for want of funds: Hoga's code, Binance's -2010) until the fourth
    // passes the floor of three; the fifth, by API key on the other gateway, is suspended.
    assert.deepEqual(codes, ['INSUFFICIENT_FUNDS', -2010, -2010, 'INSUFFICIENT_FUNDS']);
    // Binance's answer to an account that may not trade: 400, -2010, "This action is disabled…".
    assert.deepEqual([suspended.status, suspended.body.code], [400, -2010]);
    assert.match(suspended.body.msg, /disabled on this account/);
    const onOne = await one.api.call('POST', '/api/v1/orders', sessionOrder, token);
    assert.deepEqual([onOne.status, onOne.body.code], [403, 'SUSPENDED']);
  });

  it('accepts a signed request once in the whole cluster: a replay to the other gateway is refused', async () => {
    const [one, two] = gateways;
    await one.api.register('hugo');
    const token = await one.api.login('hugo');
    const key = await createKey(one.api, token, { permissions: ['read'] });
    const text = `timestamp=${nowMs}`;
    const signed = `${text}&signature=${sign(key.secret, text)}`;
    const client = new SignedClient(one.url, key);
    assert.equal((await client.raw('GET', '/api/v3/account', signed)).status, 200);
    const replayed = await new SignedClient(two.url, key).raw('GET', '/api/v3/account', signed);
    assert.deepEqual([replayed.status, replayed.body.code], [400, -1021]);
    assert.match(replayed.body.msg, /replay/);
  });

  it('closes the user-data socket of a key revoked on the other gateway', async () => {
    const [one, two] = gateways;
    await one.api.register('ines');
    const token = await one.api.login('ines');
    const key = await createKey(one.api, token, { permissions: ['read'] });
    const socket = new WebSocket(`${two.url.replace('http', 'ws')}/binance/ws-api/v3`);
    await once(socket, 'open');
    const closed = once(socket, 'close');
    const params: Record<string, string | number> = { apiKey: key.keyId, timestamp: nowMs };
    const payload = `apiKey=${key.keyId}&timestamp=${nowMs}`;
    const reply = once(socket, 'message');
    socket.send(
      JSON.stringify({
        id: 1,
        method: 'userDataStream.subscribe.signature',
        params: { ...params, signature: sign(key.secret, payload) },
      }),
    );
    assert.equal(JSON.parse(String((await reply)[0])).status, 200);
    await one.api.expect(200, 'DELETE', `/api/v1/api-keys/${key.keyId}`, undefined, token);
    // Gateway 2 still holds the key from the subscription; once its cache entry is older than
    // recheckMs, the next heartbeat reads the store, finds the key gone and closes the socket.
    nowMs += one.services.config.apiKeys.recheckMs + 1;
    const [code, reason] = await closed;
    assert.deepEqual([code, String(reason)], [4001, 'API key revoked']);
  });

  it('fails closed while Redis is down, and re-checks sessions against the store once it is back', async () => {
    const [one, two] = gateways;
    await one.api.register('erik');
    const staying = await one.api.login('erik');
    const leaving = await two.api.login('erik');
    const kept = await TestSocket.open(one.url);
    const dropped = await TestSocket.open(one.url);
    assert.equal((await kept.request('auth', { token: staying })).ok, true);
    assert.equal((await dropped.request('auth', { token: leaving })).ok, true);
    await one.api.expect(200, 'GET', '/api/v1/me', undefined, leaving);

    // Both gateways notice the outage before the session ends behind their back.
    const noticed = gateways.flatMap((gateway) =>
      [gateway.shared.redis, gateway.shared.subscriber].map((client) => once(client, 'close')),
    );
    await stopRedis(redis);
    await Promise.all(noticed);
    assert.equal(one.services.shared.sessionEvents.live, false);
    const down = await one.api.call('GET', '/api/v1/me', undefined, staying);
    assert.deepEqual([down.status, down.body.code], [503, 'SERVICE_UNAVAILABLE']);
    assert.equal(down.headers.get('retry-after'), '1');
    const readiness = await one.api.call('GET', '/readyz');
    assert.deepEqual([readiness.status, readiness.body.sharedLive], [503, false], 'probes still answer');
    assert.match((await one.api.call('GET', '/metrics')).body, /hoga_shared_services_live 0/);
    // Frames are charged before they are parsed: the refusal carries no id, like RATE_LIMITED.
    kept.socket.send(JSON.stringify({ op: 'ping', id: 99 }));
    const frame = await kept.next((message) => message.ok === false);
    assert.deepEqual([frame.id, frame.error.code], [null, 'SERVICE_UNAVAILABLE']);
    // An end this gateway cannot hear of (as if announced while it was cut off).
    await store.sessions.deleteSession(hashToken(leaving));

    const resynced = new Promise<void>((resolve) => one.services.sessions.onResync(resolve));
    redis = await startRedis(redisPort);
    await resynced;
    await Promise.all(gateways.map((gateway) => ready(gateway.shared.redis)));
    const close = await dropped.closed;
    assert.equal(close.code, 4001, 'the socket of the session ended during the outage closes');
    assert.equal((await kept.request('ping')).ok, true, 'the live session keeps its socket');
    assert.equal((await one.api.call('GET', '/api/v1/me', undefined, leaving)).status, 401);
    await one.api.expect(200, 'GET', '/api/v1/me', undefined, staying);
    assert.equal((await one.api.expect(200, 'GET', '/readyz')).sharedLive, true);
    kept.close();
  });

  it('treats a subscriber connection that stops answering (no close) as lost, and resyncs', async () => {
    const [one] = gateways;
    const admin = new RedisClient(`redis://127.0.0.1:${redisPort}`);
    try {
      const lost = once(one.shared.subscriber, 'close');
      const resynced = new Promise<void>((resolve) => one.services.sessions.onResync(resolve));
      // Longer than a health-check period plus the command timeout: a ping sent meanwhile fails.
      await admin.client('PAUSE', 4_000, 'ALL');
      await lost;
      await resynced;
      assert.equal(one.shared.sessionEvents.live, true);
    } finally {
      admin.disconnect();
    }
  });
});
