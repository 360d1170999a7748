// Appends sealed record batches to the current segment, rolls to a new segment at a size bound,
// and makes data durable according to the fsync policy. Any write or fdatasync failure is
// final: after a failed fdatasync the kernel may have dropped the dirty pages and marked them
// clean, so a retry could report success for data that never reached the disk.
//
// Reserved descriptors: a segment roll must not need a descriptor the process may not get (19,900
// connections once took it to its limit, and a roll that fails is fatal). So the writer holds,
// besides the current segment, the data directory (for its fsyncs) and an empty spare file that
// the next segment becomes by a rename; the old segment's descriptor is then closed and the next
// spare created in one synchronous step (`replaceDescriptor`), before any connection can take it.
import { join } from 'node:path';
import type { Logger } from 'pino';
import { JournalError } from './errors.js';
import type { JournalFileSystem } from './file-system.js';
import {
  encodeSegmentHeader,
  segmentFileName,
  segmentFollowsAcceptedLoss,
  segmentHeaderBytes,
} from './segment.js';

/**
 * always: fdatasync every batch before it is applied and acknowledged.
 * batch: fdatasync every syncIntervalMs or syncBytesMax; acknowledgements may precede it.
 * none: the OS writes back when it likes (still synced on segment roll, snapshot and close).
 */
export type FsyncPolicy = 'always' | 'batch' | 'none';

export interface JournalWriterOptions {
  dataDir: string;
  fileSystem: JournalFileSystem;
  fsyncPolicy: FsyncPolicy;
  segmentBytesMax: number;
  /** batch policy: longest time data stays unsynced. */
  syncIntervalMs: number;
  /** batch policy: unsynced bytes that trigger a sync at once. */
  syncBytesMax: number;
  /**
   * An fdatasync runs inline (blocking the event loop) while the last inline one took at most this
   * many microseconds; 0 always uses the libuv pool. See `SyncPlacement`.
   */
  inlineSyncUsMax: number;
  logger: Logger;
}

/** After an inline fdatasync slower than the bound, this many go to the pool before trying again. */
const poolSyncsAfterSlowInline = 256;

/**
 * Where each fdatasync runs. Handing it to the libuv pool costs a thread wake-up each way, about
 * 30 µs of CPU on this project's 2-core machines and a hop through the event loop before the batch
 * is applied, which is more than a fast device takes to sync. So it runs inline while the device is
 * fast; a slow one (a busy or networked disk) would stall every socket and timer for the whole
 * sync, so one inline sync over the bound sends the next `poolSyncsAfterSlow` to the pool, after
 * which one inline sync measures the device again.
 */
export class SyncPlacement {
  private poolSyncsLeft = 0;

  constructor(
    private readonly inlineSyncUsMax: number,
    private readonly poolSyncsAfterSlow = poolSyncsAfterSlowInline,
  ) {}

  /** True when the next fdatasync should run inline. */
  inline(): boolean {
    if (this.inlineSyncUsMax <= 0) return false;
    if (this.poolSyncsLeft === 0) return true;
    this.poolSyncsLeft -= 1;
    return false;
  }

  observeInline(microseconds: number): void {
    if (microseconds > this.inlineSyncUsMax) this.poolSyncsLeft = this.poolSyncsAfterSlow;
  }
}

/** The empty file the next segment becomes; never read by recovery, recreated at every open. */
export const spareSegmentName = 'segment-next.spare';

/** Where appending resumes, as found by recovery. */
export interface JournalTail {
  /** The segment to continue, undefined to start a new one. */
  segment: { path: string; firstSeq: number; validBytes: number } | undefined;
  nextSeq: number;
  /**
   * The new segment starts past the end of the journal because the operator accepted the loss of
   * acknowledged commands (recovery.ts): its header says so, so later readers accept the jump.
   */
  followsAcceptedLoss?: boolean;
  /** First sequence of every segment on disk, oldest first (for pruning). */
  segmentFirstSeqs: number[];
}

interface OpenSegment {
  path: string;
  firstSeq: number;
  fd: number;
  bytes: number;
}

export class JournalWriter {
  private readonly options: JournalWriterOptions;
  private current: OpenSegment;
  private readonly segmentFirstSeqs: number[];
  private unsyncedBytes = 0;
  private syncInFlight: Promise<void> | undefined;
  private syncTimer: NodeJS.Timeout | undefined;
  private failureError: JournalError | undefined;
  private readonly failureListeners: Array<(error: JournalError) => void> = [];
  /** Counts fdatasync calls on segments (tests and benchmarks read it). */
  datasyncCount = 0;
  /** How many of them ran inline. */
  inlineDatasyncCount = 0;
  private readonly placement: SyncPlacement;
  private readonly directoryFd: number;
  /** The spare segment's descriptor; undefined when it could not be created (the next roll opens a file). */
  private spareFd: number | undefined;

