// The channel hub: acks and error codes, per-channel sequence numbers, since/reset recovery,
// conflation for slow clients and disconnection beyond the send-buffer bound.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  ChannelHub,
  type ChannelName,
  type ChannelSource,
  HubCloseCodes,
  type HubLimits,
  parseChannel,
} from '../../src/marketdata/index.js';
import { RecordingClient, type WireMessage } from './support.js';

/** Serves every channel of symbol X; the snapshot is a counter of how many were taken. */
class CountingSource implements ChannelSource {
  snapshots = 0;
  has(channel: ChannelName): boolean {
    return channel.symbol === 'X';
  }
  snapshot(channel: ChannelName): unknown {
    this.snapshots += 1;
    return { snapshotOf: channel.name };
  }
}

function makeHub(limits: Partial<HubLimits> = {}): { hub: ChannelHub; source: CountingSource } {
  const hub = new ChannelHub({ limits, epoch: 'e1' });
  const source = new CountingSource();
  hub.addSource(source);
  return { hub, source };
}

function connect(hub: ChannelHub): {
  client: RecordingClient;
  connection: NonNullable<ReturnType<ChannelHub['connect']>>;
} {
  const client = new RecordingClient();
  const connection = hub.connect(client);
  assert.ok(connection);
  return { client, connection };
}

test('subscribe answers with an ack, then a snapshot at the current seq; data messages count up', () => {
  const { hub } = makeHub();
  hub.publish('trades.X', { n: 1 });
  assert.equal(hub.stats().channels, 0, 'a channel nobody subscribed to is not even created');
  const { client, connection } = connect(hub);
  connection.handleText(JSON.stringify({ op: 'subscribe', id: 7, ch: 'trades.X' }));
  hub.publish('trades.X', { n: 2 });
  hub.publish('trades.Y', { n: 3 });
  assert.deepEqual(client.take(), [
    { id: 7, op: 'subscribe', ok: true, ch: 'trades.X', units: 'decimal', seq: 0, epoch: 'e1.1' },
    { ch: 'trades.X', seq: 0, snapshot: true, reset: false, data: { snapshotOf: 'trades.X' } },
    { ch: 'trades.X', seq: 1, data: { n: 2 } },
  ]);
  connection.handle({ op: 'unsubscribe', id: 8, ch: 'trades.X' });
  hub.publish('trades.X', { n: 4 });
  assert.deepEqual(client.take(), [{ id: 8, op: 'unsubscribe', ok: true, ch: 'trades.X' }]);
});

test('units: the formatter makes the default (decimal) messages; "engine" subscribers get the data as published', () => {
  const hub = new ChannelHub({
    epoch: 'e1',
    formatter: (channel, data) => ({ formatted: channel.name, data }),
  });
  hub.addSource(new CountingSource());
  const decimal = connect(hub);
  const engine = connect(hub);
  decimal.connection.handle({ op: 'subscribe', id: 1, ch: 'depth.X' });
  engine.connection.handle({ op: 'subscribe', id: 2, ch: 'depth.X', units: 'engine' });
  assert.equal(hub.stats().channels, 2, 'one channel per units, each with its own seq');
  hub.publish('depth.X', { n: 1 });
  assert.deepEqual(decimal.client.take(), [
    { id: 1, op: 'subscribe', ok: true, ch: 'depth.X', units: 'decimal', seq: 0, epoch: 'e1.1' },
    {
      ch: 'depth.X',
      seq: 0,
      snapshot: true,
      reset: false,
      data: { formatted: 'depth.X', data: { snapshotOf: 'depth.X' } },
    },
    { ch: 'depth.X', seq: 1, data: { formatted: 'depth.X', data: { n: 1 } } },
  ]);
  assert.deepEqual(engine.client.take(), [
    { id: 2, op: 'subscribe', ok: true, ch: 'depth.X', units: 'engine', seq: 0, epoch: 'e1.2' },
    { ch: 'depth.X', seq: 0, snapshot: true, reset: false, data: { snapshotOf: 'depth.X' } },
    { ch: 'depth.X', seq: 1, data: { n: 1 } },
  ]);
  decimal.connection.handle({ op: 'unsubscribe', id: 3, ch: 'depth.X', units: 'engine' });
  assert.equal(decimal.client.take()[0]?.error?.code, 'NOT_SUBSCRIBED');
  engine.connection.handle({ op: 'unsubscribe', id: 4, ch: 'depth.X', units: 'engine' });
  assert.equal(engine.client.take()[0]?.ok, true);
  hub.publish('depth.X', { n: 2 });
  assert.deepEqual(engine.client.take(), []);
  assert.equal(decimal.client.take().length, 1);
  decimal.connection.handle({ op: 'subscribe', id: 5, ch: 'depth.X', units: 'cents' });
  assert.equal(decimal.client.take()[0]?.error?.code, 'BAD_REQUEST');
});

