// Journal benchmark, in one run on the same seeded order flow:
//  1. throughput: engine only (no journal) versus the sequencer with fsync `none` and `always`
//     (group commit), with many concurrent submitters; ack latency and commands per fdatasync;
//  2. recovery: replay of a generated journal (default 10M commands) from empty, written once with
//     JSON payloads and once with compact ones, then snapshot load plus the replay of a tail;
//  3. snapshot pause for an engine holding many resting orders: what intake waits for
//     (exportState + stateHash, and the running exchange's snapshot participants: gateway state
//     and market data fed with the same outcomes) against a one-shot JSON.stringify, and the
//     event-loop stalls while the snapshot is serialised and written in slices;
//  4. the running exchange's restart: recovery through the exchange's listeners (gateway state,
//     market data) from a snapshot with their state plus a tail, against a full replay of the same
//     journal through them.
//
//   npm run bench:journal -- [--commands N] [--submitters N] [--recovery-commands N] [--resting-orders N]
//                            [--exchange-commands N] [--seed S]
import { mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { pino } from 'pino';
import { Engine } from '../src/core/engine.js';
import type { Command } from '../src/core/types.js';
import { defaultGatewayConfig } from '../src/gateway/config.js';
import { GatewayState } from '../src/gateway/state.js';
import { openSequencer } from '../src/journal/durable.js';
import { coreEngineFactory } from '../src/journal/engine-factory.js';
import { nodeFileSystem } from '../src/journal/file-system.js';
import { type FsyncPolicy, JournalWriter } from '../src/journal/journal-writer.js';
import { captureParticipants, type SnapshotParticipant } from '../src/journal/participant.js';
import { notCompact, type PayloadFormat, writeCompactCommand } from '../src/journal/payload.js';
import { endsWrite, recordHeaderBytes, sealRecord, startsWrite } from '../src/journal/record.js';
import { recover } from '../src/journal/recovery.js';
import type { Listener } from '../src/journal/sequencer.js';
import { readSnapshot, writeSnapshot } from '../src/journal/snapshot.js';
import { MarketData } from '../src/marketdata/marketdata.js';
import type { CommandOutcome } from '../src/ports.js';
import { parseBenchOptions } from './lib/args.js';
import { collectGarbage } from './lib/gc.js';
import { LatencyHistogram } from './lib/histogram.js';
import { type BookShape, crowdedBook, generateOrderFlow, type OrderFlow } from './lib/order-flow.js';
import { PhaseProgress } from './lib/progress.js';
import { BenchReporter, checkTarget } from './lib/report.js';
import { nowNs } from './lib/timer.js';

const options = parseBenchOptions('journal', {
  commands: { kind: 'integer', default: 200_000, minimum: 1_000, description: 'commands per throughput run' },
  submitters: { kind: 'integer', default: 512, minimum: 1, description: 'concurrent submitters' },
  'recovery-commands': {
    kind: 'integer',
    default: 10_000_000,
    minimum: 10_000,
    description: 'journal length for the recovery run',
  },
  'resting-orders': {
    kind: 'integer',
    default: 1_000_000,
    minimum: 1_000,
    description: 'resting orders for the snapshot pause',
  },
  'exchange-commands': {
    kind: 'integer',
    default: 2_000_000,
    minimum: 10_000,
    description: 'journal length for the exchange restart run (listeners included)',
  },
  seed: { kind: 'integer', default: 1, minimum: 0, description: 'seed of the order flow' },
  'exchange-only': {
    kind: 'flag',
    description:
      'run only part 4, the exchange restart (for profiling; the summary figures come from a full run)',
  },
  json: { kind: 'flag', description: 'print one JSON object on stdout' },
});

const silent = pino({ level: 'silent' });
const reporter = new BenchReporter(options.json);
const progress = new PhaseProgress(10);
const flowShape: BookShape = { ...crowdedBook, name: 'journal', levelsPerSide: 200, prefillOrders: 20_000 };
/** Commands generated once and repeated, with fresh order ids, to build a long journal. */
const recoveryFlowCommandsMax = 1_000_000;
const writeChunkBytesMax = 4 << 20;
const startTs = 1_790_000_000_000;

function cpuSecondsSince(before: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1e6;
}

function temporaryDataDir(label: string): string {
  return mkdtempSync(join(os.tmpdir(), `hoga-bench-${label}-`));
}

function flowOf(measuredCommands: number): OrderFlow {
  return generateOrderFlow({
    shape: flowShape,
    seed: options.seed,
    measuredCommands,
    warmupCommands: 0,
    checkpointAfterMeasured: 0,
  });
}

interface ThroughputRow {
  mode: string;
  commandsPerSec: number;
  ratioToEngine: number;
  /** Commands per CPU second of the whole process (libuv threads included): less load-dependent. */
  commandsPerCpuSec: number;
  cpuRatioToEngine: number;
  commandsPerFsync: number;
  ackP50Us: number;
  ackP99Us: number;
}

interface Rates {
  perSec: number;
  perCpuSec: number;
}

function engineOnly(flow: OrderFlow): Rates {
  const engine = new Engine();
  for (const command of flow.setup) engine.apply(command);
  collectGarbage();
  const cpuBefore = process.cpuUsage();
  const started = nowNs();
  for (const command of flow.commands) engine.apply(command);
  const seconds = (nowNs() - started) / 1e9;
  return {
    perSec: flow.commands.length / seconds,
    perCpuSec: flow.commands.length / cpuSecondsSince(cpuBefore),
  };
}

async function sequencerRun(
  flow: OrderFlow,
  fsyncPolicy: FsyncPolicy,
  engineRates: Rates,
): Promise<ThroughputRow> {
  const dataDir = temporaryDataDir(fsyncPolicy);
  const { sequencer, journal } = await openSequencer({
    dataDir,
    engines: coreEngineFactory(),
    logger: silent,
    fsyncPolicy,
    snapshotEveryCommands: 0,
    snapshotEveryMs: 0,
  });
  for (const command of flow.setup) await sequencer.submit(command);
  const latency = new LatencyHistogram();
  const batchesBefore = sequencer.batchesWritten;
  const syncsBefore = journal.datasyncCount;
  collectGarbage();
  let next = 0;
  const cpuBefore = process.cpuUsage();
  const started = nowNs();
  const submitter = async (): Promise<void> => {
    while (next < flow.commands.length) {
      const command = flow.commands[next++];
      const submitted = nowNs();
      await sequencer.submit(command);
      latency.recordNs(nowNs() - submitted);
    }
  };
  await Promise.all(Array.from({ length: options.submitters }, submitter));
  const seconds = (nowNs() - started) / 1e9;
  const perCpuSec = flow.commands.length / cpuSecondsSince(cpuBefore);
  const batches = sequencer.batchesWritten - batchesBefore;
  const syncs = journal.datasyncCount - syncsBefore;
  await sequencer.close();
  rmSync(dataDir, { recursive: true, force: true });
  const rate = flow.commands.length / seconds;
  const summary = latency.summary();
  return {
    mode: `sequencer, fsync ${fsyncPolicy}`,
    commandsPerSec: Math.round(rate),
    ratioToEngine: rate / engineRates.perSec,
    commandsPerCpuSec: Math.round(perCpuSec),
    cpuRatioToEngine: perCpuSec / engineRates.perCpuSec,
    commandsPerFsync: syncs > 0 ? flow.commands.length / syncs : flow.commands.length / batches,
    ackP50Us: summary.p50Us,
    ackP99Us: summary.p99Us,
  };
}

/** Offsets every order id of a repeated flow so ids stay unique across repetitions. */
function withIdOffset(command: Command, offset: number, seq: number): Command {
  const ts = startTs + Math.floor(seq / 1_000);
  if (command.op === 'place' || command.op === 'cancel' || command.op === 'amend')
    return { ...command, id: command.id + offset, ts };
  return { ...command, ts };
}

/** Writes `count` commands (setup, then the flow repeated) straight through the journal writer. */
async function writeJournal(
  dataDir: string,
  flow: OrderFlow,
  firstSeq: number,
  count: number,
  ids: { span: number; firstRepetition: number },
  format: PayloadFormat,
): Promise<number> {
  const writer = await JournalWriter.open(
    { segment: undefined, nextSeq: firstSeq, segmentFirstSeqs: [] },
    {
      dataDir,
      fileSystem: nodeFileSystem,
      fsyncPolicy: 'none',
      segmentBytesMax: 64 << 20,
      syncIntervalMs: 1_000,
      syncBytesMax: 1 << 30,
      inlineSyncUsMax: 0,
      logger: silent,
    },
  );
  const buffer = Buffer.allocUnsafe(writeChunkBytesMax + (1 << 20));
  let bytes = 0;
  let chunkFirstSeq = firstSeq;
  const all = firstSeq === 1 ? [...flow.setup] : [];
  let seq = firstSeq;
  for (let written = 0; written < count; written++, seq++) {
    const position = seq - firstSeq - all.length;
    const base = position < 0 ? all[seq - firstSeq] : flow.commands[position % flow.commands.length];
    const repetition = ids.firstRepetition + (position < 0 ? 0 : Math.floor(position / flow.commands.length));
    const command = withIdOffset(base, repetition * ids.span, seq);
    const payloadStart = bytes + recordHeaderBytes;
    const compactBytes =
      format === 'compact'
        ? writeCompactCommand(buffer, payloadStart, command, seq, command.ts ?? 0)
        : notCompact;
    const payloadBytes =
      compactBytes !== notCompact
        ? compactBytes
        : buffer.write(JSON.stringify(command), payloadStart, 'utf8');
    const closes = bytes + recordHeaderBytes + payloadBytes >= writeChunkBytesMax || written === count - 1;
    const flags = (bytes === 0 ? startsWrite : 0) | (closes ? endsWrite : 0);
    bytes = sealRecord(buffer, bytes, seq, payloadBytes, flags);
    if (bytes >= writeChunkBytesMax) {
      await writer.append(buffer, bytes, chunkFirstSeq);
      bytes = 0;
      chunkFirstSeq = seq + 1;
    }
  }
  if (bytes > 0) await writer.append(buffer, bytes, chunkFirstSeq);
  await writer.close();
  return seq - 1;
}

function maxOrderId(flow: OrderFlow): number {
  let max = 0;
  for (const command of flow.commands) if (command.op === 'place' && command.id > max) max = command.id;
  return max;
}

interface ReplayFromEmpty {
  seconds: number;
  perSec: number;
  perCpuSec: number;
}

interface ReplayFromEmpty {
  dataDir: string;
  mainSeq: number;
  stateHash: string;
  seconds: number;
  perSec: number;
  perCpuSec: number;
}

/**
 * Writes the journal in one payload format, recovers it from empty and snapshots the result. Only
 * figures leave: the engine must be garbage before the next recovery, as in a real restart.
 */
async function replayFromEmpty(
  flow: OrderFlow,
  idSpan: number,
  format: PayloadFormat,
): Promise<ReplayFromEmpty> {
  const total = options['recovery-commands'];
  const dataDir = temporaryDataDir(`recovery-${format}`);
  progress.phase(`write ${total} commands to the journal as ${format}`);
  const mainSeq = await writeJournal(dataDir, flow, 1, total, { span: idSpan, firstRepetition: 0 }, format);
  collectGarbage();
  progress.phase(`recover ${format} from the journal alone, then snapshot`);
  const cpuBefore = process.cpuUsage();
  const full = recover(dataDir, { engines: coreEngineFactory(), logger: silent });
  const cpuSeconds = cpuSecondsSince(cpuBefore);
  const stateHash = full.engine.stateHash();
  await writeSnapshot(
    dataDir,
    { lastSeq: mainSeq, lastTs: full.lastTs, stateHash, state: full.engine.exportState() },
    nodeFileSystem,
  );
  return {
    dataDir,
    mainSeq,
    stateHash,
    seconds: full.replayMs / 1000,
    perSec: Math.round(full.replayedCommands / (full.replayMs / 1000)),
    // The machine is shared: per CPU second is what the process would do with a core to itself.
    perCpuSec: Math.round(full.replayedCommands / cpuSeconds),
  };
}

async function recoveryRun(): Promise<Record<string, number>> {
  const total = options['recovery-commands'];
  progress.phase(`generate order flow for ${total} journaled commands`);
  const flow = flowOf(Math.min(total, recoveryFlowCommandsMax) - flowShape.prefillOrders);
  const idSpan = maxOrderId(flow) + 1;
  const json = await replayFromEmpty(flow, idSpan, 'json');
  rmSync(json.dataDir, { recursive: true, force: true });
  const compact = await replayFromEmpty(flow, idSpan, 'compact');
  if (compact.stateHash !== json.stateHash)
    throw new Error('the compact and the JSON journal recovered different states');
  progress.phase('recover from the snapshot plus a tail');
  const tail = Math.max(1, Math.floor(total / 10));
  // A new segment continues the sequence after the snapshot.
  const firstRepetition = Math.ceil(total / flow.commands.length) + 1;
  const { dataDir, mainSeq } = compact;
  await writeJournal(dataDir, flow, mainSeq + 1, tail, { span: idSpan, firstRepetition }, 'compact');
  collectGarbage();
  const cpuBefore = process.cpuUsage();
  const fromSnapshot = recover(dataDir, { engines: coreEngineFactory(), logger: silent });
  const cpuSeconds = cpuSecondsSince(cpuBefore);
  rmSync(dataDir, { recursive: true, force: true });
  const totalMs = fromSnapshot.snapshotLoadMs + fromSnapshot.replayMs;
  return {
    journaledCommands: mainSeq,
    jsonReplaySeconds: json.seconds,
    jsonReplayPerSec: json.perSec,
    jsonReplayPerCpuSec: json.perCpuSec,
    compactReplaySeconds: compact.seconds,
    compactReplayPerSec: compact.perSec,
    compactReplayPerCpuSec: compact.perCpuSec,
    snapshotSeq: fromSnapshot.snapshotSeq,
    snapshotLoadMs: Math.round(fromSnapshot.snapshotLoadMs),
    tailCommands: fromSnapshot.replayedCommands,
    tailReplayPerSec: Math.round(fromSnapshot.replayedCommands / (fromSnapshot.replayMs / 1000)),
    snapshotPlusTailSeconds: totalMs / 1000,
    commandsCoveredPerSec: Math.round(fromSnapshot.lastSeq / (totalMs / 1000)),
    commandsCoveredPerCpuSec: Math.round(fromSnapshot.lastSeq / cpuSeconds),
  };
}

/** What the running exchange derives from applied commands: its listeners and snapshot participants. */
interface ExchangeListeners {
  listeners: Listener[];
  participants: SnapshotParticipant[];
}

function exchangeListeners(): ExchangeListeners {
  const state = new GatewayState(defaultGatewayConfig().state);
  // Nobody subscribes in a benchmark: market data keeps its state and publishes nothing.
  const marketData = new MarketData({ publisher: { publish: () => {}, isWatched: () => false } });
  return {
    listeners: [state.apply, (outcome) => marketData.onOutcome(outcome)],
    participants: [state.snapshotParticipant, marketData.snapshotParticipant],
  };
}

/** The gateway journals a market's decimal spec on its symbol command; the registry needs it. */
function withDecimalSpec(command: Command): Command {
  if (command.op !== 'symbol') return command;
  return {
    ...command,
    baseDecimals: 0,
    quoteDecimals: 0,
    lotSizeDecimal: '1',
    tickSizeDecimal: '1',
  } as Command;
}

/** Applies a command and hands its outcome to the listeners, as the sequencer does. */
function applyThrough(engine: Engine, derived: ExchangeListeners, command: Command, seq: number): void {
  const events = engine.apply(command).map((event) => ({ ...event }));
  const outcome: CommandOutcome = { seq, ts: command.ts ?? startTs, command, events };
  for (const listener of derived.listeners) listener(outcome, true);
}

/** Recovery through the exchange's listeners; only figures and the captured snapshot leave. */
function recoverExchange(dataDir: string): {
  ms: number;
  loadMs: number;
  replayMs: number;
  cpuSeconds: number;
  lastSeq: number;
  snapshotSeq: number;
  replayed: number;
} {
  const derived = exchangeListeners();
  collectGarbage();
  const cpuBefore = process.cpuUsage();
  const recovered = recover(dataDir, { engines: coreEngineFactory(), logger: silent, ...derived });
  return {
    ms: recovered.snapshotLoadMs + recovered.replayMs,
    loadMs: recovered.snapshotLoadMs,
    replayMs: recovered.replayMs,
    cpuSeconds: cpuSecondsSince(cpuBefore),
    lastSeq: recovered.lastSeq,
    snapshotSeq: recovered.snapshotSeq,
    replayed: recovered.replayedCommands,
  };
}

/**
 * The running exchange's restart: a journal replayed through gateway state and market data from
 * empty, then a snapshot with their state, a tail of a tenth, and a restart from the snapshot,
 * against a full replay of that same journal (the snapshot set aside).
 */
async function exchangeRestartRun(): Promise<Record<string, number>> {
  const total = options['exchange-commands'];
  progress.phase(`exchange restart: write ${total} commands`);
  const generated = flowOf(Math.min(total, recoveryFlowCommandsMax) - flowShape.prefillOrders);
  const flow = { ...generated, setup: generated.setup.map(withDecimalSpec) };
  const idSpan = maxOrderId(flow) + 1;
  const dataDir = temporaryDataDir('exchange-restart');
  const mainSeq = await writeJournal(
    dataDir,
    flow,
    1,
    total,
    { span: idSpan, firstRepetition: 0 },
    'compact',
  );
  progress.phase('exchange restart: replay through the listeners, then snapshot them with the engine');
  const derived = exchangeListeners();
  const built = recover(dataDir, { engines: coreEngineFactory(), logger: silent, ...derived });
  const pauseStarted = nowNs();
  const state = built.engine.exportState();
  const participantsStarted = nowNs();
  const participants = captureParticipants(derived.participants);
  const pauseEnded = nowNs();
  const written = await writeSnapshot(
    dataDir,
    { lastSeq: mainSeq, lastTs: built.lastTs, stateHash: '', state, participants },
    nodeFileSystem,
  );
  const tail = Math.max(1, Math.floor(total / 10));
  const firstRepetition = Math.ceil(total / flow.commands.length) + 1;
  await writeJournal(dataDir, flow, mainSeq + 1, tail, { span: idSpan, firstRepetition }, 'compact');
  progress.phase('exchange restart: from the snapshot plus the tail');
  const fromSnapshot = recoverExchange(dataDir);
  progress.phase('exchange restart: full replay of the same journal');
  const snapshotPath = readdirSync(dataDir).find((file) => file.endsWith('.snap'));
  if (snapshotPath === undefined) throw new Error('the snapshot is missing');
  renameSync(join(dataDir, snapshotPath), join(dataDir, `${snapshotPath}.aside`));
  const full = recoverExchange(dataDir);
  rmSync(dataDir, { recursive: true, force: true });
  if (fromSnapshot.snapshotSeq !== mainSeq || full.snapshotSeq !== 0 || full.lastSeq !== fromSnapshot.lastSeq)
    throw new Error('the exchange restart did not recover what it should');
  return {
    journaledCommands: full.lastSeq,
    pauseEngineMs: Math.round(((participantsStarted - pauseStarted) / 1e6) * 10) / 10,
    pauseParticipantsMs: Math.round(((pauseEnded - participantsStarted) / 1e6) * 10) / 10,
    snapshotSeq: fromSnapshot.snapshotSeq,
    snapshotMegabytes: Math.round((written.bytes / 1e6) * 10) / 10,
    snapshotLoadMs: Math.round(fromSnapshot.loadMs),
    tailCommands: fromSnapshot.replayed,
    tailReplayMs: Math.round(fromSnapshot.replayMs),
    snapshotPlusTailSeconds: Math.round(fromSnapshot.ms) / 1000,
    fullReplaySeconds: Math.round(full.ms) / 1000,
    speedup: Math.round((full.ms / fromSnapshot.ms) * 10) / 10,
    coveredPerSec: Math.round(fromSnapshot.lastSeq / (fromSnapshot.ms / 1000)),
    coveredPerCpuSec: Math.round(fromSnapshot.lastSeq / fromSnapshot.cpuSeconds),
    fullReplayPerSec: Math.round(full.lastSeq / (full.ms / 1000)),
    fullReplayPerCpuSec: Math.round(full.lastSeq / full.cpuSeconds),
  };
}

/** An engine with `count` resting orders spread over many price levels, none crossing. */
function engineWithRestingOrders(count: number, derived: ExchangeListeners): Engine {
  const flow = flowOf(1_000);
  const engine = new Engine();
  let seq = 0;
  for (const command of flow.setup) applyThrough(engine, derived, withDecimalSpec(command), ++seq);
  const levels = 5_000;
  for (let index = 0; index < count; index++) {
    const side = index % 2 === 0 ? 'buy' : 'sell';
    const ticks = 1 + (Math.floor(index / 2) % levels);
    const price = side === 'buy' ? 100_000 - ticks : 100_000 + ticks;
    const user = 1 + (index % 1_000);
    // One order in ten carries a clientOrderId: its result is remembered (per user, bounded).
    const clientOrderId = index % 10 === 0 ? { clientOrderId: `c-${index}` } : {};
    const command = { op: 'place', user, id: index + 1, symbol: flow.symbol, side, type: 'limit' } as const;
    applyThrough(engine, derived, { ...command, qty: 1 + (index % 7), price, ...clientOrderId }, ++seq);
  }
  return engine;
}

async function snapshotPauseRun(): Promise<Record<string, number>> {
  const resting = options['resting-orders'];
  progress.phase(`build an engine with ${resting} resting orders, and the exchange's listeners`);
  const derived = exchangeListeners();
  const engine = engineWithRestingOrders(resting, derived);
  collectGarbage();
  progress.phase('snapshot: pause, one-shot stringify, sliced write, load');
  const pauseStarted = nowNs();
  const state = engine.exportState();
  const pauseMs = (nowNs() - pauseStarted) / 1e6;
  const participantsStarted = nowNs();
  const participants = captureParticipants(derived.participants);
  const participantsPauseMs = (nowNs() - participantsStarted) / 1e6;
  const hashStarted = nowNs();
  const stateHash = engine.stateHash();
  const stateHashMs = (nowNs() - hashStarted) / 1e6;
  const stringifyStarted = nowNs();
  const oneShotBytes = JSON.stringify(state).length;
  const oneShotStringifyMs = (nowNs() - stringifyStarted) / 1e6;
  const dataDir = temporaryDataDir('snapshot');
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  const written = await writeSnapshot(
    dataDir,
    { lastSeq: resting, lastTs: startTs, stateHash, state, participants },
    nodeFileSystem,
  );
  delay.disable();
  collectGarbage();
  const loadStarted = nowNs();
  const content = readSnapshot(written.path);
  const loaded = Engine.fromState(content.state);
  const restoredInto = exchangeListeners();
  for (const participant of restoredInto.participants)
    participant.restoreState(content.participants?.[participant.name]);
  const loadMs = (nowNs() - loadStarted) / 1e6;
  if (loaded.stateHash() !== stateHash) throw new Error('snapshot load changed the state hash');
  rmSync(dataDir, { recursive: true, force: true });
  return {
    restingOrders: resting,
    pauseMs: Math.round(pauseMs * 10) / 10,
    participantsPauseMs: Math.round(participantsPauseMs * 10) / 10,
    exchangePauseMs: Math.round((pauseMs + participantsPauseMs) * 10) / 10,
    stateHashMs: Math.round(stateHashMs * 10) / 10,
    oneShotStringifyMs: Math.round(oneShotStringifyMs),
    slicedWriteMs: Math.round(written.writeMs),
    eventLoopStallMaxMs: Math.round((delay.max / 1e6) * 10) / 10,
    eventLoopStallP99Ms: Math.round((delay.percentile(99) / 1e6) * 10) / 10,
    snapshotMegabytes: Math.round((written.bytes / 1e6) * 10) / 10,
    loadMs: Math.round(loadMs),
    oneShotMegabytes: Math.round((oneShotBytes / 1e6) * 10) / 10,
  };
}

async function exchangeOnly(): Promise<void> {
  const exchangeRestart = await exchangeRestartRun();
  progress.stop();
  if (options.json) {
    process.stdout.write(`${JSON.stringify({ exchangeRestart, loadAverage: os.loadavg()[0] })}\n`);
    return;
  }
  reporter.line('\nexchange restart (gateway state and market data as listeners and snapshot participants)');
  reporter.table([exchangeRestart]);
}

async function main(): Promise<void> {
  if (options['exchange-only']) return exchangeOnly();
  const loadAverageAtStart = os.loadavg()[0];
  reporter.line(
    `journal benchmark: node ${process.version}, ${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'unknown'}), data in ${os.tmpdir()}`,
  );
  progress.phase(`generate ${options.commands} commands`);
  const flow = flowOf(options.commands - flowShape.prefillOrders);
  progress.phase('throughput: engine only, fsync none, fsync always');
  const engineRates = engineOnly(flow);
  const rows: ThroughputRow[] = [
    {
      mode: 'engine only (no journal)',
      commandsPerSec: Math.round(engineRates.perSec),
      ratioToEngine: 1,
      commandsPerCpuSec: Math.round(engineRates.perCpuSec),
      cpuRatioToEngine: 1,
      commandsPerFsync: 0,
      ackP50Us: 0,
      ackP99Us: 0,
    },
    await sequencerRun(flow, 'none', engineRates),
    await sequencerRun(flow, 'always', engineRates),
  ];
  const recovery = await recoveryRun();
  const snapshot = await snapshotPauseRun();
  const exchangeRestart = await exchangeRestartRun();
  progress.stop();
  const loadAverages = [loadAverageAtStart, os.loadavg()[0]];
  const targets = [
    checkTarget(
      'recovery: snapshot load + tail replay, commands covered per second',
      recovery.commandsCoveredPerSec,
      'atLeast',
      1_000_000,
      '/s',
    ),
    checkTarget(
      'exchange restart: snapshot (with listener state) + tail through the listeners, commands covered per second',
      exchangeRestart.coveredPerSec,
      'atLeast',
      1_000_000,
      '/s',
    ),
    checkTarget(
      'recovery: replay from empty (compact payloads), commands per second',
      recovery.compactReplayPerSec,
      'atLeast',
      1_000_000,
      '/s',
    ),
  ];
  if (options.json) {
    process.stdout.write(
      `${JSON.stringify({ throughput: rows, recovery, snapshot, exchangeRestart, targets, loadAverages })}\n`,
    );
    return;
  }
  reporter.line(
    `\nthroughput: ${flow.commands.length} commands, ${options.submitters} concurrent submitters`,
  );
  reporter.table(rows as unknown as Array<Record<string, string | number>>);
  reporter.line('\nrecovery');
  reporter.table([recovery]);
  reporter.line('\nsnapshot');
  reporter.table([snapshot]);
  reporter.line('\nexchange restart (gateway state and market data as listeners and snapshot participants)');
  reporter.table([exchangeRestart]);
  reporter.line();
  reporter.targets(targets);
  reporter.line(
    `load average (1 min) at start and end: ${loadAverages.map((value) => value.toFixed(1)).join(', ')}`,
  );
}

await main();