  private constructor(
    options: JournalWriterOptions,
    current: OpenSegment,
    segmentFirstSeqs: number[],
    reserved: { directoryFd: number; spareFd: number | undefined },
  ) {
    this.options = options;
    this.current = current;
    this.segmentFirstSeqs = segmentFirstSeqs;
    this.directoryFd = reserved.directoryFd;
    this.spareFd = reserved.spareFd;
    this.placement = new SyncPlacement(options.fileSystem.datasyncInline ? options.inlineSyncUsMax : 0);
    if (options.fsyncPolicy === 'batch') {
      this.syncTimer = setInterval(() => this.backgroundSync(), options.syncIntervalMs);
    }
  }

  static async open(tail: JournalTail, options: JournalWriterOptions): Promise<JournalWriter> {
    const segmentFirstSeqs = [...tail.segmentFirstSeqs];
    let current: OpenSegment;
    if (tail.segment === undefined) {
      const flags = tail.followsAcceptedLoss === true ? segmentFollowsAcceptedLoss : 0;
      current = await createSegment(options, tail.nextSeq, flags);
      segmentFirstSeqs.push(tail.nextSeq);
    } else {
      const fd = await options.fileSystem.open(tail.segment.path, 'existing');
      // What recovery read may be only in the page cache (a process crash under the batch or none
      // policy): durable before anything builds on it, the acknowledgement witness first.
      await options.fileSystem.datasync(fd);
      current = {
        path: tail.segment.path,
        firstSeq: tail.segment.firstSeq,
        fd,
        bytes: tail.segment.validBytes,
      };
    }
    const directoryFd = await options.fileSystem.openDirectory(options.dataDir);
    const spareFd = await openSpare(options);
    return new JournalWriter(options, current, segmentFirstSeqs, { directoryFd, spareFd });
  }

  /** fsync of the data directory through the held descriptor (no new one needed). */
  syncDirectory(): Promise<void> {
    return this.options.fileSystem.syncOpenDirectory(this.directoryFd);
  }

  get failure(): JournalError | undefined {
    return this.failureError;
  }

  /** Called once when a write or sync fails, including background syncs of the batch policy. */
  onFailure(listener: (error: JournalError) => void): void {
    this.failureListeners.push(listener);
  }

  /**
   * Appends `bytes[0, length)` holding whole records whose first sequence is `firstSeq`. With
   * the always policy it resolves once the bytes are on disk; otherwise once written.
   */
  async append(bytes: Uint8Array, length: number, firstSeq: number): Promise<void> {
    this.throwIfFailed();
    const hasRecords = this.current.bytes > segmentHeaderBytes;
    if (hasRecords && this.current.bytes + length > this.options.segmentBytesMax) await this.roll(firstSeq);
    const position = this.current.bytes;
    await this.guard(this.options.fileSystem.write(this.current.fd, bytes, length, position), 'write');
    this.current.bytes += length;
    this.unsyncedBytes += length;
    if (this.options.fsyncPolicy === 'always') await this.sync();
    else if (this.options.fsyncPolicy === 'batch' && this.unsyncedBytes >= this.options.syncBytesMax)
      this.backgroundSync();
  }

  /** fdatasync of everything written so far (joins a sync already in flight, then syncs again if needed). */
  async sync(): Promise<void> {
    this.throwIfFailed();
    while (this.unsyncedBytes > 0) {
      if (this.syncInFlight) {
        await this.syncInFlight;
        continue;
      }
      const covered = this.unsyncedBytes;
      this.datasyncCount++;
      this.syncInFlight = this.guard(this.datasyncCurrent(), 'fdatasync');
      try {
        await this.syncInFlight;
      } finally {
        this.syncInFlight = undefined;
      }
      this.unsyncedBytes -= covered;
    }
  }

  private async datasyncCurrent(): Promise<void> {
    const { fileSystem } = this.options;
    if (fileSystem.datasyncInline === undefined || !this.placement.inline()) {
      return fileSystem.datasync(this.current.fd);
    }
    this.inlineDatasyncCount++;
    const startedNs = process.hrtime.bigint();
    fileSystem.datasyncInline(this.current.fd);
    this.placement.observeInline(Number(process.hrtime.bigint() - startedNs) / 1000);
  }

