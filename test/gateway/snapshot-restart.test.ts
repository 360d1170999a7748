// The running exchange restarted from a snapshot: the gateway's registries and market data are
// restored from the snapshot (not replayed from sequence 1), and what clients observe equals what
// a full replay of the same journal gives, on a second exchange started on a copy of the data
// directory without its snapshots. Also: a read model whose checkpoint is older than the snapshot
// catches up from the journal instead of skipping what lies between.
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readdirSync, rmSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { pino } from 'pino';
import type { ExchangeConfig } from '../../src/config.js';
import { type ExchangeHandle, startExchange } from '../../src/main.js';
import { Api, TestSocket, testConfig } from './support/exchange.js';

const logger = pino({ level: process.env.HOGA_TEST_LOG ?? 'silent' });
const deadlineMs = 30_000;
const order = { symbol: 'BTC-USD', type: 'limit' } as const;

interface Users {
  admin: string;
  alice: { id: number; token: string };
  bob: { id: number; token: string };
}

const directories: string[] = [];
const running: ExchangeHandle[] = [];

/** A limit order on BTC-USD (`order` plus `fields`) by the token's user; its reply, expected 200. */
function place(api: Api, token: string, fields: Record<string, unknown>): ReturnType<Api['expect']> {
  return api.expect(200, 'POST', '/api/v1/orders', { ...order, ...fields }, token);
}

function temporaryDataDir(): string {
  const path = mkdtempSync(join(tmpdir(), 'hoga-snapshot-restart-'));
  directories.push(path);
  return path;
}

/** Only on-demand snapshots (POST /api/v1/admin/snapshots), so the test decides where they fall. */
function onDemandOnly(dataDir: string): ExchangeConfig {
  return testConfig(dataDir, (config) => {
    config.snapshotEveryCommands = 0;
    config.snapshotEveryMs = 0;
  });
}

async function start(config: ExchangeConfig): Promise<ExchangeHandle> {
  const exchange = await startExchange({ ...config, port: 0 }, { logger });
  running.push(exchange);
  return exchange;
}

async function stop(exchange: ExchangeHandle): Promise<void> {
  await exchange.close();
  running.splice(running.indexOf(exchange), 1);
}

function withinDeadline<T>(promise: Promise<T>, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(message)), deadlineMs);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

async function setUp(api: Api): Promise<Users> {
  const admin = await api.adminToken();
  await api.createMarket(admin);
  await api.createMarket(admin, 'IPO-USD', 'IPO', 'USD');
  const aliceId = await api.register('alice');
  const bobId = await api.register('bob');
  await api.deposit(admin, aliceId, 'BTC', '10');
  await api.deposit(admin, bobId, 'USD', '100000');
  await api.deposit(admin, aliceId, 'USD', '1000');
  await api.deposit(admin, aliceId, 'IPO', '100');
  return {
    admin,
    alice: { id: aliceId, token: await api.login('alice') },
    bob: { id: bobId, token: await api.login('bob') },
  };
}

/** The channel's snapshot as a fresh subscriber gets it. */
async function channelSnapshot(url: string, ch: string): Promise<unknown> {
  const socket = await TestSocket.open(url);
  try {
    const ack = await socket.request('subscribe', { ch });
    assert.equal(ack.ok, true, JSON.stringify(ack));
    const message = await withinDeadline(
      socket.next((pushed) => pushed.ch === ch && pushed.snapshot === true),
      `no snapshot of ${ch}`,
    );
    return message.data;
  } finally {
    socket.close();
  }
}

/** Everything a client can observe that comes from applied commands (and the read model). */
async function observe(exchange: ExchangeHandle, users: Users, orderIds: number[]): Promise<unknown> {
  const api = new Api(exchange.url);
  await withinDeadline(
    exchange.readModel.projected(exchange.sequencer.lastSeq),
    'read model never caught up',
  );
  const perUser = async (token: string) => ({
    balances: await api.expect(200, 'GET', '/api/v1/balances', undefined, token),
    orders: await api.expect(200, 'GET', '/api/v1/orders', undefined, token),
    trades: await api.expect(200, 'GET', '/api/v1/trades', undefined, token),
    history: await api.expect(200, 'GET', '/api/v1/history/orders', undefined, token),
    historyTrades: await api.expect(200, 'GET', '/api/v1/history/trades', undefined, token),
    ledger: await api.expect(200, 'GET', '/api/v1/history/ledger', undefined, token),
    claims: await api.expect(200, 'GET', '/api/v1/claims', undefined, token),
  });
  return {
    symbols: await api.expect(200, 'GET', '/api/v1/symbols'),
    offerings: await api.expect(200, 'GET', '/api/v1/offerings'),
    ordersById: await Promise.all(
      orderIds.map((id) => api.expect(200, 'GET', `/api/v1/orders/${id}`, undefined, users.alice.token)),
    ),
    alice: await perUser(users.alice.token),
    bob: await perUser(users.bob.token),
    depth: await channelSnapshot(exchange.url, 'depth.BTC-USD'),
    tape: await channelSnapshot(exchange.url, 'trades.BTC-USD'),
    candle: await channelSnapshot(exchange.url, 'candles.BTC-USD.1d'),
    ticker: await channelSnapshot(exchange.url, 'ticker.BTC-USD'),
  };
}

