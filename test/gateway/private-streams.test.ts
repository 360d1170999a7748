// Private streams with fake sockets: per-user sequence numbers, fan-out to every socket of the
// user and no one else, session-scoped closing, and the bounded send buffer.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Command, EngineEvent } from '../../src/core/types.js';
import { MarketRegistry } from '../../src/gateway/markets.js';
import { OrderTracker } from '../../src/gateway/order-tracker.js';
import { closeCodes, PrivateStreams, type StreamClient } from '../../src/gateway/private-streams.js';
import type { CommandOutcome } from '../../src/ports.js';

class FakeSocket implements StreamClient {
  readonly sent: any[] = [];
  bufferedAmount = 0;
  closed: { code: number; reason: string } | undefined;
  /** When false the peer "stops reading": everything sent stays buffered. */
  reading = true;

  send(data: string): void {
    if (this.closed !== undefined) throw new Error('send after close');
    this.sent.push(JSON.parse(data));
    if (!this.reading) this.bufferedAmount += data.length;
  }

  close(code: number, reason: string): void {
    this.closed = { code, reason };
  }
}

let seq = 0;
function outcome(command: Record<string, unknown>, events: EngineEvent[]): CommandOutcome {
  seq += 1;
  return { seq, ts: 1_000 + seq, command: command as unknown as Command, events };
}

function setUp(sendBufferBytesMax = 1 << 20) {
  const markets = new MarketRegistry();
  const tracker = new OrderTracker({ finishedOrdersPerUserMax: 10, tradesPerUserMax: 10 });
  markets.apply(
    outcome(
      {
        op: 'symbol',
        symbol: 'X-Y',
        base: 'X',
        quote: 'Y',
        lotSize: 1,
        tickSize: 1,
        makerFeeBps: 0,
        takerFeeBps: 0,
        baseDecimals: 0,
        quoteDecimals: 0,
        lotSizeDecimal: '1',
        tickSizeDecimal: '1',
      },
      [
        {
          ev: 'symbolAdded',
          symbol: 'X-Y',
          base: 'X',
          quote: 'Y',
          lotSize: 1,
          tickSize: 1,
          makerFeeBps: 0,
          takerFeeBps: 0,
        },
      ],
    ),
  );
  const balance = (_user: number, asset: string) => ({ asset, available: 5, locked: 1 });
  const streams = new PrivateStreams({ sendBufferBytesMax, socketsPerUserMax: 2 }, balance, markets, tracker);
  const apply = (applied: CommandOutcome) => {
    tracker.apply(applied);
    streams.publish(applied);
  };
  return { streams, apply };
}

function restingOrder(user: number, id: number): CommandOutcome {
  return outcome({ op: 'place', user, id, symbol: 'X-Y' }, [
    { ev: 'accepted', id, user, symbol: 'X-Y', side: 'buy', type: 'limit', tif: 'GTC', price: 3, qty: 2 },
    { ev: 'rested', id, user, symbol: 'X-Y', side: 'buy', price: 3, qty: 2 },
  ]);
}

describe('PrivateStreams', () => {
  it('pushes order and balance updates to every socket of the user, numbered per user', () => {
    const { streams, apply } = setUp();
    const phone = new FakeSocket();
    const laptop = new FakeSocket();
    const stranger = new FakeSocket();
    assert.equal(streams.attach(1, 'session-a', phone), true);
    assert.equal(streams.attach(1, 'session-b', laptop), true);
    assert.equal(streams.attach(2, 'session-c', stranger), true);
    apply(restingOrder(1, 10));
    apply(restingOrder(1, 11));
    assert.deepEqual(
      phone.sent.map((message) => [message.ch, message.seq]),
      [
        ['orders', 1],
        ['balances', 2],
        ['orders', 3],
        ['balances', 4],
      ],
    );
    assert.deepEqual(laptop.sent, phone.sent);
    assert.equal(stranger.sent.length, 0, 'nobody sees another user’s stream');
    assert.deepEqual(phone.sent[0].data.remainingQty, '2');
    // A resting buy reserves quote: only the quote balance changed.
    assert.deepEqual(phone.sent[1].data, { asset: 'Y', available: '5', locked: '1' });
  });

  it('skips sockets that take no pushes, still counts them against the cap, and numbers only what is sent', () => {
    const { streams, apply } = setUp();
    const orderEntry = new FakeSocket();
    const viewer = new FakeSocket();
    assert.equal(streams.attach(1, 'a', orderEntry, false), true);
    apply(restingOrder(1, 20));
    assert.equal(orderEntry.sent.length, 0);
    assert.equal(streams.attach(1, 'b', viewer), true);
    assert.equal(streams.attach(1, 'c', new FakeSocket()), false, 'an order-entry socket counts');
    apply(restingOrder(1, 21));
    assert.equal(orderEntry.sent.length, 0);
    // Nothing was pushed while no socket took pushes, so the user's numbering starts at 1 here.
    assert.deepEqual(
      viewer.sent.map((message) => message.seq),
      [1, 2],
    );
    assert.equal(streams.setReceives(orderEntry, true), true);
    apply(restingOrder(1, 22));
    assert.deepEqual(
      orderEntry.sent.map((message) => message.seq),
      [3, 4],
    );
    streams.detach(viewer);
    streams.setReceives(orderEntry, false);
    apply(restingOrder(1, 23));
    assert.equal(orderEntry.sent.length, 2);
    assert.equal(streams.setReceives(new FakeSocket(), true), false);
  });

  it('caps sockets per user and closes only the sockets of an ended session', () => {
    const { streams } = setUp();
    const [first, second, third] = [new FakeSocket(), new FakeSocket(), new FakeSocket()];
    streams.attach(1, 'a', first);
    streams.attach(1, 'b', second);
    assert.equal(streams.attach(1, 'c', third), false);
    streams.closeSession(1, 'a', 'logout');
    assert.equal(first.closed?.code, closeCodes.sessionEnded);
    assert.equal(second.closed, undefined);
  });

  it('disconnects a socket that stops reading once its buffer passes the bound, and nothing else', () => {
    const { streams, apply } = setUp(2_000);
    const slow = new FakeSocket();
    const fast = new FakeSocket();
    slow.reading = false;
    streams.attach(1, 'a', slow);
    streams.attach(1, 'b', fast);
    for (let id = 100; id < 200; id += 1) apply(restingOrder(1, id));
    assert.deepEqual(slow.closed, { code: closeCodes.slowConsumer, reason: 'SLOW_CONSUMER' });
    assert.ok(slow.bufferedAmount <= 2_000, `buffer stayed bounded: ${slow.bufferedAmount}`);
    assert.equal(fast.closed, undefined);
    assert.equal(fast.sent.length, 200);
    assert.equal(streams.socketCount, 1);
  });
});
