// Engine benchmark: Hoga's matching engine against nodejs-order-book on the same seeded order flow,
// in one process run, on a crowded book (few prices, thousands of orders each), a wide one, and the
// shape of a busy public market (10,000 users, 1,000 prices, 30% cancels). Each flow then also runs
// through the product's `hoga replay` in a child process, as a user would run it.
// Throughput is timed in blocks of commands; Hoga's per-command latency is taken in a separate
// pass so the timer's own cost does not distort throughput.
//
// nodejs-order-book needs a millisecond or more per cancel on a crowded book (it renumbers the whole
// price level), so it runs only the first `--peer-commands` measured commands. On those, the two
// engines take turns in blocks of `interleaveCommands`, each block timed, so that load from other
// processes on this shared machine falls on both alike; the ratio compares those times. Hoga then
// runs the rest of the stream alone for its rate over the whole stream.
//
//   npm run bench:engine -- [--commands N] [--peer-commands N] [--seed S] [--warmup N] [--no-replay]
//                           [--replay-shuffled-keys] [--json]
import os from 'node:os';
import { type LimitOrderOptions, type MarketOrderOptions, OrderBook, Side } from 'nodejs-order-book';
import { Engine } from '../src/core/engine.js';
import type { Command, DepthView, EngineEvent, MatchingEngine } from '../src/core/types.js';
import { parseBenchOptions } from './lib/args.js';
import { type CascadeResult, measureCascades } from './lib/cascade.js';
import { collectGarbage } from './lib/gc.js';
import { LatencyHistogram, type LatencySummary } from './lib/histogram.js';
import {
  type BookDepth,
  type BookShape,
  CommandKind,
  crowdedBook,
  generateOrderFlow,
  manyUsersBook,
  type OrderFlow,
  type OrderFlowStats,
  wideBook,
} from './lib/order-flow.js';
import { PhaseProgress } from './lib/progress.js';
import { type ReplaySummary, runHogaReplay } from './lib/replay-run.js';
import { BenchReporter, checkTarget, formatCount, type TargetCheck } from './lib/report.js';
import { measureTimerOverheadNs, nowNs } from './lib/timer.js';

const options = parseBenchOptions('engine', {
  commands: { kind: 'integer', default: 1_000_000, minimum: 1, description: 'measured commands per book' },
  seed: { kind: 'integer', default: 1, minimum: 0, description: 'seed of the order flow' },
  'peer-commands': {
    kind: 'integer',
    default: 20_000,
    minimum: 1,
    description: 'measured commands also run through nodejs-order-book',
  },
  warmup: { kind: 'integer', default: 10_000, minimum: 0, description: 'unmeasured mixed commands first' },
  'no-replay': { kind: 'flag', description: 'skip the runs through `hoga replay`' },
  'replay-shuffled-keys': {
    kind: 'flag',
    description:
      "also replay a file with each command's fields in a random order, as other tools may write them",
  },
  json: { kind: 'flag', description: 'print one machine-readable JSON line on stdout' },
});

/** Hoga's targets against nodejs-order-book: a crowded book is where a naive queue suffers most. */
const ratioTargets: Record<string, number> = { crowded: 20, wide: 8, 'many-users': 8 };
const p99UsTarget = 5;
/** Commands per timed block when the engines take turns: small next to load swings (seconds). */
const interleaveCommands = 1_000;
/** Deeper than any book the flow builds, so depth comparisons see every level. */
const depthLevelsMax = 100_000;

type PeerCall = LimitOrderOptions | MarketOrderOptions | string;

/** Stop-order cascades measured after the streams (bench/lib/cascade.ts), and runs of each. */
const cascadeDepths = [10, 100, 1_000];
const cascadeRepetitions = 21;

/** Indexed by CommandKind. */
const kindNames = ['limit', 'market', 'cancel'] as const;
type KindName = (typeof kindNames)[number];

