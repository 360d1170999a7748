// Hand-written cases for every rule and rejection code of shared/spec/ENGINE.md and the decisions
// in docs/ENGINE.md. Every command goes through `step`, which copies the events and checks the
// engine's invariants (book order, level totals, locked = reservations, conservation) after it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Engine } from '../../src/core/engine.js';
import type { EngineEvent, EngineLimits, RejectCode } from '../../src/core/types.js';

const SYMBOL = 'BTC-KRW';
/** 1 lot = 1000 satoshi; prices are KRW per lot in ticks of 10. */
const LOT = 1000;
const TICK = 10;
const MAKER_BPS = 10;
const TAKER_BPS = 20;

type Fields = Record<string, unknown>;

function step(engine: Engine, command: unknown): EngineEvent[] {
  const events = engine.apply(command).map((event) => ({ ...event }));
  engine.validateInternalState();
  return events;
}

/** A market with users 1..3 funded in both assets. */
function market(limits?: Partial<EngineLimits>): Engine {
  const engine = new Engine(limits);
  const symbol = {
    op: 'symbol',
    symbol: SYMBOL,
    base: 'BTC',
    quote: 'KRW',
    lotSize: LOT,
    tickSize: TICK,
    makerFeeBps: MAKER_BPS,
    takerFeeBps: TAKER_BPS,
  };
  assert.equal(step(engine, symbol)[0].ev, 'symbolAdded');
  for (const user of [1, 2, 3]) {
    step(engine, { op: 'deposit', user, asset: 'BTC', amount: 1_000_000 });
    step(engine, { op: 'deposit', user, asset: 'KRW', amount: 10_000_000 });
  }
  return engine;
}

let nextId = 1_000;
function place(engine: Engine, fields: Fields): EngineEvent[] {
  return step(engine, { op: 'place', symbol: SYMBOL, type: 'limit', side: 'buy', id: nextId++, ...fields });
}

/** The reject code, or undefined when the command was not rejected. */
function rejection(events: EngineEvent[]): RejectCode | undefined {
  const event = events[0];
  if (event?.ev !== 'rejected') return undefined;
  assert.equal(events.length, 1, 'a rejected command has one event');
  return event.reason;
}

function kinds(events: EngineEvent[]): string[] {
  return events.map((event) =>
    event.ev === 'expired' || event.ev === 'cancelled' ? `${event.ev}:${event.reason}` : event.ev,
  );
}

function balance(engine: Engine, user: number, asset: string): [number, number] {
  const view = engine.balance(user, asset);
  return [view.available, view.locked];
}

/** A valid limit order; tests override one field at a time. */
const goodOrder: Fields = { user: 1, side: 'buy', qty: 1, price: 1_000 };

function rejectWith(engine: Engine, fields: Fields): RejectCode | undefined {
  return rejection(place(engine, { ...goodOrder, ...fields }));
}

