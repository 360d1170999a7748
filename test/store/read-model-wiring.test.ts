// The read model's wiring in the running exchange: a read model behind the journal catches up
// from it (a deleted PGlite directory, or a gap in the outcomes it was offered), and /metrics
// counts how often that happened.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { getPriority, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { pino } from 'pino';
import type { ExchangeConfig } from '../../src/config.js';
import { Engine } from '../../src/core/engine.js';
import { type ExchangeHandle, startExchange } from '../../src/main.js';
import type { CommandOutcome } from '../../src/ports.js';
import { journalOutcomes } from '../../src/store/journal-source.js';
import { ReadModelClient } from '../../src/store/read-model-client.js';
import { idleUnavailableReason, threadPolicyOf } from '../../src/store/thread-scheduling.js';
import { Api, testConfig } from '../gateway/support/exchange.js';

const logger = pino({ level: process.env.HOGA_TEST_LOG ?? 'silent' });
const readyDeadlineMs = 30_000;
/** Without the catch-up a projector behind the journal waits forever: fail instead of hanging. */
const testTimeoutMs = 90_000;

let dataDir: string;
let config: ExchangeConfig;
let aliceId: number;
let bobId: number;
let tradesBefore: unknown[];
/** The exchange the first test restarts on the deleted read model; later tests query it. */
let restarted: ExchangeHandle | undefined;

/** One market, two users, one trade between them. */
async function trade(api: Api): Promise<void> {
  const admin = await api.adminToken();
  await api.createMarket(admin);
  aliceId = await api.register('alice');
  bobId = await api.register('bob');
  await api.deposit(admin, aliceId, 'BTC', '2');
  await api.deposit(admin, bobId, 'USD', '1000');
  const alice = await api.login('alice');
  const bob = await api.login('bob');
  const order = { symbol: 'BTC-USD', type: 'limit', price: '100', qty: '1' };
  await api.expect(200, 'POST', '/api/v1/orders', { ...order, side: 'sell' }, alice);
  await api.expect(200, 'POST', '/api/v1/orders', { ...order, side: 'buy' }, bob);
}

/** Rejects after readyDeadlineMs, so a read model that never catches up fails instead of hanging. */
function withinDeadline<T>(promise: Promise<T>, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(message)), readyDeadlineMs);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

/** Polls /readyz (bounded) until the read model has projected everything the journal holds. */
async function caughtUp(api: Api): Promise<void> {
  const deadline = Date.now() + readyDeadlineMs;
  for (;;) {
    const ready = await api.call('GET', '/readyz');
    if (ready.body.readModelLag === 0) return;
    assert.ok(Date.now() < deadline, `read model still behind: ${JSON.stringify(ready.body)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'hoga-read-model-wiring-'));
  config = testConfig(dataDir);
  const exchange = await startExchange(config, { logger });
  const api = new Api(exchange.url);
  await trade(api);
  // Histories are written behind the command path: wait until the trade is projected.
  await exchange.readModel.projected(exchange.sequencer.lastSeq);
  const alice = await api.login('alice');
  tradesBefore = (await api.expect(200, 'GET', '/api/v1/history/trades', undefined, alice)).items;
  assert.equal(tradesBefore.length, 1);
  await exchange.close();
});

after(async () => {
  await restarted?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

it('a deleted read model is rebuilt from the journal at start: history has the earlier trades', {
  timeout: testTimeoutMs,
}, async () => {
  rmSync(config.pgliteDir, { recursive: true, force: true });
  restarted = await startExchange({ ...config, port: 0 }, { logger });
  const api = new Api(restarted.url);
  await caughtUp(api);
  // Users are not in the journal: registering in the same order gives the same ids back.
  assert.equal(await api.register('alice'), aliceId);
  const alice = await api.login('alice');
  const trades = await api.expect(200, 'GET', '/api/v1/history/trades', undefined, alice);
  assert.deepEqual(trades.items, tradesBefore);
  const metrics = await api.call('GET', '/metrics');
  const fellBehind = /^hoga_read_model_fell_behind_count (\d+)$/m.exec(metrics.body);
  assert.ok(fellBehind !== null, 'hoga_read_model_fell_behind_count missing from /metrics');
  assert.equal(Number(fellBehind[1]), restarted.readModel.fellBehindCount());
  const idle = /^hoga_read_model_thread_idle (\d+)$/m.exec(metrics.body);
  assert.ok(idle !== null, 'hoga_read_model_thread_idle missing from /metrics');
  assert.equal(Number(idle[1]), restarted.readModel.scheduling().policy === 'idle' ? 1 : 0);
  assert.match(metrics.body, /^hoga_read_model_thread_boosts \d+$/m);
});

it('a gap in the offered outcomes is filled from the journal and counted as fell behind', {
  timeout: testTimeoutMs,
}, async () => {
  const outcomes: CommandOutcome[] = [];
  for await (const outcome of journalOutcomes(dataDir, new Engine())) outcomes.push(outcome);
  const last = outcomes[outcomes.length - 1];
  const readModel = await ReadModelClient.open(
    {
      databaseUrl: '',
      dataDir: join(dataDir, 'pglite-gap'),
      journalDir: dataDir,
      logLevel: 'silent',
      niceness: 0,
      scheduling: 'nice',
      vacuumEveryMs: 0,
    },
    logger,
  );
  try {
    assert.equal(readModel.fellBehindCount(), 0);
    // Only the last outcome arrives, as after outcomes were dropped or a replay began at a snapshot.
    readModel.offer(last);
    await withinDeadline(readModel.projected(last.seq), 'the read model never caught up');
    assert.equal(readModel.lag(last.seq), 0);
    assert.equal(readModel.fellBehindCount(), 1);
    const trades = await readModel.history().tradesOfUser(aliceId, { cursor: null, limit: 10 });
    assert.equal(trades.items.length, 1);
    assert.equal(trades.items[0].side, 'sell');
  } finally {
    await readModel.close();
  }
});

/** Nice values of this process's threads (Linux /proc; field 19 of a task's stat). */
function threadNiceValues(): number[] {
  return readdirSync('/proc/self/task').map((task) => {
    const stat = readFileSync(`/proc/self/task/${task}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
  });
}