after(async () => {
  for (const exchange of running.splice(0)) await exchange.close();
  for (const path of directories) rmSync(path, { recursive: true, force: true });
});

let first: ExchangeHandle;
let dataDir: string;
let users: Users;
const aliceOrders: number[] = [];
let retried: Record<string, unknown>;
let claim: Record<string, unknown>;
let offeringId: number;
let depthBefore: { lastUpdateId: number };

before(async () => {
  dataDir = temporaryDataDir();
  first = await start(onDemandOnly(dataDir));
  const api = new Api(first.url);
  users = await setUp(api);
  // Before the snapshot: a resting order with a clientOrderId, a trade, an offering claim.
  retried = await place(api, users.alice.token, {
    side: 'sell',
    price: '101',
    qty: '1',
    clientOrderId: 'before-snapshot',
  });
  aliceOrders.push(retried.orderId as number);
  const maker = await place(api, users.alice.token, { side: 'sell', price: '100', qty: '0.5' });
  aliceOrders.push(maker.orderId);
  await place(api, users.bob.token, { side: 'buy', price: '100', qty: '0.5' });
  const now = Date.now();
  const offering = await api.expect(
    201,
    'POST',
    '/api/v1/admin/offerings',
    {
      asset: 'IPO',
      quote: 'USD',
      price: '5',
      unitSize: '1',
      units: 10,
      perUserMax: 3,
      startTime: now - 60_000,
      endTime: now + 3_600_000,
      issuerUserId: users.alice.id,
    },
    users.admin,
  );
  offeringId = offering.id;
  claim = await api.expect(
    201,
    'POST',
    `/api/v1/offerings/${offeringId}/claims`,
    { units: 1, clientClaimId: 'claim-before' },
    users.bob.token,
  );
  // The admin route takes the snapshot; an ordinary user may not.
  const refused = await api.call('POST', '/api/v1/admin/snapshots', undefined, users.bob.token);
  assert.equal(refused.status, 403);
  const taken = await api.expect(201, 'POST', '/api/v1/admin/snapshots', undefined, users.admin);
  assert.equal(taken.lastSeq, first.sequencer.lastSeq);
  // After it: the tail a restart replays.
  const tail = await place(api, users.alice.token, {
    side: 'sell',
    price: '102',
    qty: '2',
    clientOrderId: 'after-snapshot',
  });
  aliceOrders.push(tail.orderId);
  await place(api, users.bob.token, { side: 'buy', price: '101', qty: '0.25' });
  depthBefore = (await channelSnapshot(first.url, 'depth.BTC-USD')) as { lastUpdateId: number };
  await withinDeadline(first.readModel.projected(first.sequencer.lastSeq), 'read model never caught up');
  await stop(first);
});

it('restarts from the snapshot and shows what a full replay of the journal shows', async () => {
  // The same journal without snapshots: a full replay through every listener.
  const replayDir = temporaryDataDir();
  cpSync(dataDir, replayDir, { recursive: true });
  for (const file of readdirSync(replayDir)) if (file.endsWith('.snap')) unlinkSync(join(replayDir, file));
  const fromSnapshot = await start(onDemandOnly(dataDir));
  const fullReplay = await start(onDemandOnly(replayDir));
  assert.ok(fromSnapshot.recovered.snapshotSeq > 0, 'the restart did not start from the snapshot');
  assert.equal(fromSnapshot.recovered.replayedCommands, 2);
  assert.equal(fullReplay.recovered.snapshotSeq, 0);
  assert.equal(fullReplay.recovered.replayedCommands, fullReplay.recovered.lastSeq);
  assert.deepEqual(
    await observe(fromSnapshot, users, aliceOrders),
    await observe(fullReplay, users, aliceOrders),
  );
  await stop(fullReplay);
  first = fromSnapshot;
});

