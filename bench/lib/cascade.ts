// The cost of stop-order triggering (issue 17): one command whose trade starts a cascade through
// `depth` stop orders (each activated stop-market buy takes the next ask and so triggers the
// next stop), and, for contrast, one trade with `depth` pending orders that it does not trigger
// (their index by stop price should make that cost independent of `depth`). Setup is untimed;
// each repetition runs on a fresh engine.
import { Engine } from '../../src/core/engine.js';
import { collectGarbage } from './gc.js';
import { nowNs } from './timer.js';

export interface CascadeResult {
  depth: number;
  repetitions: number;
  /** Median time of the one command, µs. */
  cascadeUs: number;
  /** cascadeUs per activated stop order, ns. */
  perActivationNs: number;
  /** Median time of one trade that triggers none of `depth` pending orders, µs. */
  idleScanUs: number;
}

const basePrice = 1_000;

function setup(depth: number, triggering: boolean): Engine {
  const engine = new Engine();
  engine.apply({
    op: 'symbol',
    symbol: 'S',
    base: 'B',
    quote: 'Q',
    lotSize: 1,
    tickSize: 1,
    makerFeeBps: 1,
    takerFeeBps: 2,
  });
  for (const user of [1, 2, 3]) {
    engine.apply({ op: 'deposit', user, asset: 'B', amount: 1_000_000_000 });
    engine.apply({ op: 'deposit', user, asset: 'Q', amount: 1_000_000_000_000 });
  }
  let id = 1;
  for (let level = 0; level <= depth; level++) {
    engine.apply({
      op: 'place',
      user: 1,
      id: id++,
      symbol: 'S',
      side: 'sell',
      type: 'limit',
      qty: 1,
      price: basePrice + level,
    });
  }
  for (let stop = 0; stop < depth; stop++) {
    // Triggering: stop k fires at the price of level k and its run trades at level k + 1.
    const stopPrice = triggering ? basePrice + stop : basePrice * 10 + stop;
    engine.apply({
      op: 'place',
      user: 2,
      id: id++,
      symbol: 'S',
      side: 'buy',
      type: 'market',
      qty: 1,
      stopPrice,
      trigger: 'stopLoss',
    });
  }
  return engine;
}

const taker = {
  op: 'place',
  user: 3,
  id: 10_000_000,
  symbol: 'S',
  side: 'buy',
  type: 'limit',
  qty: 1,
  price: basePrice,
};

function medianUs(depth: number, repetitions: number, triggering: boolean): number {
  const timesNs: number[] = [];
  for (let repetition = 0; repetition < repetitions; repetition++) {
    const engine = setup(depth, triggering);
    collectGarbage();
    const started = nowNs();
    const events = engine.apply(taker);
    timesNs.push(nowNs() - started);
    const triggered = events.filter((event) => event.ev === 'triggered').length;
    if (triggered !== (triggering ? depth : 0))
      throw new Error(`cascade of ${depth}: ${triggered} triggered`);
  }
  timesNs.sort((a, b) => a - b);
  return timesNs[Math.floor(timesNs.length / 2)] / 1_000;
}

export function measureCascades(depths: readonly number[], repetitions: number): CascadeResult[] {
  return depths.map((depth) => {
    const cascadeUs = medianUs(depth, repetitions, true);
    return {
      depth,
      repetitions,
      cascadeUs,
      perActivationNs: (cascadeUs * 1_000) / depth,
      idleScanUs: medianUs(depth, repetitions, false),
    };
  });
}