describe('place validation, in docs/ENGINE.md order', () => {
  it('UNKNOWN_SYMBOL first, even when every other field is malformed', () => {
    const engine = market();
    const bad = { user: -1, side: 'up', type: 'stop', qty: 0, price: 3 };
    assert.equal(rejection(step(engine, { op: 'place', id: 1, ...bad })), 'UNKNOWN_SYMBOL');
    assert.equal(
      rejection(step(engine, { op: 'place', id: 1, symbol: 'ETH-KRW', ...bad })),
      'UNKNOWN_SYMBOL',
    );
    assert.equal(rejection(step(engine, { op: 'place', id: 1, symbol: 7, ...bad })), 'UNKNOWN_SYMBOL');
  });

  it('DUPLICATE_ORDER_ID before INVALID_ORDER; rejected orders do not use up their id', () => {
    const engine = market();
    assert.equal(rejectWith(engine, { id: 1, side: 'sideways' }), 'INVALID_ORDER');
    assert.equal(rejectWith(engine, { id: 1, qty: 100_000 }), 'INSUFFICIENT_FUNDS');
    assert.deepEqual(kinds(place(engine, { ...goodOrder, id: 1 })), ['accepted', 'rested']);
    assert.equal(rejectWith(engine, { id: 1, side: 'sideways', user: 'x' }), 'DUPLICATE_ORDER_ID');
    const events = step(engine, { op: 'place', symbol: SYMBOL, type: 'limit', ...goodOrder, id: 1 });
    assert.deepEqual(events[0], { ev: 'rejected', id: 1, reason: 'DUPLICATE_ORDER_ID' });
  });

  it('an order that expires still uses up its id', () => {
    const engine = market();
    assert.deepEqual(kinds(place(engine, { ...goodOrder, id: 5, tif: 'IOC' })), [
      'accepted',
      'expired:UNFILLED',
    ]);
    assert.equal(rejectWith(engine, { id: 5 }), 'DUPLICATE_ORDER_ID');
  });

  it('INVALID_ORDER for malformed user, id, side, type, stp or postOnly', () => {
    const engine = market();
    for (const fields of [
      { user: -1 },
      { user: 1.5 },
      { user: '1' },
      { user: null },
      { id: -3 },
      { id: '7' },
      { id: 2 ** 53 },
      { id: null },
      { side: 'BUY' },
      { type: 'stop' },
      { type: undefined },
      { stp: 'cancelBoth' },
      { postOnly: 'yes' },
    ]) {
      assert.equal(
        rejectWith(engine, { ...fields, tif: 'DAY', qty: 0 }),
        'INVALID_ORDER',
        JSON.stringify(fields),
      );
    }
  });

  it('echoes the raw id in rejections, null when absent', () => {
    const engine = market();
    assert.deepEqual(place(engine, { ...goodOrder, id: 'abc' })[0], {
      ev: 'rejected',
      id: 'abc',
      reason: 'INVALID_ORDER',
    });
    const noId = step(engine, { op: 'place', symbol: SYMBOL, type: 'limit', ...goodOrder });
    assert.deepEqual(noId[0], { ev: 'rejected', id: null, reason: 'INVALID_ORDER' });
  });

  it('INVALID_TIF before INVALID_QTY: bad tif, market GTC, postOnly off GTC limit', () => {
    const engine = market();
    assert.equal(rejectWith(engine, { tif: 'DAY', qty: 0 }), 'INVALID_TIF');
    assert.equal(rejectWith(engine, { tif: 5, qty: 0 }), 'INVALID_TIF');
    assert.equal(rejectWith(engine, { type: 'market', price: null, tif: 'GTC', qty: 0 }), 'INVALID_TIF');
    assert.equal(rejectWith(engine, { postOnly: true, tif: 'IOC', qty: 0 }), 'INVALID_TIF');
    assert.equal(rejectWith(engine, { postOnly: true, tif: 'FOK', qty: 0 }), 'INVALID_TIF');
    assert.equal(rejectWith(engine, { postOnly: true, type: 'market', price: null, qty: 0 }), 'INVALID_TIF');
    assert.equal(rejectWith(engine, { postOnly: false, tif: 'IOC' }), undefined);
  });

  it('INVALID_QTY before INVALID_PRICE', () => {
    const engine = market();
    for (const qty of [0, -1, 1.5, '1', null, undefined, 2 ** 53]) {
      assert.equal(rejectWith(engine, { qty, price: 3 }), 'INVALID_QTY', String(qty));
    }
  });

  it('INVALID_PRICE: limit off tick, zero, absent; market with a price', () => {
    const engine = market();
    for (const price of [1_005, 0, -10, null, undefined, '1000', 1000.5]) {
      assert.equal(rejectWith(engine, { price }), 'INVALID_PRICE', String(price));
    }
    assert.equal(rejectWith(engine, { type: 'market', price: 1_000 }), 'INVALID_PRICE');
    assert.equal(rejectWith(engine, { type: 'market', price: 0 }), 'INVALID_PRICE');
    assert.equal(rejectWith(engine, { type: 'market', price: null }), undefined);
  });

  it('LIMIT_EXCEEDED when qty * lotSize or qty * price leaves the safe integers', () => {
    const engine = market();
    const hugeQty = Math.floor(Number.MAX_SAFE_INTEGER / LOT) + 1;
    assert.equal(rejectWith(engine, { qty: hugeQty, price: 10 }), 'LIMIT_EXCEEDED');
    assert.equal(
      rejectWith(engine, { side: 'sell', type: 'market', price: null, qty: hugeQty }),
      'LIMIT_EXCEEDED',
    );
    const priceQty = Math.floor(Number.MAX_SAFE_INTEGER / LOT);
    assert.equal(rejectWith(engine, { qty: priceQty, price: 1_000_000 }), 'LIMIT_EXCEEDED');
    assert.equal(rejectWith(engine, { qty: priceQty, price: 10 }), 'INSUFFICIENT_FUNDS');
  });

  it('POST_ONLY_WOULD_CROSS before INSUFFICIENT_FUNDS, whoever owns the crossed order', () => {
    const engine = market();
    place(engine, { user: 1, side: 'sell', qty: 1, price: 1_000 });
    place(engine, { user: 1, side: 'buy', qty: 1, price: 900 });
    assert.equal(rejectWith(engine, { user: 1, postOnly: true, price: 1_000 }), 'POST_ONLY_WOULD_CROSS');
    assert.equal(
      rejectWith(engine, { user: 9, postOnly: true, price: 1_010, qty: 5 }),
      'POST_ONLY_WOULD_CROSS',
    );
    assert.equal(
      rejectWith(engine, { user: 2, side: 'sell', postOnly: true, price: 900 }),
      'POST_ONLY_WOULD_CROSS',
    );
    assert.deepEqual(kinds(place(engine, { user: 2, side: 'sell', postOnly: true, qty: 1, price: 910 })), [
      'accepted',
      'rested',
    ]);
    assert.deepEqual(kinds(place(engine, { user: 2, postOnly: true, qty: 1, price: 900 })), [
      'accepted',
      'rested',
    ]);
  });

  it('INSUFFICIENT_FUNDS against available only; a market buy never fails it', () => {
    const engine = market();
    // 10,000,000 KRW buys at most 10,000 lots at 1,000.
    assert.equal(rejectWith(engine, { qty: 10_001, price: 1_000 }), 'INSUFFICIENT_FUNDS');
    assert.equal(rejectWith(engine, { side: 'sell', qty: 1_001 }), 'INSUFFICIENT_FUNDS');
    assert.equal(
      rejectWith(engine, { side: 'sell', type: 'market', price: null, qty: 1_001 }),
      'INSUFFICIENT_FUNDS',
    );
    assert.equal(rejectWith(engine, { user: 42, side: 'sell', qty: 1 }), 'INSUFFICIENT_FUNDS');
    place(engine, { user: 1, qty: 9_000, price: 1_000 });
    assert.deepEqual(balance(engine, 1, 'KRW'), [1_000_000, 9_000_000]);
    assert.equal(rejectWith(engine, { qty: 1_001, price: 1_000 }), 'INSUFFICIENT_FUNDS');
    assert.deepEqual(kinds(place(engine, { user: 42, type: 'market', price: null, qty: 5 })), [
      'accepted',
      'expired:UNFILLED',
    ]);
  });
});

