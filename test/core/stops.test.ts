// Hand-computed scenarios for stop, iceberg and OCO orders (docs/ENGINE.md "Stop orders, iceberg
// orders and OCO"). Commands go through the replay driver, so the expected lines are exactly the
// replay output; the engine's invariants (reservations equal what live orders need,
// conservation) are checked after every command.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Engine } from '../../src/core/engine.js';
import { replayCommands } from '../../src/core/replay.js';
import type { EngineEvent, EngineLimits } from '../../src/core/types.js';

/** Lot 1, tick 1, no fees: every amount below is easy to check by hand. */
const setup: object[] = [
  {
    op: 'symbol',
    symbol: 'X',
    base: 'B',
    quote: 'Q',
    lotSize: 1,
    tickSize: 1,
    makerFeeBps: 0,
    takerFeeBps: 0,
  },
  ...[1, 2, 3].flatMap((user) => [
    { op: 'deposit', user, asset: 'B', amount: 1_000 },
    { op: 'deposit', user, asset: 'Q', amount: 100_000 },
  ]),
];

type Fields = Record<string, unknown>;

function order(id: number, user: number, side: string, qty: number, fields: Fields = {}): Fields {
  return { op: 'place', id, user, symbol: 'X', side, type: 'limit', qty, ...fields };
}

function oco(id: number, stopId: number, user: number, side: string, qty: number, fields: Fields): Fields {
  return { op: 'oco', id, stopId, user, symbol: 'X', side, qty, ...fields };
}

/** The replay lines of `commands` after the setup, without the final balances, and the engine. */
function replay(commands: object[], limits?: Partial<EngineLimits>): { lines: object[]; engine: Engine } {
  const { lines, engine } = replayCommands([...setup, ...commands], {
    limits,
    afterEach: (checked) => checked.validateInternalState(),
  });
  return { lines: lines.filter((line) => (line as { ev: string }).ev !== 'balance'), engine };
}

function trade(taker: number, maker: number, price: number, qty: number): object {
  return { ev: 'trade', symbol: 'X', taker, maker, price, qty, takerFee: 0, makerFee: 0 };
}

function balanceOf(engine: Engine, user: number, asset: string): [number, number] {
  const view = engine.balance(user, asset);
  return [view.available, view.locked];
}

