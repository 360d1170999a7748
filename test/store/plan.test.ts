// The pure parts of the read model: batch planning, cursors and partition arithmetic.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CommandOutcome } from '../../src/ports.js';
import { decodeCursor, encodeCursor, pageOf, pageSizeMax, pageSizeOf } from '../../src/store/cursor.js';
import {
  daysWithinBound,
  partitionName,
  partitionSpanMs,
  partitionStartsFor,
  partitionsPerBatchMax,
} from '../../src/store/partitions.js';
import {
  type OrderRow,
  planBatch,
  referencedOrderIds,
  type SymbolAssets,
  unknownSymbols,
} from '../../src/store/plan.js';
import { OutcomeStream } from './outcomes.js';

const symbolAdded = {
  ev: 'symbolAdded',
  symbol: 'AAA/USD',
  base: 'AAA',
  quote: 'USD',
  lotSize: 1,
  tickSize: 1,
  makerFeeBps: 10,
  takerFeeBps: 20,
} as const;

function outcome(seq: number, events: CommandOutcome['events']): CommandOutcome {
  return { seq, ts: 1_000 + seq, command: { op: 'cancel', user: 0, id: 0 }, events };
}

describe('planBatch', () => {
  const maker = { id: 7, user: 1, symbol: 'AAA/USD', side: 'sell', price: 100 } as const;
  const taker = { id: 8, user: 2, symbol: 'AAA/USD', side: 'buy', price: 101 } as const;
  const outcomes = [
    outcome(1, [symbolAdded]),
    outcome(2, [
      { ev: 'accepted', ...maker, type: 'limit', tif: 'GTC', qty: 10 },
      { ev: 'rested', ...maker, qty: 10 },
    ]),
    outcome(3, [
      { ev: 'accepted', ...taker, type: 'limit', tif: 'IOC', qty: 4 },
      {
        ev: 'trade',
        tradeId: 1,
        symbol: 'AAA/USD',
        taker: 8,
        maker: 7,
        takerUser: 2,
        makerUser: 1,
        takerSide: 'buy',
        price: 100,
        qty: 3,
        takerFee: 6,
        makerFee: 0,
      },
      { ev: 'expired', ...taker, qty: 1, reason: 'UNFILLED' },
    ]),
  ];

  it('writes one row per order with its final state, and checks each fee against the rate', () => {
    const symbols = new Map<string, SymbolAssets>();
    const rows = planBatch(outcomes, new Map(), symbols);
    assert.deepEqual(
      rows.orders.map((order) => [
        order.orderId,
        order.status,
        order.filledQty,
        order.remainingQty,
        order.updatedSeq,
      ]),
      [
        [7, 'partiallyFilled', 3, 7, 3],
        [8, 'expired', 3, 0, 3],
      ],
    );
    // A fill's legs and fees are read from `trades` (the view `trade_legs`): no ledger rows.
    assert.deepEqual(rows.ledger, []);
    // 20 bps of 3 units is 0: a fee of 6 is one neither the rate nor a coupon explains.
    assert.equal(rows.unexplainedFees, 1);
    assert.deepEqual(
      rows.orderEvents.map((event) => [event.seq, event.eventIndex, event.kind]),
      [
        [2, 0, 'accepted'],
        [2, 1, 'rested'],
        [3, 0, 'accepted'],
        [3, 2, 'expired'],
      ],
    );
    assert.equal(symbols.get('AAA/USD')?.base, 'AAA');
    assert.equal(rows.tsMsMin, 1_001);
    assert.equal(rows.tsMsMax, 1_003);
  });

  it('split in two batches, the second reads the order the first wrote and ends in the same state', () => {
    const whole = planBatch(outcomes, new Map(), new Map());
    const symbols = new Map<string, SymbolAssets>();
    const first = planBatch(outcomes.slice(0, 2), new Map(), symbols);
    const second = outcomes.slice(2);
    assert.deepEqual(referencedOrderIds(second), [7]);
    const existing = new Map<number, OrderRow>(first.orders.map((order) => [order.orderId, order]));
    const rest = planBatch(second, existing, symbols);
    assert.deepEqual(rest.orders, whole.orders);
    assert.equal(first.orders[0].status, 'open', 'the first batch is not changed by the second');
  });

  it('counts events of orders it has never seen instead of inventing them', () => {
    const rows = planBatch(
      outcomes.slice(2),
      new Map(),
      new Map([['AAA/USD', { base: 'AAA', quote: 'USD', lotSize: 1, makerFeeBps: 10, takerFeeBps: 20 }]]),
    );
    assert.equal(rows.unknownOrderEvents, 1);
    assert.deepEqual(
      rows.orders.map((order) => order.orderId),
      [8],
    );
  });

  it('names the traded symbols it has no assets for', () => {
    assert.deepEqual(unknownSymbols(outcomes.slice(2), new Map()), ['AAA/USD']);
    assert.deepEqual(unknownSymbols(outcomes, new Map()), []);
  });

  it('plans the same rows for any split of a generated stream', () => {
    const seed = 5;
    const stream = new OutcomeStream({ seed, usersCount: 4, stepMs: 1, startTsMs: 0 }).take(400);
    const whole = planBatch(stream, new Map(), new Map());
    const orders = new Map<number, OrderRow>();
    const symbols = new Map<string, SymbolAssets>();
    let trades = 0;
    for (let start = 0; start < stream.length; start += 13) {
      const batch = stream.slice(start, start + 13);
      const existing = new Map(
        referencedOrderIds(batch).flatMap((id) => (orders.has(id) ? [[id, orders.get(id)!]] : [])),
      );
      const rows = planBatch(batch, existing, symbols);
      assert.equal(rows.unknownOrderEvents, 0, `seed ${seed}`);
      for (const order of rows.orders) orders.set(order.orderId, order);
      trades += rows.trades.length;
    }
    assert.equal(trades, whole.trades.length);
    assert.deepEqual(
      [...orders.values()].sort((left, right) => left.orderId - right.orderId),
      whole.orders,
      `seed ${seed}`,
    );
  });
});

