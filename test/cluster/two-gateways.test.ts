// Two gateways in one process over one SQL store (PGlite in memory), one engine and one Redis of
// the test's own (a redis-server on a free port, so it can be killed and started again): a session
// made on one works on the other, logout-all on one closes the other's WebSocket and REST access,
// login limits and abnormal-traffic suspensions count across both, and after a Redis outage a
// gateway re-checks its sockets against the store (an end it could not hear of closes the socket).
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import { pino } from 'pino';
import { openRedisServices, type RedisServices } from '../../src/cluster/redis-services.js';
import { Engine } from '../../src/core/engine.js';
import { buildGateway } from '../../src/gateway/app.js';
import { defaultGatewayConfig, type GatewayConfig } from '../../src/gateway/config.js';
import type { GatewayContext } from '../../src/gateway/context.js';
import { hashToken } from '../../src/gateway/sessions.js';
import { GatewayState } from '../../src/gateway/state.js';
import { openStore, type Store } from '../../src/store/store.js';
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
  config.limits.loginsPerIp = { ratePerSecond: 0.001, burst: 1_000, bucketsMax: 1_000 };
  config.limits.loginsPerUsername = { ratePerSecond: 0.001, burst: 4, bucketsMax: 1_000 };
  // One long window: the fourth order of a user in it is past the floor.
  config.abnormal = { ...config.abnormal, windowMs: 3_600_000, ordersPerWindowFloor: 3 };
  return config;
}

interface TestGateway {
  app: FastifyInstance;
  context: GatewayContext;
  shared: RedisServices;
  api: Api;
  url: string;
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

  before(async () => {
    redisPort = await freePort();
    redis = await startRedis(redisPort);
    store = await openStore({ dataDir: 'memory://', logger });
    const engine = new Engine();
    const sequencer = new MemorySequencer(engine);
    const config = gatewayConfig();
    // A fixed clock: the abnormal-traffic window cannot roll between two orders of a test.
    const startMs = Date.now();
    for (let index = 0; index < 2; index += 1) {
      const state = new GatewayState(config.state);
      state.useEngine(engine);
      sequencer.onApplied(state.apply);
      const shared = await openRedisServices(
        { ...testRedisSettings(prefix, `redis://127.0.0.1:${redisPort}`), commandTimeoutMs: 2_000 },
        logger,
      );
      const { app, context } = await buildGateway({
        config,
        engine,
        sequencer,
        users: store.users,
        sessions: store.sessions,
        state,
        logger,
        shared,
        clock: () => startMs,
      });
      const url = await app.listen({ host: '127.0.0.1', port: 0 });
      gateways.push({ app, context, shared, api: new Api(url), url });
    }
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
    assert.ok(one.context.sessions.liveCached(hashToken(token)) !== undefined, 'cached on gateway 1');
    const socket = await TestSocket.open(one.url);
    assert.equal((await socket.request('auth', { token })).ok, true);
    await two.api.expect(200, 'POST', '/api/v1/auth/logout', undefined, token);
    assert.equal((await socket.closed).code, 4001);
    assert.equal(one.context.sessions.liveCached(hashToken(token)), undefined);
    assert.equal((await one.api.call('GET', '/api/v1/me', undefined, token)).status, 401);
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
    assert.equal(one.context.shared.sessionEvents.live, false);
    const down = await one.api.call('GET', '/api/v1/me', undefined, staying);
    assert.deepEqual([down.status, down.body.code], [503, 'SERVICE_UNAVAILABLE']);
    assert.equal(down.headers.get('retry-after'), '1');
    // Frames are charged before they are parsed: the refusal carries no id, like RATE_LIMITED.
    kept.socket.send(JSON.stringify({ op: 'ping', id: 99 }));
    const frame = await kept.next((message) => message.ok === false);
    assert.deepEqual([frame.id, frame.error.code], [null, 'SERVICE_UNAVAILABLE']);
    // An end this gateway cannot hear of (as if announced while it was cut off).
    await store.sessions.deleteSession(hashToken(leaving));

    const resynced = new Promise<void>((resolve) => one.context.sessions.onResync(resolve));
    redis = await startRedis(redisPort);
    await resynced;
    await Promise.all(gateways.map((gateway) => ready(gateway.shared.redis)));
    const close = await dropped.closed;
    assert.equal(close.code, 4001, 'the socket of the session ended during the outage closes');
    assert.equal((await kept.request('ping')).ok, true, 'the live session keeps its socket');
    assert.equal((await one.api.call('GET', '/api/v1/me', undefined, leaving)).status, 401);
    await one.api.expect(200, 'GET', '/api/v1/me', undefined, staying);
    kept.close();
  });
});