  /** Removes segments whose records all have sequence <= `seq`; never the current segment. */
  async removeSegmentsThrough(seq: number): Promise<number> {
    let removed = 0;
    while (this.segmentFirstSeqs.length > 1 && this.segmentFirstSeqs[1] <= seq + 1) {
      const firstSeq = this.segmentFirstSeqs[0];
      await this.options.fileSystem.unlink(join(this.options.dataDir, segmentFileName(firstSeq)));
      this.segmentFirstSeqs.shift();
      removed++;
    }
    if (removed > 0) await this.syncDirectory();
    return removed;
  }

  /** Syncs what was written (unless a failure made that pointless), closes the segment and the reserve. */
  async close(): Promise<void> {
    if (this.syncTimer) clearInterval(this.syncTimer);
    if (this.failureError === undefined) await this.sync();
    const { fileSystem, dataDir } = this.options;
    await fileSystem.close(this.current.fd);
    if (this.spareFd !== undefined) {
      await fileSystem.close(this.spareFd);
      await fileSystem.unlink(join(dataDir, spareSegmentName));
      this.spareFd = undefined;
    }
    await fileSystem.close(this.directoryFd);
  }

  private async roll(firstSeq: number): Promise<void> {
    // Synced in every policy so that an older segment is always complete: recovery may then
    // treat damage in any segment but the last as corruption, never as a torn tail.
    await this.sync();
    const next =
      this.spareFd === undefined
        ? await this.guard(createSegment(this.options, firstSeq), 'create segment')
        : await this.guard(this.promoteSpare(this.spareFd, firstSeq), 'turn the spare into a segment');
    const previousFd = this.current.fd;
    this.current = next;
    this.segmentFirstSeqs.push(firstSeq);
    this.unsyncedBytes = 0;
    this.spareFd = this.spareInPlaceOf(previousFd);
    this.options.logger.info({ segment: this.current.path, firstSeq }, 'journal segment rolled');
  }

  /** The spare gets its header and its segment name; durable before any record goes into it. */
  private async promoteSpare(spareFd: number, firstSeq: number): Promise<OpenSegment> {
    const { fileSystem, dataDir } = this.options;
    this.spareFd = undefined;
    const path = join(dataDir, segmentFileName(firstSeq));
    const header = encodeSegmentHeader(firstSeq);
    await fileSystem.write(spareFd, header, header.length, 0);
    await fileSystem.datasync(spareFd);
    await fileSystem.rename(join(dataDir, spareSegmentName), path);
    await this.syncDirectory();
    return { path, firstSeq, fd: spareFd, bytes: segmentHeaderBytes };
  }

  /** Closes the finished segment and creates the next spare in its descriptor. */
  private spareInPlaceOf(previousFd: number): number | undefined {
    try {
      return this.options.fileSystem.replaceDescriptor(
        previousFd,
        join(this.options.dataDir, spareSegmentName),
      );
    } catch (error) {
      this.options.logger.warn(
        { err: error },
        'no spare journal segment: the next roll must open a new file',
      );
      return undefined;
    }
  }

  private backgroundSync(): void {
    if (this.failureError || this.syncInFlight || this.unsyncedBytes === 0) return;
    this.sync().catch(() => {
      // Reported to the failure listeners by guard().
    });
  }

  private throwIfFailed(): void {
    if (this.failureError) throw this.failureError;
  }

  private async guard<T>(operation: Promise<T>, what: string): Promise<T> {
    try {
      return await operation;
    } catch (cause) {
      if (this.failureError === undefined) {
        this.failureError = new JournalError(
          'JOURNAL_FAILED',
          `${what} failed on ${this.current.path}: ${String(cause)}`,
          { cause },
        );
        for (const listener of this.failureListeners) listener(this.failureError);
      }
      throw this.failureError;
    }
  }
}

/** Creates the spare segment, removing one a previous run left; undefined (logged) when it cannot. */
async function openSpare(options: JournalWriterOptions): Promise<number | undefined> {
  const path = join(options.dataDir, spareSegmentName);
  try {
    await options.fileSystem.unlink(path).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error;
    });
    return await options.fileSystem.open(path, 'create');
  } catch (error) {
    options.logger.warn({ err: error }, 'no spare journal segment: the next roll must open a new file');
    return undefined;
  }
}

async function createSegment(
  options: JournalWriterOptions,
  firstSeq: number,
  flags = 0,
): Promise<OpenSegment> {
  const path = join(options.dataDir, segmentFileName(firstSeq));
  const header = encodeSegmentHeader(firstSeq, flags);
  const fd = await options.fileSystem.open(path, 'create');
  await options.fileSystem.write(fd, header, header.length, 0);
  await options.fileSystem.datasync(fd);
  await options.fileSystem.syncDirectory(options.dataDir);
  return { path, firstSeq, fd, bytes: segmentHeaderBytes };
}
