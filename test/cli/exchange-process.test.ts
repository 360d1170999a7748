// `hoga start` as real child processes on one data directory: a second exchange, `admin
// create-user` and `db` refuse while one runs, naming its pid; a SIGKILLed holder leaves no lock
// behind; SIGTERM takes a snapshot so the next start replays nothing; acknowledged commands cut
// from the journal stop the start unless the operator accepts the loss.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, test } from 'node:test';
import { listDataDirectory, segmentHeaderBytes, snapshotFileName } from '../../src/journal/segment.js';
import { readWitness } from '../../src/journal/witness.js';

const cliPath = join(import.meta.dirname, '..', '..', 'src', 'cli', 'main.js');
/** A guard against a hung child, not a synchronisation: every wait is for a log line or an exit. */
const deadlineMs = 120_000;
const directories: string[] = [];
const running = new Set<ChildProcess>();

after(() => {
  // A failed assertion must not leave an exchange running (the test process would wait for it).
  for (const child of running) child.kill('SIGKILL');
  for (const directory of directories) rmSync(directory, { recursive: true, force: true });
});

function dataDirectory(label: string): string {
  const directory = mkdtempSync(join(tmpdir(), `hoga-${label}-`));
  directories.push(directory);
  return directory;
}

const childEnvironment = {
  ...process.env,
  HOGA_HOST: '127.0.0.1',
  HOGA_PORT: '0',
  HOGA_SCRYPT_COST_LOG2: '10',
  HOGA_READ_MODEL_SCHEDULING: 'nice',
  HOGA_LOG_LEVEL: 'info',
};

interface LogLine {
  msg?: string;
  [field: string]: unknown;
}

interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

interface HogaChild {
  process: ChildProcess;
  lines: LogLine[];
  /** Resolves with the first log line (past or future) whose msg is `message`. */
  logged(message: string): Promise<LogLine>;
  finished: Promise<Finished>;
}

function hoga(args: string[]): HogaChild {
  const child = spawn(process.execPath, [cliPath, ...args], {
    env: childEnvironment,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: LogLine[] = [];
  const waiters: Array<{ message: string; resolve: (line: LogLine) => void }> = [];
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  running.add(child);
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (text) => {
    const line = logLine(text);
    if (line === undefined) return;
    lines.push(line);
    for (const waiter of waiters.filter((candidate) => candidate.message === line.msg)) {
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve(line);
    }
  });
  const finished = new Promise<Finished>((resolve) => {
    child.on('close', (code, signal) => {
      running.delete(child);
      resolve({ code, signal, stderr });
    });
  });
  const logged = (message: string): Promise<LogLine> => {
    const seen = lines.find((line) => line.msg === message);
    if (seen !== undefined) return Promise.resolve(seen);
    return withDeadline(
      new Promise<LogLine>((resolve) => waiters.push({ message, resolve })),
      finished.then((result) => {
        throw new Error(
          `exited (${result.code ?? result.signal}) before logging "${message}": ${result.stderr}`,
        );
      }),
    );
  };
  return { process: child, lines, logged, finished };
}

/** A pino line; undefined for anything else a command prints (verify's report, progress bars). */
function logLine(text: string): LogLine | undefined {
  if (!text.startsWith('{"level"')) return undefined;
  return JSON.parse(text) as LogLine;
}

function withDeadline<T>(wanted: Promise<T>, failure: Promise<never>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('child did not get there in time')), deadlineMs);
  });
  return Promise.race([wanted, failure, expired]).finally(() => clearTimeout(timer));
}

function start(dataDir: string, ...flags: string[]): HogaChild {
  return hoga(['start', '--data-dir', dataDir, ...flags]);
}