describe('stop orders', () => {
  it('cascade through three stops, each activated run triggering the next', () => {
    const { lines, engine } = replay([
      order(1, 1, 'sell', 5, { price: 100 }),
      order(2, 1, 'sell', 5, { price: 101 }),
      order(3, 1, 'sell', 5, { price: 102 }),
      order(4, 1, 'sell', 5, { price: 103 }),
      order(10, 3, 'buy', 5, { type: 'market', stopPrice: 100, trigger: 'stopLoss' }),
      order(11, 3, 'buy', 5, { type: 'market', stopPrice: 101, trigger: 'stopLoss' }),
      order(12, 3, 'buy', 5, { price: 102, stopPrice: 102, trigger: 'stopLoss' }),
      order(20, 2, 'buy', 1, { price: 100 }),
    ]);
    assert.deepEqual(lines, [
      trade(20, 1, 100, 1),
      { ev: 'triggered', id: 10 },
      trade(10, 1, 100, 4),
      trade(10, 2, 101, 1),
      { ev: 'triggered', id: 11 },
      trade(11, 2, 101, 4),
      trade(11, 3, 102, 1),
      { ev: 'triggered', id: 12 },
      trade(12, 3, 102, 4),
    ]);
    // 12 rests 1 lot at 102 (locked 102); paid 501 + 506 + 408, reserved 510 at placement.
    assert.deepEqual(balanceOf(engine, 3, 'Q'), [100_000 - 501 - 506 - 510, 102]);
    assert.deepEqual(balanceOf(engine, 3, 'B'), [1_014, 0]);
    assert.deepEqual(engine.depth('X', 5), { symbol: 'X', bids: [[102, 1]], asks: [[103, 5]] });
  });

  it('a stop is triggered by the lowest trade price of a sweep, not only by the last price', () => {
    const { lines } = replay([
      order(1, 1, 'sell', 1, { price: 100 }),
      order(2, 1, 'sell', 1, { price: 101 }),
      order(3, 1, 'sell', 1, { price: 102 }),
      order(4, 1, 'sell', 3, { price: 104 }),
      // Holds at 100 only (buy takeProfit: P <= 100).
      order(10, 3, 'buy', 1, { type: 'market', stopPrice: 100, trigger: 'takeProfit' }),
      // Holds at 105 or above: not reached (sell takeProfit: P >= 105).
      order(11, 3, 'sell', 1, { price: 90, stopPrice: 105, trigger: 'takeProfit' }),
      // Would need a trade at 99 or below (sell stopLoss): not reached.
      order(12, 3, 'sell', 1, { type: 'market', stopPrice: 99, trigger: 'stopLoss' }),
      order(20, 2, 'buy', 3, { type: 'market' }),
    ]);
    assert.deepEqual(lines, [
      trade(20, 1, 100, 1),
      trade(20, 2, 101, 1),
      trade(20, 3, 102, 1),
      { ev: 'triggered', id: 10 },
      trade(10, 4, 104, 1),
    ]);
  });

  it('triggers in ascending id order, and a stop-limit remainder rests', () => {
    const { lines, engine } = replay([
      order(1, 1, 'sell', 1, { price: 100 }),
      order(2, 1, 'sell', 2, { price: 105 }),
      order(30, 3, 'buy', 1, { type: 'market', stopPrice: 100, trigger: 'stopLoss' }),
      order(25, 2, 'buy', 3, { price: 105, stopPrice: 99, trigger: 'stopLoss' }),
      order(40, 2, 'buy', 1, { price: 100 }),
    ]);
    assert.deepEqual(lines, [
      trade(40, 1, 100, 1),
      { ev: 'triggered', id: 25 },
      { ev: 'triggered', id: 30 },
      trade(25, 2, 105, 2),
      { ev: 'expired', id: 30, qty: 1, reason: 'UNFILLED' },
    ]);
    // 25 rests 1 at 105; 30 finds no ask and expires unfilled (a market order: expired line).
    assert.deepEqual(engine.depth('X', 5), { symbol: 'X', bids: [[105, 1]], asks: [] });
  });

  it('pending orders are cancelled and amended like resting ones, and are not in depth', () => {
    const { lines, engine } = replay([
      order(10, 3, 'buy', 5, { price: 200, stopPrice: 150, trigger: 'stopLoss' }),
      order(11, 3, 'sell', 4, { type: 'market', tif: 'FOK', stopPrice: 50, trigger: 'stopLoss' }),
      { op: 'amend', user: 3, id: 10, qty: 2 },
      { op: 'amend', user: 3, id: 10, qty: 2 },
      { op: 'cancel', user: 2, id: 11 },
      { op: 'cancel', user: 3, id: 11 },
    ]);
    assert.deepEqual(lines, [
      { ev: 'amended', id: 10, qty: 2 },
      { ev: 'rejected', cmd: 10, id: 10, reason: 'INVALID_QTY' },
      { ev: 'rejected', cmd: 11, id: 11, reason: 'UNKNOWN_ORDER' },
      { ev: 'cancelled', id: 11, qty: 4, reason: 'USER' },
    ]);
    assert.deepEqual(balanceOf(engine, 3, 'Q'), [100_000 - 400, 400]);
    assert.deepEqual(balanceOf(engine, 3, 'B'), [1_000, 0]);
    assert.deepEqual(engine.depth('X', 5), { symbol: 'X', bids: [], asks: [] });
    assert.equal(engine.openOrders(3).length, 1);
  });

  it('the last price refuses a stop that would trigger at once', () => {
    const { lines } = replay([
      order(1, 1, 'sell', 1, { price: 100 }),
      order(2, 2, 'buy', 1, { price: 100 }),
      order(3, 3, 'buy', 1, { type: 'market', stopPrice: 100, trigger: 'stopLoss' }),
      order(4, 3, 'buy', 1, { type: 'market', stopPrice: 101, trigger: 'stopLoss' }),
      order(5, 3, 'sell', 1, { type: 'market', stopPrice: 100, trigger: 'stopLoss' }),
      order(6, 3, 'sell', 1, { type: 'market', stopPrice: 99, trigger: 'stopLoss' }),
      order(7, 3, 'buy', 1, { type: 'market', stopPrice: 100, trigger: 'takeProfit' }),
      order(8, 3, 'sell', 1, { type: 'market', stopPrice: 101, trigger: 'takeProfit' }),
    ]);
    assert.deepEqual(lines, [
      trade(2, 1, 100, 1),
      { ev: 'rejected', cmd: 9, id: 3, reason: 'STOP_WOULD_TRIGGER' },
      { ev: 'rejected', cmd: 11, id: 5, reason: 'STOP_WOULD_TRIGGER' },
      { ev: 'rejected', cmd: 13, id: 7, reason: 'STOP_WOULD_TRIGGER' },
    ]);
  });

  it('validation codes in order: INVALID_STOP after INVALID_PRICE, STOP_WOULD_TRIGGER after post-only, then funds', () => {
    const stop = { stopPrice: 100, trigger: 'stopLoss' };
    const { lines } = replay([
      order(1, 1, 'sell', 1, { price: 100 }),
      order(2, 2, 'buy', 1, { price: 100 }),
      // INVALID_PRICE wins over a malformed stop.
      order(10, 3, 'buy', 1, { price: 0, stopPrice: 0, trigger: 'stopLoss' }),
      order(11, 3, 'buy', 1, { price: 100, stopPrice: 100 }),
      order(12, 3, 'buy', 1, { price: 100, trigger: 'stopLoss' }),
      order(13, 3, 'buy', 1, { price: 100, stopPrice: 100, trigger: 'up' }),
      order(14, 3, 'buy', 1, { price: 100, stopPrice: -5, trigger: 'stopLoss' }),
      order(15, 3, 'buy', 2, { price: 100, displayQty: 1, ...stop }),
      order(16, 3, 'buy', 1, { price: 100, postOnly: true, ...stop }),
      // STOP_WOULD_TRIGGER (last price 100) before INSUFFICIENT_FUNDS.
      order(17, 3, 'buy', 1_000_000, { price: 100, ...stop }),
      order(18, 3, 'buy', 1_000_000, { price: 100, stopPrice: 101, trigger: 'stopLoss' }),
      // INVALID_TIF and INVALID_QTY come before INVALID_STOP.
      order(19, 3, 'buy', 1, { type: 'market', tif: 'GTC', stopPrice: 1, trigger: 'x' }),
      order(20, 3, 'buy', 0, { price: 100, stopPrice: 1, trigger: 'x' }),
    ]);
    const codes = lines.slice(1).map((line) => (line as { id: number; reason: string }).reason);
    assert.deepEqual(codes, [
      'INVALID_PRICE',
      'INVALID_STOP',
      'INVALID_STOP',
      'INVALID_STOP',
      'INVALID_STOP',
      'INVALID_STOP',
      'INVALID_STOP',
      'STOP_WOULD_TRIGGER',
      'INSUFFICIENT_FUNDS',
      'INVALID_TIF',
      'INVALID_QTY',
    ]);
  });

  it('pending orders are bounded per symbol and per user (LIMIT_EXCEEDED)', () => {
    const stop = (id: number, user: number) =>
      order(id, user, 'buy', 1, { price: 10, stopPrice: 20, trigger: 'stopLoss' });
    const { lines } = replay([stop(1, 1), stop(2, 1), stop(3, 1), stop(4, 2), stop(5, 3)], {
      pendingOrdersPerSymbolMax: 3,
      pendingOrdersPerUserMax: 2,
    });
    assert.deepEqual(lines, [
      { ev: 'rejected', cmd: 9, id: 3, reason: 'LIMIT_EXCEEDED' },
      { ev: 'rejected', cmd: 11, id: 5, reason: 'LIMIT_EXCEEDED' },
    ]);
  });
});

