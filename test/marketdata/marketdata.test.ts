// MarketData from engine outcomes: trades on the tape, tickers and in-progress candles on flush,
// closed candles (closed: true) to subscribers and to the candle writer; timezone per symbol.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Engine } from '../../src/core/engine.js';
import type { Command } from '../../src/core/types.js';
import { type Candle, ChannelHub, MarketData, QuoteIngest } from '../../src/marketdata/index.js';
import { RecordingClient, type WireMessage } from './support.js';

function setup(): {
  engine: Engine;
  market: MarketData;
  hub: ChannelHub;
  closed: Candle[];
  apply: (command: Command, atMs: number) => void;
} {
  const engine = new Engine();
  const hub = new ChannelHub();
  const closed: Candle[] = [];
  const market = new MarketData({
    publisher: hub,
    closedCandles: { add: (candles) => closed.push(...candles) },
    timezones: { 'KRW-X': 'Asia/Seoul' },
  });
  hub.addSource(market);
  let seq = 0;
  const apply = (command: Command, atMs: number): void => {
    seq += 1;
    market.onOutcome({
      seq,
      ts: atMs,
      command,
      events: engine.apply(command).map((event) => ({ ...event })),
    });
  };
  const start = Date.parse('2026-05-01T14:00:00Z');
  apply(
    {
      op: 'symbol',
      symbol: 'KRW-X',
      base: 'X',
      quote: 'KRW',
      lotSize: 1,
      tickSize: 1,
      makerFeeBps: 0,
      takerFeeBps: 0,
    },
    start,
  );
  for (const user of [1, 2]) {
    apply({ op: 'deposit', user, asset: 'X', amount: 1e9 }, start);
    apply({ op: 'deposit', user, asset: 'KRW', amount: 1e12 }, start);
  }
  return { engine, market, hub, closed, apply };
}

function trade(
  apply: (command: Command, atMs: number) => void,
  id: number,
  price: number,
  qty: number,
  atMs: number,
): void {
  apply({ op: 'place', user: 1, id, symbol: 'KRW-X', side: 'sell', type: 'limit', qty, price }, atMs);
  apply({ op: 'place', user: 2, id: id + 1, symbol: 'KRW-X', side: 'buy', type: 'market', qty }, atMs);
}

test('trades stream at once; tickers and in-progress candles on flush; closed candles at Seoul midnight', () => {
  const { market, hub, closed, apply } = setup();
  const client = new RecordingClient();
  const connection = hub.connect(client);
  for (const ch of ['trades.KRW-X', 'ticker.KRW-X', 'candles.KRW-X.1d'])
    connection?.handle({ op: 'subscribe', id: ch, ch });
  client.take();
  // 14:59:59 UTC is 23:59:59 in Seoul; 15:00 UTC is the next local day.
  const beforeMidnight = Date.parse('2026-05-01T14:59:59Z');
  trade(apply, 10, 1_000, 3, beforeMidnight);
  const streamed = client.take();
  assert.deepEqual(
    streamed.map((message) => message.ch),
    ['trades.KRW-X'],
  );
  assert.deepEqual(streamed[0].data, { id: 1, price: 1_000, qty: 3, side: 'buy', ts: beforeMidnight });
  market.flush(beforeMidnight);
  const flushed = client.take();
  const ticker = flushed.find((message) => message.ch === 'ticker.KRW-X')?.data as Record<string, unknown>;
  assert.equal(ticker.last, 1_000);
  assert.equal(ticker.volume, 3);
  const inProgress = flushed.find((message) => message.ch === 'candles.KRW-X.1d')?.data as Record<
    string,
    unknown
  >;
  assert.equal(inProgress.closed, false);
  assert.equal(inProgress.openMs, Date.parse('2026-04-30T15:00:00Z'));

  trade(apply, 20, 1_100, 1, Date.parse('2026-05-01T15:00:01Z'));
  const rolled = client.take().filter((message: WireMessage) => message.ch === 'candles.KRW-X.1d');
  assert.equal(rolled.length, 1);
  assert.deepEqual((rolled[0].data as Record<string, unknown>).closed, true);
  assert.equal((rolled[0].data as Record<string, unknown>).closeMs, Date.parse('2026-05-01T15:00:00Z'));
  assert.ok(closed.some((candle) => candle.interval === '1d' && candle.volume === 3));
  assert.deepEqual(
    market.recentTrades('KRW-X')?.map((tape) => tape.id),
    [1, 2],
  );
});

test('flush closes candles whose interval ended even without a later trade', () => {
  const { market, closed, apply } = setup();
  const atMs = Date.parse('2026-05-01T10:00:00.500Z');
  trade(apply, 10, 500, 2, atMs);
  market.flush(atMs + 200);
  assert.equal(closed.length, 0);
  market.flush(atMs + 600);
  assert.deepEqual(
    closed.map((candle) => candle.interval),
    ['1s'],
  );
  market.flush(atMs + 60_000);
  assert.deepEqual(
    closed.map((candle) => candle.interval),
    ['1s', '1m'],
  );
  assert.equal(market.candle('KRW-X', '1m'), undefined);
});

test('an unknown timezone is refused at construction', () => {
  assert.throws(
    () => new MarketData({ publisher: new ChannelHub(), defaultTimezone: 'Nowhere/Land' }),
    /MARKETDATA_BAD_TIMEZONE/,
  );
});

test('the flush timer runs on the given clock until stopped', async () => {
  const { market, closed, apply } = setup();
  const atMs = Date.parse('2026-05-01T10:00:00.500Z');
  trade(apply, 10, 500, 2, atMs);
  let flushes = 0;
  // The flush timer is unref'd (it never keeps a process alive); this handle keeps the test's.
  const keepAlive = setInterval(() => {}, 1_000);
  await new Promise<void>((resolve) => {
    market.start(1, () => {
      flushes += 1;
      if (flushes === 3) resolve();
      return atMs + 1_000;
    });
  });
  market.stop();
  clearInterval(keepAlive);
  assert.deepEqual(
    closed.map((candle) => candle.interval),
    ['1s'],
  );
});

