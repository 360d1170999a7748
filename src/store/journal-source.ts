// The whole journal as a stream of command outcomes, for `hoga db rebuild`: every record from
// sequence 1, applied to a fresh engine. Recovery itself starts at the newest snapshot, which is
// not enough to rebuild history, so this reads the segments directly, one segment in memory at a
// time, and yields between records so the projector's writes interleave with the reading.
import { readFileSync, statSync } from 'node:fs';
import type { Command, MatchingEngine } from '../core/types.js';
import { decodeCommand } from '../journal/payload.js';
import { decodeRecord } from '../journal/record.js';
import { decodeSegmentHeader, listDataDirectory, segmentHeaderBytes } from '../journal/segment.js';
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

export async function* journalOutcomes(
  journalDir: string,
  engine: MatchingEngine,
  onProgress?: (progress: JournalProgress) => void,
): AsyncIterable<CommandOutcome> {
  const segments = listDataDirectory(journalDir).segments;
  if (segments.length > 0 && segments[0].seq !== 1) {
    throw new StoreError(
      'JOURNAL_INCOMPLETE',
      `the journal in ${journalDir} starts at sequence ${segments[0].seq}: a rebuild needs every segment from 1 (retainSegments)`,
    );
  }
  const bytesTotal = segments.reduce((sum, segment) => sum + statSync(segment.path).size, 0);
  let bytesBefore = 0;
  let expectedSeq = 1;
  for (const segment of segments) {
    const bytes = readFileSync(segment.path);
    if (decodeSegmentHeader(bytes) !== segment.seq) {
      throw new StoreError('JOURNAL_INCOMPLETE', `${segment.path}: damaged segment header`);
    }
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
      const command = decodeCommand(bytes, record.payloadStart, record.payloadEnd);
      const events = engine.apply(command).map((event) => ({ ...event }));
      yield { seq: record.seq, ts: command.ts ?? 0, command, events };
      expectedSeq += 1;
      offset = record.recordEnd;
      if (expectedSeq % progressEveryRecords === 0) {
        onProgress?.({ bytesDone: bytesBefore + offset, bytesTotal, lastSeq: expectedSeq - 1 });
      }
    }
    bytesBefore += bytes.length;
    onProgress?.({ bytesDone: bytesBefore, bytesTotal, lastSeq: expectedSeq - 1 });
  }
}

/**
 * A projector's `catchUp` source over a journal that keeps every segment: replays from sequence 1
 * through a fresh engine (the only way to have the events) and hands over what follows `afterSeq`.
 */
export function journalCatchUp(
  journalDir: string,
  createEngine: () => MatchingEngine,
): (afterSeq: number) => AsyncIterable<CommandOutcome> {
  return async function* outcomesAfter(afterSeq: number) {
    for await (const outcome of journalOutcomes(journalDir, createEngine())) {
      if (outcome.seq > afterSeq) yield outcome;
    }
  };
}