/** The events (copied) of the last command, run on a fresh engine after the setup. */
function eventsOfLast(commands: object[]): { events: EngineEvent[]; engine: Engine } {
  const engine = new Engine();
  let events: EngineEvent[] = [];
  for (const command of [...setup, ...commands]) {
    events = engine.apply(command).map((event) => ({ ...event }));
    engine.validateInternalState();
  }
  return { events, engine };
}

describe('iceberg orders', () => {
  const iceberg = order(1, 1, 'sell', 10, { price: 100, displayQty: 3 });

  it('refilled twice in one sweep, going behind the order at its price each time', () => {
    const commands = [
      iceberg,
      order(2, 2, 'sell', 2, { price: 100 }),
      order(3, 3, 'buy', 10, { price: 100 }),
    ];
    const { lines } = replay(commands);
    assert.deepEqual(lines, [
      trade(3, 1, 100, 3),
      trade(3, 2, 100, 2),
      trade(3, 1, 100, 3),
      trade(3, 1, 100, 2),
    ]);
    const { events, engine } = eventsOfLast(commands);
    assert.deepEqual(
      events.map((event) => (event.ev === 'refilled' ? `refilled:${event.qty}` : event.ev)),
      ['accepted', 'trade', 'refilled:3', 'trade', 'trade', 'refilled:3', 'trade'],
    );
    // 2 lots left, 1 shown; the book shows only the visible part.
    assert.deepEqual(engine.depth('X', 5), { symbol: 'X', bids: [], asks: [[100, 1]] });
    assert.deepEqual(balanceOf(engine, 1, 'B'), [990, 2]);
    assert.deepEqual(engine.order(1)?.remaining, 2);
  });

  it('rests showing its first part; amend keeps its place and caps the visible part', () => {
    const { lines, events, engine } = (() => {
      const commands = [
        iceberg,
        order(2, 2, 'sell', 2, { price: 100 }),
        { op: 'amend', user: 1, id: 1, qty: 2 },
        order(3, 3, 'buy', 3, { price: 100 }),
      ];
      return { ...replay(commands), ...eventsOfLast(commands.slice(0, 3)) };
    })();
    const amended = events[0];
    assert.equal(amended.ev, 'amended');
    assert.deepEqual(
      amended.ev === 'amended' && [amended.qty, amended.reducedBy, amended.shownReducedBy],
      [2, 8, 1],
    );
    assert.deepEqual(engine.depth('X', 5), { symbol: 'X', bids: [], asks: [[100, 4]] });
    // The iceberg keeps the front: 2 from it, then 1 from order 2.
    assert.deepEqual(lines, [{ ev: 'amended', id: 1, qty: 2 }, trade(3, 1, 100, 2), trade(3, 2, 100, 1)]);
  });

  it('the FOK dry run follows refills: an own order reached after a refill stops an expireTaker taker', () => {
    const commands = [
      order(1, 1, 'sell', 10, { price: 100, displayQty: 2 }),
      order(2, 3, 'sell', 5, { price: 100 }),
      order(3, 3, 'buy', 7, { price: 100, tif: 'FOK', stp: 'expireTaker' }),
      order(4, 3, 'buy', 7, { price: 100, tif: 'IOC', stp: 'expireTaker' }),
    ];
    const { lines } = replay(commands);
    assert.deepEqual(lines, [
      { ev: 'expired', id: 3, qty: 7, reason: 'FOK' },
      trade(4, 1, 100, 2),
      { ev: 'expired', id: 4, qty: 5, reason: 'STP' },
    ]);
  });

  it('displayQty needs a GTC limit order and 0 < displayQty < qty', () => {
    const { lines } = replay([
      order(1, 1, 'sell', 5, { price: 100, displayQty: 2, tif: 'IOC' }),
      order(2, 1, 'sell', 5, { type: 'market', displayQty: 2 }),
      order(3, 1, 'sell', 5, { price: 100, displayQty: 5 }),
      order(4, 1, 'sell', 5, { price: 100, displayQty: 0 }),
      order(5, 1, 'sell', 5, { price: 100, displayQty: 1.5 }),
      order(6, 1, 'sell', 5, { price: 100, displayQty: 4, postOnly: true }),
    ]);
    assert.deepEqual(
      lines.map((line) => (line as { reason: string }).reason),
      ['INVALID_TIF', 'INVALID_TIF', 'INVALID_QTY', 'INVALID_QTY', 'INVALID_QTY'],
    );
  });
});

