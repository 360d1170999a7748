// Read-model benchmark, on one seeded order flow run through the real engine:
//  1. projection throughput per backend (PGlite in memory, PostgreSQL when reachable): rows/s
//     and outcomes/s with the default batching, against the same projector with one outcome per
//     transaction (the baseline, same run, same rows);
//  2. lag under a sustained order load: outcomes offered at a fixed rate for some seconds, lag
//     (offered sequence minus projected sequence) sampled every few milliseconds;
//  3. HOT updates of the orders table (what the fillfactor and the index choice buy);
//  4. the gateway benchmark's flow (place a resting order, cancel it) in batches of 500 outcomes:
//     CPU and wall time per outcome, with every cancel in the accept's batch and with a third or so
//     in the next one.
//
//   npm run bench:store -- [--commands N] [--baseline-commands N] [--rate N] [--lag-seconds N] [--cycles N] [--seed S] [--json]
import { setTimeout as delay } from 'node:timers/promises';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { pino } from 'pino';
import { Engine } from '../src/core/engine.js';
import type { Command } from '../src/core/types.js';
import type { CommandOutcome } from '../src/ports.js';
import { defaultProjectorOptions, pgliteBatchOutcomesMax } from '../src/store/projector.js';
import { inMemoryDataDir, openStore, type Store } from '../src/store/store.js';
import { parseBenchOptions } from './lib/args.js';
import { crowdedBook, generateOrderFlow } from './lib/order-flow.js';
import { PhaseProgress } from './lib/progress.js';
import { BenchReporter } from './lib/report.js';
import { nowNs, secondsSince } from './lib/timer.js';

const options = parseBenchOptions('store', {
  commands: { kind: 'integer', default: 100_000, minimum: 1_000, description: 'outcomes projected per run' },
  'baseline-commands': {
    kind: 'integer',
    default: 5_000,
    minimum: 100,
    description: 'outcomes for the one-per-transaction baseline',
  },
  rate: {
    kind: 'integer',
    default: 2_000,
    minimum: 100,
    description: 'offered outcomes per second in the lag run',
  },
  'lag-seconds': { kind: 'integer', default: 5, minimum: 1, description: 'length of the lag run' },
  cycles: {
    kind: 'integer',
    default: 20_000,
    minimum: 1_000,
    description: 'place-then-cancel cycles in the gateway-flow run',
  },
  seed: { kind: 'integer', default: 1, minimum: 0, description: 'seed of the order flow' },
  json: { kind: 'flag', description: 'print one JSON object on stdout' },
});

const logger = pino({ level: 'silent' });
const reporter = new BenchReporter(options.json);
const lagSampleIntervalMs = 5;
const loopGapsMax = 10_000_000;
const idleStallMs = 2_000;
const feedIntervalMs = 1;
const startTsMs = Date.UTC(2026, 0, 5, 9);
const postgresUrls = [
  process.env.DATABASE_URL,
  'postgres://postgres@127.0.0.1:5432/test',
  'postgres://root@127.0.0.1:5432/test',
].filter((url): url is string => url !== undefined && url !== '');

/** The flow's commands applied to the real engine, stamped as the sequencer would at `rate`/s. */
function outcomesOfFlow(total: number): CommandOutcome[] {
  const shape = { ...crowdedBook, name: 'store', prefillOrders: 2_000 };
  const flow = generateOrderFlow({ shape, seed: options.seed, measuredCommands: total, warmupCommands: 0 });
  const engine = new Engine();
  const commands: Command[] = [...flow.setup, ...flow.commands].slice(0, total);
  return commands.map((command, index) => {
    const seq = index + 1;
    const ts = startTsMs + Math.floor((seq * 1_000) / options.rate);
    const events = engine.apply({ ...command, ts }).map((event) => ({ ...event }));
    return { seq, ts, command: { ...command, ts }, events };
  });
}

/**
 * The gateway benchmark's flow: 64 users each placing a resting limit buy and cancelling it. With
 * `cancelLag` orders placed in between, that many orders are still open at each batch cut, so the
 * cancel lands in a later batch than the accept (about a third of them in the gateway benchmark).
 */
