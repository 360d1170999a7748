// Decides when to snapshot (every N commands, every N ms, or on demand), captures the engine
// state and every snapshot participant's state between batches (the only part that pauses
// intake, and the reason both belong to the same sequence), then writes it in the background
// and prunes what the new snapshot makes unnecessary.
//
// Like the journal (journal-writer.ts "Reserved descriptors"), the scheduler holds an empty spare
// file that the next snapshot is written into and renamed from, so a snapshot needs no descriptor
// the process may not get; the used descriptor is closed and the next spare created in one
// synchronous step. A snapshot that fails anyway is logged and changes nothing in the journal.
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { MatchingEngine } from '../core/types.js';
import type { JournalFileSystem } from './file-system.js';
import type { JournalWriter } from './journal-writer.js';
import { captureParticipants, type SnapshotParticipant } from './participant.js';
import { listDataDirectory } from './segment.js';
import { type SnapshotContent, type SnapshotWritten, writeSnapshot, writeSnapshotInto } from './snapshot.js';

/** The empty file the next snapshot is written into; recreated at every start. */
export const spareSnapshotName = 'snapshot-next.spare';

export interface SnapshotPolicy {
  /** Take a snapshot after this many applied commands (0: never by count). */
  snapshotEveryCommands: number;
  /** Take a snapshot when this long has passed since the last one and commands were applied (0: never by time). */
  snapshotEveryMs: number;
  /** Keep every segment (full history for `journal export`) instead of removing those older than the previous snapshot. */
  retainSegments: boolean;
  /**
   * Store engine.stateHash() with the snapshot so recovery can check that loading it gives the
   * same state (on by default). Costs a full-state hash inside the pause (see docs/OPERATIONS.md).
   */
  snapshotStateHash: boolean;
}

export interface SnapshotTaken extends SnapshotWritten {
  lastSeq: number;
  /**
   * Intake stopped for this long: exportState(), the participants' exportState() and stateHash()
   * when snapshotStateHash is on.
   */
  pauseMs: number;
  /** The participants' share of pauseMs. */
  participantsPauseMs: number;
  segmentsRemoved: number;
}

/** The engine, the listeners' derived state and the last sequence they reflect, read at capture. */
export interface SnapshotSource {
  engine: MatchingEngine;
  participants: readonly SnapshotParticipant[];
  lastSeq: number;
  lastTs: number;
}

export interface SnapshotSchedulerOptions extends SnapshotPolicy {
  dataDir: string;
  fileSystem: JournalFileSystem;
  journal: JournalWriter;
  logger: Logger;
  clock: () => number;
}

export class SnapshotScheduler {
  private readonly options: SnapshotSchedulerOptions;
  private commandsSinceSnapshot = 0;
  private lastSnapshotAtMs: number;
  private inFlight: Promise<SnapshotTaken> | undefined;
  pauseMsMax = 0;
  snapshotsTaken = 0;
  /** The spare's descriptor once created; undefined while in use or when it could not be created. */
  private spareFd: Promise<number | undefined>;

  constructor(options: SnapshotSchedulerOptions) {
    this.options = options;
    this.lastSnapshotAtMs = options.clock();
    this.spareFd = this.openSpare();
  }

  private get sparePath(): string {
    return join(this.options.dataDir, spareSnapshotName);
  }

  /** Resolves once the spare exists (or could not be created), so its descriptor is taken before the gateway opens. */
  async ready(): Promise<void> {
    await this.spareFd;
  }

  /** Closes and removes the spare (after idle(): no snapshot is using it). */
  async close(): Promise<void> {
    const fd = await this.spareFd;
    this.spareFd = Promise.resolve(undefined);
    if (fd === undefined) return;
    await this.options.fileSystem.close(fd);
    await this.options.fileSystem.unlink(this.sparePath);
  }

