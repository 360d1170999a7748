// Recovery: the newest snapshot that loads and holds every registered participant's state
// (falling back to the previous one, or to an empty state and the whole journal), the
// participants' state restored from it, then every journal record after it, in order. Segments
// whose records all precede the snapshot are not read. A torn last record is cut off with a
// warning; damage anywhere else in the segments read stops the start with the file, offset and
// sequence, because cutting it away would silently drop acknowledged commands.
import {
  closeSync,
  fdatasyncSync,
  ftruncateSync,
  openSync,
  readFileSync,
  statSync,
  unlinkSync,
} from 'node:fs';
import type { Logger } from 'pino';
import type { Command, MatchingEngine } from '../core/types.js';
import type { CommandOutcome } from '../ports.js';
import { JournalError } from './errors.js';
import type { JournalTail } from './journal-writer.js';
import { missingParticipants, restoreParticipants, type SnapshotParticipant } from './participant.js';
import { decodeCommand } from './payload.js';
import {
  type DataFile,
  decodeSegmentHeader,
  followsAcceptedLoss,
  listDataDirectory,
  scanSegment,
  segmentHeaderBytes,
} from './segment.js';
import { type Listener, notifyListeners } from './sequencer.js';
import { readSnapshot, type SnapshotContent } from './snapshot.js';
import { readWitness } from './witness.js';

/** How recovery builds engines; the default adapter lives in engine-factory.ts. */
export interface EngineFactory {
  create(): MatchingEngine;
  restore(state: unknown): MatchingEngine;
}

export interface RecoverOptions {
  engines: EngineFactory;
  logger: Logger;
  /** Called for every replayed command with replaying = true, so read models can rebuild. */
  listeners?: readonly Listener[];
  /** Progress over journal bytes, for long replays. */
  onProgress?: (bytesDone: number, bytesTotal: number) => void;
  /** Derived state restored from the snapshot before the tail replays (participant.ts). */
  participants?: readonly SnapshotParticipant[];
  /**
   * The operator's --accept-data-loss: when the journal ends below the acknowledgement witness,
   * start anyway, continuing above the highest sequence ever acknowledged (never reusing one).
   */
  acceptDataLoss?: boolean;
}

/** Acknowledged sequences found missing and accepted as lost by the operator. */
export interface AcceptedLoss {
  fromSeq: number;
  toSeq: number;
}

export interface Recovered {
  engine: MatchingEngine;
  lastSeq: number;
  lastTs: number;
  /** Sequence covered by the snapshot loaded, 0 when none. */
  snapshotSeq: number;
  /** Newer snapshots not used because they lack a registered participant's state. */
  snapshotsPassedOver: number;
  replayedCommands: number;
  /** Bytes cut off a torn tail, 0 when the journal ended cleanly. */
  truncatedBytes: number;
  snapshotLoadMs: number;
  replayMs: number;
  /** Where the journal writer resumes. */
  tail: JournalTail;
  /** The highest acknowledged sequence the witness held at start (0: no witness yet). */
  witnessSeq: number;
  /** Set when acknowledged commands were missing and the start went on under --accept-data-loss. */
  acceptedLoss: AcceptedLoss | undefined;
}

interface LoadedSnapshot {
  engine: MatchingEngine;
  lastSeq: number;
  lastTs: number;
  passedOver: number;
}

const progressEveryRecords = 65_536;