test('errors carry stable codes: bad request, unknown channel, subscription limit, not subscribed', () => {
  const { hub } = makeHub({ subscriptionsPerConnectionMax: 2 });
  const { client, connection } = connect(hub);
  connection.handleText('{nope');
  connection.handleText(JSON.stringify({ op: 'order', id: 1 }));
  connection.handle({ op: 'subscribe', id: 2, ch: 'depth.Y' });
  connection.handle({ op: 'subscribe', id: 3, ch: 'candles.X.7m' });
  connection.handle({ op: 'subscribe', id: 4, ch: 'depth.X', since: 1.5 });
  connection.handle({ op: 'subscribe', id: 5, ch: 'depth.X' });
  connection.handle({ op: 'subscribe', id: 6, ch: 'candles.X.1m' });
  connection.handle({ op: 'subscribe', id: 7, ch: 'ticker.X' });
  connection.handle({ op: 'unsubscribe', id: 8, ch: 'quotes.X' });
  const errors = client
    .take()
    .filter((message) => message.ok === false)
    .map((message) => [message.id, message.error?.code]);
  assert.deepEqual(errors, [
    [null, 'BAD_REQUEST'],
    [1, 'BAD_REQUEST'],
    [2, 'UNKNOWN_CHANNEL'],
    [3, 'UNKNOWN_CHANNEL'],
    [4, 'BAD_REQUEST'],
    [7, 'SUBSCRIPTION_LIMIT'],
    [8, 'NOT_SUBSCRIBED'],
  ]);
  assert.equal(connection.handle({ op: 'place' }), false, 'foreign ops are left to the gateway');
});

test('since within history replays exactly the missed messages; too old or another epoch resets', () => {
  const { hub, source } = makeHub({ historyMax: 8 });
  const first = connect(hub);
  first.connection.handle({ op: 'subscribe', id: 1, ch: 'depth.X' });
  for (let n = 1; n <= 3; n += 1) hub.publish('depth.X', { n });
  const seen = first.client.take().filter((message) => message.op === undefined);
  const lastSeq = seen.at(-1)?.seq as number;
  assert.equal(lastSeq, 3);
  first.connection.close();
  for (let n = 4; n <= 9; n += 1) hub.publish('depth.X', { n });

  const second = connect(hub);
  second.connection.handle({ op: 'subscribe', id: 2, ch: 'depth.X', since: lastSeq, epoch: 'e1.1' });
  const replay = second.client.take().slice(1);
  assert.deepEqual(
    replay.map((message) => [message.seq, (message.data as { n: number }).n]),
    [4, 5, 6, 7, 8, 9].map((n) => [n, n]),
  );
  assert.equal(source.snapshots, 1, 'a replay needs no snapshot');

  for (let n = 10; n <= 30; n += 1) hub.publish('depth.X', { n });
  const third = connect(hub);
  third.connection.handle({ op: 'subscribe', id: 3, ch: 'depth.X', since: 9 });
  assert.deepEqual(third.client.take()[1], {
    ch: 'depth.X',
    seq: 30,
    snapshot: true,
    reset: true,
    data: { snapshotOf: 'depth.X' },
  });
  third.connection.handle({ op: 'subscribe', id: 4, ch: 'depth.X', since: 29, epoch: 'e0.1' });
  assert.equal(third.client.take()[1].reset, true, 'a since from another epoch is never trusted');
  third.connection.handle({ op: 'subscribe', id: 5, ch: 'depth.X', since: 31 });
  assert.equal(third.client.take()[1].reset, true, 'a since from the future resets');
});

test('tickers and quotes are conflated for a slow client: the latest wins once the buffer drains', () => {
  const { hub } = makeHub({ conflateAboveBytes: 1_000, sendBufferBytesMax: 100_000 });
  const { client, connection } = connect(hub);
  connection.handle({ op: 'subscribe', id: 1, ch: 'ticker.X' });
  connection.handle({ op: 'subscribe', id: 2, ch: 'trades.X' });
  client.take();
  client.bufferedAmount = 5_000;
  for (let n = 1; n <= 5; n += 1) {
    hub.publish('ticker.X', { n });
    hub.publish('trades.X', { n });
  }
  const whileSlow = client.take();
  assert.deepEqual(
    whileSlow.map((message) => message.ch),
    ['trades.X', 'trades.X', 'trades.X', 'trades.X', 'trades.X'],
    'trades are never conflated',
  );
  hub.flushPending();
  assert.equal(client.take().length, 0, 'still slow: nothing more is sent');
  client.bufferedAmount = 0;
  hub.flushPending();
  assert.deepEqual(client.take(), [{ ch: 'ticker.X', seq: 5, data: { n: 5 } }]);
  assert.equal(hub.stats().conflated, 5);
});

