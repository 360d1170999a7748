// `hoga replay --in commands.ndjson --out events.ndjson`: runs a command file through a fresh
// engine (docs/ENGINE.md "`hoga replay`"). The file is streamed in batches: a batch is parsed and
// each command given one fixed object shape per op, then applied with only `apply` timed, then its
// output lines are written (waiting for the disk outside the timed calls), so memory stays flat
// whatever the file's size.
import { once } from 'node:events';
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { SingleBar } from 'cli-progress';
import type { Command } from 'commander';
import { Engine } from '../core/engine.js';
import { balanceLines, commandOfFixedShape, eventToJson } from '../core/replay.js';

/**
 * Commands applied per batch: few enough that memory stays flat (parsed commands, output lines),
 * many enough that parsing between batches rarely evicts the engine from the caches (measured: 4,096
 * gave a higher p50 than 16,384 on the benchmark streams).
 */
const BATCH_COMMANDS_MAX = 16_384;
/** Per-command durations are kept for exact percentiles; the array starts at this size and doubles. */
const DURATIONS_INITIAL_LENGTH = 1 << 16;

export interface ReplaySummary {
  commands: number;
  seconds: number;
  commandsPerSec: number;
  p50Us: number;
  p99Us: number;
  p999Us: number;
  stateHash: string;
}

/** One input line's JSON, or undefined (a command the engine rejects) when it is not JSON. */
function parseCommandLine(source: string): unknown {
  try {
    return commandOfFixedShape(JSON.parse(source));
  } catch {
    return undefined;
  }
}

function percentileUs(sortedNs: Float64Array, fraction: number): number {
  if (sortedNs.length === 0) return 0;
  const index = Math.min(sortedNs.length - 1, Math.ceil(fraction * sortedNs.length) - 1);
  return Math.round(sortedNs[Math.max(0, index)]) / 1000;
}

/** Writes and waits while the stream's buffer is full; a failed stream fails the replay. */
async function writeText(stream: WriteStream, text: string): Promise<void> {
  if (stream.errored !== null) throw stream.errored;
  if (!stream.write(text)) await once(stream, 'drain');
}

/** Lines joined per write, so that no write becomes one giant string. */
async function writeLines(stream: WriteStream, lines: readonly string[]): Promise<void> {
  for (let start = 0; start < lines.length; start += BATCH_COMMANDS_MAX) {
    await writeText(stream, `${lines.slice(start, start + BATCH_COMMANDS_MAX).join('\n')}\n`);
  }
}

/** The replay's state across batches: the engine, where the output goes, and the timings so far. */
class ReplayRun {
  readonly engine = new Engine();
  /** Commands of the current batch and their 0-based line numbers in the input file. */
  private readonly batchCommands: unknown[] = [];
  private readonly batchLines: number[] = [];
  private durationsNs = new Float64Array(DURATIONS_INITIAL_LENGTH);
  commandCount = 0;
  engineNs = 0n;

  constructor(private readonly output: WriteStream) {}

  get batchIsFull(): boolean {
    return this.batchCommands.length >= BATCH_COMMANDS_MAX;
  }

  add(line: number, source: string): void {
    // Blank lines are skipped but still counted.
    if (source.trim() === '') return;
    this.batchCommands.push(parseCommandLine(source));
    this.batchLines.push(line);
  }

  /** Applies the batch, timing only the engine, then writes its lines. */
  async flush(): Promise<void> {
    const commands = this.batchCommands;
    const lines = this.batchLines;
    this.reserveDurations(commands.length);
    const output: string[] = [];
    for (let index = 0; index < commands.length; index++) {
      const started = process.hrtime.bigint();
      const events = this.engine.apply(commands[index]);
      const elapsed = process.hrtime.bigint() - started;
      this.engineNs += elapsed;
      this.durationsNs[this.commandCount++] = Number(elapsed);
      for (const event of events) {
        const converted = eventToJson(event, lines[index]);
        if (converted !== null) output.push(converted);
      }
    }
    commands.length = 0;
    lines.length = 0;
    await writeLines(this.output, output);
  }

  private reserveDurations(more: number): void {
    const needed = this.commandCount + more;
    if (needed <= this.durationsNs.length) return;
    const grown = new Float64Array(Math.max(needed, this.durationsNs.length * 2));
    grown.set(this.durationsNs);
    this.durationsNs = grown;
  }

  summary(): ReplaySummary {
    const sorted = this.durationsNs.subarray(0, this.commandCount).sort();
    const seconds = Number(this.engineNs) / 1e9;
    return {
      commands: this.commandCount,
      seconds,
      commandsPerSec: seconds > 0 ? Math.round(this.commandCount / seconds) : 0,
      p50Us: percentileUs(sorted, 0.5),
      p99Us: percentileUs(sorted, 0.99),
      p999Us: percentileUs(sorted, 0.999),
      stateHash: this.engine.stateHash(),
    };
  }
}

/** Runs every line of the file through `run`, in batches, as the file is read. */
async function replayFile(inputPath: string, run: ReplayRun, progress: SingleBar): Promise<void> {
  const input = createReadStream(inputPath, { encoding: 'utf8' });
  let partial = '';
  let line = 0;
  for await (const chunk of input as AsyncIterable<string>) {
    const text = partial + chunk;
    let start = 0;
    for (let end = text.indexOf('\n'); end !== -1; end = text.indexOf('\n', start)) {
      run.add(line++, text.slice(start, end));
      start = end + 1;
      if (run.batchIsFull) await run.flush();
    }
    partial = text.slice(start);
    progress.update(input.bytesRead);
  }
  // The last line needs no newline.
  run.add(line, partial);
  await run.flush();
}

export async function runReplay(inputPath: string, outputPath: string): Promise<ReplaySummary> {
  // Checked first, so that a missing input fails before the output file is created.
  const inputBytes = (await stat(inputPath)).size;
  const output = createWriteStream(outputPath);
  // Its error is kept in `output.errored` and thrown by the next write or at the end.
  output.on('error', () => {});
  const run = new ReplayRun(output);
  const progress = new SingleBar({
    stream: process.stderr,
    format: 'replay [{bar}] {value}/{total} bytes',
  });
  progress.start(inputBytes, 0);
  try {
    await replayFile(inputPath, run, progress);
    await writeLines(
      output,
      balanceLines(run.engine).map((balance) => JSON.stringify(balance)),
    );
  } finally {
    progress.stop();
    output.end();
    if (!output.closed) await once(output, 'close');
  }
  if (output.errored !== null) throw output.errored;
  return run.summary();
}

export function registerReplay(program: Command): void {
  program
    .command('replay')
    .description('run a command file (NDJSON) through a fresh engine and write its events')
    .requiredOption('--in <file>', 'commands, one JSON object per line')
    .requiredOption('--out <file>', 'events, one JSON object per line')
    .action(async (options: { in: string; out: string }) => {
      try {
        const summary = await runReplay(options.in, options.out);
        process.stdout.write(`${JSON.stringify(summary)}\n`);
      } catch (error) {
        // A missing or unreadable file is an operator error: one line, not a stack trace.
        process.stderr.write(`hoga replay: ${error instanceof Error ? error.message : String(error)}\n`);
        process.exitCode = 1;
      }
    });
}