describe('matching', () => {
  it('fills at the maker price in price-time priority and rests the GTC remainder', () => {
    const engine = market();
    const first = nextId;
    place(engine, { user: 1, side: 'sell', qty: 2, price: 1_010 });
    place(engine, { user: 2, side: 'sell', qty: 2, price: 1_000 });
    place(engine, { user: 1, side: 'sell', qty: 2, price: 1_000 });
    const taker = nextId;
    const events = place(engine, { user: 3, qty: 7, price: 1_020 });
    const trades = events.filter((event) => event.ev === 'trade');
    assert.deepEqual(
      trades.map((trade) => [trade.maker - first, trade.price, trade.qty]),
      [
        [1, 1_000, 2],
        [2, 1_000, 2],
        [0, 1_010, 2],
      ],
    );
    assert.deepEqual(events.at(-1), {
      ev: 'rested',
      id: taker,
      user: 3,
      symbol: SYMBOL,
      side: 'buy',
      price: 1_020,
      qty: 1,
      shownQty: 1,
    });
    assert.deepEqual(engine.depth(SYMBOL, 10), { symbol: SYMBOL, bids: [[1_020, 1]], asks: [] });
  });

  it('refunds a limit buy filling below its limit, charges fees in the received asset, floors them', () => {
    const engine = market();
    place(engine, { user: 2, side: 'sell', qty: 3, price: 1_230 });
    place(engine, { user: 1, qty: 3, price: 1_500, tif: 'IOC' });
    // Buyer pays 3 * 1230 = 3690 KRW and receives 3000 sat minus floor(3000 * 20 / 10000) = 6.
    assert.deepEqual(balance(engine, 1, 'KRW'), [10_000_000 - 3_690, 0]);
    assert.deepEqual(balance(engine, 1, 'BTC'), [1_000_000 + 3_000 - 6, 0]);
    // Seller receives 3690 KRW minus floor(3690 * 10 / 10000) = 3 (3.69 floored).
    assert.deepEqual(balance(engine, 2, 'KRW'), [10_000_000 + 3_690 - 3, 0]);
    assert.deepEqual(balance(engine, 2, 'BTC'), [1_000_000 - 3_000, 0]);
    assert.deepEqual(balance(engine, 0, 'BTC'), [6, 0]);
    assert.deepEqual(balance(engine, 0, 'KRW'), [3, 0]);
  });

  it('a taker sell pays the taker fee in quote, the resting buyer the maker fee in base', () => {
    const engine = market();
    place(engine, { user: 1, qty: 1, price: 990 });
    const events = place(engine, { user: 2, side: 'sell', qty: 1, price: 990 });
    const trade = events.find((event) => event.ev === 'trade');
    assert.ok(trade?.ev === 'trade');
    // Taker (seller) receives 990 KRW: fee floor(990 * 20 / 10000) = 1; maker receives 1000 sat: fee 1.
    assert.deepEqual([trade.takerFee, trade.makerFee, trade.takerSide, trade.tradeId], [1, 1, 'sell', 1]);
    assert.deepEqual(balance(engine, 1, 'BTC'), [1_000_000 + 999, 0]);
    assert.deepEqual(balance(engine, 2, 'KRW'), [10_000_000 + 989, 0]);
  });

  it('IOC limit: fills what crosses, expires the rest UNFILLED and releases its reservation', () => {
    const engine = market();
    place(engine, { user: 2, side: 'sell', qty: 1, price: 1_000 });
    place(engine, { user: 2, side: 'sell', qty: 1, price: 1_100 });
    const events = place(engine, { user: 1, qty: 4, price: 1_050, tif: 'IOC' });
    assert.deepEqual(kinds(events), ['accepted', 'trade', 'expired:UNFILLED']);
    const expired = events.at(-1);
    assert.equal(expired?.ev === 'expired' && expired.qty, 3);
    assert.deepEqual(balance(engine, 1, 'KRW'), [10_000_000 - 1_000, 0]);
  });

  it('market sell sweeps levels; its remainder expires UNFILLED and is unlocked', () => {
    const engine = market();
    place(engine, { user: 1, qty: 1, price: 1_000 });
    place(engine, { user: 1, qty: 1, price: 900 });
    const events = place(engine, { user: 2, side: 'sell', type: 'market', price: null, qty: 5 });
    assert.deepEqual(kinds(events), ['accepted', 'trade', 'trade', 'expired:UNFILLED']);
    assert.deepEqual(balance(engine, 2, 'BTC'), [1_000_000 - 2_000, 0]);
  });

  it('market buy fills at most floor(available / price) lots, then expires INSUFFICIENT_FUNDS', () => {
    const engine = market();
    step(engine, { op: 'deposit', user: 7, asset: 'KRW', amount: 2_500 });
    place(engine, { user: 2, side: 'sell', qty: 5, price: 1_000 });
    const events = place(engine, { user: 7, type: 'market', price: null, qty: 4 });
    assert.deepEqual(kinds(events), ['accepted', 'trade', 'expired:INSUFFICIENT_FUNDS']);
    assert.equal(events[1].ev === 'trade' && events[1].qty, 2);
    assert.equal(events[2].ev === 'expired' && events[2].qty, 2);
    assert.deepEqual(balance(engine, 7, 'KRW'), [500, 0]);
    const broke = place(engine, { user: 7, type: 'market', price: null, qty: 1 });
    assert.deepEqual(kinds(broke), ['accepted', 'expired:INSUFFICIENT_FUNDS']);
  });

  it('a sweep through 5,000 makers returns every trade, and the next command starts clean', () => {
    const engine = market();
    step(engine, { op: 'deposit', user: 1, asset: 'BTC', amount: 5_000_000 });
    const first = nextId;
    for (let index = 0; index < 5_000; index++) {
      // Straight to apply: checking invariants after each of 5,000 orders would be quadratic.
      const id = nextId++;
      const price = 1_000 + (index % 7) * TICK;
      engine.apply({ op: 'place', user: 1, id, symbol: SYMBOL, side: 'sell', type: 'limit', qty: 1, price });
    }
    engine.validateInternalState();
    const events = place(engine, { user: 3, type: 'market', price: null, qty: 5_001 });
    const trades = events.filter((event) => event.ev === 'trade');
    assert.equal(trades.length, 5_000);
    assert.equal(new Set(trades.map((trade) => trade.maker)).size, 5_000);
    assert.ok(trades.every((trade) => trade.maker >= first && trade.maker < first + 5_000));
    assert.deepEqual(kinds(events).at(-1), 'expired:UNFILLED');
    assert.deepEqual(kinds(place(engine, { user: 3, qty: 1, price: 900 })), ['accepted', 'rested']);
    assert.deepEqual(engine.depth(SYMBOL, 5)?.asks, []);
  });

  it('a market order on an empty book expires UNFILLED', () => {
    const engine = market();
    assert.deepEqual(kinds(place(engine, { user: 1, type: 'market', price: null, qty: 1 })), [
      'accepted',
      'expired:UNFILLED',
    ]);
    assert.deepEqual(kinds(place(engine, { user: 1, side: 'sell', type: 'market', price: null, qty: 1 })), [
      'accepted',
      'expired:UNFILLED',
    ]);
  });
});

