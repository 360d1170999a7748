// Segment files: `segment-<firstSeq>.journal`, a 32-byte header then records back to back.
//
//   offset 0   8 bytes  magic "HOGAJRNL"
//   offset 8   u32 LE   format version
//   offset 12  u32 LE   flags: bit 0 "follows an accepted loss" (see below), other bits 0
//   offset 16  u32 LE   first sequence, low 32 bits
//   offset 20  u32 LE   first sequence, high bits
//   offset 24  u32 LE   reserved (0)
//   offset 28  u32 LE   CRC32C over bytes [0, 28)
//
// A segment flagged "follows an accepted loss" is the first one written after the operator started
// with --accept-data-loss: the sequences between the previous segment's last record and its first
// were acknowledged once and are lost; they are never used again (recovery.ts).
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { crc32c } from './crc32c.js';
import { checkedRecordEnd, decodeRecord, recordHeaderBytes, recordSeq } from './record.js';

export const segmentHeaderBytes = 32;
export const segmentFormatVersion = 1;
const segmentMagic = Buffer.from('HOGAJRNL', 'latin1');
const twoToThe32 = 0x1_0000_0000;
/** Sequences are safe integers: 16 decimal digits keep names sorted by sequence. */
const sequenceDigits = 16;

const segmentNamePattern = /^segment-(\d{16})\.journal$/;
const snapshotNamePattern = /^snapshot-(\d{16})\.snap$/;
export const temporarySuffix = '.tmp';

export function segmentFileName(firstSeq: number): string {
  return `segment-${String(firstSeq).padStart(sequenceDigits, '0')}.journal`;
}

export function snapshotFileName(lastSeq: number): string {
  return `snapshot-${String(lastSeq).padStart(sequenceDigits, '0')}.snap`;
}

export interface DataFile {
  path: string;
  name: string;
  /** First sequence for a segment, last applied sequence for a snapshot. */
  seq: number;
}

export interface DataDirectoryListing {
  /** Oldest first. */
  segments: DataFile[];
  /** Oldest first. */
  snapshots: DataFile[];
  /** Leftovers of interrupted snapshot writes: never trusted. */
  temporaries: string[];
}

