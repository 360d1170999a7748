// Worker-thread entry for the read model. Embedded PGlite is Postgres compiled to WebAssembly: its
// SQL runs synchronously on whichever thread owns it. Projecting every order event on the main
// thread cut durable order throughput about 3.5x in our measurement (docs/BENCHMARKS.md), so the
// store, its projector and the gateway's user/session/history queries live on this thread, and the
// main thread only posts outcomes and awaits query results (read-model-client.ts).
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { type Logger, pino } from 'pino';
import { coreEngineFactory } from '../journal/engine-factory.js';
import type { OutcomeEvents } from '../ports.js';
import { SqlCandleSink } from './candle-sink.js';
import { journalCatchUp } from './journal-source.js';
import { vacuumAnalyze } from './maintenance.js';
import type { Projector } from './projector.js';
import type {
  ReadModelCall,
  ReadModelReply,
  ReadModelRequest,
  ReadModelThreadOptions,
} from './read-model-client.js';
import { openStore, type Store } from './store.js';

/** How often the thread reports how far the projector got (feeds /readyz and /metrics lag). */
const progressIntervalMs = 50;

/**
 * On its own thread PGlite no longer stalls order intake, so a batch may be as large as on
 * PostgreSQL; waiting a little longer to fill it means fewer statements and transactions (the
 * thread's busy share at 20k+ outcomes/s fell from 94-100% to about 80% in the gateway benchmark),
 * for at most this much more lag.
 */
const projectorBatchOutcomesMax = 2_000;
const projectorFlushIntervalMs = 20;

/** This thread's Linux task id (/proc/thread-self names it), or undefined elsewhere. */
function linuxThreadId(): number | undefined {
  if (process.platform !== 'linux') return undefined;
  try {
    return Number(readlinkSync('/proc/thread-self').split('/').pop());
  } catch {
    return undefined;
  }
}

/**
 * Gives this thread a lower scheduling priority than the main thread (Linux: a thread is a task
 * with its own nice value). On a machine with fewer free cores than busy threads, order intake and
 * acks then go first and the projection lags instead. The main thread may also move it to
 * SCHED_IDLE once it is open (read-model-client.ts).
 */
function lowerThreadPriority(threadId: number | undefined, niceness: number, logger: Logger): void {
  if (niceness === 0 || threadId === undefined) return;
  try {
    setPriority(threadId, niceness);
    logger.info({ threadId, niceness }, 'read-model thread priority lowered');
  } catch (error) {
    logger.warn({ err: error, niceness }, 'read-model thread priority unchanged');
  }
}

const threadId = linuxThreadId();

const options = workerData as ReadModelThreadOptions;
const port = parentPort;
if (port === null) throw new Error('read-model-thread must run as a worker thread');

let store: Store | undefined;
let projector: Projector | undefined;
let candleSink: SqlCandleSink | undefined;
/** Messages that arrived while the store was opening, handled in order once it is open. */
const early: ReadModelRequest[] = [];

function reply(message: ReadModelReply): void {
  port?.postMessage(message);
}

async function call(request: ReadModelCall): Promise<unknown> {
  if (store === undefined) throw new Error('read model not open');
  const [area, method] = request.method.split('.') as [
    'users' | 'sessions' | 'apiKeys' | 'history' | 'candles',
    string,
  ];
  const target = store[area] as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
  if (typeof target[method] !== 'function') throw new Error(`unknown read-model method ${request.method}`);
  return target[method](...request.args);
}

function handle(message: ReadModelRequest): void {
  if (message.type === 'outcomes') {
    for (const outcome of JSON.parse(message.json) as OutcomeEvents[]) projector?.offer(outcome);
    return;
  }
  if (message.type === 'close') {
    void close();
    return;
  }
  const work = message.type === 'writeCandles' ? writeCandles(message.candles) : call(message);
  work.then(
    (value) => reply({ type: 'result', id: message.id, value }),
    (error: unknown) =>
      reply({
        type: 'error',
        id: message.id,
        message: String(error),
        code: (error as { code?: string }).code,
      }),
  );
}

function writeCandles(candles: Parameters<SqlCandleSink['write']>[0]): Promise<void> {
  if (candleSink === undefined) return Promise.reject(new Error('read model not open'));
  return candleSink.write(candles);
}

async function close(): Promise<void> {
  clearInterval(progressTimer);
  clearTimeout(vacuumTimer);
  vacuumTimer = undefined;
  await projector?.close();
  await store?.close();
  reply({ type: 'closed' });
}

const progressTimer = setInterval(() => {
  if (projector === undefined) return;
  const { projectedSeq, fellBehindCount } = projector.stats();
  reply({ type: 'progress', projectedSeq, fellBehindCount });
}, progressIntervalMs);

port.on('message', (message: ReadModelRequest) => {
  if (projector === undefined) early.push(message);
  else handle(message);
});

async function open(): Promise<void> {
  const logger = pino({ name: 'hoga', level: options.logLevel }).child({ component: 'read-model' });
  lowerThreadPriority(threadId, options.niceness, logger);
  store = await openStore({ databaseUrl: options.databaseUrl, dataDir: options.dataDir, logger });
  candleSink = new SqlCandleSink(store.candles);
  // A projector behind the journal (a new or deleted read model, outcomes dropped on the way here,
  // a replay that started past its checkpoint) replays the missing commands from the journal,
  // which keeps every segment, instead of stopping until `hoga db rebuild`.
  const engines = coreEngineFactory();
  projector = await store.openProjector({
    catchUp: journalCatchUp(options.journalDir, engines),
    batchOutcomesMax: projectorBatchOutcomesMax,
    flushIntervalMs: projectorFlushIntervalMs,
  });
  reply({ type: 'ready', projectedSeq: projector.projectedSeq, threadId });
  for (const message of early.splice(0)) handle(message);
  if (store.database.backend === 'pglite' && options.vacuumEveryMs > 0)
    scheduleVacuum(store, options.vacuumEveryMs, logger);
}

let vacuumTimer: NodeJS.Timeout | undefined;

/** PGlite has no autovacuum: the thread vacuums and analyzes every table itself (maintenance.ts). */
function scheduleVacuum(opened: Store, everyMs: number, logger: Logger): void {
  vacuumTimer = setTimeout(() => {
    const startMs = performance.now();
    vacuumAnalyze(opened.database)
      .then(
        (tables) => {
          const slowest = tables.reduce((worst, table) => (table.ms > worst.ms ? table : worst));
          slowest.ms = Math.round(slowest.ms);
          logger.info(
            { ms: Math.round(performance.now() - startMs), slowest },
            'read model vacuumed and analyzed',
          );
        },
        (error: unknown) => logger.warn({ err: error }, 'read model vacuum failed; retried next time'),
      )
      .finally(() => {
        if (vacuumTimer !== undefined) scheduleVacuum(opened, everyMs, logger);
      });
  }, everyMs);
  vacuumTimer.unref();
}

open().catch((error: unknown) => {
  reply({ type: 'failed', message: String(error) });
});