describe('fill or kill', () => {
  it('fills completely when the book allows it', () => {
    const engine = market();
    place(engine, { user: 2, side: 'sell', qty: 2, price: 1_000 });
    place(engine, { user: 3, side: 'sell', qty: 2, price: 1_010 });
    assert.deepEqual(kinds(place(engine, { user: 1, qty: 4, price: 1_010, tif: 'FOK' })), [
      'accepted',
      'trade',
      'trade',
    ]);
  });

  it('otherwise expires FOK with nothing else changed', () => {
    const engine = market();
    place(engine, { user: 2, side: 'sell', qty: 2, price: 1_000 });
    place(engine, { user: 3, side: 'sell', qty: 2, price: 1_020 });
    const hash = engine.stateHash();
    const events = place(engine, { user: 1, qty: 4, price: 1_010, tif: 'FOK' });
    assert.deepEqual(kinds(events), ['accepted', 'expired:FOK']);
    assert.equal(events[1].ev === 'expired' && events[1].qty, 4);
    assert.deepEqual(balance(engine, 1, 'KRW'), [10_000_000, 0]);
    assert.notEqual(engine.stateHash(), hash, 'only the used id changed');
    assert.deepEqual(engine.depth(SYMBOL, 5)?.asks, [
      [1_000, 2],
      [1_020, 2],
    ]);
  });

  it('expireMaker: the dry run skips own orders and, on expiry, does not cancel them', () => {
    const engine = market();
    const own = nextId;
    place(engine, { user: 1, side: 'sell', qty: 2, price: 1_000 });
    place(engine, { user: 2, side: 'sell', qty: 1, price: 1_000 });
    const expired = place(engine, { user: 1, qty: 2, price: 1_000, tif: 'FOK' });
    assert.deepEqual(kinds(expired), ['accepted', 'expired:FOK']);
    assert.equal(engine.order(own)?.remaining, 2);
    const filled = place(engine, { user: 1, qty: 1, price: 1_000, tif: 'FOK' });
    assert.deepEqual(kinds(filled), ['accepted', 'cancelled:STP', 'trade']);
  });

  it('expireTaker and expireBoth: the dry run stops at the first own order', () => {
    const engine = market();
    place(engine, { user: 1, side: 'sell', qty: 1, price: 1_000 });
    place(engine, { user: 2, side: 'sell', qty: 5, price: 1_000 });
    for (const stp of ['expireTaker', 'expireBoth']) {
      assert.deepEqual(kinds(place(engine, { user: 1, qty: 1, price: 1_000, tif: 'FOK', stp })), [
        'accepted',
        'expired:FOK',
      ]);
    }
    assert.deepEqual(kinds(place(engine, { user: 1, qty: 6, price: 1_000, tif: 'FOK', stp: 'none' })), [
      'accepted',
      'trade',
      'trade',
    ]);
  });

  it('a market-buy FOK applies the funds limit in the dry run', () => {
    const engine = market();
    step(engine, { op: 'deposit', user: 7, asset: 'KRW', amount: 2_500 });
    place(engine, { user: 2, side: 'sell', qty: 5, price: 1_000 });
    assert.deepEqual(kinds(place(engine, { user: 7, type: 'market', price: null, qty: 3, tif: 'FOK' })), [
      'accepted',
      'expired:FOK',
    ]);
    assert.deepEqual(kinds(place(engine, { user: 7, type: 'market', price: null, qty: 2, tif: 'FOK' })), [
      'accepted',
      'trade',
    ]);
  });

  it('a self-trading market-buy FOK counts what it receives back as the maker', () => {
    const engine = new Engine();
    step(engine, {
      op: 'symbol',
      symbol: 'S',
      base: 'B',
      quote: 'Q',
      lotSize: 1,
      tickSize: 1,
      makerFeeBps: 0,
      takerFeeBps: 0,
    });
    step(engine, { op: 'deposit', user: 1, asset: 'B', amount: 10 });
    step(engine, { op: 'deposit', user: 1, asset: 'Q', amount: 100 });
    step(engine, {
      op: 'place',
      user: 1,
      id: 1,
      symbol: 'S',
      side: 'sell',
      type: 'limit',
      qty: 10,
      price: 100,
    });
    // 100 Q buys one lot; selling it to itself returns the 100, so all 10 lots fill.
    const events = step(engine, {
      op: 'place',
      user: 1,
      id: 2,
      symbol: 'S',
      side: 'buy',
      type: 'market',
      qty: 10,
      tif: 'FOK',
      stp: 'none',
    });
    assert.deepEqual(kinds(events), ['accepted', ...new Array(10).fill('trade')]);
  });
});

