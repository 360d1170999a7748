// An engine replica (`hoga engine`): reads `<prefix>_CMD` in order, applies every command to its
// own engine, and appends the outcome to `<prefix>_EVT` at the same sequence, fenced on the
// stream's last sequence (and deduplicated by the Nats-Msg-Id `evt:<seq>`). Every replica computes
// every outcome; exactly one copy lands, and each replica whose append lost reads the stored copy
// and checks it equals its own byte for byte. A difference means the replicas diverged: the
// replica stops at once with exit status 76 (docs/CLUSTER.md "Divergence"), and no outcome of
// its own lands after that. Every `hashEveryCommands` the outcome carries the engine's state hash,
// so divergence in state that events do not show is caught at the next hash; the hash is also
// published on `<prefix>.hash` for monitoring. Local snapshots in the data directory let a
// restarted replica catch up from its newest snapshot instead of from sequence 1.
//
// A replica that is behind (a fresh one, or one restarted from an older snapshot) does not append
// what EVT already holds: while its sequence is at or below EVT's last sequence it reads the stored
// outcomes in bulk (one ordered consumer on EVT, StoredOutcomes) and compares each byte for byte
// with its own, exactly as after a lost append; it publishes only once it reaches the head.
//
// Publishes are pipelined (up to `appendsInFlightMax`), but settled strictly in sequence order:
// an append is retried or verified only after every earlier one landed or was verified, so EVT
// never gets a hole and never an outcome ahead of its predecessor.
import { mkdirSync, rmSync } from 'node:fs';
import {
  JetStreamApiError,
  type JetStreamClient,
  type JetStreamManager,
  type PubAck,
} from '@nats-io/jetstream';
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import type { MatchingEngine } from '../core/types.js';
import { type DirectoryLock, lockDirectory } from '../journal/data-dir-lock.js';
import { coreEngineFactory } from '../journal/engine-factory.js';
import { nodeFileSystem } from '../journal/file-system.js';
import type { EngineFactory } from '../journal/recovery.js';
import { listDataDirectory } from '../journal/segment.js';
import { journalText } from '../journal/sequencer.js';
import { readSnapshot, writeSnapshot } from '../journal/snapshot.js';
import { AckedPublisher } from './acked-publisher.js';
import { ClusterError } from './errors.js';
import { encodeOutcome, sameBytes } from './outcome-codec.js';
import { StoredOutcomes } from './stored-outcomes.js';
import { type StreamMessage, StreamReader } from './stream-reader.js';
import type { StreamNames } from './streams.js';
import { TickBatch } from './tick-batch.js';

/** Exit status of a replica whose outcome differs from the stored one (or whose engine threw). */
export const replicaDivergedExitCode = 76;

export interface EngineReplicaOptions {
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
  names: StreamNames;
  dataDir: string;
  replicaName: string;
  hashEveryCommands: number;
  /** 0: no snapshot by count (one is still written at close). */
  snapshotEveryCommands: number;
  heartbeatMs: number;
  logger: Logger;
  /** Called once on divergence or an engine failure; the default exits with replicaDivergedExitCode. */
  onFatal?: (error: ClusterError) => void;
  engines?: EngineFactory;
  /** Lock the data directory (false when the caller holds it). */
  lockDataDir?: boolean;
  /** false: append every outcome even while behind (the former catch-up; kept for benchmarks). */
  bulkCatchUp?: boolean;
}

interface HashReport {
  replica: string;
  seq: number;
  hash: string;
}

const appendsInFlightMax = 1_024;
/** An append unanswered this long is sent again (same msg id). */
const appendTimeoutMs = 5_000;
const ownHashesKept = 64;
const snapshotsKept = 2;
/**
 * At the end of a bulk stretch the replica asks EVT for its last sequence again and keeps reading
 * in bulk only when at least this many more outcomes are stored (near the head, appending is as
 * cheap and a stream info per handful of commands is not).
 */
const bulkStretchMin = 64;

