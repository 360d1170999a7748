// The 24h rolling ticker against a naive recomputation over every trade, in bounded memory.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { RollingTicker } from '../../src/marketdata/ticker.js';

const minuteMs = 60_000;
const dayMs = 86_400_000;

interface Trade {
  atMs: number;
  price: number;
  qty: number;
}

/** The same window definition as the ticker: whole minutes, the current one and the 1,439 before. */
function naive(trades: Trade[], nowMs: number): Record<string, number | string> {
  const oldestMinute = Math.floor(nowMs / minuteMs) - 1_439;
  const inWindow = trades.filter(
    (trade) => Math.floor(trade.atMs / minuteMs) >= oldestMinute && trade.atMs <= nowMs,
  );
  const last = trades.at(-1)?.price ?? 0;
  const open = inWindow[0]?.price ?? last;
  return {
    open,
    high: inWindow.length === 0 ? last : Math.max(...inWindow.map((trade) => trade.price)),
    low: inWindow.length === 0 ? last : Math.min(...inWindow.map((trade) => trade.price)),
    last,
    volume: inWindow.reduce((sum, trade) => sum + trade.qty, 0),
    quoteVolume: inWindow
      .reduce((sum, trade) => sum + BigInt(trade.price) * BigInt(trade.qty), 0n)
      .toString(),
    change: last - open,
    trades: inWindow.length,
  };
}

test('property: the ticker equals a naive 24h recomputation at any later time', () => {
  fc.assert(
    fc.property(
      fc.array(
        fc.record({
          gapMs: fc.integer({ min: 0, max: 3 * 3_600_000 }),
          price: fc.integer({ min: 1, max: 1e9 }),
          qty: fc.integer({ min: 1, max: 1e6 }),
        }),
        { maxLength: 60 },
      ),
      fc.integer({ min: 0, max: 2 * dayMs }),
      (steps, laterMs) => {
        const ticker = new RollingTicker('X');
        const trades: Trade[] = [];
        let atMs = 1_700_000_000_000;
        for (const step of steps) {
          atMs += step.gapMs;
          trades.push({ atMs, price: step.price, qty: step.qty });
          ticker.add(atMs, step.price, step.qty);
        }
        const nowMs = atMs + laterMs;
        const { symbol, changeBps, lastTs, ...view } = ticker.view(nowMs);
        assert.equal(symbol, 'X');
        assert.deepEqual(view, naive(trades, nowMs));
        assert.ok(Number.isInteger(changeBps));
        assert.equal(lastTs, trades.length === 0 ? 0 : atMs);
      },
    ),
    { numRuns: 200 },
  );
});

test('change in basis points is exact integer arithmetic', () => {
  const ticker = new RollingTicker('X');
  ticker.add(0, 3, 1);
  ticker.add(1, 4, 1);
  assert.equal(ticker.view(1).changeBps, 3_333);
  ticker.add(2, 2, 1);
  assert.equal(ticker.view(2).changeBps, -3_333);
});

test('quote volume stays exact past 2^53 within one minute, also across an export and restore', () => {
  const ticker = new RollingTicker('X');
  const big = 2 ** 26;
  // Each notional is 2^52: the plain-number sum leaves the safe range on the second trade.
  const trades = [
    [big, big],
    [big, big],
    [3, 1],
    [big, big],
    [7, 5],
  ];
  let expected = 0n;
  trades.forEach(([price, qty], index) => {
    ticker.add(1_000 + index, price, qty);
    expected += BigInt(price) * BigInt(qty);
    const restored = new RollingTicker('X');
    restored.restoreState(JSON.parse(JSON.stringify(ticker.exportState())));
    assert.equal(ticker.view(2_000).quoteVolume, expected.toString());
    assert.deepEqual(restored.view(2_000), ticker.view(2_000));
    restored.add(1_500, 11, 13);
    assert.equal(restored.view(2_000).quoteVolume, (expected + 143n).toString());
  });
});
