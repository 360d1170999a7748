// Record framing for journal segments. One record holds one sequenced command:
//
//   offset 0   u32 LE  payloadBytes
//   offset 4   u32 LE  CRC32C over bytes [0, 4) and [8, 16 + payloadBytes)
//   offset 8   u32 LE  sequence, low 32 bits
//   offset 12  u32 LE  bits 0-20: sequence, high 21 bits (sequences are safe integers);
//                      bit 31: the record starts a write, bit 30: it ends one (one write is
//                      one group commit; a single-record write has both)
//   offset 16  payload: the command with its `ts`, as UTF-8 JSON or in the compact form (payload.ts)
//
// The CRC covers the length and the sequence too, so a flipped bit anywhere in a record is caught.
// The write marks let recovery tell a torn last write (whose pages may reach the disk in any
// order after a power loss) from damage in earlier, acknowledged writes.
import { crc32c } from './crc32c.js';

export const recordHeaderBytes = 16;
/** Commands are small; a bound keeps a corrupt length field from asking for gigabytes. */
export const recordPayloadBytesMax = 1 << 20;

const twoToThe32 = 0x1_0000_0000;
/** Flags for sealRecord. */
export const startsWrite = 0x8000_0000;
export const endsWrite = 0x4000_0000;
const sequenceHighMask = 0x1f_ffff;

export type RecordProblem = 'truncated' | 'badLength' | 'badChecksum';

export type DecodedRecord =
  | {
      ok: true;
      seq: number;
      startsWrite: boolean;
      endsWrite: boolean;
      payloadStart: number;
      payloadEnd: number;
      recordEnd: number;
    }
  | { ok: false; problem: RecordProblem };

/**
 * Writes the header (flags: startsWrite, endsWrite or both, or 0) for a payload already placed at `offset + recordHeaderBytes`. Encoding the
 * payload in place first avoids a second copy of every command.
 */
export function sealRecord(
  buffer: Buffer,
  offset: number,
  seq: number,
  payloadBytes: number,
  writeFlags: number,
): number {
  buffer.writeUInt32LE(payloadBytes, offset);
  buffer.writeUInt32LE(seq % twoToThe32, offset + 8);
  buffer.writeUInt32LE((Math.floor(seq / twoToThe32) | writeFlags) >>> 0, offset + 12);
  const recordEnd = offset + recordHeaderBytes + payloadBytes;
  const checksum = crc32c(buffer, offset + 8, recordEnd, crc32c(buffer, offset, offset + 4));
  buffer.writeUInt32LE(checksum, offset + 4);
  return recordEnd;
}

/** Encodes one record into a fresh buffer (tests, tools; the sequencer encodes in place). */
export function encodeRecord(seq: number, payload: string, writeFlags = startsWrite | endsWrite): Buffer {
  const payloadBytes = Buffer.byteLength(payload, 'utf8');
  const buffer = Buffer.allocUnsafe(recordHeaderBytes + payloadBytes);
  buffer.write(payload, recordHeaderBytes, 'utf8');
  sealRecord(buffer, 0, seq, payloadBytes, writeFlags);
  return buffer;
}

const truncated = -1;
const badLength = -2;
const badChecksum = -3;

/**
 * Checks the record starting at `offset` (`end` is where valid bytes stop) and returns where it
 * ends, or a negative problem code. Allocates nothing: the replay loop calls it for every record.
 */
export function checkedRecordEnd(buffer: Uint8Array, offset: number, end: number): number {
  if (end - offset < recordHeaderBytes) return truncated;
  const payloadBytes = readUInt32(buffer, offset);
  if (payloadBytes > recordPayloadBytesMax) return badLength;
  const recordEnd = offset + recordHeaderBytes + payloadBytes;
  if (recordEnd > end) return truncated;
  const checksum = crc32c(buffer, offset + 8, recordEnd, crc32c(buffer, offset, offset + 4));
  return checksum === readUInt32(buffer, offset + 4) ? recordEnd : badChecksum;
}

/** The sequence of a record whose header is in bounds. */
export function recordSeq(buffer: Uint8Array, offset: number): number {
  return readUInt32(buffer, offset + 8) + (readUInt32(buffer, offset + 12) & sequenceHighMask) * twoToThe32;
}

/** Reads and checks the record starting at `offset`; `end` is where valid bytes stop. */
export function decodeRecord(buffer: Uint8Array, offset: number, end: number): DecodedRecord {
  const recordEnd = checkedRecordEnd(buffer, offset, end);
  if (recordEnd === truncated) return { ok: false, problem: 'truncated' };
  if (recordEnd === badLength) return { ok: false, problem: 'badLength' };
  if (recordEnd === badChecksum) return { ok: false, problem: 'badChecksum' };
  const high = readUInt32(buffer, offset + 12);
  return {
    ok: true,
    seq: recordSeq(buffer, offset),
    startsWrite: (high & startsWrite) !== 0,
    endsWrite: (high & endsWrite) !== 0,
    payloadStart: offset + recordHeaderBytes,
    payloadEnd: recordEnd,
    recordEnd,
  };
}

function readUInt32(buffer: Uint8Array, offset: number): number {
  return (
    (buffer[offset] | (buffer[offset + 1] << 8) | (buffer[offset + 2] << 16)) +
    buffer[offset + 3] * 0x100_0000
  );
}
