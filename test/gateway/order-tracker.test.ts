// The order tracker's bounds and snapshot forms: finished orders leave in the order they finished
// (FIFO), trades oldest first; form 2 (tuples) round-trips exactly; form 1 (objects, written before
// the version field) is still read; an unknown form is refused before anything is restored; a
// capture taken in the snapshot pause and serialised later holds the state at capture time (also
// for the idempotency index).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Command, EngineEvent } from '../../src/core/types.js';
import { IdempotencyConflict, IdempotencyIndex } from '../../src/gateway/idempotency.js';
import { isReadableTrackerState, OrderTracker } from '../../src/gateway/order-tracker.js';
import { GatewayState } from '../../src/gateway/state.js';
import { missingParticipants } from '../../src/journal/participant.js';
import { jsonPieces } from '../../src/journal/snapshot.js';
import type { CommandOutcome } from '../../src/ports.js';

const symbol = 'X-Y';
let seq = 0;

function outcome(command: Record<string, unknown>, events: EngineEvent[]): CommandOutcome {
  seq += 1;
  return { seq, ts: 1_000 + seq, command: command as unknown as Command, events };
}

function placed(user: number, id: number, qty: number, clientOrderId?: string): CommandOutcome {
  const command = {
    op: 'place',
    user,
    id,
    symbol,
    side: 'buy',
    type: 'limit',
    price: 10,
    qty,
    clientOrderId,
  };
  return outcome(command, [
    {
      ev: 'accepted',
      id,
      user,
      symbol,
      side: 'buy',
      type: 'limit',
      tif: 'GTC',
      price: 10,
      qty,
    } as unknown as EngineEvent,
    { ev: 'rested', id, symbol, side: 'buy', price: 10, qty } as unknown as EngineEvent,
  ]);
}

function cancelled(user: number, id: number, qty: number): CommandOutcome {
  return outcome({ op: 'cancel', user, id, symbol }, [
    { ev: 'cancelled', id, user, symbol, side: 'buy', price: 10, qty } as unknown as EngineEvent,
  ]);
}

/** A sell order of `seller` (never tracked as resting) that fills `qty` of the resting buy `makerId`. */
function filled(
  seller: number,
  takerId: number,
  makerId: number,
  qty: number,
  tradeId: number,
): CommandOutcome {
  return outcome({ op: 'place', user: seller, id: takerId, symbol }, [
    {
      ev: 'trade',
      tradeId,
      symbol,
      taker: takerId,
      maker: makerId,
      takerUser: seller,
      makerUser: 7,
      takerSide: 'sell',
      price: 10,
      qty,
      takerFee: 1,
      makerFee: 2,
    } as unknown as EngineEvent,
  ]);
}

function ids(tracker: OrderTracker, user: number): number[] {
  return tracker.orders(user).map((order) => order.id);
}