it('the read-model thread runs at the configured lower priority; the main thread keeps its own', {
  skip: process.platform !== 'linux' ? 'thread priorities are read from Linux /proc' : false,
  timeout: testTimeoutMs,
}, async () => {
  const before = threadNiceValues();
  const readModel = await ReadModelClient.open(
    {
      databaseUrl: '',
      dataDir: 'memory://',
      journalDir: dataDir,
      logLevel: 'silent',
      niceness: 7,
      scheduling: 'nice',
      vacuumEveryMs: 0,
    },
    logger,
  );
  try {
    const during = threadNiceValues();
    assert.equal(during.filter((nice) => nice === 7).length, before.filter((nice) => nice === 7).length + 1);
    assert.equal(during[0], before[0], 'the main thread (listed first) is unchanged');
  } finally {
    await readModel.close();
  }
});

/** This process's threads under SCHED_IDLE (thread-scheduling.ts reads the policy from /proc). */
function idleThreads(): number[] {
  return readdirSync('/proc/self/task')
    .map(Number)
    .filter((task) => threadPolicyOf(task) === 'idle');
}

it('with scheduling idle, the read-model thread is moved to SCHED_IDLE, answers, and gets the normal policy back when it lags', {
  skip: idleUnavailableReason(10) ?? false,
  timeout: testTimeoutMs,
}, async () => {
  // The exchange of the first test runs in this process too, with its own read-model thread.
  const before = new Set(idleThreads());
  const newIdleThreads = () => idleThreads().filter((task) => !before.has(task));
  const readModel = await ReadModelClient.open(
    {
      databaseUrl: '',
      dataDir: 'memory://',
      journalDir: dataDir,
      logLevel: 'silent',
      niceness: 10,
      scheduling: 'idle',
      vacuumEveryMs: 0,
    },
    logger,
  );
  try {
    const deadline = Date.now() + readyDeadlineMs;
    while (newIdleThreads().length === 0) {
      assert.ok(Date.now() < deadline, 'no thread reached SCHED_IDLE');
      await new Promise((resolve) => setImmediate(resolve));
    }
    const [readModelThread] = newIdleThreads();
    assert.equal(newIdleThreads().length, 1, 'only the read-model thread');
    // The policy is recorded once chrt has returned, a little after /proc shows it.
    while (readModel.scheduling().policy !== 'idle') {
      assert.ok(Date.now() < deadline, 'the client never recorded SCHED_IDLE');
      await new Promise((resolve) => setImmediate(resolve));
    }
    assert.equal(readModel.scheduling().boosts, 0);
    assert.equal(threadPolicyOf(process.pid), 'normal', 'the main thread keeps the normal policy');
    assert.equal(await readModel.users.findUserByName('nobody'), undefined);
    // An outcome 60,000 commands ahead of what is projected: a lag past the boost threshold
    // (50,000), as when the thread starves, so the main thread gives it the normal policy back.
    const outcomes: CommandOutcome[] = [];
    for await (const outcome of journalOutcomes(dataDir, new Engine())) outcomes.push(outcome);
    const last = outcomes[outcomes.length - 1];
    readModel.offer({ ...last, seq: last.seq + 60_000 });
    while (threadPolicyOf(readModelThread) !== 'normal') {
      assert.ok(Date.now() < deadline, 'the lagging read-model thread never got the normal policy back');
      await new Promise((resolve) => setImmediate(resolve));
    }
    assert.equal(getPriority(readModelThread), 10, 'back at its nice value');
    while (readModel.scheduling().boosts !== 1) {
      assert.ok(Date.now() < deadline, 'the boost was never counted');
      await new Promise((resolve) => setImmediate(resolve));
    }
    assert.equal(readModel.scheduling().policy, 'normal');
  } finally {
    await readModel.close();
  }
});

