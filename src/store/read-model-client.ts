// The main thread's side of the read-model worker (read-model-thread.ts): UserStore, SessionStore
// and history queries as messages, and applied outcomes posted in batches. Bounded: at most
// `pendingCallsMax` queries in flight and `pendingOutcomesMax` outcomes waiting to be posted.
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { CandleSink } from '../marketdata/candle-sink.js';
import type { CandleJson } from '../marketdata/candles.js';
import type { CommandOutcome, OutcomeEvents } from '../ports.js';
import type { CandleRange, CandleRecord } from './candles.js';
import { StoreError } from './errors.js';
import type { HistoryReader } from './history-reader.js';
import type { ApiKeyStore, HistoryQuery, Page, SessionStore, UserStore } from './ports.js';
import {
  chrtPolicySetter,
  IdlePriorityController,
  idleUnavailableReason,
  type ThreadPolicy,
  type ThreadPolicySetter,
} from './thread-scheduling.js';

export interface ReadModelThreadOptions {
  databaseUrl: string;
  dataDir: string;
  /** The journal's directory (every segment kept): a projector behind it catches up from there. */
  journalDir: string;
  logLevel: string;
  /** Nice value the thread gives itself (Linux); 0 leaves its priority alone. */
  niceness: number;
  /**
   * `idle`: SCHED_IDLE while the projection keeps up, the normal policy at `niceness` while it
   * lags (thread-scheduling.ts); `nice`: the nice value only.
   */
  scheduling: 'idle' | 'nice';
  /** PGlite only: `VACUUM (ANALYZE)` of every table this often (src/store/maintenance.ts); 0 never. */
  vacuumEveryMs: number;
}

export type ReadModelMethod =
  | `users.${keyof UserStore}`
  | `sessions.${keyof SessionStore}`
  | `apiKeys.${keyof ApiKeyStore}`
  | `history.${'ordersOfUser' | 'orderOfUser' | 'eventsOfOrder' | 'tradesOfUser' | 'ledgerOfUser' | 'couponsOfUser' | 'couponUsesOfUser'}`
  | 'candles.candles';

export interface ReadModelCall {
  type: 'call';
  id: number;
  method: ReadModelMethod;
  args: unknown[];
}

/** Outcomes travel as one JSON string: cheaper to post than a structured clone of many small objects. */
export type ReadModelRequest =
  | ReadModelCall
  | { type: 'outcomes'; json: string }
  /** Closed candles for the store's SqlCandleSink; the reply settles the candle writer's write. */
  | { type: 'writeCandles'; id: number; candles: readonly CandleJson[] }
  | { type: 'close' };

export type ReadModelReply =
  /** `threadId`: the thread's Linux task id, when it could be read. */
  | { type: 'ready'; projectedSeq: number; threadId?: number }
  | { type: 'failed'; message: string }
  | { type: 'result'; id: number; value: unknown }
  | { type: 'error'; id: number; message: string; code?: string }
  | { type: 'progress'; projectedSeq: number; fellBehindCount: number }
  | { type: 'closed' };

const pendingCallsMax = 10_000;
/** Callers waiting for the projector to reach a sequence number (tests, orderly shutdowns). */
const projectedWaitersMax = 1_000;
const pendingOutcomesMax = 200_000;
/**
 * Outcomes posted but not yet projected: past this the rest are dropped and the projector, seeing
 * the gap, catches up from the journal, so a starved thread's message queue cannot grow unbounded.
 */
const postedLagCommandsMax = 400_000;
/** How often the main thread checks whether the read-model thread needs its priority back. */
const priorityCheckMs = 50;
/** Outcomes are posted in batches: on this many, or after this delay. */
const outcomeBatchMax = 2_000;
const outcomeFlushMs = 5;

interface ProjectedWaiter {
  seq: number;
  resolve: () => void;
  reject: (error: Error) => void;
}

interface PendingCall {
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
  /** performance.now() when posted: the oldest call's wait is one signal of a starved thread. */
  postedMs: number;
}