interface ShapeResult {
  book: string;
  flow: OrderFlowStats;
  /** Commands both engines ran and timed (a prefix of the measured stream). */
  sharedCommands: number;
  peerCommandsPerSec: number;
  /** Hoga on the shared commands: the ratio's numerator. */
  hogaSharedCommandsPerSec: number;
  /** Hoga on the whole measured stream. */
  hogaCommandsPerSec: number;
  ratio: number;
  hogaLatency: LatencySummary;
  hogaLatencyByKind: Record<KindName, LatencySummary>;
  hogaTrades: number;
  hogaRejected: number;
  /** The same flow (setup and prefill included) through `hoga replay`; absent with --no-replay. */
  replay?: ReplaySummary;
  /** The same, from a file whose fields are in a random order per line (--replay-shuffled-keys). */
  replayShuffledKeys?: ReplaySummary;
}

const sharedCommands = Math.min(options['peer-commands'], options.commands);

/** Consistency failures: the comparison is void if the engines did not do the same work. */
const mismatches: string[] = [];

async function main(): Promise<void> {
  const reporter = new BenchReporter(options.json);
  const shapes = [crowdedBook, wideBook, manyUsersBook];
  const progress = new PhaseProgress(shapes.length * 4);
  const loadAverageAtStart = os.loadavg()[0];
  const timerOverheadNs = measureTimerOverheadNs();
  const results: ShapeResult[] = [];
  for (const shape of shapes) results.push(await runShape(shape, progress));
  progress.stop();
  printResults(reporter, results, timerOverheadNs);
  const cascades = measureCascades(cascadeDepths, cascadeRepetitions);
  printCascades(reporter, cascades);
  const checks = results.flatMap((result) => [
    checkTarget(
      `${result.book}: Hoga / nodejs-order-book`,
      result.ratio,
      'atLeast',
      ratioTargets[result.book],
      'x',
    ),
    checkTarget(
      `${result.book}: Hoga p99 per command`,
      result.hogaLatency.p99Us,
      'atMost',
      p99UsTarget,
      ' µs',
    ),
    ...replayChecks(result),
  ]);
  reporter.line();
  reporter.targets(checks);
  for (const mismatch of mismatches) reporter.line(`MISMATCH  ${mismatch}`);
  const loadAverages = [loadAverageAtStart, os.loadavg()[0]];
  reporter.line(
    `load average (1 min) at start ${loadAverages[0].toFixed(1)}, at end ${loadAverages[1].toFixed(1)}`,
  );
  reporter.result({ ...(jsonResult(results, checks, timerOverheadNs, loadAverages) as object), cascades });
  // A missed target is a finding, not a failure; engines that disagree make every figure void.
  if (mismatches.length > 0) process.exitCode = 1;
}

function replayChecks(result: ShapeResult): TargetCheck[] {
  const replays: Array<[string, ReplaySummary | undefined]> = [
    ['hoga replay', result.replay],
    ['hoga replay, fields in random order,', result.replayShuffledKeys],
  ];
  return replays.flatMap(([label, replay]) =>
    replay === undefined
      ? []
      : [checkTarget(`${result.book}: ${label} p99 per command`, replay.p99Us, 'atMost', p99UsTarget, ' µs')],
  );
}