it('keeps idempotency keys, orders, claims and depth update ids across the restart', async () => {
  const api = new Api(first.url);
  const lastSeq = first.sequencer.lastSeq;
  // A retry of a clientOrderId placed before the snapshot: the first result, nothing placed.
  const again = await place(api, users.alice.token, {
    side: 'sell',
    price: '101',
    qty: '1',
    clientOrderId: 'before-snapshot',
  });
  assert.deepEqual(again, retried);
  // Restored from the snapshot with the request it was used for: another order under it conflicts.
  const reused = await api.call(
    'POST',
    '/api/v1/orders',
    {
      symbol: 'BTC-USD',
      type: 'limit',
      side: 'sell',
      price: '102',
      qty: '1',
      clientOrderId: 'before-snapshot',
    },
    users.alice.token,
  );
  assert.deepEqual([reused.status, reused.body.code], [409, 'CLIENT_ORDER_ID_CONFLICT']);
  const claimAgain = await api.expect(
    201,
    'POST',
    `/api/v1/offerings/${offeringId}/claims`,
    { units: 1, clientClaimId: 'claim-before' },
    users.bob.token,
  );
  assert.deepEqual(claimAgain, claim);
  assert.equal(first.sequencer.lastSeq, lastSeq, 'a retry was journaled as a new command');
  const fetched = await api.expect(
    200,
    'GET',
    `/api/v1/orders/${retried.orderId}`,
    undefined,
    users.alice.token,
  );
  assert.equal(fetched.clientOrderId, 'before-snapshot');
  // Depth: the same lastUpdateId as before the restart, and the next diff continues it.
  const socket = await TestSocket.open(first.url);
  const ack = await socket.request('subscribe', { ch: 'depth.BTC-USD' });
  assert.equal(ack.ok, true);
  const snapshot = await socket.next(
    (message) => message.ch === 'depth.BTC-USD' && message.snapshot === true,
  );
  assert.equal(snapshot.data.lastUpdateId, depthBefore.lastUpdateId);
  await place(api, users.bob.token, { side: 'buy', price: '90', qty: '1' });
  const diff = await withinDeadline(
    socket.next((message) => message.ch === 'depth.BTC-USD' && message.snapshot !== true),
    'no depth diff',
  );
  assert.equal(diff.data.U, depthBefore.lastUpdateId + 1);
  socket.close();
});

it('a read model whose checkpoint is older than the snapshot catches up from the journal', async () => {
  const backupDir = temporaryDataDir();
  const pglite = join(dataDir, 'pglite');
  // The read model as it was at this point, restored after the next snapshot: checkpoint < snapshot.
  await stop(first);
  cpSync(pglite, join(backupDir, 'pglite'), { recursive: true });
  const checkpointSeq = first.sequencer.lastSeq;
  const periodic = testConfig(dataDir, (config) => {
    config.snapshotEveryCommands = 3;
    config.snapshotEveryMs = 0;
  });
  const second = await start(periodic);
  const api = new Api(second.url);
  const late: number[] = [];
  for (let index = 0; index < 4; index++) {
    const placed = await place(api, users.alice.token, { side: 'sell', price: `${110 + index}`, qty: '0.1' });
    late.push(placed.orderId);
  }
  await stop(second);
  rmSync(pglite, { recursive: true, force: true });
  cpSync(join(backupDir, 'pglite'), pglite, { recursive: true });

  const third = await start(periodic);
  assert.ok(
    third.recovered.snapshotSeq > checkpointSeq,
    `snapshot ${third.recovered.snapshotSeq} not past the read model's checkpoint ${checkpointSeq}`,
  );
  await withinDeadline(third.readModel.projected(third.sequencer.lastSeq), 'read model never caught up');
  assert.ok(third.readModel.fellBehindCount() >= 1, 'the gap was not noticed');
  const history = await new Api(third.url).expect(
    200,
    'GET',
    '/api/v1/history/orders?limit=500',
    undefined,
    users.alice.token,
  );
  const ids = new Set(history.items.map((item: { orderId: number }) => item.orderId));
  for (const id of [...aliceOrders, ...late]) assert.ok(ids.has(id), `order ${id} missing from history`);
});