describe('OCO orders', () => {
  it('a buy whose leg A fills partly: leg B is cancelled right after the trade and the excess released', () => {
    const { lines, engine } = replay([
      oco(10, 11, 3, 'buy', 4, { price: 90, stopPrice: 110, stopLimitPrice: 111 }),
      order(20, 1, 'sell', 1, { price: 90 }),
      { op: 'amend', user: 3, id: 10, qty: 2 },
    ]);
    assert.deepEqual(lines, [
      trade(20, 10, 90, 1),
      { ev: 'cancelled', id: 11, qty: 4, reason: 'OCO' },
      { ev: 'amended', id: 10, qty: 2 },
    ]);
    // 4 * 111 was reserved; now leg A alone needs 2 * 90.
    assert.deepEqual(balanceOf(engine, 3, 'Q'), [100_000 - 90 - 180, 180]);
    assert.deepEqual(balanceOf(engine, 3, 'B'), [1_001, 0]);
  });

  it('one reservation for both legs while linked', () => {
    const { engine } = replay([oco(10, 11, 3, 'buy', 4, { price: 90, stopPrice: 110, stopLimitPrice: 111 })]);
    assert.deepEqual(balanceOf(engine, 3, 'Q'), [100_000 - 444, 444]);
    const market = replay([oco(10, 11, 3, 'buy', 4, { price: 90, stopPrice: 110 })]).engine;
    assert.deepEqual(balanceOf(market, 3, 'Q'), [100_000 - 360, 360]);
    const sell = replay([oco(10, 11, 3, 'sell', 4, { price: 110, stopPrice: 90 })]).engine;
    assert.deepEqual(balanceOf(sell, 3, 'B'), [996, 4]);
    assert.deepEqual(sell.depth('X', 5), { symbol: 'X', bids: [], asks: [[110, 4]] });
  });

  it('leg B triggers: leg A is cancelled right after the triggered event, leg B runs', () => {
    const { lines, engine } = replay([
      order(1, 1, 'buy', 1, { price: 95 }),
      order(2, 1, 'buy', 5, { price: 94 }),
      oco(10, 11, 3, 'sell', 2, { price: 110, stopPrice: 95 }),
      order(20, 2, 'sell', 1, { price: 95 }),
    ]);
    assert.deepEqual(lines, [
      trade(20, 1, 95, 1),
      { ev: 'triggered', id: 11 },
      { ev: 'cancelled', id: 10, qty: 2, reason: 'OCO' },
      trade(11, 2, 94, 2),
    ]);
    assert.deepEqual(balanceOf(engine, 3, 'B'), [998, 0]);
    assert.deepEqual(balanceOf(engine, 3, 'Q'), [100_188, 0]);
  });

  it('a triggered stop-limit buy leg B keeps exactly its own reservation', () => {
    const { lines, engine } = replay([
      order(1, 1, 'sell', 1, { price: 110 }),
      oco(10, 11, 3, 'buy', 2, { price: 90, stopPrice: 110, stopLimitPrice: 100 }),
      order(20, 2, 'buy', 1, { price: 110 }),
    ]);
    assert.deepEqual(lines, [
      trade(20, 1, 110, 1),
      { ev: 'triggered', id: 11 },
      { ev: 'cancelled', id: 10, qty: 2, reason: 'OCO' },
    ]);
    assert.deepEqual(balanceOf(engine, 3, 'Q'), [100_000 - 200, 200]);
    assert.deepEqual(engine.depth('X', 5), { symbol: 'X', bids: [[100, 2]], asks: [] });
  });

  it('STP cancelling leg A cancels leg B', () => {
    const { lines, engine } = replay([
      oco(10, 11, 3, 'sell', 2, { price: 110, stopPrice: 95, stopLimitPrice: 94 }),
      order(20, 3, 'buy', 1, { price: 110 }),
    ]);
    assert.deepEqual(lines, [
      { ev: 'cancelled', id: 10, qty: 2, reason: 'STP' },
      { ev: 'cancelled', id: 11, qty: 2, reason: 'OCO' },
    ]);
    assert.deepEqual(balanceOf(engine, 3, 'B'), [1_000, 0]);
    assert.deepEqual(balanceOf(engine, 3, 'Q'), [100_000 - 110, 110]);
  });

  it('a user cancel of leg A cancels leg B; amend of a live leg is NOT_AMENDABLE after ownership', () => {
    const { lines, engine } = replay([
      oco(10, 11, 3, 'buy', 2, { price: 90, stopPrice: 110 }),
      { op: 'amend', user: 2, id: 11, qty: 1 },
      { op: 'amend', user: 3, id: 11, qty: 5 },
      { op: 'cancel', user: 3, id: 10 },
    ]);
    assert.deepEqual(lines, [
      { ev: 'rejected', cmd: 8, id: 11, reason: 'UNKNOWN_ORDER' },
      { ev: 'rejected', cmd: 9, id: 11, reason: 'NOT_AMENDABLE' },
      { ev: 'cancelled', id: 10, qty: 2, reason: 'USER' },
      { ev: 'cancelled', id: 11, qty: 2, reason: 'OCO' },
    ]);
    assert.deepEqual(balanceOf(engine, 3, 'Q'), [100_000, 0]);
  });

  it('validation codes in the spec order; a rejected oco reports its id field', () => {
    const good = { price: 90, stopPrice: 110 };
    const { lines } = replay([
      order(1, 1, 'sell', 1, { price: 100 }),
      order(2, 2, 'buy', 1, { price: 100 }),
      order(3, 1, 'sell', 1, { price: 105 }),
      { ...oco(10, 11, 3, 'buy', 1, good), symbol: 'Y' },
      oco(1, 11, 3, 'buy', 1, good),
      oco(10, 3, 3, 'buy', 1, good),
      oco(10, 10, 3, 'buy', 1, good),
      oco(10, 'b' as unknown as number, 3, 'buy', 1, good),
      oco(10, 11, 3, 'up', 1, good),
      oco(10, 11, 3, 'buy', 0, good),
      oco(10, 11, 3, 'buy', 1, { price: 95, stopPrice: 110, stopLimitPrice: 0 }),
      oco(10, 11, 3, 'buy', 1, { price: 110, stopPrice: 110 }),
      oco(10, 11, 3, 'sell', 1, { price: 90, stopPrice: 110 }),
      oco(10, 11, 3, 'buy', 1, { price: 105, stopPrice: 110 }),
      oco(10, 11, 3, 'buy', 1, { price: 90, stopPrice: 100 }),
      oco(10, 11, 3, 'buy', 2_000, { price: 90, stopPrice: 101 }),
      { ...oco(0, 11, 3, 'buy', 1, good), id: undefined, qty: 0 },
    ]);
    assert.deepEqual(
      lines.slice(1).map((line) => {
        const { id, reason } = line as { id: unknown; reason: string };
        return [id, reason];
      }),
      [
        [10, 'UNKNOWN_SYMBOL'],
        [1, 'DUPLICATE_ORDER_ID'],
        [10, 'DUPLICATE_ORDER_ID'],
        [10, 'DUPLICATE_ORDER_ID'],
        [10, 'INVALID_ORDER'],
        [10, 'INVALID_ORDER'],
        [10, 'INVALID_QTY'],
        [10, 'INVALID_PRICE'],
        [10, 'INVALID_STOP'],
        [10, 'INVALID_STOP'],
        [10, 'POST_ONLY_WOULD_CROSS'],
        [10, 'STOP_WOULD_TRIGGER'],
        [10, 'INSUFFICIENT_FUNDS'],
        [null, 'INVALID_ORDER'],
      ],
    );
  });
});