async function runShape(shape: BookShape, progress: PhaseProgress): Promise<ShapeResult> {
  progress.phase(`${shape.name}: generating ${formatCount(options.commands)} commands`);
  const flow = generateOrderFlow({
    shape,
    seed: options.seed,
    measuredCommands: options.commands,
    warmupCommands: options.warmup,
    checkpointAfterMeasured: sharedCommands,
  });
  progress.phase(`${shape.name}: throughput (nodejs-order-book on ${formatCount(sharedCommands)} commands)`);
  const throughput = measureThroughput(flow);
  progress.phase(`${shape.name}: Hoga latency per command`);
  const latency = measureHogaLatency(flow);
  progress.phase(`${shape.name}: hoga replay`);
  const replay = options['no-replay'] ? undefined : await runHogaReplay(flow);
  const replayShuffledKeys = options['replay-shuffled-keys']
    ? await runHogaReplay(flow, 'shuffled')
    : undefined;
  return {
    replay,
    replayShuffledKeys,
    book: shape.name,
    flow: flow.stats,
    sharedCommands,
    peerCommandsPerSec: throughput.peerCommandsPerSec,
    hogaSharedCommandsPerSec: throughput.hogaSharedCommandsPerSec,
    hogaCommandsPerSec: throughput.hogaCommandsPerSec,
    ratio: throughput.hogaSharedCommandsPerSec / throughput.peerCommandsPerSec,
    hogaLatency: latency.summary,
    hogaLatencyByKind: latency.byKind,
    hogaTrades: latency.trades,
    hogaRejected: latency.rejected,
  };
}

// ---- nodejs-order-book ------------------------------------------------------------------------

/** Our commands as nodejs-order-book arguments, built before timing so mapping costs nothing. */
function toPeerCalls(flow: OrderFlow): PeerCall[] {
  return flow.commands.map((command, index): PeerCall => {
    if (command.op === 'cancel') return String(command.id);
    if (command.op !== 'place') throw new Error(`unexpected ${command.op} in the order flow`);
    const side = command.side === 'buy' ? Side.BUY : Side.SELL;
    if (flow.kinds[index] === CommandKind.market) return { side, size: command.qty };
    return { id: String(command.id), side, size: command.qty, price: command.price as number };
  });
}

function applyPeerRange(book: OrderBook, flow: OrderFlow, calls: PeerCall[], from: number, to: number): void {
  const kinds = flow.kinds;
  for (let index = from; index < to; index += 1) {
    const kind = kinds[index];
    if (kind === CommandKind.limit) book.limit(calls[index] as LimitOrderOptions);
    else if (kind === CommandKind.market) book.market(calls[index] as MarketOrderOptions);
    else book.cancel(calls[index] as string);
  }
}

// ---- Hoga ---------------------------------------------------------------------------------------

function freshHoga(flow: OrderFlow): MatchingEngine {
  const engine = new Engine();
  for (const command of flow.setup) expectNoRejection(engine.apply(command), command);
  return engine;
}

function applyHogaRange(engine: MatchingEngine, commands: Command[], from: number, to: number): void {
  for (let index = from; index < to; index += 1) engine.apply(commands[index]);
}

interface Throughput {
  peerCommandsPerSec: number;
  hogaSharedCommandsPerSec: number;
  hogaCommandsPerSec: number;
}

/** Both engines through the shared commands, taking turns block by block; then Hoga alone. */
function measureThroughput(flow: OrderFlow): Throughput {
  const { commands, measuredStart } = flow;
  const calls = toPeerCalls(flow);
  const book = new OrderBook();
  const engine = freshHoga(flow);
  applyPeerRange(book, flow, calls, 0, measuredStart);
  applyHogaRange(engine, commands, 0, measuredStart);
  collectGarbage();
  const sharedEnd = measuredStart + sharedCommands;
  let peerNs = 0;
  let hogaSharedNs = 0;
  for (let blockStart = measuredStart; blockStart < sharedEnd; blockStart += interleaveCommands) {
    const blockEnd = Math.min(blockStart + interleaveCommands, sharedEnd);
    const peerStartNs = nowNs();
    applyPeerRange(book, flow, calls, blockStart, blockEnd);
    const hogaStartNs = nowNs();
    applyHogaRange(engine, commands, blockStart, blockEnd);
    hogaSharedNs += nowNs() - hogaStartNs;
    peerNs += hogaStartNs - peerStartNs;
  }
  checkPeerState(book, flow);
  collectGarbage();
  const restStartNs = nowNs();
  applyHogaRange(engine, commands, sharedEnd, commands.length);
  const hogaRestNs = nowNs() - restStartNs;
  return {
    peerCommandsPerSec: sharedCommands / (peerNs / 1e9),
    hogaSharedCommandsPerSec: sharedCommands / (hogaSharedNs / 1e9),
    hogaCommandsPerSec: (commands.length - measuredStart) / ((hogaSharedNs + hogaRestNs) / 1e9),
  };
}

