// fillsPerCommandMax (docs/ENGINE.md "Fills per command"): a placed order whose sweep would make
// more fills is rejected whole before any state changes; an activated stop order that would take
// its command past the bound expires whole (UNFILLED). The model comparison (tiny limits) covers
// the rule on generated streams; these are the hand-worked cases.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Engine, resolveLimits } from '../../src/core/engine.js';
import type { EngineEvent } from '../../src/core/types.js';

const SYMBOL = 'BTC-USD';

function market(fillsPerCommandMax: number): Engine {
  const engine = new Engine({ fillsPerCommandMax });
  engine.apply({
    op: 'symbol',
    symbol: SYMBOL,
    base: 'BTC',
    quote: 'USD',
    lotSize: 1,
    tickSize: 1,
    makerFeeBps: 0,
    takerFeeBps: 0,
  });
  for (const user of [1, 2, 3]) {
    engine.apply({ op: 'deposit', user, asset: 'BTC', amount: 1_000 });
    engine.apply({ op: 'deposit', user, asset: 'USD', amount: 100_000 });
  }
  return engine;
}

function step(engine: Engine, command: Record<string, unknown>): EngineEvent[] {
  const events = engine.apply(command).map((event) => ({ ...event }));
  engine.validateInternalState();
  return events;
}

function limit(user: number, id: number, side: string, qty: number, price: number, extra = {}) {
  return { op: 'place', user, id, symbol: SYMBOL, side, type: 'limit', qty, price, ...extra };
}

function kinds(events: readonly EngineEvent[]): string[] {
  return events.map((event) => event.ev);
}

describe('fillsPerCommandMax', () => {
  it('is validated like the other limits and defaults to 1,000,000', () => {
    assert.equal(resolveLimits(undefined).fillsPerCommandMax, 1_000_000);
    assert.equal(resolveLimits({ fillsPerCommandMax: 0 }).fillsPerCommandMax, 0);
    for (const bad of [-1, 1.5, Number.MAX_SAFE_INTEGER + 1]) {
      assert.throws(() => resolveLimits({ fillsPerCommandMax: bad }), /fillsPerCommandMax/);
    }
  });

  it('rejects a placed order whose sweep would pass it, changing nothing, and frees its id', () => {
    const engine = market(2);
    for (const [id, price] of [
      [1, 100],
      [2, 101],
      [3, 102],
    ]) {
      assert.deepEqual(kinds(step(engine, limit(1, id, 'sell', 1, price))), ['accepted', 'rested']);
    }
    const hashBefore = engine.stateHash();
    assert.deepEqual(step(engine, limit(2, 10, 'buy', 3, 102)), [
      { ev: 'rejected', id: 10, reason: 'LIMIT_EXCEEDED' },
    ]);
    // A market buy is bounded the same way (funds simulated as the sweep would spend them).
    assert.deepEqual(
      step(engine, { op: 'place', user: 2, id: 11, symbol: SYMBOL, side: 'buy', type: 'market', qty: 3 }),
      [{ ev: 'rejected', id: 11, reason: 'LIMIT_EXCEEDED' }],
    );
    assert.equal(engine.stateHash(), hashBefore, 'a rejection changes nothing');
    // Within the bound, the same id is accepted and fills.
    assert.deepEqual(kinds(step(engine, limit(2, 10, 'buy', 2, 102))), ['accepted', 'trade', 'trade']);
  });

  it('counts what would really fill: a qty above the bound that meets few makers passes', () => {
    const engine = market(2);
    step(engine, limit(1, 1, 'sell', 5, 100));
    step(engine, limit(1, 2, 'sell', 5, 101));
    // Qty 10 > 2 triggers the dry run, which finds two fills: accepted.
    assert.deepEqual(kinds(step(engine, limit(2, 10, 'buy', 10, 101))), ['accepted', 'trade', 'trade']);
    // Makers beyond the limit price do not count; nor do STP cancels of the taker's own orders.
    step(engine, limit(2, 20, 'sell', 1, 200));
    step(engine, limit(1, 21, 'sell', 1, 201));
    step(engine, limit(1, 22, 'sell', 1, 202));
    step(engine, limit(1, 23, 'sell', 1, 300));
    assert.deepEqual(kinds(step(engine, limit(2, 24, 'buy', 4, 202))), [
      'accepted',
      'cancelled',
      'trade',
      'trade',
      'rested',
    ]);
  });

  it('counts every refill of an iceberg as a fill', () => {
    const engine = market(2);
    step(engine, limit(1, 1, 'sell', 6, 100, { displayQty: 1 }));
    assert.deepEqual(step(engine, limit(2, 10, 'buy', 3, 100)), [
      { ev: 'rejected', id: 10, reason: 'LIMIT_EXCEEDED' },
    ]);
    assert.deepEqual(kinds(step(engine, limit(2, 11, 'buy', 2, 100))), [
      'accepted',
      'trade',
      'refilled',
      'trade',
      'refilled',
    ]);
  });

  it('expires an activated stop order whole when it would take the command past the bound', () => {
    const engine = market(2);
    step(engine, limit(1, 1, 'sell', 1, 100));
    step(engine, limit(1, 2, 'sell', 1, 101));
    step(engine, limit(1, 3, 'sell', 1, 102));
    step(engine, limit(1, 4, 'sell', 1, 103));
    // A stop-limit buy of 3 lots at 103, triggered by a trade at 100 or more: it holds 309 USD.
    const stop = limit(3, 30, 'buy', 3, 103, { stopPrice: 100, trigger: 'stopLoss' });
    assert.deepEqual(kinds(step(engine, stop)), ['accepted']);
    assert.equal(engine.balance(3, 'USD').locked, 309);
    // One fill here leaves a budget of one; the stop order would make three: it expires whole.
    const events = step(engine, limit(2, 10, 'buy', 1, 100));
    assert.deepEqual(kinds(events), ['accepted', 'trade', 'triggered', 'expired']);
    assert.deepEqual(
      { ...events[3], symbol: undefined, side: undefined, user: undefined },
      {
        ev: 'expired',
        id: 30,
        qty: 3,
        price: 103,
        reason: 'UNFILLED',
        symbol: undefined,
        side: undefined,
        user: undefined,
      },
    );
    assert.deepEqual(engine.balance(3, 'USD'), { asset: 'USD', available: 100_000, locked: 0 });
    assert.equal(engine.order(2)?.remaining, 1, 'the book is untouched by the expired stop order');
  });

  it('lets an activated stop order run when the budget covers it', () => {
    const engine = market(3);
    step(engine, limit(1, 1, 'sell', 1, 100));
    step(engine, limit(1, 2, 'sell', 1, 101));
    step(engine, limit(1, 3, 'sell', 1, 102));
    step(engine, limit(3, 30, 'buy', 2, 102, { stopPrice: 100, trigger: 'stopLoss' }));
    const events = step(engine, limit(2, 10, 'buy', 1, 100));
    assert.deepEqual(kinds(events), ['accepted', 'trade', 'triggered', 'trade', 'trade']);
  });
});