export function recover(dataDir: string, options: RecoverOptions): Recovered {
  const { logger } = options;
  // Read before the segments: a witness is never ahead of the journal it was read before.
  const witnessSeq = readWitness(dataDir);
  const listing = listDataDirectory(dataDir);
  for (const leftover of listing.temporaries) {
    logger.warn({ file: leftover }, 'removing an unfinished snapshot left by a crash');
    unlinkSync(leftover);
  }
  const loadStarted = performance.now();
  const snapshot = loadNewestSnapshot(listing.snapshots, options);
  const snapshotLoadMs = performance.now() - loadStarted;
  const firstSegmentSeq = listing.segments.length > 0 ? listing.segments[0].seq : snapshot.lastSeq + 1;
  if (firstSegmentSeq > snapshot.lastSeq + 1) {
    const code = snapshot.lastSeq === 0 && listing.snapshots.length > 0 ? 'SNAPSHOT_UNUSABLE' : 'JOURNAL_GAP';
    const why =
      snapshot.passedOver > 0
        ? ` (${snapshot.passedOver} newer snapshot(s) lack a participant's state, see the warnings)`
        : '';
    throw new JournalError(
      code,
      `the journal starts at sequence ${firstSegmentSeq} but the state covers only up to ${snapshot.lastSeq}${why}`,
    );
  }
  const replayStarted = performance.now();
  const replay = replaySegments(listing.segments, snapshot, witnessSeq, options);
  const replayMs = performance.now() - replayStarted;
  // Paired with the checks made while the state was built: a replay that broke an invariant
  // must stop the start here, not surface later as a wrong balance.
  snapshot.engine.validateInternalState();
  logger.info(
    {
      snapshotSeq: snapshot.lastSeq,
      lastSeq: replay.lastSeq,
      replayedCommands: replay.replayedCommands,
      witnessSeq,
      snapshotLoadMs,
      replayMs,
    },
    'recovered',
  );
  return {
    ...replay,
    witnessSeq,
    engine: snapshot.engine,
    snapshotSeq: snapshot.lastSeq,
    snapshotsPassedOver: snapshot.passedOver,
    snapshotLoadMs,
    replayMs,
  };
}

/**
 * The engine a snapshot file holds, checked: the sequence its name gives, and the state hash
 * when one was stored. Throws SNAPSHOT_CORRUPT or SNAPSHOT_HASH_MISMATCH.
 */
export function snapshotEngine(
  file: DataFile,
  content: SnapshotContent,
  engines: EngineFactory,
): MatchingEngine {
  if (content.lastSeq !== file.seq)
    throw new JournalError('SNAPSHOT_CORRUPT', `${file.path} holds sequence ${content.lastSeq}`);
  const engine = engines.restore(content.state);
  const stateHash = engine.stateHash();
  if (content.stateHash !== '' && stateHash !== content.stateHash) {
    throw new JournalError(
      'SNAPSHOT_HASH_MISMATCH',
      `${file.path}: state hash ${stateHash} after loading, ${content.stateHash} when written`,
    );
  }
  return engine;
}

function loadNewestSnapshot(snapshots: DataFile[], options: RecoverOptions): LoadedSnapshot {
  const participants = options.participants ?? [];
  let passedOver = 0;
  for (let index = snapshots.length - 1; index >= 0; index--) {
    const file = snapshots[index];
    let content: ReturnType<typeof readSnapshot>;
    let engine: MatchingEngine;
    try {
      content = readSnapshot(file.path);
      const missing = missingParticipants(participants, content.participants);
      if (missing.length > 0) {
        // Starting the engine here would leave those listeners without every command before it.
        passedOver++;
        options.logger.warn(
          { file: file.path, lastSeq: content.lastSeq, missingParticipants: missing },
          'snapshot lacks the derived state of registered participants (or holds it in a form they do not read); trying an older snapshot, else a full replay',
        );
        continue;
      }
      engine = snapshotEngine(file, content, options.engines);
    } catch (error) {
      options.logger.warn(
        { err: error, file: file.path },
        'snapshot unusable, falling back to the previous one',
      );
      continue;
    }
    // Past every check: the participants' state is checksummed with the rest, so one that cannot
    // be read is a bug, and guessing would serve wrong derived state. Recovery stops instead.
    if (participants.length > 0) restoreParticipants(participants, content.participants ?? {}, file.path);
    options.logger.info(
      {
        file: file.path,
        lastSeq: content.lastSeq,
        bytes: content.bytes,
        participants: participants.map((participant) => participant.name),
      },
      'snapshot loaded',
    );
    return { engine, lastSeq: content.lastSeq, lastTs: content.lastTs, passedOver };
  }
  if (passedOver > 0) {
    options.logger.warn(
      { snapshotsPassedOver: passedOver },
      'no snapshot holds every participant: replaying the whole journal',
    );
  }
  return { engine: options.engines.create(), lastSeq: 0, lastTs: 0, passedOver };
}

