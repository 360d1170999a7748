// `hoga replay` against the reference model, as acceptance checks it: generated command streams
// (stop, iceberg and OCO traffic included) are written as ndjson, run through the built CLI as a
// child process, and its events file must equal the model's lines on the same (JSON-parsed)
// commands, text for text, final balance lines included.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { defaultEngineLimits } from '../../src/core/types.js';
import { generateCommands, narrowStyle, stopsStyle, wideStyle } from '../model/generator.js';
import { runModel } from '../model/reference.js';

const run = promisify(execFile);
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const cli = join(root, 'dist', 'src', 'cli', 'main.js');
const commandsPerSeed = 6000;
const cases = [
  { seed: 17_001, style: narrowStyle, name: 'narrow books' },
  { seed: 17_002, style: narrowStyle, name: 'narrow books' },
  { seed: 17_003, style: wideStyle, name: 'deep books' },
  { seed: 17_004, style: stopsStyle, name: 'stop, iceberg and OCO traffic' },
];

describe('hoga replay versus the reference model', () => {
  for (const { seed, style, name } of cases) {
    it(`seed ${seed} (${name}): the events file equals the model's lines`, async () => {
      const commandLines = generateCommands(seed, commandsPerSeed, defaultEngineLimits, style).map(
        (command) => JSON.stringify(command),
      );
      // The model reads what the CLI reads: the file's JSON, not the generator's objects.
      const expected = runModel(
        commandLines.map((line) => JSON.parse(line)),
        defaultEngineLimits,
      ).map((line) => JSON.stringify(line));
      assert.ok(
        expected.some((line) => line.startsWith('{"ev":"triggered"')),
        'the stream triggers stops',
      );
      const directory = await mkdtemp(join(tmpdir(), 'hoga-replay-model-'));
      try {
        const input = join(directory, 'commands.ndjson');
        const output = join(directory, 'events.ndjson');
        await writeFile(input, `${commandLines.join('\n')}\n`);
        const { stdout } = await run(process.execPath, [cli, 'replay', '--in', input, '--out', output], {
          cwd: root,
          maxBuffer: 1 << 20,
        });
        const written = (await readFile(output, 'utf8')).split('\n');
        assert.equal(written.pop(), '', 'the file ends with a newline');
        const firstDifference = written.findIndex((line, index) => line !== expected[index]);
        assert.ok(
          firstDifference === -1 && written.length === expected.length,
          `SEED ${seed}: line ${firstDifference} of ${expected.length}\nmodel: ${expected[firstDifference]}\ncli:   ${written[firstDifference]}`,
        );
        const summary = JSON.parse(stdout.trim().split('\n').pop()!);
        assert.equal(summary.commands, commandsPerSeed);
        assert.match(summary.stateHash, /^[0-9a-f]+$/);
      } finally {
        await rm(directory, { recursive: true, force: true });
      }
    });
  }
});