describe('stops and OCO in one cascade', () => {
  it('an activated stop fills OCO leg A: leg B is cancelled right after that trade', () => {
    const { lines, engine } = replay([
      order(1, 1, 'sell', 1, { price: 100 }),
      order(2, 1, 'sell', 1, { price: 101 }),
      oco(20, 21, 2, 'sell', 1, { price: 102, stopPrice: 99 }),
      order(10, 3, 'buy', 2, { type: 'market', stopPrice: 100, trigger: 'stopLoss' }),
      order(30, 2, 'buy', 1, { price: 100 }),
    ]);
    assert.deepEqual(lines, [
      trade(30, 1, 100, 1),
      { ev: 'triggered', id: 10 },
      trade(10, 2, 101, 1),
      trade(10, 20, 102, 1),
      { ev: 'cancelled', id: 21, qty: 1, reason: 'OCO' },
    ]);
    assert.deepEqual(balanceOf(engine, 2, 'B'), [1_000, 0]);
    assert.deepEqual(balanceOf(engine, 2, 'Q'), [100_002, 0]);
    assert.deepEqual(balanceOf(engine, 3, 'Q'), [100_000 - 203, 0]);
  });

  it('a stop and an OCO leg B triggered by one run: ascending ids, leg A cancelled right after its leg B', () => {
    const { lines, engine } = replay([
      order(1, 1, 'sell', 1, { price: 100 }),
      order(2, 1, 'sell', 1, { price: 105 }),
      oco(20, 21, 2, 'buy', 1, { price: 90, stopPrice: 100, stopLimitPrice: 105 }),
      order(15, 3, 'buy', 1, { type: 'market', stopPrice: 100, trigger: 'stopLoss' }),
      order(30, 3, 'buy', 1, { price: 100 }),
    ]);
    assert.deepEqual(lines, [
      trade(30, 1, 100, 1),
      { ev: 'triggered', id: 15 },
      { ev: 'triggered', id: 21 },
      { ev: 'cancelled', id: 20, qty: 1, reason: 'OCO' },
      trade(15, 2, 105, 1),
    ]);
    // Leg B found no ask left at its limit and rests with exactly its own reservation.
    assert.deepEqual(balanceOf(engine, 2, 'Q'), [100_000 - 105, 105]);
    assert.deepEqual(engine.depth('X', 5), { symbol: 'X', bids: [[105, 1]], asks: [] });
  });

  it('a take-profit FOK stop-limit decides FOK when it runs', () => {
    const { lines, engine } = replay([
      order(1, 1, 'buy', 1, { price: 100 }),
      order(2, 1, 'buy', 1, { price: 99 }),
      order(10, 3, 'sell', 3, { price: 99, tif: 'FOK', stopPrice: 100, trigger: 'takeProfit' }),
      order(30, 2, 'sell', 1, { price: 100 }),
    ]);
    assert.deepEqual(lines, [
      trade(30, 1, 100, 1),
      { ev: 'triggered', id: 10 },
      { ev: 'expired', id: 10, qty: 3, reason: 'FOK' },
    ]);
    assert.deepEqual(balanceOf(engine, 3, 'B'), [1_000, 0]);
  });
});

