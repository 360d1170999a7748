// The journal as a stream of command outcomes. `hoga db rebuild` takes every record from sequence
// 1, applied to a fresh engine (a snapshot holds state, not the history a rebuild needs). A
// projector catching up starts at the newest snapshot at or before its checkpoint instead, so a
// long history is not replayed again. Reads the segments directly, one segment in memory at a
// time, and yields between records so the projector's writes interleave with the reading.
import { readFileSync, statSync } from 'node:fs';
import type { MatchingEngine } from '../core/types.js';
import { decodeCommand } from '../journal/payload.js';
import { decodeRecord } from '../journal/record.js';
import { type EngineFactory, snapshotEngine } from '../journal/recovery.js';
import {
  decodeSegmentHeader,
  followsAcceptedLoss,
  listDataDirectory,
  segmentHeaderBytes,
} from '../journal/segment.js';
import { readSnapshot } from '../journal/snapshot.js';
import type { CommandOutcome } from '../ports.js';
import { StoreError } from './errors.js';

/** Records between progress reports inside one segment. */
const progressEveryRecords = 16_384;

export interface JournalProgress {
  bytesDone: number;
  bytesTotal: number;
  lastSeq: number;
}

export interface JournalExtent {
  firstSeq: number;
  bytesTotal: number;
}

export function journalExtent(journalDir: string): JournalExtent {
  const segments = listDataDirectory(journalDir).segments;
  return {
    firstSeq: segments[0]?.seq ?? 0,
    bytesTotal: segments.reduce((sum, segment) => sum + statSync(segment.path).size, 0),
  };
}

/**
 * Outcomes of the records after `engineSeq`, computed by `engine`, which must reflect exactly the
 * state after `engineSeq` (0: a fresh engine, so every record from sequence 1).
 */
export async function* journalOutcomes(
  journalDir: string,
  engine: MatchingEngine,
  onProgress?: (progress: JournalProgress) => void,
  engineSeq = 0,
): AsyncIterable<CommandOutcome> {
  const all = listDataDirectory(journalDir).segments;
  // Segments that end at or before engineSeq hold nothing to apply: the next one starts after it.
  const segments = all.filter(
    (_segment, index) => (all[index + 1]?.seq ?? Number.POSITIVE_INFINITY) > engineSeq + 1,
  );
  if (segments.length > 0 && segments[0].seq > engineSeq + 1) {
    throw new StoreError(
      'JOURNAL_INCOMPLETE',
      `the journal in ${journalDir} starts at sequence ${segments[0].seq}, after ${engineSeq + 1}: ` +
        'replaying it needs every segment from there (retainSegments)',
    );
  }
  const bytesTotal = segments.reduce((sum, segment) => sum + statSync(segment.path).size, 0);
  let bytesBefore = 0;
  let expectedSeq = segments[0]?.seq ?? 1;
  for (const segment of segments) {
    const bytes = readFileSync(segment.path);
    if (decodeSegmentHeader(bytes) !== segment.seq) {
      throw new StoreError('JOURNAL_INCOMPLETE', `${segment.path}: damaged segment header`);
    }
    // Sequences the operator accepted as lost (--accept-data-loss) are skipped, never reused.
    if (followsAcceptedLoss(bytes) && segment.seq > expectedSeq) expectedSeq = segment.seq;
    let offset = segmentHeaderBytes;
    while (offset < bytes.length) {
      const record = decodeRecord(bytes, offset, bytes.length);
      // A torn tail is what a crash leaves; recovery cuts it, and nothing in it was acknowledged.
      if (!record.ok) break;
      if (record.seq !== expectedSeq) {
        throw new StoreError(
          'JOURNAL_INCOMPLETE',
          `${segment.path}: sequence ${record.seq}, expected ${expectedSeq}`,
        );
      }
      expectedSeq += 1;
      offset = record.recordEnd;
      if (record.seq <= engineSeq) continue;
      const command = decodeCommand(bytes, record.payloadStart, record.payloadEnd);
      const events = engine.apply(command).map((event) => ({ ...event }));
      yield { seq: record.seq, ts: command.ts ?? 0, command, events };
      if (expectedSeq % progressEveryRecords === 0) {
        onProgress?.({ bytesDone: bytesBefore + offset, bytesTotal, lastSeq: expectedSeq - 1 });
      }
    }
    bytesBefore += bytes.length;
    onProgress?.({ bytesDone: bytesBefore, bytesTotal, lastSeq: expectedSeq - 1 });
  }
}

/**
 * The newest snapshot at or before `seq` that loads, as an engine and the sequence it reflects; a
 * fresh engine at 0 when there is none. Only the engine's state is used: a projector needs events,
 * not the listeners' derived state. A snapshot that fails recovery's checks (checksum, sequence,
 * stored state hash) is passed over, as recovery passes it over (and reports it).
 */
export function engineAtOrBefore(
  journalDir: string,
  seq: number,
  engines: EngineFactory,
): { engine: MatchingEngine; engineSeq: number } {
  const snapshots = listDataDirectory(journalDir).snapshots.filter((snapshot) => snapshot.seq <= seq);
  for (let index = snapshots.length - 1; index >= 0; index--) {
    try {
      const file = snapshots[index];
      return { engine: snapshotEngine(file, readSnapshot(file.path), engines), engineSeq: file.seq };
    } catch {
      // Try the previous one.
    }
  }
  return { engine: engines.create(), engineSeq: 0 };
}

/**
 * A projector's `catchUp` source: the engine from the newest snapshot at or before `afterSeq`
 * (the only way to have the events is to apply the commands), the records up to `afterSeq`
 * applied without being handed over, then every outcome after it.
 */
export function journalCatchUp(
  journalDir: string,
  engines: EngineFactory,
): (afterSeq: number) => AsyncIterable<CommandOutcome> {
  return async function* outcomesAfter(afterSeq: number) {
    const { engine, engineSeq } = engineAtOrBefore(journalDir, afterSeq, engines);
    for await (const outcome of journalOutcomes(journalDir, engine, undefined, engineSeq)) {
      if (outcome.seq > afterSeq) yield outcome;
    }
  };
}
