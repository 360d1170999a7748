// Runs an order flow through the product's own `hoga replay` in a child process: the flow is
// written as the NDJSON command file a user would give it, and the summary line `hoga replay`
// prints (commands/s and per-command latency of the engine calls) is read back.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { OrderFlow } from './order-flow.js';
import { SeededRandom } from './random.js';

export interface ReplaySummary {
  commands: number;
  commandsPerSec: number;
  p50Us: number;
  p99Us: number;
  p999Us: number;
  stateHash: string;
}

const cliMainPath = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
/** Lines per write, so a million-command file is never one giant string. */
const writeBatchLines = 16_384;

/**
 * Each command's fields in the order the generator built them, or (`shuffled`) in a seeded random
 * order per line, as a file assembled by other tools may have them: every distinct order is a
 * distinct object shape to the JavaScript engine once parsed.
 */
export type KeyOrder = 'generated' | 'shuffled';

function shuffledKeys(command: object, random: SeededRandom): object {
  const entries = Object.entries(command);
  for (let index = entries.length - 1; index > 0; index -= 1) {
    const other = random.below(index + 1);
    [entries[index], entries[other]] = [entries[other], entries[index]];
  }
  return Object.fromEntries(entries);
}

/** Writes the flow's setup and commands, one JSON command per line. */
export async function writeCommandFile(
  flow: OrderFlow,
  path: string,
  keyOrder: KeyOrder = 'generated',
): Promise<void> {
  const stream = createWriteStream(path);
  const all = [...flow.setup, ...flow.commands];
  const random = new SeededRandom(1);
  const arrange = (command: object) => (keyOrder === 'shuffled' ? shuffledKeys(command, random) : command);
  for (let start = 0; start < all.length; start += writeBatchLines) {
    const lines = all
      .slice(start, start + writeBatchLines)
      .map((command) => JSON.stringify(arrange(command)));
    if (!stream.write(`${lines.join('\n')}\n`)) await once(stream, 'drain');
  }
  stream.end();
  await once(stream, 'finish');
}

/**
 * `hoga replay --in <flow> --out <events>` on the flow; `nodeFlags` go to that node process (for
 * example `--cpu-prof --cpu-prof-dir=/tmp/profiles` to profile it).
 */
export async function runHogaReplay(
  flow: OrderFlow,
  keyOrder: KeyOrder = 'generated',
  nodeFlags: string[] = [],
): Promise<ReplaySummary> {
  const directory = mkdtempSync(join(tmpdir(), 'hoga-bench-replay-'));
  try {
    const inputPath = join(directory, 'commands.ndjson');
    await writeCommandFile(flow, inputPath, keyOrder);
    const args = [
      ...nodeFlags,
      cliMainPath,
      'replay',
      '--in',
      inputPath,
      '--out',
      join(directory, 'events.ndjson'),
    ];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'ignore'] });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
    const [code] = (await once(child, 'exit')) as [number | null];
    const lines = Buffer.concat(chunks).toString().trim().split('\n');
    if (code !== 0) throw new Error(`hoga replay exited with ${code}: ${lines.join(' ')}`);
    return JSON.parse(lines[lines.length - 1]) as ReplaySummary;
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}
