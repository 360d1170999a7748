// Minimal cases where the engine broke docs/ENGINE.md or shared/spec/ENGINE.md, found by the
// engine-versus-model property test. Each names the sentence it breaks; the engine is fixed (or
// the docs are changed on purpose, and the model with them) until the case passes.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { replayCommands } from '../../src/core/replay.js';
import { defaultEngineLimits } from '../../src/core/types.js';
import { runModel } from '../model/reference.js';

function trades(lines: readonly object[]): Array<[unknown, unknown]> {
  return (lines as Array<Record<string, unknown>>)
    .filter((line) => line.ev === 'trade')
    .map((line) => [line.takerFee, line.makerFee]);
}

describe('engine regressions', () => {
  // docs/ENGINE.md "Offerings and coupons": "one use is spent per fill in which it applied to a
  // nonzero fee". In a self-trade (stp none) the coupon holder pays both fees of one fill; with
  // one use left both fees take the discount and the fill spends that one use. Found with
  // HOGA_SEED=4008 (offerings profile, command #1017). The engine spent one use per fee: the
  // taker fee took the last use and the maker fee was charged in full.
  it('a coupon spends one use per fill, even when one fill charges its holder twice', () => {
    const commands = [
      {
        op: 'symbol',
        symbol: 'X/Y',
        base: 'X',
        quote: 'Y',
        lotSize: 100,
        tickSize: 1,
        makerFeeBps: 100,
        takerFeeBps: 200,
      },
      { op: 'deposit', user: 1, asset: 'X', amount: 100_000 },
      { op: 'deposit', user: 1, asset: 'Y', amount: 100_000 },
      { op: 'deposit', user: 2, asset: 'X', amount: 100 },
      {
        op: 'offering',
        id: 1,
        issuer: 2,
        asset: 'X',
        quote: 'Y',
        price: 1,
        unitSize: 1,
        units: 10,
        perUserMax: 5,
        startTs: 0,
        endTs: 10,
        coupon: { makerDiscountPct: 100, takerDiscountPct: 100, expiresTs: 100, uses: 1 },
      },
      { op: 'claim', user: 1, offering: 1, units: 1, ts: 1 },
      { op: 'place', user: 1, id: 1, symbol: 'X/Y', side: 'sell', type: 'limit', qty: 1, price: 100 },
      {
        op: 'place',
        user: 1,
        id: 2,
        symbol: 'X/Y',
        side: 'buy',
        type: 'limit',
        qty: 1,
        price: 100,
        stp: 'none',
      },
      { op: 'place', user: 1, id: 3, symbol: 'X/Y', side: 'sell', type: 'limit', qty: 1, price: 100 },
      {
        op: 'place',
        user: 1,
        id: 4,
        symbol: 'X/Y',
        side: 'buy',
        type: 'limit',
        qty: 1,
        price: 100,
        stp: 'none',
      },
    ];
    // Undiscounted: taker (buyer) fee 100 X * 200 bps = 2, maker (seller) fee 100 Y * 100 bps = 1.
    const expected: Array<[unknown, unknown]> = [
      [0, 0],
      [2, 1],
    ];
    assert.deepEqual(
      trades(runModel(commands, defaultEngineLimits)),
      expected,
      'the model reads the docs so',
    );
    const { lines, engine } = replayCommands(commands, {
      afterEach: (current) => current.validateInternalState(),
    });
    assert.deepEqual(trades(lines), expected);
    assert.ok(engine.stateHash().length > 0);
  });
});
