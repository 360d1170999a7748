// Determinism: the same commands give the same lines and the same stateHash, and a snapshot taken
// mid-stream (exportState through JSON, then Engine.fromState) continues exactly like the
// uninterrupted run.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Engine } from '../../src/core/engine.js';
import { replayCommands } from '../../src/core/replay.js';
import { defaultEngineLimits, type EngineLimits } from '../../src/core/types.js';
import {
  type GeneratorStyle,
  generateCommands,
  narrowStyle,
  tinyLimits,
  wideStyle,
} from '../model/generator.js';
import { linesOfEvents } from '../model/lines.js';
import type { ReplayLine } from '../model/reference.js';

const commandsPerSeed = 3000;
const cases: ReadonlyArray<{ seed: number; limits: EngineLimits; style: GeneratorStyle; name: string }> = [
  { seed: 7, limits: defaultEngineLimits, style: narrowStyle, name: 'default limits' },
  { seed: 8, limits: defaultEngineLimits, style: narrowStyle, name: 'default limits' },
  { seed: 2007, limits: tinyLimits, style: narrowStyle, name: 'tiny limits' },
  { seed: 3007, limits: defaultEngineLimits, style: wideStyle, name: 'deep books' },
];

/** Applies commands[from, to) to an engine, collecting replay lines. */
function applyRange(engine: Engine, commands: readonly unknown[], from: number, to: number): ReplayLine[] {
  const lines: ReplayLine[] = [];
  for (let index = from; index < to; index++)
    lines.push(...linesOfEvents(engine.apply(commands[index]), index));
  return lines;
}

describe('determinism', () => {
  for (const { seed, limits, style, name } of cases) {
    const commands = generateCommands(seed, commandsPerSeed, limits, style);

    it(`replays seed ${seed} (${name}) twice to the same lines and stateHash`, () => {
      const first = replayCommands(commands, { limits });
      const second = replayCommands(structuredClone(commands), { limits });
      assert.deepEqual(second.lines, first.lines, `SEED ${seed}`);
      assert.equal(second.engine.stateHash(), first.engine.stateHash(), `SEED ${seed}`);
      assert.ok(
        first.lines.some((line) => (line as ReplayLine).ev === 'trade'),
        'the stream trades',
      );
    });

    it(`continues seed ${seed} (${name}) from a mid-stream snapshot exactly`, () => {
      const uninterrupted = new Engine(limits);
      const expectedLines = applyRange(uninterrupted, commands, 0, commands.length);
      const expectedHash = uninterrupted.stateHash();
      for (const cut of [0, 1, 257, Math.floor(commands.length / 2), commands.length - 1, commands.length]) {
        const before = new Engine(limits);
        const lines = applyRange(before, commands, 0, cut);
        const snapshot = JSON.parse(JSON.stringify(before.exportState()));
        const restored = Engine.fromState(snapshot, limits);
        assert.equal(restored.stateHash(), before.stateHash(), `SEED ${seed} cut ${cut}: hash after restore`);
        restored.validateInternalState();
        lines.push(...applyRange(restored, commands, cut, commands.length));
        restored.validateInternalState();
        assert.equal(restored.stateHash(), expectedHash, `SEED ${seed} cut ${cut}: final hash`);
        assert.deepEqual(lines, expectedLines, `SEED ${seed} cut ${cut}: lines`);
      }
    });
  }

  it('gives different hashes for different states', () => {
    const engine = new Engine(defaultEngineLimits);
    const empty = engine.stateHash();
    engine.apply({ op: 'deposit', user: 1, asset: 'USD', amount: 5 });
    const one = engine.stateHash();
    engine.apply({ op: 'deposit', user: 1, asset: 'USD', amount: 5 });
    assert.notEqual(one, empty);
    assert.notEqual(engine.stateHash(), one);
  });
});