describe('order tracker', () => {
  it('drops the finished order that finished longest ago, never an open one', () => {
    const tracker = new OrderTracker({ finishedOrdersPerUserMax: 2, tradesPerUserMax: 10 });
    for (const id of [1, 2, 3, 4, 5]) tracker.apply(placed(7, id, 5));
    // Finish in an order unlike acceptance: 3, then 1, then 4.
    tracker.apply(cancelled(7, 3, 5));
    tracker.apply(cancelled(7, 1, 5));
    assert.deepEqual(ids(tracker, 7), [5, 4, 3, 2, 1]);
    tracker.apply(cancelled(7, 4, 5));
    // 3 finished first, so it leaves; 2 and 5 are open and stay.
    assert.deepEqual(ids(tracker, 7), [5, 4, 2, 1]);
    assert.equal(tracker.order(7, 3), undefined);
    assert.equal(tracker.order(7, 1)?.status, 'cancelled');
    assert.deepEqual(
      tracker.openOrders(7).map((order) => order.id),
      [5, 2],
    );
  });

  it('keeps the newest trades within the bound and finds them', () => {
    const tracker = new OrderTracker({ finishedOrdersPerUserMax: 10, tradesPerUserMax: 3 });
    tracker.apply(placed(7, 1, 10));
    for (let trade = 1; trade <= 5; trade++) tracker.apply(filled(8, 100 + trade, 1, 1, trade));
    assert.deepEqual(
      tracker.trades(7).map((trade) => trade.tradeId),
      [5, 4, 3],
    );
    assert.equal(tracker.trade(7, 4, 1)?.fee, 2);
    assert.equal(tracker.trade(7, 2, 1), undefined);
    assert.equal(tracker.order(7, 1)?.filled, 5);
  });

  it('round-trips its compact form exactly, and keeps dropping in finishing order after it', () => {
    const options = { finishedOrdersPerUserMax: 2, tradesPerUserMax: 2 };
    const tracker = new OrderTracker(options);
    for (const id of [1, 2, 3, 4]) tracker.apply(placed(7, id, 5, id === 2 ? 'client-2' : undefined));
    tracker.apply(placed(9, 5, 5));
    tracker.apply(cancelled(7, 2, 5));
    tracker.apply(filled(8, 50, 1, 5, 1));
    tracker.apply(filled(8, 51, 3, 2, 2));
    const text = JSON.stringify(tracker.exportState());
    const state = JSON.parse(text);
    assert.equal(state.version, 2);
    assert.ok(!text.includes('"remaining"'), 'no field names per order');
    const restored = new OrderTracker(options);
    restored.restoreState(JSON.parse(text));
    for (const user of [7, 9]) {
      assert.deepEqual(restored.orders(user), tracker.orders(user));
      assert.deepEqual(restored.trades(user), tracker.trades(user));
    }
    assert.equal(restored.order(7, 2)?.clientOrderId, 'client-2');
    assert.equal(JSON.stringify(restored.exportState()), text);
    // Finished so far: 2, then 1. The next to finish pushes out 2, as in the original.
    const next = cancelled(7, 4, 5);
    for (const each of [tracker, restored]) each.apply(next);
    assert.deepEqual(ids(restored, 7), [4, 3, 1]);
    assert.equal(JSON.stringify(restored.exportState()), JSON.stringify(tracker.exportState()));
  });

  it('a capture serialised later holds the state at capture time, whatever happened since', () => {
    const tracker = new OrderTracker({ finishedOrdersPerUserMax: 1, tradesPerUserMax: 1 });
    for (const id of [1, 2, 3]) tracker.apply(placed(7, id, 5));
    tracker.apply(cancelled(7, 1, 5));
    tracker.apply(filled(8, 40, 2, 2, 1));
    const atOnce = JSON.stringify(tracker.exportState());
    const captured = tracker.exportState();
    // Later commands: a fill and a cancel of captured open orders, a finished order pushed out, a new order.
    tracker.apply(filled(8, 41, 2, 3, 2));
    tracker.apply(cancelled(7, 3, 5));
    tracker.apply(placed(7, 4, 5));
    assert.equal(tracker.order(7, 1), undefined);
    assert.equal(JSON.stringify(captured), atOnce);
    // The snapshot writer's own slicing expands it the same way.
    assert.equal([...jsonPieces(captured)].join(''), atOnce);
  });

  it('reads the form written before the version field (objects with named fields)', () => {
    const order = {
      id: 1,
      user: 7,
      symbol,
      side: 'buy',
      type: 'limit',
      tif: 'GTC',
      price: 10,
      qty: 5,
      filled: 2,
      remaining: 3,
      status: 'open',
      createdAtMs: 1,
      updatedAtMs: 2,
    };
    const finished = { ...order, id: 2, filled: 5, remaining: 0, status: 'filled', clientOrderId: 'c' };
    const trade = {
      tradeId: 1,
      orderId: 2,
      symbol,
      side: 'buy',
      role: 'maker',
      price: 10,
      qty: 5,
      fee: 2,
      atMs: 2,
    };
    const tracker = new OrderTracker({ finishedOrdersPerUserMax: 1, tradesPerUserMax: 5 });
    assert.ok(isReadableTrackerState({ users: [] }));
    tracker.restoreState({ users: [{ user: 7, orders: [order, finished], trades: [trade] }] });
    assert.deepEqual(tracker.order(7, 1), order);
    assert.deepEqual(tracker.order(7, 2), finished);
    assert.deepEqual(tracker.trades(7), [trade]);
    // The open order still takes fills; a newly finished one pushes out order 2.
    tracker.apply(filled(8, 60, 1, 3, 2));
    assert.equal(tracker.order(7, 1)?.status, 'filled');
    assert.equal(tracker.order(7, 2), undefined);
  });

  it('an unknown form is refused, and the gateway participant reports it as missing', () => {
    const tracker = new OrderTracker({ finishedOrdersPerUserMax: 1, tradesPerUserMax: 1 });
    const future = { version: 3, users: [] };
    assert.equal(isReadableTrackerState(future), false);
    assert.throws(() => tracker.restoreState(future), /unknown form/);
    const state = new GatewayState({
      idempotency: { keysPerUserMax: 10, keyAgeMaxMs: 1_000 },
      tracker: { finishedOrdersPerUserMax: 1, tradesPerUserMax: 1 },
      streams: { sendBufferBytesMax: 1_000, socketsPerUserMax: 1 },
    });
    const participant = state.snapshotParticipant;
    const written = participant.exportState() as Record<string, unknown>;
    assert.deepEqual(missingParticipants([participant], { gateway: written }), []);
    assert.deepEqual(missingParticipants([participant], { gateway: { ...written, tracker: future } }), [
      'gateway',
    ]);
  });
});

describe('idempotency index snapshot', () => {
  it('a capture serialised later holds the keys kept at capture time, and restores them', () => {
    const index = new IdempotencyIndex<{ orderId: number }>({ keysPerUserMax: 2, keyAgeMaxMs: 1_000 });
    index.record(7, 'a', { orderId: 1 }, 100, 'f');
    index.record(7, 'b', { orderId: 2 }, 200, 'f');
    index.record(9, 'a', { orderId: 3 }, 300, 'f');
    const atOnce = JSON.stringify(index.exportState());
    const captured = index.exportState();
    index.record(7, 'c', { orderId: 4 }, 400, 'f');
    index.record(9, 'z', { orderId: 5 }, 5_000, 'f');
    assert.equal(index.lookup(7, 'a', 'f'), undefined);
    assert.equal([...jsonPieces(captured)].join(''), atOnce);
    const restored = new IdempotencyIndex<{ orderId: number }>({ keysPerUserMax: 2, keyAgeMaxMs: 1_000 });
    restored.restoreState(JSON.parse(atOnce));
    assert.deepEqual(restored.lookup(7, 'a', 'f'), { orderId: 1 });
    assert.deepEqual(restored.lookup(9, 'a', 'f'), { orderId: 3 });
    assert.equal(restored.lookup(7, 'c', 'f'), undefined);
    assert.throws(() => restored.lookup(7, 'a', 'other'), IdempotencyConflict, 'the fingerprint survives');
  });

  it('restores keys from a snapshot without fingerprints as retries of any request', () => {
    const restored = new IdempotencyIndex<{ orderId: number }>({ keysPerUserMax: 2, keyAgeMaxMs: 1_000 });
    restored.restoreState([[7, [['a', { orderId: 1 }, 100]]]]);
    assert.deepEqual(restored.lookup(7, 'a', 'any'), { orderId: 1 });
  });
});