function gatewayFlow(cycles: number, cancelLag: number): CommandOutcome[] {
  const engine = new Engine();
  const outcomes: CommandOutcome[] = [];
  const apply = (command: Command) => {
    const seq = outcomes.length + 1;
    const ts = startTsMs + Math.floor(seq / 30);
    const stamped = { ...command, ts } as Command;
    outcomes.push({
      seq,
      ts,
      command: stamped,
      events: engine.apply(stamped).map((event) => ({ ...event })),
    });
  };
  const users = 64;
  apply({
    op: 'symbol',
    symbol: 'GW/USD',
    base: 'GW',
    quote: 'USD',
    lotSize: 1,
    tickSize: 1,
    makerFeeBps: 1,
    takerFeeBps: 2,
  });
  for (let user = 1; user <= users; user += 1) apply({ op: 'deposit', user, asset: 'USD', amount: 1e12 });
  const open: Array<[number, number]> = [];
  for (let cycle = 0; cycle < cycles; cycle += 1) {
    const user = 1 + (cycle % users);
    const id = 1_000_000 + cycle;
    apply({
      op: 'place',
      user,
      id,
      symbol: 'GW/USD',
      side: 'buy',
      type: 'limit',
      qty: 1,
      price: 100 + (cycle % 50),
    });
    open.push([user, id]);
    if (open.length > cancelLag) {
      const [owner, orderId] = open.shift() as [number, number];
      apply({ op: 'cancel', user: owner, id: orderId });
    }
  }
  return outcomes;
}

/** Outcomes projected untimed before the gateway flow is measured. */
const flowWarmupOutcomesMax = 4_065;

/** CPU and wall time per outcome of projecting `outcomes` in batches of `batchOutcomes`. */
async function projectFlow(store: Store, outcomes: CommandOutcome[], batchOutcomes: number) {
  const projector = await store.openProjector({ batchOutcomesMax: batchOutcomes });
  // The warm-up never takes more than half the flow, so a short run still measures something.
  const warm = Math.min(Math.floor(outcomes.length / 2), flowWarmupOutcomesMax);
  await projector.project(streamOf(outcomes.slice(0, warm)));
  const measured = outcomes.slice(warm);
  const cpuStart = process.cpuUsage();
  const startNs = nowNs();
  await projector.project(streamOf(measured));
  const seconds = secondsSince(startNs);
  const cpu = process.cpuUsage(cpuStart);
  await projector.halt();
  return {
    wallUsPerOutcome: (seconds * 1e6) / measured.length,
    cpuUsPerOutcome: (cpu.user + cpu.system) / measured.length,
  };
}

async function* streamOf(outcomes: readonly CommandOutcome[]): AsyncIterable<CommandOutcome> {
  for (const outcome of outcomes) yield outcome;
}

interface Backend {
  name: string;
  open(schema: string): Promise<Store>;
  orderUpdates(store: Store): Promise<{ updates: number; hotUpdates: number }>;
}

async function reachablePostgres(): Promise<string | undefined> {
  for (const url of postgresUrls) {
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
    try {
      await client.connect();
      await client.end();
      return url;
    } catch {
      // try the next candidate
    }
  }
  return undefined;
}

async function orderUpdatesOf(query: Store['database']['query'], schema: string) {
  const rows = await query<{ updates: string | number; hot: string | number }>(
    `SELECT n_tup_upd AS updates, n_tup_hot_upd AS hot FROM pg_stat_user_tables
      WHERE schemaname = $1 AND relname = 'orders'`,
    [schema],
  );
  return { updates: Number(rows[0]?.updates ?? 0), hotUpdates: Number(rows[0]?.hot ?? 0) };
}