describe('snapshots of pending, iceberg and OCO state', () => {
  it('round-trips to the same state hash and the same future', () => {
    const { engine } = replay([
      order(1, 1, 'sell', 10, { price: 100, displayQty: 3 }),
      order(2, 2, 'sell', 2, { price: 100 }),
      order(3, 3, 'buy', 4, { price: 100 }),
      order(4, 3, 'buy', 2, { type: 'market', stopPrice: 101, trigger: 'stopLoss' }),
      order(5, 2, 'sell', 1, { price: 90, stopPrice: 95, trigger: 'stopLoss' }),
      oco(6, 7, 1, 'buy', 2, { price: 80, stopPrice: 120, stopLimitPrice: 125 }),
    ]);
    const restored = Engine.fromState(JSON.parse(JSON.stringify(engine.exportState())));
    assert.equal(restored.stateHash(), engine.stateHash());
    const next = order(8, 2, 'buy', 10, { price: 101 });
    const copy = (events: readonly EngineEvent[]) => events.map((event) => ({ ...event }));
    assert.deepEqual(copy(restored.apply(next)), copy(engine.apply(next)));
    assert.equal(restored.stateHash(), engine.stateHash());
    restored.validateInternalState();
  });

  it('the state hash sees the last price, pending orders and the visible part', () => {
    const base = [order(1, 1, 'sell', 10, { price: 100, displayQty: 3 })];
    const hashes = [
      replay(base).engine.stateHash(),
      replay([...base, order(2, 3, 'buy', 1, { price: 100 })]).engine.stateHash(),
      replay([
        ...base,
        order(2, 3, 'buy', 1, { price: 90, stopPrice: 200, trigger: 'stopLoss' }),
      ]).engine.stateHash(),
    ];
    assert.equal(new Set(hashes).size, 3);
  });
});
