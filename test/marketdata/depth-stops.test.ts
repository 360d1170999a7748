// Depth built from engine events stays equal to the engine's own depth when icebergs show only
// part of themselves and refill, and when stop orders wait, trigger, are amended and cancelled
// (they never show in depth), and OCO pairs resolve.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Engine } from '../../src/core/engine.js';
import { DepthBook } from '../../src/marketdata/depth.js';

const symbol = 'X';
const levelsAll = 1_000;

test('depth from events equals engine depth through icebergs, stops and OCO pairs', () => {
  const engine = new Engine();
  const book = new DepthBook(symbol);
  const commands: object[] = [
    { op: 'symbol', symbol, base: 'B', quote: 'Q', lotSize: 1, tickSize: 1, makerFeeBps: 0, takerFeeBps: 0 },
    ...[1, 2, 3].flatMap((user) => [
      { op: 'deposit', user, asset: 'B', amount: 10_000 },
      { op: 'deposit', user, asset: 'Q', amount: 1_000_000 },
    ]),
  ];
  const place = (id: number, user: number, side: string, qty: number, fields: object) =>
    commands.push({ op: 'place', id, user, symbol, side, type: 'limit', qty, ...fields });
  place(1, 1, 'sell', 10, { price: 100, displayQty: 3 });
  place(2, 2, 'sell', 2, { price: 100 });
  place(3, 1, 'buy', 8, { price: 90, displayQty: 2 });
  place(4, 3, 'buy', 4, { price: 101, stopPrice: 100, trigger: 'stopLoss' });
  place(5, 3, 'sell', 3, { type: 'market', stopPrice: 95, trigger: 'stopLoss' });
  commands.push({ op: 'amend', user: 3, id: 4, qty: 3 });
  commands.push({
    op: 'oco',
    user: 2,
    symbol,
    side: 'sell',
    qty: 2,
    id: 6,
    price: 120,
    stopId: 7,
    stopPrice: 91,
  });
  place(8, 2, 'buy', 5, { price: 100 });
  commands.push({ op: 'amend', user: 1, id: 1, qty: 1 });
  place(9, 2, 'sell', 4, { price: 90 });
  commands.push({ op: 'cancel', user: 1, id: 3 });
  let refills = 0;
  let triggers = 0;
  for (const command of commands) {
    for (const event of engine.apply(command)) {
      if (event.ev === 'refilled') refills++;
      if (event.ev === 'triggered') triggers++;
      if ('symbol' in event && event.symbol === symbol) book.apply(event);
    }
    const expected = engine.depth(symbol, levelsAll);
    const actual = book.snapshot(levelsAll);
    assert.deepEqual([actual.bids, actual.asks], [expected?.bids, expected?.asks], JSON.stringify(command));
  }
  assert.ok(refills >= 2 && triggers >= 2, `refills ${refills}, triggers ${triggers}`);
});