function backendsOf(databaseUrl: string | undefined): Backend[] {
  // PGlite takes seconds to start: one instance, a schema per run.
  let instance: Promise<PGlite> | undefined;
  const pglite: Backend = {
    name: 'pglite (memory)',
    open: async (schema) => {
      instance ??= PGlite.create(inMemoryDataDir);
      return openStore({ pglite: await instance, schema, logger });
    },
    orderUpdates: async (store) => {
      await store.database.query('SELECT pg_stat_force_next_flush()');
      return orderUpdatesOf(store.database.query.bind(store.database), store.database.schema);
    },
  };
  if (databaseUrl === undefined) return [pglite];
  const postgres: Backend = {
    name: 'postgresql',
    open: (schema) => openStore({ databaseUrl, schema, logger }),
    // Backends report their counters when they go idle: wait past the reporting interval.
    orderUpdates: async (store) => {
      await delay(1_500);
      return orderUpdatesOf(store.database.query.bind(store.database), store.database.schema);
    },
  };
  return [pglite, postgres];
}

/**
 * Measures how long the event loop goes without running a 1 ms timer: PGlite executes statements
 * on the main thread, so this is what the gateway would feel while the projector writes.
 */
class LoopStallMeter {
  private readonly gapsMs: number[] = [];
  private lastMs = performance.now();
  private readonly timer = setInterval(() => {
    const nowMs = performance.now();
    if (this.gapsMs.length < loopGapsMax) this.gapsMs.push(nowMs - this.lastMs);
    this.lastMs = nowMs;
  }, 1);

  stop(): { stallP99Ms: number; stallMaxMs: number } {
    clearInterval(this.timer);
    this.gapsMs.sort((left, right) => left - right);
    return {
      stallP99Ms: this.gapsMs[Math.floor(this.gapsMs.length * 0.99)] ?? 0,
      stallMaxMs: this.gapsMs[this.gapsMs.length - 1] ?? 0,
    };
  }
}

/** The same meter with nothing to do: what the shared machine's scheduling alone costs. */
async function idleStall() {
  const meter = new LoopStallMeter();
  await delay(idleStallMs);
  return meter.stop();
}

async function projectAll(store: Store, outcomes: CommandOutcome[], batchOutcomesMax?: number) {
  const projector = await store.openProjector({ batchOutcomesMax });
  const meter = new LoopStallMeter();
  const startNs = nowNs();
  await projector.project(streamOf(outcomes));
  const seconds = secondsSince(startNs);
  const stall = meter.stop();
  const rows = projector.stats().rows;
  await projector.halt();
  return {
    seconds,
    rows,
    rowsPerSecond: rows / seconds,
    outcomesPerSecond: outcomes.length / seconds,
    ...stall,
  };
}

/** Offers outcomes at `rate` per second and samples the lag; then drains. */
async function sustainedLag(store: Store, outcomes: CommandOutcome[]) {
  const projector = await store.openProjector();
  const total = Math.min(outcomes.length, options.rate * options['lag-seconds']);
  const lags: number[] = [];
  const startNs = nowNs();
  let offered = 0;
  let sampledAtMs = 0;
  while (offered < total) {
    const elapsedMs = secondsSince(startNs) * 1_000;
    const due = Math.min(total, Math.floor((elapsedMs * options.rate) / 1_000));
    for (; offered < due; offered += 1) projector.offer(outcomes[offered]);
    if (elapsedMs - sampledAtMs >= lagSampleIntervalMs) {
      lags.push(projector.lag(offered));
      sampledAtMs = elapsedMs;
    }
    await delay(feedIntervalMs);
  }
  const feedSeconds = secondsSince(startNs);
  const drainStartNs = nowNs();
  await projector.close();
  const drainMs = secondsSince(drainStartNs) * 1_000;
  lags.sort((left, right) => left - right);
  const percentile = (fraction: number) =>
    lags[Math.min(lags.length - 1, Math.floor(lags.length * fraction))] ?? 0;
  const offeredPerSecond = total / feedSeconds;
  return {
    offeredPerSecond,
    lagP50: percentile(0.5),
    lagP99: percentile(0.99),
    lagMax: lags[lags.length - 1] ?? 0,
    lagP99Ms: (percentile(0.99) / offeredPerSecond) * 1_000,
    drainMs,
  };
}