describe('planBatch coupons', () => {
  const feeSymbol = { ...symbolAdded, symbol: 'CCC/USD', base: 'CCC', makerFeeBps: 100, takerFeeBps: 100 };
  const coupon = {
    ev: 'couponIssued',
    offering: 3,
    user: 1,
    makerDiscountPct: 50,
    takerDiscountPct: 50,
    expiresTs: 10_000,
    uses: 1,
  } as const;
  /** User 1 buys 100 lots at 100 from itself (fees 1 CCC and 100 USD before discounts), then again. */
  const selfTrade = (tradeId: number, takerFee: number, makerFee: number) =>
    ({
      ev: 'trade',
      tradeId,
      symbol: 'CCC/USD',
      taker: 10 + tradeId,
      maker: 20 + tradeId,
      takerUser: 1,
      makerUser: 1,
      takerSide: 'buy',
      price: 100,
      qty: 100,
      takerFee,
      makerFee,
    }) as const;
  const outcomes = [
    outcome(1, [feeSymbol]),
    outcome(2, [coupon]),
    // One use for the fill: the taker's fee of 1 keeps 1 after 50 % (the use is spent all the same),
    // the maker's 100 becomes 50 on the same use; the second fill finds no use left.
    outcome(3, [selfTrade(1, 1, 50)]),
    outcome(4, [selfTrade(2, 1, 100)]),
  ];

  it('finds the coupon the engine used for each fee, one use per fill, in one batch or two', () => {
    const whole = planBatch(outcomes, new Map(), new Map());
    assert.equal(whole.unexplainedFees, 0);
    assert.deepEqual(
      whole.couponUses.map((use) => [use.tradeId, use.role, use.fullFee, use.fee, use.usesLeft]),
      [
        [1, 'taker', 1, 1, 0],
        [1, 'maker', 100, 50, 0],
      ],
    );
    assert.deepEqual(
      whole.coupons.map((row) => [row.userId, row.offeringId, row.uses, row.usesLeft, row.updatedSeq]),
      [[1, 3, 1, 0, 3]],
    );
    const symbols = new Map<string, SymbolAssets>();
    const first = planBatch(outcomes.slice(0, 2), new Map(), symbols);
    const usable = new Map([[1, first.coupons]]);
    const rest = planBatch(outcomes.slice(2), new Map(), symbols, usable);
    assert.deepEqual(rest.couponUses, whole.couponUses);
    assert.deepEqual(rest.coupons, whole.coupons);
    assert.equal(first.coupons[0].usesLeft, 1, 'the cached coupon is not changed by planning');
  });
});

describe('cursors', () => {
  it('round-trip and reject anything the store did not issue', () => {
    assert.deepEqual(decodeCursor(encodeCursor([12, 3]), 2), [12, 3]);
    assert.equal(decodeCursor(null, 1), undefined);
    for (const bad of [
      '%%%',
      encodeCursor([1]),
      Buffer.from('[1.5,2]').toString('base64url'),
      'x'.repeat(300),
    ]) {
      assert.throws(() => decodeCursor(bad, 2), { code: 'INVALID_CURSOR' }, bad);
    }
  });

  it('bound the page size and link pages by the last key', () => {
    assert.equal(pageSizeOf({ limit: 10 ** 9 }), pageSizeMax);
    assert.throws(() => pageSizeOf({ limit: 1.5 }), { code: 'INVALID_QUERY' });
    const page = pageOf([{ id: 9 }, { id: 8 }, { id: 7 }], 2, (item) => [item.id]);
    assert.deepEqual(page.items, [{ id: 9 }, { id: 8 }]);
    assert.deepEqual(decodeCursor(page.next, 1), [8]);
    assert.equal(pageOf([{ id: 1 }], 2, (item) => [item.id]).next, null);
  });
});