export class ReadModelClient {
  readonly users: UserStore;
  readonly sessions: SessionStore;
  readonly apiKeys: ApiKeyStore;
  private readonly calls = new Map<number, PendingCall>();
  private projectedWaiters: ProjectedWaiter[] = [];
  private nextCallId = 1;
  private outcomes: OutcomeEvents[] = [];
  private flushTimer: NodeJS.Timeout | undefined;
  private projectedSeq = 0;
  private offeredSeq = 0;
  private priorityTimer: NodeJS.Timeout | undefined;
  private threadPolicy: ThreadPolicy | 'nice' = 'nice';
  private boosts = 0;
  private projectorFellBehindCount = 0;
  private fellBehind = false;
  private closed: Promise<void> | undefined;
  private failure: StoreError | undefined;
  private resolveClosed: () => void = () => {};

  private constructor(
    private readonly worker: Worker,
    private readonly logger: Logger,
  ) {
    this.users = this.proxy<UserStore>('users', [
      'createUser',
      'findUserByName',
      'findUserById',
      'countUsers',
    ]);
    this.sessions = this.proxy<SessionStore>('sessions', [
      'createSession',
      'findSession',
      'touchSession',
      'deleteSession',
      'listSessions',
      'deleteSessionsOfUser',
    ]);
    this.apiKeys = this.proxy<ApiKeyStore>('apiKeys', [
      'createApiKey',
      'findApiKey',
      'listApiKeys',
      'deleteApiKey',
      'apiKeySecretsAfter',
      'replaceApiKeySecret',
    ]);
  }

  /** Starts the worker and resolves once the store is open and migrated. */
  static open(options: ReadModelThreadOptions, logger: Logger): Promise<ReadModelClient> {
    const worker = new Worker(new URL('./read-model-thread.js', import.meta.url), { workerData: options });
    const client = new ReadModelClient(worker, logger);
    return new Promise((resolve, reject) => {
      worker.on('message', (message: ReadModelReply) => {
        if (message.type === 'ready') {
          client.projectedSeq = message.projectedSeq;
          client.offeredSeq = message.projectedSeq;
          if (options.scheduling === 'idle' && message.threadId !== undefined)
            client.manageIdlePriority(message.threadId, options.niceness);
          resolve(client);
        } else if (message.type === 'failed') {
          void worker.terminate();
          reject(new Error(`read model failed to open: ${message.message}`));
        } else client.onReply(message);
      });
      worker.once('error', reject);
      worker.once('exit', (code) => client.onExit(code));
    });
  }

  /** Commands applied but not yet projected. */
  lag(lastSeq: number): number {
    return Math.max(0, lastSeq - this.projectedSeq);
  }

  /**
   * The thread's scheduling as last set: `idle` (SCHED_IDLE), `normal` (given back while it lags)
   * or `nice` (its nice value only: not Linux, not permitted, or `scheduling: 'nice'`), and how
   * many times it was given the normal policy back.
   */
  scheduling(): { policy: ThreadPolicy | 'nice'; boosts: number } {
    return { policy: this.threadPolicy, boosts: this.boosts };
  }

  /** Times the projector fell behind (a gap or a full queue) and caught up from the journal. */
  fellBehindCount(): number {
    return this.projectorFellBehindCount;
  }

