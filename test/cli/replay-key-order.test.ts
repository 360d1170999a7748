// `hoga replay` gives each command one fixed object shape per op before the engine sees it
// (src/core/replay.ts `commandOfFixedShape`). That must change nothing: a large generated stream
// (stop, iceberg and OCO traffic, malformed and null fields included) written with every line's
// keys shuffled, plus lines with keys no shape lists, must give the same events file and state
// hash as the file as generated, and both must equal the reference model's lines.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { defaultEngineLimits } from '../../src/core/types.js';
import { generateCommands, stopsStyle } from '../model/generator.js';
import { runModel } from '../model/reference.js';
import { Random } from '../support/random.js';

const run = promisify(execFile);
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const cli = join(root, 'dist', 'src', 'cli', 'main.js');
const seed = 17_101;
const commandCount = 40_000;

function shuffledKeys(command: unknown, random: Random): unknown {
  if (typeof command !== 'object' || command === null) return command;
  const entries = Object.entries(command);
  for (let index = entries.length - 1; index > 0; index--) {
    const other = random.int(0, index);
    [entries[index], entries[other]] = [entries[other], entries[index]];
  }
  const shuffled: Record<string, unknown> = Object.fromEntries(entries);
  // Now and then a key the engine ignores, which keeps the command out of the fixed shapes.
  if (random.chance(0.02)) shuffled.note = 'ignored';
  return shuffled;
}

async function replay(directory: string, name: string, lines: string[]) {
  const input = join(directory, `${name}.ndjson`);
  const output = join(directory, `${name}.events.ndjson`);
  await writeFile(input, `${lines.join('\n')}\n`);
  const { stdout } = await run(process.execPath, [cli, 'replay', '--in', input, '--out', output], {
    cwd: root,
    maxBuffer: 1 << 20,
  });
  return {
    events: (await readFile(output, 'utf8')).split('\n'),
    summary: JSON.parse(stdout.trim().split('\n').pop()!),
  };
}

describe('hoga replay and key order', () => {
  it('a file with shuffled keys gives the same events file as the file as generated', async () => {
    const commands = generateCommands(seed, commandCount, defaultEngineLimits, stopsStyle);
    const random = new Random(seed);
    const lines = commands.map((command) => JSON.stringify(command));
    const shuffledLines = commands.map((command) => JSON.stringify(shuffledKeys(command, random)));
    assert.notDeepEqual(shuffledLines.slice(0, 100), lines.slice(0, 100), 'the keys are shuffled');
    const expected = runModel(
      lines.map((line) => JSON.parse(line)),
      defaultEngineLimits,
    ).map((line) => JSON.stringify(line));
    assert.ok(
      expected.some((line) => line.includes('"reason":"INVALID_ORDER"')),
      'malformed orders occur',
    );
    const directory = await mkdtemp(join(tmpdir(), 'hoga-replay-key-order-'));
    try {
      const generated = await replay(directory, 'generated', lines);
      const shuffled = await replay(directory, 'shuffled', shuffledLines);
      assert.equal(generated.events.pop(), '', 'the file ends with a newline');
      assert.deepEqual(generated.events, expected);
      assert.deepEqual(shuffled.events, [...expected, '']);
      assert.equal(shuffled.summary.commands, commandCount);
      assert.equal(shuffled.summary.stateHash, generated.summary.stateHash);
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });
});