async function main(): Promise<void> {
  const progress = new PhaseProgress(2 + 6 * 2);
  progress.phase('generate outcomes with the engine');
  const outcomes = outcomesOfFlow(options.commands);
  const events = outcomes.reduce((sum, outcome) => sum + outcome.events.length, 0);
  const trades = outcomes.reduce(
    (sum, outcome) => sum + outcome.events.filter((event) => event.ev === 'trade').length,
    0,
  );
  progress.phase('probe PostgreSQL');
  const backends = backendsOf(await reachablePostgres());
  const results: Array<Record<string, string | number>> = [];
  const json: Record<string, unknown> = { outcomes: outcomes.length, events, trades, backends: {} };
  for (const backend of backends) {
    const suffix = `${process.pid}_${Date.now().toString(36)}`;
    progress.phase(`${backend.name}: idle event loop (stall baseline)`);
    const idle = await idleStall();
    progress.phase(`${backend.name}: batched projection`);
    const batchedStore = await backend.open(`bench_batched_${suffix}`);
    const batched = await projectAll(batchedStore, outcomes);
    const orderUpdates = await backend.orderUpdates(batchedStore);
    await dropAndClose(batchedStore);
    progress.phase(`${backend.name}: one outcome per transaction (baseline)`);
    const baselineStore = await backend.open(`bench_single_${suffix}`);
    const baseline = await projectAll(baselineStore, outcomes.slice(0, options['baseline-commands']), 1);
    await dropAndClose(baselineStore);
    progress.phase(`${backend.name}: lag at ${options.rate} outcomes/s`);
    const lagStore = await backend.open(`bench_lag_${suffix}`);
    const lag = await sustainedLag(lagStore, outcomes);
    await dropAndClose(lagStore);
    progress.phase(`${backend.name}: gateway flow`);
    const flow: Record<string, number> = {};
    for (const cancelLag of [0, 100]) {
      const flowStore = await backend.open(`bench_flow_${cancelLag}_${suffix}`);
      const measured = await projectFlow(flowStore, gatewayFlow(options.cycles, cancelLag), 500);
      await dropAndClose(flowStore);
      flow[`flow µs/op lag ${cancelLag}`] = measured.wallUsPerOutcome;
      flow[`flow cpu µs/op lag ${cancelLag}`] = measured.cpuUsPerOutcome;
    }
    progress.phase(`${backend.name}: done`);
    const hotPercent =
      orderUpdates.updates === 0 ? 0 : (100 * orderUpdates.hotUpdates) / orderUpdates.updates;
    results.push({
      backend: backend.name,
      'rows/s': batched.rowsPerSecond,
      'outcomes/s': batched.outcomesPerSecond,
      'baseline rows/s': baseline.rowsPerSecond,
      'x baseline': batched.rowsPerSecond / baseline.rowsPerSecond,
      'stall p99 ms': batched.stallP99Ms,
      'stall max ms': batched.stallMaxMs,
      'idle stall p99 ms': idle.stallP99Ms,
      'lag p50': lag.lagP50,
      'lag p99': lag.lagP99,
      'lag max': lag.lagMax,
      'lag p99 ms': lag.lagP99Ms,
      'drain ms': lag.drainMs,
      'orders HOT %': hotPercent,
      ...flow,
    });
    (json.backends as Record<string, unknown>)[backend.name] = {
      batched,
      baseline,
      lag,
      orderUpdates,
      idle,
      flow,
    };
  }
  progress.stop();
  reporter.line(
    `store: ${outcomes.length} outcomes (${events} events, ${trades} trades) from the engine, seed ${options.seed}; ` +
      `batch ${defaultProjectorOptions.batchOutcomesMax} outcomes (PGlite ${pgliteBatchOutcomesMax}) / ` +
      `${defaultProjectorOptions.flushIntervalMs} ms; ` +
      `lag run ${options['lag-seconds']} s at ${options.rate}/s`,
  );
  reporter.table(results);
  if (options.json) process.stdout.write(`${JSON.stringify(json)}\n`);
}

async function dropAndClose(store: Store): Promise<void> {
  await store.database.query(`DROP SCHEMA ${store.database.schema} CASCADE`);
  await store.close();
}

await main();