/** What settles a sequence: our append's ack, an error, or the stored outcome read in bulk. */
type Attempt = { ack: PubAck } | { error: unknown } | { stored: Uint8Array };

export class EngineReplica {
  private engine: MatchingEngine;
  private appliedSeq: number;
  private lastTs: number;
  private reader: StreamReader | undefined;
  private settled: Promise<void> = Promise.resolve();
  /** Settlements not finished yet, oldest first (they finish in this order). */
  private readonly unsettled: Promise<void>[] = [];
  private failure: ClusterError | undefined;
  private closing = false;
  /** An outcome was left unsettled (failure, or close while the append failed): none after it settles. */
  private abandoned = false;
  private readonly ownHashes = new Map<number, string>();
  /** This turn's appends, sent together (one socket write). */
  private readonly appends = new TickBatch();
  private readonly publisher: AckedPublisher;
  private hashSubscription: Subscription | undefined;
  private snapshotting: Promise<void> | undefined;
  private lastSnapshotSeq: number;
  /** Outcomes stored in EVT, read in bulk while this replica is behind (undefined at the head). */
  private stored: StoredOutcomes | undefined;
  /** Sequences up to this one are read from `stored` instead of appended. */
  private bulkUntil: number;
  /** Outcomes this replica's append stored / found stored by another replica and verified. */
  landed = 0;
  verified = 0;
  /** Hash reports of other replicas that disagreed with this one's (logged; EVT decides who stops). */
  hashMismatches = 0;
  /** Of `verified`: outcomes read in bulk while catching up. */
  verifiedInBulk = 0;
  settledSeq: number;

  private constructor(
    private readonly options: EngineReplicaOptions,
    private readonly lock: DirectoryLock | undefined,
    start: { engine: MatchingEngine; lastSeq: number; lastTs: number },
    evtLastSeq: number,
  ) {
    this.bulkUntil = evtLastSeq;
    this.engine = start.engine;
    this.appliedSeq = start.lastSeq;
    this.settledSeq = start.lastSeq;
    this.lastTs = start.lastTs;
    this.lastSnapshotSeq = start.lastSeq;
    this.publisher = new AckedPublisher(options.nc);
  }

  static async start(options: EngineReplicaOptions): Promise<EngineReplica> {
    mkdirSync(options.dataDir, { recursive: true });
    const lock =
      options.lockDataDir === false
        ? undefined
        : await lockDirectory(options.dataDir, `hoga engine ${options.replicaName}`);
    try {
      const evtLast = (await options.jsm.streams.info(options.names.evtStream)).state.last_seq;
      const start = loadNewestSnapshot(options, evtLast);
      const replica = new EngineReplica(options, lock, start, evtLast);
      replica.begin();
      return replica;
    } catch (error) {
      await lock?.release();
      throw error;
    }
  }

  get lastSeq(): number {
    return this.appliedSeq;
  }

  get stateHash(): string {
    return this.engine.stateHash();
  }

  get failed(): ClusterError | undefined {
    return this.failure;
  }

  private begin(): void {
    const { options } = this;
    options.logger.info(
      { replica: options.replicaName, fromSeq: this.appliedSeq + 1 },
      'engine replica reading commands',
    );
    this.hashSubscription = options.nc.subscribe(options.names.hashSubject, {
      callback: (error, message) => {
        if (error) return;
        try {
          this.compareHash(message.json<HashReport>());
        } catch {
          // Not a hash report: ignored.
        }
      },
    });
    if (options.bulkCatchUp !== false && this.bulkUntil > this.appliedSeq) {
      options.logger.info(
        { replica: options.replicaName, fromSeq: this.appliedSeq + 1, evtLastSeq: this.bulkUntil },
        'engine replica behind EVT: reading stored outcomes in bulk',
      );
      this.stored = this.openStored(this.appliedSeq + 1);
    }
    this.reader = new StreamReader({
      js: options.js,
      nc: options.nc,
      stream: options.names.cmdStream,
      fromSeq: this.appliedSeq + 1,
      heartbeatMs: options.heartbeatMs,
      logger: options.logger,
      handle: (message) => this.handle(message),
    });
  }