interface LatencyPass {
  summary: LatencySummary;
  /** Per command kind (limit, cancel, market): shows which kind makes the tail. */
  byKind: Record<KindName, LatencySummary>;
  trades: number;
  rejected: number;
}

function measureHogaLatency(flow: OrderFlow): LatencyPass {
  const engine = freshHoga(flow);
  const { commands, measuredStart } = flow;
  applyHogaRange(engine, commands, 0, measuredStart);
  const latenciesNs = new Float64Array(commands.length - measuredStart);
  collectGarbage();
  let trades = 0;
  let rejected = 0;
  for (let index = measuredStart; index < commands.length; index += 1) {
    const startNs = process.hrtime.bigint();
    const events = engine.apply(commands[index]);
    const endNs = process.hrtime.bigint();
    latenciesNs[index - measuredStart] = Number(endNs - startNs);
    // Counted outside the timed window: events are only valid until the next apply.
    for (const event of events) {
      if (event.ev === 'trade') trades += 1;
      else if (event.ev === 'rejected') rejected += 1;
    }
  }
  const histogram = new LatencyHistogram();
  histogram.recordAllNs(latenciesNs, latenciesNs.length);
  checkHogaState(engine, flow, trades, rejected);
  return { summary: histogram.summary(), byKind: latencyByKind(flow, latenciesNs), trades, rejected };
}

function latencyByKind(flow: OrderFlow, latenciesNs: Float64Array): Record<KindName, LatencySummary> {
  const histograms = kindNames.map(() => new LatencyHistogram());
  for (let offset = 0; offset < latenciesNs.length; offset += 1) {
    histograms[flow.kinds[flow.measuredStart + offset]].recordNs(latenciesNs[offset]);
  }
  const byKind = {} as Record<KindName, LatencySummary>;
  kindNames.forEach((name, kind) => {
    byKind[name] = histograms[kind].summary();
  });
  return byKind;
}

function checkHogaState(engine: MatchingEngine, flow: OrderFlow, trades: number, rejected: number): void {
  engine.validateInternalState();
  const depth = engine.depth(flow.symbol, depthLevelsMax) as DepthView;
  compareDepth('Hoga', flow.finalDepth, depth);
  if (trades !== flow.stats.measuredTrades) {
    mismatches.push(`Hoga made ${trades} trades, the model ${flow.stats.measuredTrades}`);
  }
  if (rejected !== 0) mismatches.push(`Hoga rejected ${rejected} measured commands (expected none)`);
}

function expectNoRejection(events: readonly EngineEvent[], command: Command): void {
  const rejection = events.find((event) => event.ev === 'rejected');
  if (rejection !== undefined)
    throw new Error(`setup command rejected: ${JSON.stringify({ command, rejection })}`);
}

function checkPeerState(book: OrderBook, flow: OrderFlow): void {
  const [asks, bids] = book.depth();
  const depth = { bids: sortLevels(bids, 'descending'), asks: sortLevels(asks, 'ascending') };
  compareDepth('nodejs-order-book', flow.checkpointDepth, depth);
}

// ---- checks and output ---------------------------------------------------------------------------

function sortLevels(
  levels: Array<[number, number]>,
  order: 'ascending' | 'descending',
): Array<[number, number]> {
  const sign = order === 'ascending' ? 1 : -1;
  return [...levels].sort((left, right) => sign * (left[0] - right[0]));
}

function compareDepth(engineName: string, expected: BookDepth, actual: BookDepth): void {
  const same =
    JSON.stringify(expected.bids) === JSON.stringify(actual.bids) &&
    JSON.stringify(expected.asks) === JSON.stringify(actual.asks);
  if (!same) mismatches.push(`${engineName}'s book differs from the model's`);
}

