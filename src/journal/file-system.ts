// The file operations the write path needs, behind a port so tests can make fdatasync fail or
// count calls. Reads during recovery and verification use node:fs directly.
import {
  close,
  closeSync,
  fdatasync,
  fdatasyncSync,
  fsync,
  open,
  openSync,
  rename,
  unlink,
  writeSync,
} from 'node:fs';

export interface JournalFileSystem {
  /** Creates a new file (fails if it exists) or opens an existing one for positioned writes. */
  open(path: string, mode: 'create' | 'existing'): Promise<number>;
  /** Writes all of `bytes[0, length)` at `position`, retrying short writes. */
  write(fd: number, bytes: Uint8Array, length: number, position: number): Promise<void>;
  datasync(fd: number): Promise<void>;
  /**
   * fdatasync on the calling thread, blocking it; optional. The writer uses it while it is fast
   * (journal-writer.ts `SyncPlacement`): no hand-off to the libuv pool and back.
   */
  datasyncInline?(fd: number): void;
  close(fd: number): Promise<void>;
  /** fsync on the directory, so new, renamed and removed names survive a crash. */
  syncDirectory(path: string): Promise<void>;
  /** Opens a directory to be fsync'd through `syncOpenDirectory` for as long as it is held. */
  openDirectory(path: string): Promise<number>;
  syncOpenDirectory(fd: number): Promise<void>;
  /**
   * Closes `fd` and creates `path` (which must not exist) in the same synchronous step, so no
   * other open of the process (an accepted connection under descriptor exhaustion) can take the
   * descriptor in between: the journal and the snapshot writer keep their count of descriptors
   * this way (journal-writer.ts "Reserved descriptors").
   */
  replaceDescriptor(fd: number, path: string): number;
  rename(from: string, to: string): Promise<void>;
  unlink(path: string): Promise<void>;
}

function callbackToPromise<T>(
  start: (done: (error: NodeJS.ErrnoException | null, value: T) => void) => void,
): Promise<T> {
  return new Promise((resolve, reject) => {
    start((error, value) => (error ? reject(error) : resolve(value)));
  });
}

/**
 * A write into the page cache takes microseconds; sending it to the libuv thread pool costs a
 * thread hand-off each way, which on a busy machine left the writer idle about a quarter of the
 * time. So segment writes are synchronous; only fdatasync (the slow part) goes to the pool, which
 * is what lets commands pile up for the next group commit meanwhile.
 */
async function writeFully(fd: number, bytes: Uint8Array, length: number, position: number): Promise<void> {
  let written = 0;
  while (written < length) written += writeSync(fd, bytes, written, length - written, position + written);
}

async function syncDirectory(path: string): Promise<void> {
  const fd = await callbackToPromise<number>((done) => open(path, 'r', done));
  try {
    await callbackToPromise<void>((done) => fsync(fd, (error) => done(error, undefined)));
  } finally {
    await callbackToPromise<void>((done) => close(fd, (error) => done(error, undefined)));
  }
}

export const nodeFileSystem: JournalFileSystem = {
  open: (path, mode) => callbackToPromise((done) => open(path, mode === 'create' ? 'wx' : 'r+', done)),
  write: writeFully,
  datasync: (fd) => callbackToPromise((done) => fdatasync(fd, (error) => done(error, undefined))),
  datasyncInline: fdatasyncSync,
  close: (fd) => callbackToPromise((done) => close(fd, (error) => done(error, undefined))),
  syncDirectory,
  openDirectory: (path) => callbackToPromise((done) => open(path, 'r', done)),
  syncOpenDirectory: (fd) => callbackToPromise((done) => fsync(fd, (error) => done(error, undefined))),
  replaceDescriptor: (fd, path) => {
    closeSync(fd);
    return openSync(path, 'wx');
  },
  rename: (from, to) => callbackToPromise((done) => rename(from, to, (error) => done(error, undefined))),
  unlink: (path) => callbackToPromise((done) => unlink(path, (error) => done(error, undefined))),
};