it('store errors keep their codes: 400 INVALID_CURSOR, 409 USERNAME_TAKEN', async () => {
  assert.ok(restarted !== undefined, 'needs the exchange of the first test');
  const api = new Api(restarted.url);
  const alice = await api.login('alice');
  const badCursor = await api.call('GET', '/api/v1/history/trades?cursor=not-a-cursor', undefined, alice);
  assert.equal(badCursor.status, 400);
  assert.equal(badCursor.body.code, 'INVALID_CURSOR');
  assert.equal(badCursor.body.field, 'cursor');
  assert.doesNotMatch(badCursor.body.message, /StoreError/);
  const taken = await api.call('POST', '/api/v1/auth/register', {
    username: 'alice',
    password: 'another-pw-1',
  });
  assert.equal(taken.status, 409);
  assert.equal(taken.body.code, 'USERNAME_TAKEN');
});

interface CandleItem {
  openMs: number;
  closeMs: number;
  open: string;
  close: string;
  volume: string;
  quoteVolume: string;
  trades: number;
}

/** Polls the candles route (bounded): closed candles reach the table through an asynchronous writer. */
async function candlesUntil(api: Api, count: number): Promise<CandleItem[]> {
  const deadline = Date.now() + readyDeadlineMs;
  for (;;) {
    const page = await api.expect(200, 'GET', '/api/v1/candles?symbol=BTC-USD&interval=1s');
    if (page.items.length >= count) return page.items;
    assert.ok(Date.now() < deadline, `only ${page.items.length} closed 1s candles, expected ${count}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

it('closed candles persist in the read model and page through GET /api/v1/candles', {
  timeout: testTimeoutMs,
}, async () => {
  assert.ok(restarted !== undefined, 'needs the exchange of the first test');
  const api = new Api(restarted.url);
  // The replayed trade rebuilt its candle, which closed and was written to the new read model.
  const [first] = await candlesUntil(api, 1);
  assert.deepEqual(
    { open: first.open, close: first.close, volume: first.volume, trades: first.trades },
    { open: '100.00', close: '100.00', volume: '1.000', trades: 1 },
  );
  assert.equal(first.quoteVolume, '100.000000');
  assert.equal(first.closeMs - first.openMs, 1_000);
  // A second trade in a later second makes a second 1s candle.
  assert.equal(await api.register('bob'), bobId);
  const alice = await api.login('alice');
  const bob = await api.login('bob');
  const order = { symbol: 'BTC-USD', type: 'limit', price: '101', qty: '0.5' };
  await api.expect(200, 'POST', '/api/v1/orders', { ...order, side: 'sell' }, alice);
  await api.expect(200, 'POST', '/api/v1/orders', { ...order, side: 'buy' }, bob);
  const both = await candlesUntil(api, 2);
  assert.equal(both[1].close, '101.00');
  assert.ok(both[0].openMs < both[1].openMs, 'oldest first');
  const query = '/api/v1/candles?symbol=BTC-USD&interval=1s&limit=1';
  const pageOne = await api.expect(200, 'GET', query);
  assert.deepEqual(pageOne.items, [both[0]]);
  assert.equal(typeof pageOne.next, 'string');
  const pageTwo = await api.expect(200, 'GET', `${query}&cursor=${encodeURIComponent(pageOne.next)}`);
  assert.deepEqual(pageTwo.items, [both[1]]);
  const window = `/api/v1/candles?symbol=BTC-USD&interval=1s&from=${both[1].openMs}&to=${both[1].closeMs}`;
  assert.deepEqual((await api.expect(200, 'GET', window)).items, [both[1]]);
  const reversed = await api.call('GET', '/api/v1/candles?symbol=BTC-USD&interval=1s&from=2000&to=1000');
  assert.equal(reversed.status, 400);
  assert.equal(reversed.body.code, 'INVALID_QUERY');
  const unknown = await api.call('GET', '/api/v1/candles?symbol=NOPE&interval=1s');
  assert.equal(unknown.status, 400);
  assert.equal(unknown.body.code, 'UNKNOWN_SYMBOL');
});