  /** Resolves once every command up to `seq` is projected (reported within the progress interval). */
  projected(seq: number): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    if (this.projectedSeq >= seq) return Promise.resolve();
    if (this.projectedWaiters.length >= projectedWaitersMax) {
      return Promise.reject(new StoreError('BUSY', 'too many waiters on the read model'));
    }
    return new Promise((resolve, reject) => this.projectedWaiters.push({ seq, resolve, reject }));
  }

  /** The sequencer's listener: synchronous and bounded, never blocks the command path. */
  offer(outcome: CommandOutcome): void {
    this.offeredSeq = outcome.seq;
    if (
      this.outcomes.length >= pendingOutcomesMax ||
      outcome.seq - this.projectedSeq > postedLagCommandsMax
    ) {
      if (!this.fellBehind)
        this.logger.error({ seq: outcome.seq }, 'read model fell behind: outcomes dropped');
      this.fellBehind = true;
      return;
    }
    // Without the command: the projections read only the events (less JSON on both threads).
    this.outcomes.push({ seq: outcome.seq, ts: outcome.ts, events: outcome.events });
    if (this.outcomes.length >= outcomeBatchMax) this.flush();
    else this.flushTimer ??= setTimeout(() => this.flush(), outcomeFlushMs);
  }

  history(): Omit<HistoryReader, 'lagCommands'> {
    return {
      ordersOfUser: (userId, query) => this.call('history.ordersOfUser', [userId, query]) as never,
      orderOfUser: (userId, orderId) => this.call('history.orderOfUser', [userId, orderId]) as never,
      eventsOfOrder: (userId, orderId, query) =>
        this.call('history.eventsOfOrder', [userId, orderId, query]) as never,
      tradesOfUser: (userId, query) => this.call('history.tradesOfUser', [userId, query]) as never,
      ledgerOfUser: (userId, query) => this.call('history.ledgerOfUser', [userId, query]) as never,
      couponsOfUser: (userId, query) => this.call('history.couponsOfUser', [userId, query]) as never,
      couponUsesOfUser: (userId, query) => this.call('history.couponUsesOfUser', [userId, query]) as never,
    };
  }

  /** Closed candles of one symbol and interval, oldest first, paginated. */
  candles(range: CandleRange, query: HistoryQuery): Promise<Page<CandleRecord>> {
    return this.call('candles.candles', [range, query]) as Promise<Page<CandleRecord>>;
  }

  /** Market data's candle writer writes through this to the SQL candles table on the thread. */
  candleSink(): CandleSink {
    return {
      write: async (candles) => {
        await this.request((id) => ({ type: 'writeCandles', id, candles }));
      },
    };
  }

  /** Posts what is pending, lets the projector drain, closes the store and stops the thread. */
  close(): Promise<void> {
    if (this.closed !== undefined) return this.closed;
    clearInterval(this.priorityTimer);
    this.priorityTimer = undefined;
    this.flush();
    this.closed = new Promise<void>((resolve) => {
      this.resolveClosed = resolve;
    }).then(async () => {
      await this.worker.terminate();
      const closedError = new StoreError('BUSY', 'the read model is closed');
      for (const waiter of this.projectedWaiters.splice(0)) waiter.reject(closedError);
    });
    this.worker.postMessage({ type: 'close' } satisfies ReadModelRequest);
    return this.closed;
  }

  private flush(): void {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    if (this.outcomes.length === 0) return;
    this.worker.postMessage({
      type: 'outcomes',
      json: JSON.stringify(this.outcomes),
    } satisfies ReadModelRequest);
    this.outcomes = [];
  }

  /**
   * Puts the thread under SCHED_IDLE and watches its lag and its oldest query's wait, giving it the
   * normal policy back while it lags (thread-scheduling.ts). Any refusal from the system leaves the
   * thread at its nice value and stops the watching.
   */
  private manageIdlePriority(threadId: number, niceness: number): void {
    const unavailable = idleUnavailableReason(niceness);
    if (unavailable !== undefined) {
      this.logger.info({ reason: unavailable }, 'read-model thread stays at its nice value');
      return;
    }
    const setPolicy = chrtPolicySetter(niceness);
    const controller = new IdlePriorityController();
    let announced = false;
    const apply = (policy: ThreadPolicy, details: object) =>
      setPolicy(threadId, policy).then(
        () => {
          if (this.priorityTimer === undefined) return;
          this.threadPolicy = policy;
          if (policy === 'normal') this.boosts += 1;
          // The first policy is news; the flips after it follow load (several a second under a
          // busy demo) and are counted in hoga_read_model_thread_boosts, so they log at debug.
          const line = { threadId, policy, ...details };
          if (announced) this.logger.debug(line, 'read-model thread scheduling policy set');
          else this.logger.info(line, 'read-model thread scheduling policy set');
          announced = true;
        },
        (error: unknown) => this.stopManagingPriority(threadId, setPolicy, error),
      );
    void apply('idle', {});
    this.priorityTimer = setInterval(() => {
      const lagCommands = Math.max(0, this.offeredSeq - this.projectedSeq);
      const oldestCallWaitMs = this.oldestCallWaitMs();
      const policy = controller.decide(performance.now(), lagCommands, oldestCallWaitMs);
      if (policy !== undefined)
        void apply(policy, { lagCommands, oldestCallWaitMs: Math.round(oldestCallWaitMs) });
    }, priorityCheckMs);
    this.priorityTimer.unref();
  }

  private stopManagingPriority(threadId: number, setPolicy: ThreadPolicySetter, error: unknown): void {
    if (this.priorityTimer === undefined) return;
    clearInterval(this.priorityTimer);
    this.priorityTimer = undefined;
    this.threadPolicy = 'nice';
    this.logger.warn(
      { err: error, threadId },
      'read-model thread policy not changed; it stays at its nice value',
    );
    setPolicy(threadId, 'normal').catch(() => {});
  }

  private oldestCallWaitMs(): number {
    for (const pending of this.calls.values()) return performance.now() - pending.postedMs;
    return 0;
  }

  /** A thread that dies (a bug, out of memory) fails every waiting and later query, loudly. */
  private onExit(code: number): void {
    clearInterval(this.priorityTimer);
    this.priorityTimer = undefined;
    if (this.closed !== undefined) return;
    this.failure = new StoreError('BUSY', 'the read model is unavailable');
    this.logger.fatal({ code }, 'read-model thread exited: logins, sessions and history are unavailable');
    for (const pending of this.calls.values()) pending.reject(this.failure);
    this.calls.clear();
    for (const waiter of this.projectedWaiters.splice(0)) waiter.reject(this.failure);
  }

  private onReply(message: ReadModelReply): void {
    if (message.type === 'progress') {
      this.projectedSeq = message.projectedSeq;
      this.projectorFellBehindCount = message.fellBehindCount;
      this.wakeProjectedWaiters();
    } else if (message.type === 'closed') this.resolveClosed();
    else if (message.type === 'result' || message.type === 'error') this.settle(message);
  }

  private wakeProjectedWaiters(): void {
    const reached = this.projectedWaiters.filter((waiter) => waiter.seq <= this.projectedSeq);
    if (reached.length === 0) return;
    this.projectedWaiters = this.projectedWaiters.filter((waiter) => waiter.seq > this.projectedSeq);
    for (const waiter of reached) waiter.resolve();
  }

  private settle(message: Extract<ReadModelReply, { id: number }>): void {
    const pending = this.calls.get(message.id);
    if (pending === undefined) return;
    this.calls.delete(message.id);
    if (message.type === 'result') pending.resolve(message.value);
    else pending.reject(Object.assign(new Error(message.message), { code: message.code }));
  }

  private call(method: ReadModelMethod, args: unknown[]): Promise<unknown> {
    return this.request((id) => ({ type: 'call', id, method, args }));
  }

  /** Posts a request that the thread answers with a result or an error of the same id. */
  private request(build: (id: number) => ReadModelRequest): Promise<unknown> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    if (this.calls.size >= pendingCallsMax) {
      return Promise.reject(new StoreError('BUSY', 'the read model is busy, retry shortly', 1));
    }
    const id = this.nextCallId++;
    return new Promise((resolve, reject) => {
      this.calls.set(id, { resolve, reject, postedMs: performance.now() });
      this.worker.postMessage(build(id));
    });
  }

  private proxy<T>(area: 'users' | 'sessions' | 'apiKeys', methods: string[]): T {
    const target: Record<string, (...args: unknown[]) => Promise<unknown>> = {};
    for (const method of methods) {
      target[method] = (...args) => this.call(`${area}.${method}` as ReadModelMethod, args);
    }
    return target as T;
  }
}