test('a second opener of a running data directory refuses, naming the pid; a SIGKILLed holder leaves no lock', async () => {
  const dataDir = dataDirectory('lock');
  const first = start(dataDir);
  await first.logged('exchange listening');
  const holder = `pid ${first.process.pid}`;

  const second = await start(dataDir).finished;
  assert.equal(second.code, 75, second.stderr);
  assert.match(second.stderr, /DATA_DIR_LOCKED/);
  assert.ok(second.stderr.includes(holder), second.stderr);

  const admin = await hoga([
    'admin',
    'create-user',
    '--username',
    'late',
    '--password',
    'long-enough-password',
    '--data-dir',
    dataDir,
  ]).finished;
  assert.equal(admin.code, 75, admin.stderr);
  assert.ok(admin.stderr.includes(holder), admin.stderr);
  assert.match(admin.stderr, /Stop the exchange/);

  const database = await hoga(['db', 'vacuum', '--pglite-dir', join(dataDir, 'pglite')]).finished;
  assert.equal(database.code, 75, database.stderr);
  assert.ok(database.stderr.includes(holder), database.stderr);

  first.process.kill('SIGKILL');
  await first.finished;
  const restarted = start(dataDir);
  await restarted.logged('exchange listening');
  restarted.process.kill('SIGTERM');
  assert.equal((await restarted.finished).code, 0);

  // With the exchange stopped the same command goes through: the refusal was the lock.
  const created = await hoga([
    'admin',
    'create-user',
    '--username',
    'late',
    '--password',
    'long-enough-password',
    '--data-dir',
    dataDir,
  ]).finished;
  assert.equal(created.code, 0, created.stderr);
});

test('SIGTERM takes a snapshot at the last sequence, so the next start replays nothing', async () => {
  const dataDir = dataDirectory('sigterm');
  const snapshotsOff = ['--snapshot-every-ms', '0', '--snapshot-every-commands', '0'];
  const first = start(dataDir, '--demo', ...snapshotsOff);
  await first.logged('demo mode: markets listed, accounts funded, bots starting');
  first.process.kill('SIGTERM');
  const written = await first.logged('shutdown snapshot written');
  assert.equal((await first.finished).code, 0);
  const lastSeq = written.lastSeq as number;
  assert.ok(lastSeq > 0);
  assert.ok(existsSync(join(dataDir, snapshotFileName(lastSeq))));

  const second = start(dataDir, ...snapshotsOff);
  const recovered = await second.logged('recovered');
  assert.equal(recovered.snapshotSeq, lastSeq);
  assert.equal(recovered.lastSeq, lastSeq);
  assert.equal(recovered.replayedCommands, 0);
  await second.logged('exchange listening');
  second.process.kill('SIGINT');
  await second.logged('shutdown snapshot not needed: the newest snapshot is current');
  assert.equal((await second.finished).code, 0);
});

test('a start whose journal lost acknowledged commands is refused (exit 65) and verify fails; --accept-data-loss starts above them', async () => {
  const dataDir = dataDirectory('acknowledged');
  const snapshotsOff = ['--snapshot-every-ms', '0', '--snapshot-every-commands', '0'];
  const first = start(dataDir, '--demo', ...snapshotsOff);
  await first.logged('demo mode: markets listed, accounts funded, bots starting');
  first.process.kill('SIGKILL');
  await first.finished;
  const segments = listDataDirectory(dataDir).segments;
  const last = segments[segments.length - 1].path;
  truncateSync(last, Math.max(segmentHeaderBytes, statSync(last).size - 1_000));
  const witnessSeq = readWitness(dataDir);

  const refused = await start(dataDir, ...snapshotsOff).finished;
  assert.equal(refused.code, 65, refused.stderr);
  assert.match(refused.stderr, /ACKNOWLEDGED_DATA_LOST/);
  assert.match(refused.stderr, /--accept-data-loss/);
  const verify = await hoga(['journal', 'verify', '--data-dir', dataDir]).finished;
  assert.equal(verify.code, 1);

  const accepted = start(dataDir, '--accept-data-loss', ...snapshotsOff);
  const loss = await accepted.logged(
    'acknowledged commands are missing from the journal; continuing without them (--accept-data-loss)',
  );
  assert.equal(loss.toSeq, witnessSeq);
  const listening = await accepted.logged('exchange listening');
  assert.equal(listening.lastSeq, witnessSeq);
  accepted.process.kill('SIGTERM');
  assert.equal((await accepted.finished).code, 0);
  const verified = await hoga(['journal', 'verify', '--data-dir', dataDir]).finished;
  assert.equal(verified.code, 0, verified.stderr);
});