  private async handle(message: StreamMessage): Promise<void> {
    if (this.failure) return;
    const seq = message.seq;
    // The stored time is the command's time; never backwards, so every replica derives the same.
    const ts = Math.max(this.lastTs, message.timeMs);
    let parsed: unknown;
    try {
      parsed = JSON.parse(Buffer.from(message.data).toString('utf8'));
    } catch {
      parsed = undefined;
    }
    const json = parsed === undefined ? undefined : journalText(parsed as never, seq, ts);
    let events: ReturnType<MatchingEngine['apply']> = [];
    if (json !== undefined) {
      try {
        events = this.engine.apply(JSON.parse(json));
      } catch (cause) {
        this.fail(
          new ClusterError('ENGINE_FAILED', `engine.apply threw at sequence ${seq}: ${String(cause)}`, {
            cause,
          }),
        );
        return;
      }
    }
    this.appliedSeq = seq;
    this.lastTs = ts;
    const hash = seq % this.options.hashEveryCommands === 0 ? this.engine.stateHash() : undefined;
    const bytes = encodeOutcome(seq, ts, json, events, hash);
    if (hash !== undefined) this.recordHash(seq, hash);
    const stored = this.stored;
    const first =
      stored !== undefined && seq <= this.bulkUntil ? this.readBulk(stored, seq) : this.publish(seq, bytes);
    const previous = this.settled;
    this.settled = previous.then(async () => {
      const settled = this.failure === undefined && !this.abandoned && (await this.settle(seq, bytes, first));
      if (settled) this.settledSeq = seq;
      else this.abandoned = true;
    });
    this.unsettled.push(this.settled);
    this.maybeSnapshot(seq, ts);
    if (stored !== undefined && seq === this.bulkUntil) await this.endOfBulkStretch(stored, seq);
    // A sliding window: wait for the oldest append only (waiting for all of them, as a first
    // version did, emptied the pipeline every appendsInFlightMax commands).
    while (this.unsettled.length >= appendsInFlightMax) await this.unsettled.shift();
  }

  private openStored(fromSeq: number): StoredOutcomes {
    const { options } = this;
    return new StoredOutcomes({
      js: options.js,
      nc: options.nc,
      evtStream: options.names.evtStream,
      fromSeq,
      heartbeatMs: options.heartbeatMs,
      logger: options.logger,
    });
  }

  private readBulk(stored: StoredOutcomes, seq: number): Promise<Attempt> {
    return stored.take(seq).then(
      (data) => ({ stored: data }),
      (error: unknown) => ({ error }),
    );
  }

  /**
   * The last outcome known stored was handed to settlement: read on in bulk when EVT has grown
   * enough meanwhile (other replicas at the head), else stop reading EVT and append from now on.
   */
  private async endOfBulkStretch(stored: StoredOutcomes, seq: number): Promise<void> {
    let evtLast = seq;
    try {
      evtLast = (await this.options.jsm.streams.info(this.options.names.evtStream)).state.last_seq;
    } catch (error) {
      // Appending is always correct (a lost append verifies the stored copy): go to the head mode.
      this.options.logger.warn({ err: error, seq }, 'EVT info failed; leaving bulk catch-up');
    }
    if (evtLast - seq >= bulkStretchMin) {
      this.bulkUntil = evtLast;
      return;
    }
    this.stored = undefined;
    this.options.logger.info(
      { replica: this.options.replicaName, seq, verifiedInBulk: this.verifiedInBulk },
      'engine replica caught up: appending outcomes',
    );
    // Every take up to `seq` is resolved once settlement reaches it; only then stop the consumer.
    void this.settled.then(() => stored.close());
  }

