// Shared helpers for the journal tests: temporary data directories, a recording logger,
// a seeded random generator, and a file system wrapper that counts or fails operations.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Logger, pino } from 'pino';
import type { Command } from '../../src/core/types.js';
import { type JournalFileSystem, nodeFileSystem } from '../../src/journal/file-system.js';

export function temporaryDirectory(label: string): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), `hoga-${label}-`));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

export interface RecordedLog {
  level: number;
  msg: string;
  [field: string]: unknown;
}

/** A pino logger that keeps every line in memory, so tests can assert on warnings. */
export function recordingLogger(): { logger: Logger; lines: RecordedLog[] } {
  const lines: RecordedLog[] = [];
  const logger = pino(
    { level: 'debug' },
    { write: (line: string) => lines.push(JSON.parse(line) as RecordedLog) },
  );
  return { logger, lines };
}

/** mulberry32: small, seedable, good enough to pick offsets and bits. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let mixed = state;
    mixed = Math.imul(mixed ^ (mixed >>> 15), mixed | 1);
    mixed ^= mixed + Math.imul(mixed ^ (mixed >>> 7), mixed | 61);
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4294967296;
  };
}

export function seedFromEnvironment(): number {
  const fromEnvironment = Number(process.env.HOGA_TEST_SEED);
  return Number.isSafeInteger(fromEnvironment) && fromEnvironment > 0
    ? fromEnvironment
    : (Date.now() % 1_000_000) + 1;
}

export function depositCommand(index: number): Command {
  return { op: 'deposit', user: (index % 7) + 1, asset: index % 3 === 0 ? 'KRW' : 'BTC', amount: index + 1 };
}

export interface CountingFileSystem extends JournalFileSystem {
  datasyncCalls: number;
  writeCalls: number;
}

/**
 * nodeFileSystem with counters, and optionally an fdatasync that fails from the n-th call on, on
 * either path (the libuv pool, or inline on the calling thread).
 */
export function countingFileSystem(failDatasyncFromCall = Number.POSITIVE_INFINITY): CountingFileSystem {
  const failure = () => Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' });
  const counting: CountingFileSystem = {
    ...nodeFileSystem,
    datasyncCalls: 0,
    writeCalls: 0,
    write: (fd, bytes, length, position) => {
      counting.writeCalls++;
      return nodeFileSystem.write(fd, bytes, length, position);
    },
    datasync: (fd) => {
      counting.datasyncCalls++;
      if (counting.datasyncCalls >= failDatasyncFromCall) return Promise.reject(failure());
      return nodeFileSystem.datasync(fd);
    },
    datasyncInline: (fd) => {
      counting.datasyncCalls++;
      if (counting.datasyncCalls >= failDatasyncFromCall) throw failure();
      nodeFileSystem.datasyncInline?.(fd);
    },
  };
  return counting;
}
