// `hoga journal verify|export|stats`: read-only tools over a data directory.
import { closeSync, openSync, unlinkSync, writeSync } from 'node:fs';
import { SingleBar } from 'cli-progress';
import type { Command } from 'commander';
import { JournalError } from '../journal/errors.js';
import { inspectSnapshots, type JournalWalk, walkJournal } from '../journal/inspect.js';
import { decodeCommand } from '../journal/payload.js';

const defaultDataDir = './data';
/** Lines joined per write when exporting. */
const exportLinesPerWriteMax = 8_192;

function progressBar(label: string): { update: (done: number, total: number) => void; stop: () => void } {
  const bar = new SingleBar({
    format: `${label} [{bar}] {percentage}% | {value}/{total} bytes`,
    hideCursor: true,
  });
  let started = false;
  return {
    update: (done, total) => {
      if (!started) {
        bar.start(total, 0);
        started = true;
      }
      bar.update(done);
    },
    stop: () => {
      if (started) bar.stop();
    },
  };
}

interface VerifyResult {
  ok: boolean;
  walk: JournalWalk;
  badPayloads: Array<{ seq: number; detail: string }>;
}

export function verifyDataDirectory(
  dataDir: string,
  onProgress?: (done: number, total: number) => void,
): VerifyResult {
  const badPayloads: VerifyResult['badPayloads'] = [];
  const walk = walkJournal(
    dataDir,
    (seq, bytes, start, end) => {
      try {
        const command = decodeCommand(bytes, start, end) as { op?: unknown };
        if (command === null || typeof command !== 'object' || typeof command.op !== 'string')
          badPayloads.push({ seq, detail: 'not a command object' });
      } catch (error) {
        badPayloads.push({ seq, detail: String(error) });
      }
    },
    onProgress,
  );
  const snapshotsOk = inspectSnapshots(dataDir).every((snapshot) => snapshot.problem === undefined);
  const ok =
    badPayloads.length === 0 && snapshotsOk && walk.problems.every((problem) => problem.kind === 'tornTail');
  return { ok, walk, badPayloads };
}

/** Writes every journaled command, one JSON line each with its `ts`, sequence 1 first. */
export function exportJournal(
  dataDir: string,
  outPath: string,
  onProgress?: (done: number, total: number) => void,
): { commands: number; lastSeq: number } {
  const fd = openSync(outPath, 'w');
  let pending: string[] = [];
  const flush = (): void => {
    if (pending.length > 0) writeSync(fd, `${pending.join('\n')}\n`);
    pending = [];
  };
  let walk: JournalWalk;
  try {
    walk = walkJournal(
      dataDir,
      (_seq, bytes, start, end) => {
        // Compact records are turned back into the spec's JSON command lines.
        pending.push(JSON.stringify(decodeCommand(bytes, start, end)));
        if (pending.length >= exportLinesPerWriteMax) flush();
      },
      onProgress,
    );
    flush();
  } finally {
    closeSync(fd);
  }
  const problem = walk.firstSeq > 1 ? historyIncomplete(walk.firstSeq) : blockingProblem(walk);
  if (problem) {
    unlinkSync(outPath);
    throw problem;
  }
  return { commands: walk.records, lastSeq: walk.lastSeq };
}

function historyIncomplete(firstSeq: number): JournalError {
  return new JournalError(
    'HISTORY_INCOMPLETE',
    `the journal starts at sequence ${firstSeq}: older segments were removed after a snapshot (set retainSegments to keep them)`,
  );
}

function blockingProblem(walk: JournalWalk): JournalError | undefined {
  const blocking = walk.problems.find((problem) => problem.kind !== 'tornTail');
  if (blocking === undefined) return undefined;
  return new JournalError(
    'JOURNAL_CORRUPT',
    `${blocking.path} offset ${blocking.offset} sequence ${blocking.seq}: ${blocking.detail}`,
  );
}

export function journalStats(dataDir: string): object {
  const walk = walkJournal(dataDir);
  return {
    dataDir,
    segments: walk.segments.length,
    records: walk.records,
    bytes: walk.bytes,
    firstSeq: walk.firstSeq,
    lastSeq: walk.lastSeq,
    witnessSeq: walk.witnessSeq,
    acceptedLosses: walk.acceptedLosses,
    snapshots: inspectSnapshots(dataDir).map((snapshot) => ({
      lastSeq: snapshot.lastSeq,
      bytes: snapshot.bytes,
      ok: snapshot.problem === undefined,
    })),
    problems: walk.problems,
    unfinishedSnapshots: walk.temporaries,
  };
}

export function registerJournalCommands(program: Command): void {
  const journal = program.command('journal').description('inspect the write-ahead journal and snapshots');
  journal
    .command('verify')
    .description(
      'check every record and snapshot (CRC32C, framing, sequence continuity, JSON) and that every acknowledged command is present',
    )
    .option('--data-dir <dir>', 'data directory', defaultDataDir)
    .action((options: { dataDir: string }) => {
      const bar = progressBar('verify');
      const result = verifyDataDirectory(options.dataDir, bar.update);
      bar.stop();
      const snapshots = inspectSnapshots(options.dataDir);
      const summary = {
        ok: result.ok,
        records: result.walk.records,
        firstSeq: result.walk.firstSeq,
        lastSeq: result.walk.lastSeq,
        witnessSeq: result.walk.witnessSeq,
        acceptedLosses: result.walk.acceptedLosses,
        problems: result.walk.problems,
        badPayloads: result.badPayloads,
        snapshots,
      };
      process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
      if (!result.ok) process.exitCode = 1;
    });
  journal
    .command('export')
    .description('write every command as NDJSON (with its ts), for hoga replay --in')
    .requiredOption('--out <file>', 'output NDJSON file')
    .option('--data-dir <dir>', 'data directory', defaultDataDir)
    .action((options: { dataDir: string; out: string }) => {
      const bar = progressBar('export');
      let result: ReturnType<typeof exportJournal>;
      try {
        result = exportJournal(options.dataDir, options.out, bar.update);
      } finally {
        bar.stop();
      }
      process.stdout.write(`${JSON.stringify({ out: options.out, ...result })}\n`);
    });
  journal
    .command('stats')
    .description('segments, records, bytes, first/last sequence, snapshots')
    .option('--data-dir <dir>', 'data directory', defaultDataDir)
    .action((options: { dataDir: string }) => {
      process.stdout.write(`${JSON.stringify(journalStats(options.dataDir), null, 2)}\n`);
    });
}