  private publish(seq: number, bytes: Uint8Array): Promise<Attempt> {
    return new Promise<Attempt>((resolve) => {
      this.appends.add(() => {
        this.publisher
          .publish(this.options.names.evtSubject, bytes, {
            msgID: `evt:${seq}`,
            expectLastSequence: seq - 1,
            timeoutMs: appendTimeoutMs,
          })
          .then(
            (ack) => resolve({ ack }),
            (error: unknown) => resolve({ error }),
          );
      });
    });
  }

  /** Runs after every earlier sequence settled: landed, or verified, or retried until one of them. */
  private async settle(seq: number, bytes: Uint8Array, first: Promise<Attempt>): Promise<boolean> {
    let attempt = first;
    for (let tries = 0; ; tries++) {
      const result = await attempt;
      if (this.failure) return false;
      if ('stored' in result) {
        if (!this.sameAsStored(seq, bytes, result.stored)) return false;
        this.verified++;
        this.verifiedInBulk++;
        return true;
      }
      if ('ack' in result) {
        if (result.ack.seq !== seq) {
          this.fail(
            new ClusterError(
              'EVT_SEQUENCE_MISMATCH',
              `outcome ${seq} stored at EVT sequence ${result.ack.seq}`,
            ),
          );
          return false;
        }
        if (!result.ack.duplicate) {
          this.landed++;
          return true;
        }
      } else if (
        !(
          result.error instanceof JetStreamApiError &&
          (result.error.code === 10071 || result.error.code === 10164)
        )
      ) {
        if (this.closing) {
          // Stopping: this outcome stays unsettled here; another replica (or this one's next
          // start, from a snapshot at or below the last settled sequence) appends it.
          this.options.logger.warn({ err: result.error, seq }, 'outcome not settled at close');
          return false;
        }
        // A timeout or a cluster changing leaders: the same publish again (its msg id dedups it).
        this.options.logger.warn({ err: result.error, seq, tries }, 'outcome append failed; retrying');
        await new Promise((resolve) => setTimeout(resolve, Math.min(50 * 2 ** tries, 2_000)));
        attempt = this.publish(seq, bytes);
        continue;
      }
      let stored: Uint8Array | undefined;
      try {
        stored = await this.readStored(seq);
      } catch (error) {
        // Reading back failed (a node away): treated like a failed append, retried the same way.
        attempt = Promise.resolve({ error });
        continue;
      }
      if (stored === undefined) {
        attempt = this.publish(seq, bytes);
        continue;
      }
      if (!this.sameAsStored(seq, bytes, stored)) return false;
      this.verified++;
      return true;
    }
  }

  /** Byte for byte; a difference stops this replica (REPLICA_DIVERGED). */
  private sameAsStored(seq: number, bytes: Uint8Array, stored: Uint8Array): boolean {
    if (sameBytes(stored, bytes)) return true;
    this.fail(
      new ClusterError(
        'REPLICA_DIVERGED',
        `outcome ${seq} of replica ${this.options.replicaName} differs from the stored one: ` +
          `ours ${Buffer.from(bytes).toString('utf8').slice(0, 300)} stored ${Buffer.from(stored).toString('utf8').slice(0, 300)}`,
      ),
    );
    return false;
  }

  private async readStored(seq: number): Promise<Uint8Array | undefined> {
    try {
      const stored = await this.options.jsm.streams.getMessage(this.options.names.evtStream, { seq });
      return stored === null ? undefined : stored.data;
    } catch (error) {
      if (error instanceof JetStreamApiError && error.code === 10037) return undefined;
      throw error;
    }
  }

  private recordHash(seq: number, hash: string): void {
    this.ownHashes.set(seq, hash);
    if (this.ownHashes.size > ownHashesKept) {
      const oldest = this.ownHashes.keys().next().value;
      if (oldest !== undefined) this.ownHashes.delete(oldest);
    }
    const report: HashReport = { replica: this.options.replicaName, seq, hash };
    this.options.nc.publish(this.options.names.hashSubject, JSON.stringify(report));
  }