function printResults(reporter: BenchReporter, results: ShapeResult[], timerOverheadNs: number): void {
  reporter.line(
    `Engine benchmark: ${formatCount(options.commands)} measured commands per book ` +
      `(nodejs-order-book: the first ${formatCount(sharedCommands)}), seed ${options.seed}, ` +
      `warm-up ${formatCount(options.warmup)}; node ${process.version}, ${os.cpus().length} cores`,
  );
  for (const result of results) {
    const flow = result.flow;
    reporter.line();
    reporter.line(
      `${result.book}: ${formatCount(flow.restingAtMeasuredStart)} resting orders on ` +
        `${flow.occupiedLevelsAtMeasuredStart} prices at start (` +
        `${Math.round(flow.restingAtMeasuredStart / flow.occupiedLevelsAtMeasuredStart)} per price), ` +
        `${formatCount(flow.restingAtEnd)} at end; trades ${result.hogaTrades} (model ${flow.measuredTrades}), ` +
        `sweeps ${flow.sweeps}`,
    );
    reporter.table([
      {
        engine: 'nodejs-order-book',
        [`commands/s, first ${formatCount(result.sharedCommands)}`]: formatCount(result.peerCommandsPerSec),
        'commands/s, all': '-',
      },
      {
        engine: 'Hoga',
        [`commands/s, first ${formatCount(result.sharedCommands)}`]: formatCount(
          result.hogaSharedCommandsPerSec,
        ),
        'commands/s, all': formatCount(result.hogaCommandsPerSec),
      },
    ]);
    reporter.line(`ratio ${result.ratio.toFixed(1)}x on the same commands`);
    const replays = [
      ['hoga replay', result.replay],
      ['hoga replay, fields in random order', result.replayShuffledKeys],
    ] as const;
    for (const [label, replay] of replays) {
      if (replay === undefined) continue;
      reporter.line(
        `${label} (all ${formatCount(replay.commands)} commands, setup and prefill included): ` +
          `${formatCount(replay.commandsPerSec)} commands/s, p50 ${replay.p50Us} µs, p99 ${replay.p99Us} µs, ` +
          `p99.9 ${replay.p999Us} µs`,
      );
    }
    reporter.line(`Hoga latency per command in µs (includes ~${timerOverheadNs.toFixed(0)} ns of timer):`);
    const latencyRows = [
      ['all', result.hogaLatency] as const,
      ...kindNames.map((name) => [name, result.hogaLatencyByKind[name]] as const),
    ];
    reporter.table(
      latencyRows.map(([name, latency]) => ({
        commands: name,
        count: formatCount(latency.count),
        p50: latency.p50Us.toFixed(2),
        p99: latency.p99Us.toFixed(2),
        'p99.9': latency.p999Us.toFixed(2),
        max: latency.maxUs.toFixed(0),
      })),
    );
  }
}

function printCascades(reporter: BenchReporter, cascades: CascadeResult[]): void {
  reporter.line();
  reporter.line('Stop-order trigger cascade: one command, median of fresh engines');
  reporter.table(
    cascades.map((result) => ({
      'stops in cascade': result.depth,
      'cascade µs': result.cascadeUs,
      'ns per activation': result.perActivationNs,
      'one trade, that many idle stops, µs': result.idleScanUs,
    })),
  );
}

function jsonResult(
  results: ShapeResult[],
  checks: TargetCheck[],
  timerOverheadNs: number,
  loadAverages: number[],
): unknown {
  return {
    bench: 'engine',
    commands: options.commands,
    seed: options.seed,
    peerCommands: sharedCommands,
    warmup: options.warmup,
    node: process.version,
    cores: os.cpus().length,
    timerOverheadNs,
    loadAverages,
    books: results,
    targets: checks,
    mismatches,
  };
}

await main();