describe('self-trade prevention', () => {
  function crossedByOwnOrder(stp: string | undefined): {
    engine: Engine;
    events: EngineEvent[];
    own: number;
  } {
    const engine = market();
    const own = nextId;
    place(engine, { user: 1, side: 'sell', qty: 1, price: 1_000 });
    place(engine, { user: 2, side: 'sell', qty: 1, price: 1_000 });
    const events = place(engine, { user: 1, qty: 2, price: 1_000, stp });
    return { engine, events, own };
  }

  it('none: trades with itself', () => {
    const { events } = crossedByOwnOrder('none');
    assert.deepEqual(kinds(events), ['accepted', 'trade', 'trade']);
  });

  it('expireMaker (the default): cancels the own resting order and goes on', () => {
    for (const stp of [undefined, 'expireMaker']) {
      const { engine, events, own } = crossedByOwnOrder(stp);
      assert.deepEqual(kinds(events), ['accepted', 'cancelled:STP', 'trade', 'rested']);
      assert.equal(events[1].ev === 'cancelled' && events[1].id, own);
      assert.deepEqual(balance(engine, 1, 'BTC'), [1_000_000 + 1_000 - 2, 0]);
    }
  });

  it('expireTaker: the taker remainder expires STP, even a GTC limit, and the maker stays', () => {
    const { engine, events, own } = crossedByOwnOrder('expireTaker');
    assert.deepEqual(kinds(events), ['accepted', 'expired:STP']);
    assert.equal(engine.order(own)?.remaining, 1);
    assert.deepEqual(balance(engine, 1, 'KRW'), [10_000_000, 0]);
  });

  it('expireBoth: cancels the maker and expires the taker', () => {
    const { engine, events, own } = crossedByOwnOrder('expireBoth');
    assert.deepEqual(kinds(events), ['accepted', 'cancelled:STP', 'expired:STP']);
    assert.equal(engine.order(own), undefined);
    assert.deepEqual(balance(engine, 1, 'BTC'), [1_000_000, 0]);
  });

  it('expireTaker after partial fills expires only the remainder', () => {
    const engine = market();
    place(engine, { user: 2, side: 'sell', qty: 1, price: 1_000 });
    place(engine, { user: 1, side: 'sell', qty: 1, price: 1_000 });
    const events = place(engine, { user: 1, qty: 3, price: 1_000, stp: 'expireTaker' });
    assert.deepEqual(kinds(events), ['accepted', 'trade', 'expired:STP']);
    assert.equal(events[2].ev === 'expired' && events[2].qty, 2);
  });
});

