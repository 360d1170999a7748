// One process per data directory (and per PGlite directory), for the process's whole lifetime.
//
// The lock is a Unix socket in Linux's abstract namespace whose name is derived from the
// directory's resolved path. Binding it is atomic, and the kernel releases it when the process
// ends, however it ends (SIGKILL, OOM kill, power loss), so a dead holder never leaves a stale
// lock behind and there is no pid whose reuse could be mistaken for the holder. A lock file with a
// pid cannot give both: deciding that its holder is dead and taking the file over are two steps
// another starter can interleave. The holder answers a connection with its pid and what it runs,
// which is how the refusal names it. See docs/OPERATIONS.md "Data directory lock".
import { createHash } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import { basename, dirname, join, resolve } from 'node:path';
import { JournalError } from './errors.js';

/** Who holds a lock, as the holder reports it. */
export interface LockHolder {
  pid: number;
  /** What the holder runs, e.g. `hoga start`. */
  purpose: string;
  sinceMs: number;
}

/** How long a refused opener waits for the holder to say who it is (it may be busy replaying). */
const holderQueryTimeoutMs = 2_000;
/** A holder's answer is one small JSON line; anything longer is not ours. */
const holderAnswerBytesMax = 4_096;

export interface DirectoryLock {
  readonly directory: string;
  release(): Promise<void>;
}

/** The directory's absolute path with symlinks resolved, also before it exists. */
function canonicalPath(directory: string): string {
  const absolute = resolve(directory);
  try {
    return realpathSync(absolute);
  } catch {
    const parent = dirname(absolute);
    return parent === absolute ? absolute : join(canonicalPath(parent), basename(absolute));
  }
}

/** The abstract socket name for a directory: a hash keeps it within the 107-byte bound. */
function lockAddress(directory: string): string {
  const digest = createHash('sha256').update(canonicalPath(directory)).digest('hex');
  return `\0hoga-directory-lock-${digest}`;
}

function listen(server: Server, address: string): Promise<NodeJS.ErrnoException | undefined> {
  return new Promise((done) => {
    server.once('error', (error: NodeJS.ErrnoException) => done(error));
    server.listen({ path: address }, () => done(undefined));
  });
}

/** Asks the holder of `address` who it is; undefined when it does not answer in time. */
export function queryHolder(address: string): Promise<LockHolder | undefined> {
  return new Promise((done) => {
    const socket = connect({ path: address });
    let answer = '';
    const finish = (holder: LockHolder | undefined): void => {
      clearTimeout(timer);
      socket.destroy();
      done(holder);
    };
    const timer = setTimeout(() => finish(undefined), holderQueryTimeoutMs);
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      answer += chunk;
      if (answer.length > holderAnswerBytesMax) finish(undefined);
    });
    socket.on('end', () => finish(parseHolder(answer)));
    socket.on('error', () => finish(undefined));
  });
}

function parseHolder(text: string): LockHolder | undefined {
  try {
    const value = JSON.parse(text) as Partial<LockHolder>;
    if (!Number.isSafeInteger(value.pid) || typeof value.purpose !== 'string') return undefined;
    return { pid: value.pid as number, purpose: value.purpose, sinceMs: Number(value.sinceMs) };
  } catch {
    return undefined;
  }
}

function describeHolder(holder: LockHolder | undefined): string {
  if (holder === undefined) return 'another process (it did not say which; it may be busy starting)';
  return `pid ${holder.pid} (${holder.purpose}, since ${new Date(holder.sinceMs).toISOString()})`;
}

/**
 * Takes the lock on `directory` for this process, or throws DATA_DIR_LOCKED naming the holder.
 * `purpose` is what a refused opener is told the holder runs. Released by `release()` or by the
 * process's end.
 */
export async function lockDirectory(directory: string, purpose: string): Promise<DirectoryLock> {
  // The abstract namespace is Linux's; elsewhere (development machines) nothing is locked.
  if (process.platform !== 'linux') return { directory, release: async () => undefined };
  const address = lockAddress(directory);
  const sinceMs = Date.now();
  const answer = `${JSON.stringify({ pid: process.pid, purpose, sinceMs })}\n`;
  const server = createServer((socket) => {
    socket.on('error', () => undefined);
    socket.end(answer);
  });
  const error = await listen(server, address);
  if (error !== undefined) {
    if (error.code !== 'EADDRINUSE') throw error;
    const holder = await queryHolder(address);
    throw new JournalError(
      'DATA_DIR_LOCKED',
      `${resolve(directory)} is in use by ${describeHolder(holder)}; only one process may open it`,
    );
  }
  // The lock must never keep the process alive on its own.
  server.unref();
  let released: Promise<void> | undefined;
  return {
    directory,
    release: () => {
      released ??= new Promise((done) => server.close(() => done()));
      return released;
    },
  };
}

/** Locks every directory given, in order; on a refusal releases those already taken. */
export async function lockDirectories(
  directories: readonly string[],
  purpose: string,
): Promise<DirectoryLock> {
  const taken: DirectoryLock[] = [];
  try {
    for (const directory of directories) taken.push(await lockDirectory(directory, purpose));
  } catch (error) {
    for (const lock of taken.reverse()) await lock.release();
    throw error;
  }
  return {
    directory: directories.join(', '),
    release: async () => {
      for (const lock of [...taken].reverse()) await lock.release();
    },
  };
}

/** Exit status of a command refused because its directory is locked (EX_TEMPFAIL: try later). */
export const directoryLockedExitCode = 75;

export function isDirectoryLocked(error: unknown): error is JournalError {
  return error instanceof JournalError && error.code === 'DATA_DIR_LOCKED';
}