describe('partitions', () => {
  it('cover every day of a batch plus one ahead, named by UTC day', () => {
    const day = Date.UTC(2026, 10, 24);
    assert.deepEqual(partitionStartsFor(day + 5, day + partitionSpanMs + 5), [
      day,
      day + partitionSpanMs,
      day + 2 * partitionSpanMs,
    ]);
    assert.equal(partitionName('trades', day), 'trades_d20261124');
  });

  it('cut a batch that would need too many partitions', () => {
    const items = Array.from({ length: 200 }, (_, index) => ({ ts: index * partitionSpanMs }));
    const head = daysWithinBound(items);
    assert.ok(head.length > 1 && head.length < items.length);
    const last = head[head.length - 1].ts;
    assert.ok(partitionStartsFor(head[0].ts, last).length <= partitionsPerBatchMax);
    assert.deepEqual(daysWithinBound([{ ts: 5 }]), [{ ts: 5 }]);
  });
});

describe('planBatch with stop, iceberg and OCO orders', () => {
  const user = { user: 1, symbol: 'AAA/USD', side: 'sell' } as const;
  const legB = 4 + 2 ** 52;
  const outcomes = [
    outcome(1, [symbolAdded]),
    // An iceberg, then an OCO: leg A rests, leg B is pending with its stop.
    outcome(2, [
      { ev: 'accepted', id: 2, ...user, type: 'limit', tif: 'GTC', price: 110, qty: 10, displayQty: 2 },
      { ev: 'rested', id: 2, ...user, price: 110, qty: 10, shownQty: 2 },
    ]),
    outcome(4, [
      { ev: 'accepted', id: 4, ...user, type: 'limit', tif: 'GTC', price: 120, qty: 5 },
      { ev: 'rested', id: 4, ...user, price: 120, qty: 5 },
      {
        ev: 'accepted',
        id: legB,
        ...user,
        type: 'market',
        tif: 'IOC',
        price: 0,
        qty: 5,
        stopPrice: 90,
        trigger: 'stopLoss',
      },
    ]),
  ];

  it('stores pending stops with their trigger, iceberg display sizes and OCO links', () => {
    const rows = planBatch(outcomes, new Map(), new Map());
    const byId = new Map(rows.orders.map((row) => [row.orderId, row]));
    const iceberg = byId.get(2) as OrderRow;
    assert.deepEqual([iceberg.status, iceberg.displayQty, iceberg.stopPrice], ['open', 2, null]);
    const legARow = byId.get(4) as OrderRow;
    const legBRow = byId.get(legB) as OrderRow;
    assert.deepEqual([legARow.status, legARow.ocoId], ['open', legB]);
    assert.deepEqual(
      [legBRow.status, legBRow.stopPrice, legBRow.trigger, legBRow.ocoId, legBRow.triggeredTsMs],
      ['pending', 90, 'stopLoss', 4, null],
    );
  });

  it('records the trigger as an order event and resolves the link with reason OCO', () => {
    const first = planBatch(outcomes, new Map(), new Map());
    const existing = new Map(first.orders.map((row) => [row.orderId, row]));
    const triggered = outcome(9, [
      { ev: 'triggered', id: legB, ...user },
      { ev: 'cancelled', id: 4, ...user, price: 120, qty: 5, reason: 'OCO' },
    ]);
    const rows = planBatch([triggered], existing, new Map());
    const byId = new Map(rows.orders.map((row) => [row.orderId, row]));
    const legBRow = byId.get(legB) as OrderRow;
    const legARow = byId.get(4) as OrderRow;
    assert.deepEqual([legBRow.status, legBRow.triggeredTsMs, legBRow.ocoId], ['open', 1_009, null]);
    assert.deepEqual([legARow.status, legARow.reason, legARow.ocoId], ['cancelled', 'OCO', null]);
    const legBEvents = rows.orderEventGroups.find((group) => group.orderId === legB);
    assert.deepEqual(JSON.parse(String(legBEvents?.events)), [[9, 0, 1_009, 'triggered', 0, 0, null]]);
    assert.deepEqual(referencedOrderIds([triggered]), [4, legB]);
  });
});
