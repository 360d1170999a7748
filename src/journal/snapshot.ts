// Snapshots: the engine's exported state plus the last applied sequence, written to a temporary
// file, fdatasync'd, renamed into place and the directory fsync'd, with a checksum footer:
//
//   body    UTF-8 JSON {"format":1,"lastSeq":N,"lastTs":T,"stateHash":"…","state":…,"participants":{…}}
//           (stateHash is "" when the snapshot was taken without one; "participants" holds the
//           derived state of each snapshot participant by name, captured at the same sequence,
//           and is absent from snapshots written before participants existed)
//   footer  8 bytes "HOGASNAP", u32 LE body bytes low, u32 LE body bytes high, u32 LE CRC32C(body)
//
// Serialising a large state with one JSON.stringify would stop intake for its whole duration,
// so the body is produced in pieces and the writer yields to the event loop every few ms.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { crc32c } from './crc32c.js';
import { DeferredArray } from './deferred-json.js';
import { JournalError } from './errors.js';
import type { JournalFileSystem } from './file-system.js';
import { snapshotFileName, temporarySuffix } from './segment.js';

export const snapshotFormatVersion = 1;
export const snapshotFooterBytes = 20;
const snapshotMagic = Buffer.from('HOGASNAP', 'latin1');
const twoToThe32 = 0x1_0000_0000;
/** Bytes buffered before one write to the temporary file. */
export const snapshotWriteChunkBytesMax = 1 << 20;
/** Longest stretch of synchronous serialising before yielding to the event loop. */
export const snapshotSliceMsMax = 2;
/** A subtree with at most this many nodes is stringified in one call. */
const subtreeNodesMax = 64;

export interface SnapshotContent {
  lastSeq: number;
  lastTs: number;
  stateHash: string;
  state: unknown;
  /** Each snapshot participant's exported state by name (participant.ts); absent in older files. */
  participants?: Record<string, unknown>;
}

export interface SnapshotWritten {
  path: string;
  bytes: number;
  /** Wall time from the first piece to the directory fsync. */
  writeMs: number;
}

/** Writes a snapshot atomically; a crash at any point leaves either the old set of files or the new one (plus a stray temporary). */
export async function writeSnapshot(
  dataDir: string,
  content: SnapshotContent,
  fileSystem: JournalFileSystem,
): Promise<SnapshotWritten> {
  const started = performance.now();
  const finalPath = join(dataDir, snapshotFileName(content.lastSeq));
  const temporaryPath = `${finalPath}${temporarySuffix}`;
  const fd = await fileSystem.open(temporaryPath, 'create');
  let bytes: number;
  try {
    bytes = await writeSnapshotBody(fd, content, fileSystem);
  } finally {
    await fileSystem.close(fd);
  }
  await fileSystem.rename(temporaryPath, finalPath);
  await fileSystem.syncDirectory(dataDir);
  return { path: finalPath, bytes, writeMs: performance.now() - started };
}

/**
 * The same into a file the caller holds open and empty (`path`, the snapshot scheduler's spare,
 * so a snapshot needs no new descriptor); the caller keeps the descriptor and syncs the directory
 * through `syncDirectory`.
 */
export async function writeSnapshotInto(
  fd: number,
  path: string,
  dataDir: string,
  content: SnapshotContent,
  fileSystem: JournalFileSystem,
  syncDirectory: () => Promise<void>,
): Promise<SnapshotWritten> {
  const started = performance.now();
  const finalPath = join(dataDir, snapshotFileName(content.lastSeq));
  const bytes = await writeSnapshotBody(fd, content, fileSystem);
  await fileSystem.rename(path, finalPath);
  await syncDirectory();
  return { path: finalPath, bytes, writeMs: performance.now() - started };
}

/** Body and footer from offset 0, fdatasync'd; returns the file's length. */
async function writeSnapshotBody(
  fd: number,
  content: SnapshotContent,
  fileSystem: JournalFileSystem,
): Promise<number> {
  let position = 0;
  let checksum = 0;
  let pending: string[] = [];
  let pendingChars = 0;
  const flush = async (): Promise<void> => {
    const chunk = Buffer.from(pending.join(''), 'utf8');
    pending = [];
    pendingChars = 0;
    checksum = crc32c(chunk, 0, chunk.length, checksum);
    await fileSystem.write(fd, chunk, chunk.length, position);
    position += chunk.length;
  };
  let sliceStarted = performance.now();
  const header = {
    format: snapshotFormatVersion,
    lastSeq: content.lastSeq,
    lastTs: content.lastTs,
    stateHash: content.stateHash,
  };
  for (const piece of bodyPieces(header, content.state, content.participants)) {
    pending.push(piece);
    pendingChars += piece.length;
    if (pendingChars >= snapshotWriteChunkBytesMax) await flush();
    if (performance.now() - sliceStarted >= snapshotSliceMsMax) {
      await yieldToEventLoop();
      sliceStarted = performance.now();
    }
  }
  await flush();
  const footer = encodeFooter(position, checksum);
  await fileSystem.write(fd, footer, footer.length, position);
  await fileSystem.datasync(fd);
  return position + snapshotFooterBytes;
}