/** Lists journal files; a missing directory is an empty one. */
export function listDataDirectory(dataDir: string): DataDirectoryListing {
  let names: string[];
  try {
    names = readdirSync(dataDir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT')
      return { segments: [], snapshots: [], temporaries: [] };
    throw error;
  }
  const listing: DataDirectoryListing = { segments: [], snapshots: [], temporaries: [] };
  for (const name of names) {
    const segment = segmentNamePattern.exec(name);
    const snapshot = snapshotNamePattern.exec(name);
    if (segment) listing.segments.push({ path: join(dataDir, name), name, seq: Number(segment[1]) });
    else if (snapshot) listing.snapshots.push({ path: join(dataDir, name), name, seq: Number(snapshot[1]) });
    else if (name.endsWith(temporarySuffix)) listing.temporaries.push(join(dataDir, name));
  }
  listing.segments.sort((a, b) => a.seq - b.seq);
  listing.snapshots.sort((a, b) => a.seq - b.seq);
  return listing;
}

/** Header flag: the sequences before this segment's first that its predecessor lacks were lost and the loss accepted. */
export const segmentFollowsAcceptedLoss = 1;

export function encodeSegmentHeader(firstSeq: number, flags = 0): Buffer {
  const header = Buffer.alloc(segmentHeaderBytes);
  segmentMagic.copy(header, 0);
  header.writeUInt32LE(segmentFormatVersion, 8);
  header.writeUInt32LE(flags, 12);
  header.writeUInt32LE(firstSeq % twoToThe32, 16);
  header.writeUInt32LE(Math.floor(firstSeq / twoToThe32), 20);
  header.writeUInt32LE(crc32c(header, 0, 28), 28);
  return header;
}

/** The first sequence the header declares, or undefined when the header is short or corrupt. */
export function decodeSegmentHeader(bytes: Buffer): number | undefined {
  if (bytes.length < segmentHeaderBytes) return undefined;
  if (crc32c(bytes, 0, 28) !== bytes.readUInt32LE(28)) return undefined;
  if (!bytes.subarray(0, 8).equals(segmentMagic)) return undefined;
  if (bytes.readUInt32LE(8) !== segmentFormatVersion) return undefined;
  return bytes.readUInt32LE(16) + bytes.readUInt32LE(20) * twoToThe32;
}

/** The header's flags; call only on a header decodeSegmentHeader accepted. */
export function segmentHeaderFlags(bytes: Buffer): number {
  return bytes.readUInt32LE(12);
}

/** True when the segment may start past its predecessor's end (an accepted loss). */
export function followsAcceptedLoss(bytes: Buffer): boolean {
  return (segmentHeaderFlags(bytes) & segmentFollowsAcceptedLoss) !== 0;
}

export type ScanProblemKind = 'tornTail' | 'corrupt';

export interface ScanProblem {
  kind: ScanProblemKind;
  /** Byte offset in the segment file where valid data stops. */
  offset: number;
  /** The sequence the bad record should have carried. */
  seq: number;
  detail: string;
}

export interface SegmentScan {
  firstSeq: number;
  /** Sequence of the last valid record, firstSeq - 1 when there is none. */
  lastSeq: number;
  records: number;
  /** Offset just past the last valid record. */
  validBytes: number;
  problem: ScanProblem | undefined;
}

export type RecordVisitor = (seq: number, bytes: Buffer, payloadStart: number, payloadEnd: number) => void;

/**
 * Walks every record of a segment image, checking framing, CRC and that sequences run
 * firstSeq, firstSeq + 1, ... without a gap. At the first bad record it decides torn tail
 * versus corruption (see damageIsTornTail).
 */
export function scanSegment(bytes: Buffer, firstSeq: number, visit?: RecordVisitor): SegmentScan {
  let offset = segmentHeaderBytes;
  let expectedSeq = firstSeq;
  const end = bytes.length;
  while (offset < end) {
    const recordEnd = checkedRecordEnd(bytes, offset, end);
    if (recordEnd < 0 || recordSeq(bytes, offset) !== expectedSeq) {
      return { firstSeq, ...scanProblem(bytes, offset, expectedSeq, firstSeq) };
    }
    if (visit) visit(expectedSeq, bytes, offset + recordHeaderBytes, recordEnd);
    offset = recordEnd;
    expectedSeq++;
  }
  return {
    firstSeq,
    lastSeq: expectedSeq - 1,
    records: expectedSeq - firstSeq,
    validBytes: offset,
    problem: undefined,
  };
}

/** Describes the first bad record (the rare path: the loop above allocates nothing per record). */
function scanProblem(
  bytes: Buffer,
  offset: number,
  expectedSeq: number,
  firstSeq: number,
): Omit<SegmentScan, 'firstSeq'> {
  const record = decodeRecord(bytes, offset, bytes.length);
  const detail = record.ok ? `sequence ${record.seq} where ${expectedSeq} was expected` : record.problem;
  const kind: ScanProblemKind =
    !record.ok && damageIsTornTail(bytes, offset, expectedSeq) ? 'tornTail' : 'corrupt';
  return {
    lastSeq: expectedSeq - 1,
    records: expectedSeq - firstSeq,
    validBytes: offset,
    problem: { kind, offset, seq: expectedSeq, detail },
  };
}

/**
 * Damage is a torn tail when it lies inside the last write of the file: no valid record after it
 * starts a write, nor ends one before the end of the file. The last write is the only one that can
 * be incomplete (and, after a power loss, have holes: its pages may reach the disk in any order);
 * a write boundary after the damage proves the damage is in data written, synced and
 * acknowledged before, which must not be cut away.
 */
function damageIsTornTail(bytes: Buffer, badOffset: number, expectedSeq: number): boolean {
  let offset = badOffset + 1;
  while (offset + recordHeaderBytes <= bytes.length) {
    const record = decodeRecord(bytes, offset, bytes.length);
    if (!record.ok || record.seq < expectedSeq) {
      offset++;
      continue;
    }
    if (record.startsWrite || (record.endsWrite && record.recordEnd < bytes.length)) return false;
    offset = record.recordEnd;
  }
  return true;
}