test('a client past the send-buffer bound is disconnected with 4008 and dropped from its channels', () => {
  const { hub } = makeHub({ sendBufferBytesMax: 10_000 });
  const slow = connect(hub);
  const fast = connect(hub);
  for (const { connection } of [slow, fast]) connection.handle({ op: 'subscribe', id: 1, ch: 'trades.X' });
  slow.client.bufferedAmount = 10_001;
  hub.publish('trades.X', { n: 1 });
  hub.publish('trades.X', { n: 2 });
  assert.deepEqual(slow.client.closedWith, { code: HubCloseCodes.slowConsumer, reason: 'SLOW_CONSUMER' });
  assert.equal(fast.client.take().filter((message: WireMessage) => message.op === undefined).length, 3);
  assert.equal(hub.stats().connections, 1);
  assert.equal(hub.stats().slowDisconnects, 1);
  slow.client.take();
  assert.equal(slow.connection.handle({ op: 'subscribe', id: 2, ch: 'depth.X' }), true);
  hub.publish('depth.X', { n: 3 });
  assert.equal(slow.client.sent.length, 0, 'a disconnected connection never subscribes again');
});

test('connections beyond the bound are refused with 1013', () => {
  const { hub } = makeHub({ connectionsMax: 1 });
  connect(hub);
  const refused = new RecordingClient();
  assert.equal(hub.connect(refused), undefined);
  assert.equal(refused.closedWith?.code, HubCloseCodes.tryAgainLater);
});

test('channels nobody subscribed to cost nothing; publishing to idle channels sends nothing', () => {
  const { hub } = makeHub();
  for (let n = 0; n < 1_000; n += 1) hub.publish(`trades.S${n}`, { n });
  assert.equal(hub.isWatched('trades.S1'), false);
  assert.deepEqual([hub.stats().channels, hub.stats().published], [0, 0]);
  const { client, connection } = connect(hub);
  connection.handle({ op: 'subscribe', id: 1, ch: 'trades.X' });
  connection.handle({ op: 'unsubscribe', id: 2, ch: 'trades.X' });
  assert.equal(hub.isWatched('trades.X'), true, 'still watched: a dropped client may come back with since');
  hub.publish('trades.X', { n: 1 });
  assert.equal(hub.stats().sent, 3);
  assert.equal(client.take().length, 3);
});

test('at channelsMax an idle channel makes room; a client coming back to it gets a reset, never a stale replay', () => {
  const { hub } = makeHub({ channelsMax: 2 });
  const { client, connection } = connect(hub);
  connection.handle({ op: 'subscribe', id: 1, ch: 'trades.X' });
  const firstAck = client.take()[0];
  hub.publish('trades.X', { n: 1 });
  connection.handle({ op: 'unsubscribe', id: 2, ch: 'trades.X' });
  connection.handle({ op: 'subscribe', id: 3, ch: 'depth.X' });
  connection.handle({ op: 'subscribe', id: 4, ch: 'ticker.X' });
  assert.equal(hub.isWatched('trades.X'), false, 'the idle channel was evicted');
  connection.handle({ op: 'subscribe', id: 5, ch: 'candles.X.1m' });
  assert.equal(client.take().at(-1)?.error?.code, 'CHANNEL_LIMIT', 'every channel has a subscriber');
  const other = connect(hub);
  connection.handle({ op: 'unsubscribe', id: 7, ch: 'ticker.X' });
  other.connection.handle({ op: 'subscribe', id: 8, ch: 'trades.X' });
  hub.publish('trades.X', { n: 2 });
  hub.publish('trades.X', { n: 3 });
  client.take();
  connection.handle({ op: 'subscribe', id: 9, ch: 'trades.X', since: 1, epoch: firstAck.epoch });
  const [ack, catchUp] = client.take();
  assert.notEqual(ack.epoch, firstAck.epoch);
  assert.deepEqual([catchUp.snapshot, catchUp.reset, catchUp.seq], [true, true, 2]);
});

test('each message is encoded once and the same text goes to every subscriber', () => {
  const { hub } = makeHub();
  const clients = Array.from({ length: 100 }, () => connect(hub));
  for (const { connection } of clients) connection.handle({ op: 'subscribe', id: 1, ch: 'trades.X' });
  for (const { client } of clients) client.take();
  let encodings = 0;
  hub.publish('trades.X', {
    toJSON: () => {
      encodings += 1;
      return { price: 5 };
    },
  });
  assert.equal(encodings, 1);
  const texts = new Set(clients.flatMap(({ client }) => client.sent));
  assert.deepEqual([...texts], ['{"ch":"trades.X","seq":1,"data":{"price":5}}']);
});

test('channel names parse into kind, symbol and interval; symbols may contain dots', () => {
  assert.deepEqual(parseChannel('candles.BRK.B.1m'), {
    name: 'candles.BRK.B.1m',
    kind: 'candles',
    symbol: 'BRK.B',
    interval: '1m',
  });
  assert.deepEqual(parseChannel('depth.BRK.B'), { name: 'depth.BRK.B', kind: 'depth', symbol: 'BRK.B' });
  assert.deepEqual(parseChannel('offerings.17'), { name: 'offerings.17', kind: 'offerings', symbol: '17' });
  for (const bad of ['depth', 'depth.', 'book.X', 'candles.X', 'candles.X.2m', `trades.${'S'.repeat(96)}`]) {
    assert.equal(parseChannel(bad), undefined, bad);
  }
});