test('a timezone on the listing event is used unless configuration names one', () => {
  const market = new MarketData({ publisher: new ChannelHub(), timezones: { B: 'Europe/London' } });
  const listing = {
    ev: 'symbolAdded',
    base: 'X',
    quote: 'Y',
    lotSize: 1,
    tickSize: 1,
    makerFeeBps: 0,
    takerFeeBps: 0,
  };
  const events = ['A', 'B', 'C'].map((symbol, index) => ({
    ...listing,
    symbol,
    timezone: ['Asia/Seoul', 'Asia/Seoul', 'Not/AZone'][index],
  }));
  market.onOutcome({
    seq: 1,
    ts: 0,
    command: { op: 'deposit', user: 1, asset: 'X', amount: 1 },
    events: events as never,
  });
  const atMs = Date.parse('2026-05-01T12:00:00Z');
  for (const symbol of ['A', 'B', 'C']) {
    market.onOutcome({
      seq: 2,
      ts: atMs,
      command: { op: 'deposit', user: 1, asset: 'X', amount: 1 },
      events: [
        { ev: 'rested', id: 1, user: 1, symbol, side: 'sell', price: 5, qty: 1 },
        {
          ev: 'trade',
          tradeId: 1,
          symbol,
          taker: 2,
          maker: 1,
          takerUser: 2,
          makerUser: 1,
          takerSide: 'buy',
          price: 5,
          qty: 1,
          takerFee: 0,
          makerFee: 0,
        },
      ],
    });
  }
  const dayStart = (symbol: string): string =>
    new Date(market.candle(symbol, '1d')?.openMs ?? 0).toISOString();
  assert.equal(dayStart('A'), '2026-04-30T15:00:00.000Z');
  assert.equal(dayStart('B'), '2026-04-30T23:00:00.000Z');
  assert.equal(dayStart('C'), '2026-05-01T00:00:00.000Z');
});

test('no depth diff is built while nobody watches; the first watched diff follows the snapshot', () => {
  let watched = false;
  const published: Array<{ channel: string; message: unknown }> = [];
  const engine = new Engine();
  const market = new MarketData({
    publisher: {
      isWatched: () => watched,
      publish: (channel, message) => published.push({ channel, message }),
    },
  });
  let seq = 0;
  const apply = (command: Command): void => {
    seq += 1;
    market.onOutcome({
      seq,
      ts: 1_000,
      command,
      events: engine.apply(command).map((event) => ({ ...event })),
    });
  };
  apply({
    op: 'symbol',
    symbol: 'A-B',
    base: 'A',
    quote: 'B',
    lotSize: 1,
    tickSize: 1,
    makerFeeBps: 0,
    takerFeeBps: 0,
  });
  apply({ op: 'deposit', user: 1, asset: 'B', amount: 1e9 });
  for (const [id, price] of [
    [1, 10],
    [2, 11],
  ])
    apply({ op: 'place', user: 1, id, symbol: 'A-B', side: 'buy', type: 'limit', qty: 1, price });
  assert.equal(published.length, 0);
  const snapshot = market.depth('A-B', 10);
  assert.equal(snapshot?.lastUpdateId, 2);
  watched = true;
  apply({ op: 'place', user: 1, id: 3, symbol: 'A-B', side: 'buy', type: 'limit', qty: 2, price: 12 });
  const diffs = published.filter((each) => each.channel === 'depth.A-B').map((each) => each.message);
  // Only the level changed while watched: the unwatched changes went out with the snapshot.
  assert.deepEqual(diffs, [{ symbol: 'A-B', U: 3, u: 3, bids: [[12, 2]], asks: [] }]);
});

test('trade candles and quote candles of one symbol are separate channels, each with its own snapshot', () => {
  const { hub, apply } = setup();
  const quotes = new QuoteIngest({ publisher: hub, publishEveryMs: 0 });
  hub.addSource(quotes);
  const atMs = Date.parse('2026-05-01T15:00:10Z');
  trade(apply, 30, 1_000, 2, atMs);
  quotes.push({
    symbol: 'KRW-X',
    country: 'KR',
    timezone: 'Asia/Seoul',
    tsNs: BigInt(atMs) * 1_000_000n,
    price: 7_777,
    size: 5,
  });
  quotes.drain();
  const client = new RecordingClient();
  const connection = hub.connect(client);
  connection?.handle({ op: 'subscribe', id: 1, ch: 'candles.KRW-X.1m' });
  connection?.handle({ op: 'subscribe', id: 2, ch: 'quotecandles.KRW-X.1m' });
  const snapshots = client.take().filter((message: WireMessage) => message.snapshot === true);
  assert.deepEqual(
    snapshots.map((message) => {
      const candle = message.data as { close: number; source: string };
      return [message.ch, candle.close, candle.source];
    }),
    [
      ['candles.KRW-X.1m', 1_000, 'trades'],
      ['quotecandles.KRW-X.1m', 7_777, 'quotes'],
    ],
  );
  quotes.push({
    symbol: 'KRW-X',
    country: 'KR',
    timezone: 'Asia/Seoul',
    tsNs: BigInt(atMs + 1) * 1_000_000n,
    price: 8_000,
    size: 1,
  });
  quotes.drain();
  const live = client.take();
  assert.deepEqual(
    live.map((message) => [message.ch, (message.data as { close: number }).close]),
    [['quotecandles.KRW-X.1m', 8_000]],
    'a quote never moves the trade candle',
  );
});