interface ReplayResult {
  lastSeq: number;
  lastTs: number;
  replayedCommands: number;
  truncatedBytes: number;
  tail: JournalTail;
  acceptedLoss: AcceptedLoss | undefined;
}

/**
 * Refuses to cut the journal below `lostFromSeq` when the witness says commands from there were
 * acknowledged, unless the operator accepted the loss. Checked before anything is truncated, so a
 * refused start leaves the files as they were for the operator to inspect.
 */
function checkAcknowledged(
  lostFromSeq: number,
  witnessSeq: number,
  where: string,
  options: RecoverOptions,
): void {
  if (lostFromSeq > witnessSeq || options.acceptDataLoss === true) return;
  throw new JournalError(
    'ACKNOWLEDGED_DATA_LOST',
    `${where}: the journal ends at sequence ${lostFromSeq - 1} but sequences up to ${witnessSeq} were ` +
      'acknowledged (acknowledged.witness); refusing to start. Restore the data directory from a ' +
      'backup or replica, or start with --accept-data-loss to continue without them (docs/OPERATIONS.md)',
  );
}

function replaySegments(
  segments: DataFile[],
  snapshot: LoadedSnapshot,
  witnessSeq: number,
  options: RecoverOptions,
): ReplayResult {
  const { engine } = snapshot;
  const listeners = options.listeners ?? [];
  const bytesTotal = segments.reduce((sum, segment) => sum + statSync(segment.path).size, 0);
  let bytesBefore = 0;
  let lastTs = snapshot.lastTs;
  let replayedCommands = 0;
  let previousLastSeq = snapshot.lastSeq;
  let truncatedBytes = 0;
  let tailSegment: JournalTail['segment'];
  const segmentFirstSeqs: number[] = [];
  const visit = (seq: number, bytes: Buffer, payloadStart: number, payloadEnd: number): void => {
    if (seq <= snapshot.lastSeq) return;
    const command = decodeJournaled(bytes, payloadStart, payloadEnd, seq);
    lastTs = command.ts ?? lastTs;
    const events = engine.apply(command);
    replayedCommands++;
    if (listeners.length > 0) {
      const outcome: CommandOutcome = {
        seq,
        ts: command.ts ?? 0,
        command,
        events: events.map((event) => ({ ...event })),
      };
      notifyListeners(listeners, outcome, true, options.logger);
    }
    if (options.onProgress && replayedCommands % progressEveryRecords === 0)
      options.onProgress(bytesBefore + payloadEnd, bytesTotal);
  };
  for (let index = 0; index < segments.length; index++) {
    const segment = segments[index];
    const isLast = index === segments.length - 1;
    const next = segments[index + 1];
    if (next !== undefined && next.seq <= snapshot.lastSeq + 1) {
      // Every record of this segment is covered by the snapshot: nothing in it is replayed, so
      // it is not read (reading and checksumming it cost more than the tail's replay; `hoga
      // journal verify` checks every segment). Its successor's first sequence says where it ends.
      previousLastSeq = next.seq - 1;
      segmentFirstSeqs.push(segment.seq);
      bytesBefore += statSync(segment.path).size;
      continue;
    }
    const bytes = readFileSync(segment.path);
    const firstSeq = decodeSegmentHeader(bytes);
    // A header-only file whose header is damaged: the crash came while the segment was being
    // created, so nothing in it was acknowledged. With records after it, the damage is corruption.
    if (firstSeq === undefined && isLast && bytes.length <= segmentHeaderBytes) {
      checkAcknowledged(segment.seq, witnessSeq, segment.path, options);
      options.logger.warn(
        { file: segment.path, bytes: bytes.length },
        'removing a segment whose header never became durable',
      );
      unlinkSync(segment.path);
      truncatedBytes += bytes.length;
      break;
    }
    if (firstSeq !== segment.seq) {
      throw new JournalError(
        'JOURNAL_CORRUPT',
        `${segment.path} offset 0: segment header damaged or names sequence ${firstSeq}`,
      );
    }
    const acceptedJump = followsAcceptedLoss(bytes) && firstSeq > previousLastSeq + 1;
    if (index > 0 && firstSeq !== previousLastSeq + 1 && !acceptedJump) {
      throw new JournalError(
        'JOURNAL_GAP',
        `${segment.path} starts at sequence ${firstSeq}, expected ${previousLastSeq + 1}`,
      );
    }
    const scan = scanSegment(bytes, firstSeq, visit);
    if (scan.problem) {
      const where = `${segment.path} offset ${scan.problem.offset} sequence ${scan.problem.seq}`;
      if (scan.problem.kind === 'corrupt' || !isLast) {
        throw new JournalError(
          'JOURNAL_CORRUPT',
          `${where}: ${scan.problem.detail}; refusing to start (run hoga journal verify)`,
        );
      }
      checkAcknowledged(scan.problem.seq, witnessSeq, where, options);
      options.logger.warn(
        {
          file: segment.path,
          offset: scan.problem.offset,
          seq: scan.problem.seq,
          bytes: bytes.length - scan.validBytes,
        },
        'torn journal tail truncated',
      );
      truncateFile(segment.path, scan.validBytes);
      truncatedBytes += bytes.length - scan.validBytes;
    }
    previousLastSeq = scan.lastSeq;
    segmentFirstSeqs.push(firstSeq);
    tailSegment = { path: segment.path, firstSeq, validBytes: scan.validBytes };
    bytesBefore += bytes.length;
    options.onProgress?.(bytesBefore, bytesTotal);
  }
  if (previousLastSeq < snapshot.lastSeq && options.acceptDataLoss !== true) {
    throw new JournalError(
      'JOURNAL_GAP',
      `the journal ends at sequence ${previousLastSeq}, before the snapshot's ${snapshot.lastSeq}`,
    );
  }
  checkAcknowledged(previousLastSeq + 1, witnessSeq, 'end of the journal', options);
  const result = { lastTs, replayedCommands, truncatedBytes };
  const acknowledgedSeq = Math.max(witnessSeq, snapshot.lastSeq);
  if (previousLastSeq >= acknowledgedSeq) {
    return {
      ...result,
      lastSeq: previousLastSeq,
      tail: { segment: tailSegment, nextSeq: previousLastSeq + 1, segmentFirstSeqs },
      acceptedLoss: undefined,
    };
  }
  // The operator accepted the loss: continue above every sequence ever acknowledged, in a new
  // segment whose header records the jump, so no sequence (and no order id) is used twice.
  const acceptedLoss = { fromSeq: previousLastSeq + 1, toSeq: acknowledgedSeq };
  options.logger.error(
    { ...acceptedLoss, witnessSeq, snapshotSeq: snapshot.lastSeq },
    'acknowledged commands are missing from the journal; continuing without them (--accept-data-loss)',
  );
  return {
    ...result,
    lastSeq: acknowledgedSeq,
    tail: { segment: undefined, nextSeq: acknowledgedSeq + 1, followsAcceptedLoss: true, segmentFirstSeqs },
    acceptedLoss,
  };
}

/** A record whose checksum holds but whose payload does not decode: written by something else. */
function decodeJournaled(bytes: Buffer, payloadStart: number, payloadEnd: number, seq: number): Command {
  try {
    return decodeCommand(bytes, payloadStart, payloadEnd);
  } catch (error) {
    throw new JournalError('JOURNAL_CORRUPT', `sequence ${seq}: ${String(error)}`, { cause: error });
  }
}

function truncateFile(path: string, bytes: number): void {
  const fd = openSync(path, 'r+');
  try {
    ftruncateSync(fd, bytes);
    fdatasyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