describe('cancel and amend', () => {
  it('cancel releases the reservation; someone else, unknown, malformed or gone is UNKNOWN_ORDER', () => {
    const engine = market();
    const id = nextId;
    place(engine, { user: 1, qty: 3, price: 1_000 });
    assert.deepEqual(balance(engine, 1, 'KRW'), [10_000_000 - 3_000, 3_000]);
    for (const command of [
      { user: 2, id },
      { user: 1, id: id + 1_000_000 },
      { user: 1, id: String(id) },
      { user: '1', id },
      { id },
    ]) {
      assert.deepEqual(step(engine, { op: 'cancel', ...command }), [
        { ev: 'rejected', id: command.id, reason: 'UNKNOWN_ORDER' },
      ]);
    }
    const events = step(engine, { op: 'cancel', user: 1, id });
    assert.deepEqual(kinds(events), ['cancelled:USER']);
    assert.equal(events[0].ev === 'cancelled' && events[0].qty, 3);
    assert.deepEqual(balance(engine, 1, 'KRW'), [10_000_000, 0]);
    assert.equal(rejection(step(engine, { op: 'cancel', user: 1, id })), 'UNKNOWN_ORDER');
  });

  it('amend reduces in place, keeps priority and releases the difference', () => {
    const engine = market();
    const first = nextId;
    place(engine, { user: 1, side: 'sell', qty: 5, price: 1_000 });
    place(engine, { user: 2, side: 'sell', qty: 5, price: 1_000 });
    const amended = step(engine, { op: 'amend', user: 1, id: first, qty: 2 });
    assert.deepEqual(amended[0], {
      ev: 'amended',
      id: first,
      user: 1,
      symbol: SYMBOL,
      side: 'sell',
      price: 1_000,
      qty: 2,
      reducedBy: 3,
      shownReducedBy: 3,
    });
    assert.deepEqual(balance(engine, 1, 'BTC'), [1_000_000 - 2_000, 2_000]);
    const trades = place(engine, { user: 3, qty: 3, price: 1_000 }).filter((event) => event.ev === 'trade');
    assert.deepEqual(
      trades.map((trade) => [trade.maker, trade.qty]),
      [
        [first, 2],
        [first + 1, 1],
      ],
    );
  });

  it('amend checks the order before the qty; qty must be 0 < qty < remaining', () => {
    const engine = market();
    const id = nextId;
    place(engine, { user: 1, qty: 5, price: 1_000 });
    assert.equal(rejection(step(engine, { op: 'amend', user: 2, id, qty: 0 })), 'UNKNOWN_ORDER');
    for (const qty of [0, 5, 6, -1, 2.5, '2', null]) {
      assert.equal(rejection(step(engine, { op: 'amend', user: 1, id, qty })), 'INVALID_QTY', String(qty));
    }
    assert.equal(engine.order(id)?.remaining, 5);
  });
});

