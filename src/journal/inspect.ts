// Read-only walks over a data directory, for `hoga journal verify|export|stats`: every problem
// is reported rather than thrown, and nothing is truncated or removed.
import { readFileSync, statSync } from 'node:fs';
import {
  type DataFile,
  decodeSegmentHeader,
  followsAcceptedLoss,
  listDataDirectory,
  type RecordVisitor,
  scanSegment,
} from './segment.js';
import { readSnapshot } from './snapshot.js';
import { readWitness, witnessPath } from './witness.js';

export interface SegmentReport {
  path: string;
  firstSeq: number;
  lastSeq: number;
  records: number;
  bytes: number;
}

export interface SnapshotReport {
  path: string;
  lastSeq: number;
  bytes: number;
  /** Undefined when the footer, checksum and body all check out. */
  problem: string | undefined;
}

export interface JournalProblem {
  /**
   * A torn tail is repaired by the next start; anything else needs an operator. acknowledgedLost:
   * the journal ends below what the acknowledgement witness recorded (witness.ts).
   */
  kind: 'tornTail' | 'corrupt' | 'gap' | 'acknowledgedLost';
  path: string;
  offset: number;
  seq: number;
  detail: string;
}

export interface JournalWalk {
  segments: SegmentReport[];
  /** First and last valid sequence in the journal, 0 when empty. */
  firstSeq: number;
  lastSeq: number;
  records: number;
  bytes: number;
  problems: JournalProblem[];
  temporaries: string[];
  /** The highest acknowledged sequence the witness recorded (0: no witness), read before the segments. */
  witnessSeq: number;
  /** Where the journal ends: the last segment's last record, firstSeq - 1 for an empty one. */
  endSeq: number;
  /** Sequences skipped because the operator started with --accept-data-loss. */
  acceptedLosses: Array<{ fromSeq: number; toSeq: number; path: string }>;
}

/** Visits every valid record in sequence order; stops at the first damaged record of each segment. */
export function walkJournal(
  dataDir: string,
  visit?: RecordVisitor,
  onProgress?: (bytesDone: number, bytesTotal: number) => void,
): JournalWalk {
  // Before the segments: a running exchange's witness only moves past records already written.
  const witnessSeq = readWitness(dataDir);
  const listing = listDataDirectory(dataDir);
  const bytesTotal = listing.segments.reduce((sum, segment) => sum + statSync(segment.path).size, 0);
  const walk: JournalWalk = {
    segments: [],
    firstSeq: 0,
    lastSeq: 0,
    records: 0,
    bytes: 0,
    problems: [],
    temporaries: listing.temporaries,
    witnessSeq,
    endSeq: 0,
    acceptedLosses: [],
  };
  listing.segments.forEach((segment, index) => {
    const isLast = index === listing.segments.length - 1;
    // After damage, the next segment's start is no news: report the damage only.
    const continuityKnown = walk.problems.length === 0;
    const report = walkSegment(segment, isLast, continuityKnown, walk, visit);
    if (report) walk.segments.push(report);
    onProgress?.(walk.bytes, bytesTotal);
  });
  checkWitness(walk, dataDir);
  return walk;
}

/** Damage that reaches acknowledged sequences is never a harmless torn tail. */
function checkWitness(walk: JournalWalk, dataDir: string): void {
  if (walk.witnessSeq <= walk.endSeq) return;
  for (const problem of walk.problems) {
    if (problem.kind === 'tornTail' && problem.seq <= walk.witnessSeq) problem.kind = 'acknowledgedLost';
  }
  walk.problems.push({
    kind: 'acknowledgedLost',
    path: witnessPath(dataDir),
    offset: 0,
    seq: walk.endSeq + 1,
    detail: `sequences ${walk.endSeq + 1} to ${walk.witnessSeq} were acknowledged but are missing from the journal`,
  });
}

function walkSegment(
  segment: DataFile,
  isLast: boolean,
  continuityKnown: boolean,
  walk: JournalWalk,
  visit: RecordVisitor | undefined,
): SegmentReport | undefined {
  const bytes = readFileSync(segment.path);
  walk.bytes += bytes.length;
  const firstSeq = decodeSegmentHeader(bytes);
  if (firstSeq !== segment.seq) {
    const kind = isLast && bytes.length <= 32 ? 'tornTail' : 'corrupt';
    walk.problems.push({
      kind,
      path: segment.path,
      offset: 0,
      seq: segment.seq,
      detail: 'segment header damaged',
    });
    return undefined;
  }
  const acceptedJump = followsAcceptedLoss(bytes) && firstSeq > walk.endSeq + 1;
  if (acceptedJump) {
    walk.acceptedLosses.push({ fromSeq: walk.endSeq + 1, toSeq: firstSeq - 1, path: segment.path });
  } else if (continuityKnown && walk.lastSeq !== 0 && firstSeq !== walk.lastSeq + 1) {
    walk.problems.push({
      kind: 'gap',
      path: segment.path,
      offset: 0,
      seq: firstSeq,
      detail: `expected sequence ${walk.lastSeq + 1}`,
    });
  }
  const scan = scanSegment(bytes, firstSeq, visit);
  if (scan.problem) {
    const kind = scan.problem.kind === 'tornTail' && isLast ? 'tornTail' : 'corrupt';
    walk.problems.push({
      kind,
      path: segment.path,
      offset: scan.problem.offset,
      seq: scan.problem.seq,
      detail: scan.problem.detail,
    });
  }
  walk.endSeq = scan.lastSeq;
  if (scan.records > 0) {
    if (walk.firstSeq === 0) walk.firstSeq = firstSeq;
    walk.lastSeq = scan.lastSeq;
    walk.records += scan.records;
  }
  return { path: segment.path, firstSeq, lastSeq: scan.lastSeq, records: scan.records, bytes: bytes.length };
}

/** Checks every snapshot's footer, checksum and format. */
export function inspectSnapshots(dataDir: string): SnapshotReport[] {
  return listDataDirectory(dataDir).snapshots.map((file) => {
    const bytes = statSync(file.path).size;
    try {
      const content = readSnapshot(file.path);
      const problem = content.lastSeq === file.seq ? undefined : `holds sequence ${content.lastSeq}`;
      return { path: file.path, lastSeq: file.seq, bytes, problem };
    } catch (error) {
      return { path: file.path, lastSeq: file.seq, bytes, problem: (error as Error).message };
    }
  });
}
