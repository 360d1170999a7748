// `hoga replay --in commands.ndjson --out events.ndjson`: runs a command file through a fresh
// engine (docs/ENGINE.md "`hoga replay`"). The file is parsed into memory first, only
// `apply` is timed, and the output is written afterwards.
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { SingleBar } from 'cli-progress';
import type { Command } from 'commander';
import { Engine } from '../core/engine.js';
import { balanceLines, eventToJson } from '../core/replay.js';

/** Output lines joined per write, so a million-line file never becomes one giant string. */
const WRITE_BATCH_LINES_MAX = 16_384;
/** Commands between progress bar updates. */
const PROGRESS_STEP_COMMANDS = 65_536;

export interface ReplaySummary {
  commands: number;
  seconds: number;
  commandsPerSec: number;
  p50Us: number;
  p99Us: number;
  p999Us: number;
  stateHash: string;
}

interface ParsedCommand {
  /** 0-based line number in the input file. */
  line: number;
  command: unknown;
}

/** One command per line; blank lines are skipped but still counted; bad JSON becomes a command the engine rejects. */
export function parseCommandFile(text: string): ParsedCommand[] {
  const parsed: ParsedCommand[] = [];
  const lines = text.split('\n');
  for (let line = 0; line < lines.length; line++) {
    const source = lines[line];
    if (source.trim() === '') continue;
    let command: unknown;
    try {
      command = JSON.parse(source);
    } catch {
      command = undefined;
    }
    parsed.push({ line, command });
  }
  return parsed;
}

function percentileUs(sortedNs: Float64Array, fraction: number): number {
  if (sortedNs.length === 0) return 0;
  const index = Math.min(sortedNs.length - 1, Math.ceil(fraction * sortedNs.length) - 1);
  return Math.round(sortedNs[Math.max(0, index)]) / 1000;
}

async function writeLines(path: string, lines: string[]): Promise<void> {
  const stream = createWriteStream(path);
  for (let start = 0; start < lines.length; start += WRITE_BATCH_LINES_MAX) {
    const chunk = `${lines.slice(start, start + WRITE_BATCH_LINES_MAX).join('\n')}\n`;
    if (!stream.write(chunk)) await once(stream, 'drain');
  }
  stream.end();
  await once(stream, 'finish');
}

export async function runReplay(inputPath: string, outputPath: string): Promise<ReplaySummary> {
  const commands = parseCommandFile(await readFile(inputPath, 'utf8'));
  const engine = new Engine();
  const durationsNs = new Float64Array(commands.length);
  const output: string[] = [];
  const progress = new SingleBar({
    stream: process.stderr,
    format: 'replay [{bar}] {value}/{total} commands',
  });
  progress.start(commands.length, 0);
  let engineNs = 0n;
  for (let index = 0; index < commands.length; index++) {
    const { line, command } = commands[index];
    const started = process.hrtime.bigint();
    const events = engine.apply(command);
    const elapsed = process.hrtime.bigint() - started;
    engineNs += elapsed;
    durationsNs[index] = Number(elapsed);
    // Dropped once applied: a shrinking heap keeps collections short inside the timed calls.
    commands[index].command = undefined;
    for (const event of events) {
      const converted = eventToJson(event, line);
      if (converted !== null) output.push(converted);
    }
    if (index % PROGRESS_STEP_COMMANDS === 0) progress.update(index);
  }
  progress.update(commands.length);
  progress.stop();
  for (const balance of balanceLines(engine)) output.push(JSON.stringify(balance));
  await writeLines(outputPath, output);
  durationsNs.sort();
  const seconds = Number(engineNs) / 1e9;
  return {
    commands: commands.length,
    seconds,
    commandsPerSec: seconds > 0 ? Math.round(commands.length / seconds) : 0,
    p50Us: percentileUs(durationsNs, 0.5),
    p99Us: percentileUs(durationsNs, 0.99),
    p999Us: percentileUs(durationsNs, 0.999),
    stateHash: engine.stateHash(),
  };
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
