// Engine A/B: this build's engine (B) against another build's compiled engine (A, the baseline),
// in one process, on the same seeded streams: a crowded book, a wide one (800 levels, 45% cancels),
// many users (10,000 users, 1,000 levels, 30% cancels) and a market-heavy one. The machine this runs
// on is shared, so the engines take turns in small blocks of commands (A then B, then B then A),
// every block timed, over several rounds with fresh engines; each block's time is the minimum over
// the rounds, and the ratio is the sum of B's minima over the sum of A's. Load from other processes
// lengthens some blocks of some rounds; the minima drop those.
//
//   HOGA_AB_BASE=/path/to/base/dist node dist/bench/engine-ab.js [--commands N] [--rounds N] [--block N]
//
// A is loaded from $HOGA_AB_BASE/src/core/engine.js (a `dist` directory built from the baseline
// commit); HOGA_AB_OTHER, when set, replaces B the same way (an A/A run shows the noise floor).
// Both engines must produce as many events and the same state hash, else the run fails.
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Engine } from '../src/core/engine.js';
import type { Command, MatchingEngine } from '../src/core/types.js';
import { parseBenchOptions } from './lib/args.js';
import { collectGarbage } from './lib/gc.js';
import { type BookShape, crowdedBook, generateOrderFlow, manyUsersBook, wideBook } from './lib/order-flow.js';
import { nowNs } from './lib/timer.js';

const options = parseBenchOptions('engine-ab', {
  commands: { kind: 'integer', default: 200_000, minimum: 1, description: 'measured commands per book' },
  rounds: {
    kind: 'integer',
    default: 6,
    minimum: 1,
    description: 'fresh-engine rounds per book (even: each engine built first as often)',
  },
  block: { kind: 'integer', default: 2_000, minimum: 1, description: 'commands per timed block' },
  seed: { kind: 'integer', default: 1, minimum: 0, description: 'seed of the order flow' },
  book: { kind: 'integer', default: 0, minimum: 0, description: 'only the Nth book (1-4); 0: all' },
});

/** Half the mixed commands are market orders: long sweeps and the market-buy funds path. */
const marketHeavyBook: BookShape = {
  ...manyUsersBook,
  name: 'market-heavy',
  percentLimit: 35,
  percentCancel: 15,
};
const shapes = [crowdedBook, wideBook, manyUsersBook, marketHeavyBook];

type EngineClass = new () => MatchingEngine;

async function loadBaseline(): Promise<EngineClass> {
  const base = process.env.HOGA_AB_BASE;
  if (base === undefined || base === '') {
    process.stderr.write('set HOGA_AB_BASE to the baseline build (a dist directory)\n');
    process.exit(2);
  }
  return loadEngine(base);
}

async function loadEngine(dist: string): Promise<EngineClass> {
  const module = (await import(pathToFileURL(path.resolve(dist, 'src/core/engine.js')).href)) as {
    Engine: EngineClass;
  };
  return module.Engine;
}

/**
 * Applies `commands[from, to)`; returns how many events they produced. One copy per engine, so
 * that neither engine's `apply` shares a call site (and its inlining decisions) with the other.
 */
function runA(engine: MatchingEngine, commands: Command[], from: number, to: number): number {
  let events = 0;
  for (let index = from; index < to; index++) events += engine.apply(commands[index]).length;
  return events;
}

function runB(engine: MatchingEngine, commands: Command[], from: number, to: number): number {
  let events = 0;
  for (let index = from; index < to; index++) events += engine.apply(commands[index]).length;
  return events;
}

const runners = [runA, runB];

async function main(): Promise<void> {
  const Baseline = await loadBaseline();
  const other = process.env.HOGA_AB_OTHER;
  const engines: EngineClass[] = [
    Baseline,
    other ? await loadEngine(other) : (Engine as unknown as EngineClass),
  ];
  process.stdout.write(
    `engine A/B: ${options.commands} measured commands per book, ${options.rounds} rounds, blocks of ${options.block}\n`,
  );
  process.stdout.write(
    'book            A ns/cmd   B ns/cmd   B/A (min of blocks)   B/A (medians of rounds)\n',
  );
  for (const shape of options.book === 0 ? shapes : shapes.slice(options.book - 1, options.book)) {
    const flow = generateOrderFlow({
      shape,
      seed: options.seed,
      measuredCommands: options.commands,
      warmupCommands: 20_000,
    });
    const blocks = Math.ceil((flow.commands.length - flow.measuredStart) / options.block);
    const best = [
      new Float64Array(blocks).fill(Number.POSITIVE_INFINITY),
      new Float64Array(blocks).fill(Infinity),
    ];
    const roundTotals: number[][] = [[], []];
    for (let round = 0; round < options.rounds; round++) {
      // Which engine is built first alternates by round: an A/A run showed the one built second
      // (its book allocated later, next to the other's) timing a few percent faster.
      const instances: MatchingEngine[] = [];
      const eventCounts = [0, 0];
      for (let turn = 0; turn < 2; turn++) {
        const side = (round + turn) % 2;
        instances[side] = new engines[side]();
        for (const command of flow.setup) instances[side].apply(command);
        runners[side](instances[side], flow.commands, 0, flow.measuredStart);
      }
      collectGarbage();
      const totals = [0, 0];
      for (let block = 0; block < blocks; block++) {
        const from = flow.measuredStart + block * options.block;
        const to = Math.min(from + options.block, flow.commands.length);
        // Alternate who goes first, so neither always runs on a cache the other warmed.
        for (let turn = 0; turn < 2; turn++) {
          const side = (block + round + turn) % 2;
          const start = nowNs();
          eventCounts[side] += runners[side](instances[side], flow.commands, from, to);
          const elapsed = nowNs() - start;
          totals[side] += elapsed;
          if (elapsed < best[side][block]) best[side][block] = elapsed;
        }
      }
      if (eventCounts[0] !== eventCounts[1] || instances[0].stateHash() !== instances[1].stateHash()) {
        process.stderr.write(`${shape.name}: the engines disagree (event counts or state hash)\n`);
        process.exit(1);
      }
      roundTotals[0].push(totals[0]);
      roundTotals[1].push(totals[1]);
      collectGarbage();
    }
    const measured = flow.commands.length - flow.measuredStart;
    const sums = best.map((times) => times.reduce((sum, time) => sum + time, 0));
    const medians = roundTotals.map((totals) => totals.sort((x, y) => x - y)[Math.floor(totals.length / 2)]);
    process.stdout.write(
      `${shape.name.padEnd(14)}  ${(sums[0] / measured).toFixed(0).padStart(8)}   ${(sums[1] / measured).toFixed(0).padStart(8)}   ${(sums[1] / sums[0]).toFixed(3).padStart(19)}   ${(medians[1] / medians[0]).toFixed(3).padStart(23)}\n`,
    );
  }
}

await main();