describe('deposits, withdrawals and symbols', () => {
  it('INVALID_AMOUNT for malformed user, asset or amount; withdraw needs available', () => {
    const engine = market();
    for (const fields of [
      { user: -1, asset: 'KRW', amount: 1 },
      { user: 1, asset: '', amount: 1 },
      { user: 1, asset: 'X'.repeat(33), amount: 1 },
      { user: 1, asset: 'KRW', amount: 0 },
      { user: 1, asset: 'KRW', amount: 1.5 },
      { user: 1, asset: 'KRW', amount: '5' },
    ]) {
      assert.equal(rejection(step(engine, { op: 'deposit', ...fields })), 'INVALID_AMOUNT');
      assert.equal(rejection(step(engine, { op: 'withdraw', ...fields })), 'INVALID_AMOUNT');
    }
    place(engine, { user: 1, qty: 9_000, price: 1_000 });
    assert.equal(
      rejection(step(engine, { op: 'withdraw', user: 1, asset: 'KRW', amount: 1_000_001 })),
      'INSUFFICIENT_FUNDS',
    );
    assert.equal(
      rejection(step(engine, { op: 'withdraw', user: 9, asset: 'KRW', amount: 1 })),
      'INSUFFICIENT_FUNDS',
    );
    assert.equal(
      rejection(step(engine, { op: 'withdraw', user: 1, asset: 'ETH', amount: 1 })),
      'INSUFFICIENT_FUNDS',
    );
    assert.equal(
      step(engine, { op: 'withdraw', user: 1, asset: 'KRW', amount: 1_000_000 })[0].ev,
      'withdrawn',
    );
    assert.deepEqual(balance(engine, 1, 'KRW'), [0, 9_000_000]);
  });

  it('a deposit taking an asset supply past MAX_SAFE_INTEGER is LIMIT_EXCEEDED', () => {
    const engine = new Engine();
    const room = Number.MAX_SAFE_INTEGER - 10;
    assert.equal(step(engine, { op: 'deposit', user: 1, asset: 'KRW', amount: room })[0].ev, 'deposited');
    assert.equal(
      rejection(step(engine, { op: 'deposit', user: 2, asset: 'KRW', amount: 11 })),
      'LIMIT_EXCEEDED',
    );
    assert.equal(step(engine, { op: 'deposit', user: 2, asset: 'KRW', amount: 10 })[0].ev, 'deposited');
  });

  it('symbol: DUPLICATE_SYMBOL first, then INVALID_SYMBOL for any malformed field', () => {
    const engine = market();
    const good = {
      op: 'symbol',
      symbol: 'ETH-KRW',
      base: 'ETH',
      quote: 'KRW',
      lotSize: 1,
      tickSize: 1,
      makerFeeBps: 0,
      takerFeeBps: 10_000,
    };
    assert.equal(rejection(step(engine, { ...good, symbol: SYMBOL, lotSize: -1 })), 'DUPLICATE_SYMBOL');
    for (const fields of [
      { symbol: '' },
      { symbol: 5 },
      { base: 'KRW' },
      { quote: undefined },
      { lotSize: 0 },
      { tickSize: 1.5 },
      { makerFeeBps: -1 },
      { takerFeeBps: 10_001 },
      { makerFeeBps: 0.5 },
    ]) {
      assert.equal(rejection(step(engine, { ...good, ...fields })), 'INVALID_SYMBOL', JSON.stringify(fields));
    }
    const { op: _op, ...added } = good;
    assert.deepEqual(step(engine, good)[0], { ev: 'symbolAdded', ...added });
    assert.deepEqual(
      engine.symbols().map((view) => view.symbol),
      [SYMBOL, 'ETH-KRW'],
    );
  });

  it('UNKNOWN_COMMAND for anything that is not an object with a known op', () => {
    const engine = market();
    for (const command of [
      null,
      undefined,
      5,
      'place',
      [],
      {},
      { op: 'PLACE' },
      { op: 7 },
      [{ op: 'place' }],
    ]) {
      assert.deepEqual(step(engine, command), [{ ev: 'rejected', id: null, reason: 'UNKNOWN_COMMAND' }]);
    }
  });
});