  private compareHash(report: HashReport): void {
    if (report.replica === this.options.replicaName) return;
    const own = this.ownHashes.get(report.seq);
    if (own === undefined || own === report.hash) return;
    this.hashMismatches++;
    this.options.logger.error(
      { replica: this.options.replicaName, other: report.replica, seq: report.seq, own, theirs: report.hash },
      'state hash differs from another replica (the outcome stored in EVT decides which one stops)',
    );
  }

  private maybeSnapshot(seq: number, ts: number): void {
    const every = this.options.snapshotEveryCommands;
    if (every === 0 || seq - this.lastSnapshotSeq < every || this.snapshotting) return;
    this.snapshotNow(seq, ts);
  }

  private snapshotNow(seq: number, ts: number): Promise<void> {
    const state = this.engine.exportState();
    this.lastSnapshotSeq = seq;
    const { dataDir, logger } = this.options;
    const writing = writeSnapshot(dataDir, { lastSeq: seq, lastTs: ts, stateHash: '', state }, nodeFileSystem)
      .then((written) => {
        logger.info(
          { seq, bytes: written.bytes, writeMs: Math.round(written.writeMs) },
          'engine snapshot written',
        );
        for (const old of listDataDirectory(dataDir).snapshots.slice(0, -snapshotsKept))
          rmSync(old.path, { force: true });
      })
      .catch((error: unknown) => logger.error({ err: error, seq }, 'engine snapshot failed'))
      .finally(() => {
        this.snapshotting = undefined;
      });
    this.snapshotting = writing;
    return writing;
  }

  private fail(error: ClusterError): void {
    if (this.failure) return;
    this.failure = error;
    this.options.logger.fatal(
      { err: error, code: error.code, replica: this.options.replicaName },
      'engine replica stopping',
    );
    void this.reader?.close();
    void this.stored?.close();
    (this.options.onFatal ?? exitOnFatal)(error);
  }

  /** Waits until every command read so far has its outcome settled in EVT. */
  async idle(): Promise<void> {
    await this.settled;
  }

  /** Stops reading, settles what was applied, writes a snapshot (unless failed) and releases the lock. */
  async close(): Promise<void> {
    this.closing = true;
    await this.reader?.close();
    if (!this.failure) await this.settled;
    await this.stored?.close();
    this.hashSubscription?.unsubscribe();
    this.publisher.close();
    await this.snapshotting;
    if (!this.failure && this.appliedSeq > this.lastSnapshotSeq && this.settledSeq === this.appliedSeq) {
      await this.snapshotNow(this.appliedSeq, this.lastTs);
    }
    await this.lock?.release();
  }
}

function exitOnFatal(): void {
  process.exitCode = replicaDivergedExitCode;
  setImmediate(() => process.exit(replicaDivergedExitCode));
}

/**
 * The newest local snapshot whose sequence EVT already holds (a snapshot ahead of EVT would leave
 * the outcomes between unwritten for ever); sequence 0 with a new engine when there is none.
 */
function loadNewestSnapshot(
  options: EngineReplicaOptions,
  evtLastSeq: number,
): { engine: MatchingEngine; lastSeq: number; lastTs: number } {
  const engines = options.engines ?? coreEngineFactory();
  const candidates = listDataDirectory(options.dataDir).snapshots.filter((file) => file.seq <= evtLastSeq);
  for (const file of candidates.reverse()) {
    try {
      const content = readSnapshot(file.path);
      options.logger.info({ seq: content.lastSeq, path: file.path }, 'engine replica starts from a snapshot');
      return { engine: engines.restore(content.state), lastSeq: content.lastSeq, lastTs: content.lastTs };
    } catch (error) {
      options.logger.warn({ err: error, path: file.path }, 'snapshot unreadable; trying an older one');
    }
  }
  return { engine: engines.create(), lastSeq: 0, lastTs: 0 };
}
