// What checking snapshots costs: engine.stateHash() against engine.exportState() (the rest of the
// snapshot pause) on books of 200,000 and 1,000,000 resting orders (1,000 users, 1,000 prices per
// side), minimum of several runs each. Both run inside the sequencer's snapshot pause.
//
//   [HOGA_AB_BASE=/path/to/base/dist] node dist/bench/state-hash.js [--runs N]
//
// With HOGA_AB_BASE (a `dist` built from another commit) the baseline engine, loaded from the same
// state, hashes it too: the two hashes must agree, and their times compare the implementations.
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Engine } from '../src/core/engine.js';
import type { MatchingEngine } from '../src/core/types.js';
import { parseBenchOptions } from './lib/args.js';
import { collectGarbage } from './lib/gc.js';
import { nowNs } from './lib/timer.js';

const options = parseBenchOptions('state-hash', {
  runs: { kind: 'integer', default: 5, minimum: 1, description: 'timed runs per size (minimum reported)' },
});

const users = 1_000;
const levelsPerSide = 1_000;
const midPrice = 1_000_000;

function bookOf(restingOrders: number): Engine {
  const engine = new Engine();
  engine.apply({
    op: 'symbol',
    symbol: 'BTC-USD',
    base: 'BTC',
    quote: 'USD',
    lotSize: 1,
    tickSize: 1,
    makerFeeBps: 10,
    takerFeeBps: 20,
  });
  for (let user = 1; user <= users; user++) {
    engine.apply({ op: 'deposit', user, asset: 'BTC', amount: 1e10 });
    engine.apply({ op: 'deposit', user, asset: 'USD', amount: 1e12 });
  }
  for (let id = 1; id <= restingOrders; id++) {
    const isBuy = id % 2 === 0;
    const offset = 1 + (id % levelsPerSide);
    const events = engine.apply({
      op: 'place',
      user: 1 + (id % users),
      id,
      symbol: 'BTC-USD',
      side: isBuy ? 'buy' : 'sell',
      type: 'limit',
      qty: 1 + (id % 50),
      price: isBuy ? midPrice - offset : midPrice + offset,
    });
    if (events[events.length - 1].ev !== 'rested') throw new Error(`order ${id} did not rest`);
  }
  return engine;
}

function minimumMs(runs: number, work: () => unknown): number {
  let best = Number.POSITIVE_INFINITY;
  for (let run = 0; run < runs; run++) {
    collectGarbage();
    const started = nowNs();
    work();
    best = Math.min(best, (nowNs() - started) / 1e6);
  }
  return best;
}

type Restorer = { fromState(state: unknown): MatchingEngine };
const base = process.env.HOGA_AB_BASE;
const Baseline =
  base === undefined || base === ''
    ? undefined
    : ((await import(pathToFileURL(path.resolve(base, 'src/core/engine.js')).href)) as { Engine: Restorer })
        .Engine;

process.stdout.write(
  `resting orders   exportState ms   stateHash ms   hash / export${Baseline ? '   baseline stateHash ms' : ''}\n`,
);
for (const size of [200_000, 1_000_000]) {
  const engine = bookOf(size);
  const exportMs = minimumMs(options.runs, () => engine.exportState());
  const hashMs = minimumMs(options.runs, () => engine.stateHash());
  let baselineColumn = '';
  if (Baseline !== undefined) {
    const baseline = Baseline.fromState(engine.exportState());
    if (baseline.stateHash() !== engine.stateHash())
      throw new Error('the baseline hashes the state differently');
    baselineColumn = (minimumMs(options.runs, () => baseline.stateHash()).toFixed(0) as string).padStart(24);
  }
  process.stdout.write(
    `${String(size).padStart(14)}   ${exportMs.toFixed(0).padStart(14)}   ${hashMs.toFixed(0).padStart(12)}   ${(hashMs / exportMs).toFixed(2).padStart(13)}${baselineColumn}\n`,
  );
}