  private async openSpare(): Promise<number | undefined> {
    const { fileSystem, logger } = this.options;
    try {
      await fileSystem.unlink(this.sparePath).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'ENOENT') throw error;
      });
      return await fileSystem.open(this.sparePath, 'create');
    } catch (error) {
      logger.warn({ err: error }, 'no spare snapshot file: the next snapshot must open a new file');
      return undefined;
    }
  }

  /** Called between batches, when the engine reflects exactly `lastSeq`. */
  afterBatch(source: () => SnapshotSource, commandsApplied: number): void {
    this.commandsSinceSnapshot += commandsApplied;
    if (this.inFlight || this.commandsSinceSnapshot === 0) return;
    const byCount =
      this.options.snapshotEveryCommands > 0 &&
      this.commandsSinceSnapshot >= this.options.snapshotEveryCommands;
    const byTime =
      this.options.snapshotEveryMs > 0 &&
      this.options.clock() - this.lastSnapshotAtMs >= this.options.snapshotEveryMs;
    if (byCount || byTime) {
      this.take(source).catch(() => {
        // Logged in take(); the journal still holds everything, so a failed snapshot loses nothing.
      });
    }
  }

  /**
   * Captures now (the caller guarantees the engine is between batches) and writes in the
   * background. With a snapshot already being written, waits for it and then captures: the
   * source is read at capture time, so the state and its sequence always match.
   */
  take(source: () => SnapshotSource): Promise<SnapshotTaken> {
    if (this.inFlight) {
      return this.inFlight.catch(() => undefined).then(() => this.take(source));
    }
    const { engine, participants, lastSeq, lastTs } = source();
    const pauseStarted = performance.now();
    const state = engine.exportState();
    const participantsStarted = performance.now();
    // No command can be applied between these two calls: both reflect exactly lastSeq.
    const participantStates = participants.length > 0 ? captureParticipants(participants) : undefined;
    const participantsPauseMs = performance.now() - participantsStarted;
    const stateHash = this.options.snapshotStateHash ? engine.stateHash() : '';
    const pauseMs = performance.now() - pauseStarted;
    this.pauseMsMax = Math.max(this.pauseMsMax, pauseMs);
    this.commandsSinceSnapshot = 0;
    this.lastSnapshotAtMs = this.options.clock();
    const content = { lastSeq, lastTs, stateHash, state, participants: participantStates };
    const inFlight = this.persist(content, { pauseMs, participantsPauseMs });
    this.inFlight = inFlight;
    const clear = (): void => {
      if (this.inFlight === inFlight) this.inFlight = undefined;
    };
    inFlight.then(clear, clear);
    return inFlight;
  }

  /** Resolves when no snapshot is being written. */
  async idle(): Promise<void> {
    while (this.inFlight) await this.inFlight.catch(() => undefined);
  }

  private async persist(
    content: SnapshotContent,
    pause: { pauseMs: number; participantsPauseMs: number },
  ): Promise<SnapshotTaken> {
    const { logger, journal, dataDir, fileSystem } = this.options;
    try {
      // The snapshot must never be ahead of the durable journal (batch and none policies).
      await journal.sync();
      const spareFd = await this.spareFd;
      const written =
        spareFd === undefined
          ? await writeSnapshot(dataDir, content, fileSystem)
          : await this.writeIntoSpare(spareFd, content);
      const segmentsRemoved = await this.pruneLogged();
      this.snapshotsTaken++;
      const taken = { ...written, lastSeq: content.lastSeq, ...pause, segmentsRemoved };
      logger.info(taken, 'snapshot written');
      return taken;
    } catch (error) {
      logger.error(
        { err: error, lastSeq: content.lastSeq },
        'snapshot failed; the journal still holds every command',
      );
      throw error;
    }
  }

  /** Writes into the spare; whatever happens, the used descriptor becomes the next spare. */
  private async writeIntoSpare(fd: number, content: SnapshotContent): Promise<SnapshotWritten> {
    const { dataDir, fileSystem, journal } = this.options;
    this.spareFd = Promise.resolve(undefined);
    try {
      return await writeSnapshotInto(fd, this.sparePath, dataDir, content, fileSystem, () =>
        journal.syncDirectory(),
      );
    } catch (error) {
      // A half-written spare is never used again.
      await fileSystem.unlink(this.sparePath).catch(() => undefined);
      throw error;
    } finally {
      this.spareFd = Promise.resolve(this.spareInPlaceOf(fd));
    }
  }

  private spareInPlaceOf(usedFd: number): number | undefined {
    try {
      return this.options.fileSystem.replaceDescriptor(usedFd, this.sparePath);
    } catch (error) {
      this.options.logger.warn(
        { err: error },
        'no spare snapshot file: the next snapshot must open a new file',
      );
      return undefined;
    }
  }

  /** The snapshot is durable already: a failed prune is logged on its own and retried after the next one. */
  private async pruneLogged(): Promise<number> {
    try {
      return await this.prune();
    } catch (error) {
      this.options.logger.warn(
        { err: error },
        'removing old snapshots or segments failed; retried after the next snapshot',
      );
      return 0;
    }
  }

  /** Keeps the newest two snapshots and the segments back to the older of them. */
  private async prune(): Promise<number> {
    const { snapshots } = listDataDirectory(this.options.dataDir);
    if (snapshots.length < 2) return 0;
    const previous = snapshots[snapshots.length - 2];
    for (const old of snapshots.slice(0, -2)) await this.options.fileSystem.unlink(old.path);
    if (this.options.retainSegments) return 0;
    return this.options.journal.removeSegmentsThrough(previous.seq);
  }
}