/** Reads and checks a snapshot file; throws SNAPSHOT_CORRUPT naming the file. */
export function readSnapshot(path: string): SnapshotContent & { bytes: number } {
  const bytes = readFileSync(path);
  const bodyBytes = checkFooter(bytes, path);
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString('utf8', 0, bodyBytes));
  } catch (cause) {
    throw new JournalError('SNAPSHOT_CORRUPT', `${path}: body is not JSON`, { cause });
  }
  const body = parsed as Partial<SnapshotContent> & { format?: unknown };
  const wellFormed =
    body !== null &&
    typeof body === 'object' &&
    body.format === snapshotFormatVersion &&
    Number.isSafeInteger(body.lastSeq) &&
    Number.isSafeInteger(body.lastTs) &&
    typeof body.stateHash === 'string' &&
    'state' in body &&
    (body.participants === undefined || isPlainObject(body.participants));
  if (!wellFormed) throw new JournalError('SNAPSHOT_CORRUPT', `${path}: unexpected format`);
  const content: SnapshotContent & { bytes: number } = {
    lastSeq: body.lastSeq as number,
    lastTs: body.lastTs as number,
    stateHash: body.stateHash as string,
    state: body.state,
    bytes: bytes.length,
  };
  if (body.participants !== undefined) content.participants = body.participants;
  return content;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Checks the footer and checksum only (for verify); returns the body length. */
export function checkFooter(bytes: Buffer, path: string): number {
  if (bytes.length < snapshotFooterBytes)
    throw new JournalError('SNAPSHOT_CORRUPT', `${path}: shorter than its footer`);
  const footerStart = bytes.length - snapshotFooterBytes;
  if (!bytes.subarray(footerStart, footerStart + 8).equals(snapshotMagic)) {
    throw new JournalError('SNAPSHOT_CORRUPT', `${path}: footer magic missing (incomplete write?)`);
  }
  const bodyBytes = bytes.readUInt32LE(footerStart + 8) + bytes.readUInt32LE(footerStart + 12) * twoToThe32;
  if (bodyBytes !== footerStart)
    throw new JournalError(
      'SNAPSHOT_CORRUPT',
      `${path}: footer says ${bodyBytes} body bytes, file has ${footerStart}`,
    );
  if (crc32c(bytes, 0, bodyBytes) !== bytes.readUInt32LE(footerStart + 16)) {
    throw new JournalError('SNAPSHOT_CORRUPT', `${path}: checksum mismatch`);
  }
  return bodyBytes;
}

function encodeFooter(bodyBytes: number, checksum: number): Buffer {
  const footer = Buffer.alloc(snapshotFooterBytes);
  snapshotMagic.copy(footer, 0);
  footer.writeUInt32LE(bodyBytes % twoToThe32, 8);
  footer.writeUInt32LE(Math.floor(bodyBytes / twoToThe32), 12);
  footer.writeUInt32LE(checksum, 16);
  return footer;
}

function* bodyPieces(
  header: Record<string, unknown>,
  state: unknown,
  participants: Record<string, unknown> | undefined,
): Generator<string> {
  const headerJson = JSON.stringify(header);
  yield `${headerJson.slice(0, -1)},"state":`;
  yield* jsonPieces(state === undefined ? null : state);
  if (participants !== undefined) {
    yield ',"participants":';
    yield* jsonPieces(participants);
  }
  yield '}';
}

/** JSON text of `value` in pieces, equal once joined to JSON.stringify(value) for plain data. */
export function* jsonPieces(value: unknown): Generator<string> {
  if (value instanceof DeferredArray) {
    yield '[';
    for (let index = 0; index < value.length; index++) {
      if (index > 0) yield ',';
      const element = value.at(index);
      if (element === undefined || typeof element === 'function') yield 'null';
      else yield* jsonPieces(element);
    }
    yield ']';
    return;
  }
  if (value === null || typeof value !== 'object' || nodesWithin(value, subtreeNodesMax) >= 0) {
    yield JSON.stringify(value) ?? 'null';
    return;
  }
  if (Array.isArray(value)) {
    yield '[';
    for (let index = 0; index < value.length; index++) {
      if (index > 0) yield ',';
      const element = value[index];
      if (element === undefined || typeof element === 'function') yield 'null';
      else yield* jsonPieces(element);
    }
    yield ']';
    return;
  }
  let separator = '{';
  for (const [key, element] of Object.entries(value)) {
    if (element === undefined || typeof element === 'function') continue;
    yield `${separator}${JSON.stringify(key)}:`;
    separator = ',';
    yield* jsonPieces(element);
  }
  yield separator === '{' ? '{}' : '}';
}

/** Budget left after counting the nodes of `value`, or -1 once more than `budget` are found. */
function nodesWithin(value: unknown, budget: number): number {
  let remaining = budget - 1;
  if (remaining < 0 || value === null || typeof value !== 'object') return remaining;
  // Expanded piece by piece, never stringified in one call with its parent.
  if (value instanceof DeferredArray) return -1;
  const children = Array.isArray(value) ? value : Object.values(value);
  if (children.length > remaining) return -1;
  for (const child of children) {
    remaining = nodesWithin(child, remaining);
    if (remaining < 0) return -1;
  }
  return remaining;
}