describe('configurable limits reject with LIMIT_EXCEEDED', () => {
  const symbolCommand = (symbol: string, base: string, quote: string) => ({
    op: 'symbol',
    symbol,
    base,
    quote,
    lotSize: 1,
    tickSize: 1,
    makerFeeBps: 0,
    takerFeeBps: 0,
  });

  it('symbolsMax and assetsMax (symbols and deposits)', () => {
    const engine = new Engine({ symbolsMax: 2, assetsMax: 3 });
    assert.equal(step(engine, symbolCommand('A-B', 'A', 'B'))[0].ev, 'symbolAdded');
    assert.equal(rejection(step(engine, symbolCommand('C-D', 'C', 'D'))), 'LIMIT_EXCEEDED');
    assert.equal(step(engine, symbolCommand('B-C', 'B', 'C'))[0].ev, 'symbolAdded');
    assert.equal(rejection(step(engine, symbolCommand('A-C', 'A', 'C'))), 'LIMIT_EXCEEDED');
    assert.equal(
      rejection(step(engine, { op: 'deposit', user: 1, asset: 'D', amount: 1 })),
      'LIMIT_EXCEEDED',
    );
    assert.equal(step(engine, { op: 'deposit', user: 1, asset: 'C', amount: 1 })[0].ev, 'deposited');
  });

  it('usersMax counts distinct depositors', () => {
    const engine = new Engine({ usersMax: 2 });
    step(engine, { op: 'deposit', user: 1, asset: 'A', amount: 1 });
    step(engine, { op: 'deposit', user: 2, asset: 'A', amount: 1 });
    assert.equal(
      rejection(step(engine, { op: 'deposit', user: 3, asset: 'A', amount: 1 })),
      'LIMIT_EXCEEDED',
    );
    assert.equal(step(engine, { op: 'deposit', user: 1, asset: 'A', amount: 1 })[0].ev, 'deposited');
  });

  it('openOrdersPerUserMax and ordersPerBookMax bind GTC limits only, before matching', () => {
    const engine = market({ openOrdersPerUserMax: 2, ordersPerBookMax: 3 });
    place(engine, { user: 1, qty: 1, price: 900 });
    place(engine, { user: 1, qty: 1, price: 910 });
    assert.equal(rejectWith(engine, { user: 1, price: 920 }), 'LIMIT_EXCEEDED');
    assert.equal(rejectWith(engine, { user: 1, price: 920, tif: 'IOC' }), undefined);
    place(engine, { user: 2, side: 'sell', qty: 1, price: 1_000 });
    // The book is full: even an order that would fill completely is refused when it is GTC.
    assert.equal(rejectWith(engine, { user: 3, price: 1_000 }), 'LIMIT_EXCEEDED');
    assert.deepEqual(kinds(place(engine, { user: 3, qty: 1, price: 1_000, tif: 'IOC' })), [
      'accepted',
      'trade',
    ]);
    assert.deepEqual(kinds(place(engine, { user: 3, qty: 1, price: 800 })), ['accepted', 'rested']);
  });

  it('restingOrdersMax bounds resting orders over all books; limits must be sane integers', () => {
    const engine = market({ restingOrdersMax: 2 });
    place(engine, { user: 1, qty: 1, price: 900 });
    place(engine, { user: 2, side: 'sell', qty: 1, price: 1_100 });
    assert.equal(rejectWith(engine, { user: 3, price: 950 }), 'LIMIT_EXCEEDED');
    assert.equal(rejectWith(engine, { user: 3, price: 950, tif: 'IOC' }), undefined);
    assert.throws(() => new Engine({ restingOrdersMax: 40_000_000 }), /restingOrdersMax/);
    assert.throws(() => new Engine({ usersMax: -1 }), /usersMax/);
    assert.throws(() => new Engine({ symbolsMax: 1.5 }), /symbolsMax/);
  });

  it('orderIdsMax bounds every order, accepted ids only', () => {
    const engine = market({ orderIdsMax: 2 });
    assert.equal(rejectWith(engine, { qty: 1_000_000 }), 'INSUFFICIENT_FUNDS');
    place(engine, { user: 1, qty: 1, price: 900 });
    place(engine, { user: 1, qty: 1, price: 900, tif: 'IOC' });
    assert.equal(rejectWith(engine, { tif: 'IOC' }), 'LIMIT_EXCEEDED');
    assert.equal(rejectWith(engine, { type: 'market', price: null }), 'LIMIT_EXCEEDED');
  });
});
