// Quote ingest: batched drain, candle aggregation equal to a naive grouping, dedupe of a replayed
// feed, bounded ring, and publication on the bus to hub subscribers.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  type Candle,
  ChannelHub,
  type ChannelPublisher,
  candleIntervals,
  InProcessBus,
  type Quote,
  QuoteIngest,
  SimulatedQuoteFeed,
} from '../../src/marketdata/index.js';
import { RecordingClient } from './support.js';

const silent: ChannelPublisher = { publish: () => {}, isWatched: () => false };
const startNs = BigInt(Date.parse('2026-03-06T14:30:00Z')) * 1_000_000n;

function quotes(seed: number, count: number, quotesPerSecond: number): Quote[] {
  const feed = new SimulatedQuoteFeed({ seed, symbolCount: 3, quotesPerSecond, startNs });
  return Array.from({ length: count }, () => feed.next());
}

function naiveMinuteCandles(
  all: Quote[],
  symbol: string,
): Array<Pick<Candle, 'openMs' | 'open' | 'high' | 'low' | 'close' | 'volume' | 'trades'>> {
  const byMinute = new Map<number, Quote[]>();
  for (const quote of all.filter((candidate) => candidate.symbol === symbol)) {
    const openMs = Math.floor(Number(quote.tsNs / 1_000_000n) / 60_000) * 60_000;
    byMinute.set(openMs, [...(byMinute.get(openMs) ?? []), quote]);
  }
  return [...byMinute].map(([openMs, group]) => ({
    openMs,
    open: group[0].price,
    high: Math.max(...group.map((quote) => quote.price)),
    low: Math.min(...group.map((quote) => quote.price)),
    close: group[group.length - 1].price,
    volume: group.reduce((sum, quote) => sum + quote.size, 0),
    trades: group.length,
  }));
}

test('drained batches aggregate into the same minute candles as a naive grouping', () => {
  const closed: Candle[] = [];
  const ingest = new QuoteIngest({
    publisher: silent,
    closedCandles: { add: (candles) => closed.push(...candles) },
  });
  const all = quotes(7, 6_000, 20);
  for (let start = 0; start < all.length; start += 500) {
    for (const quote of all.slice(start, start + 500)) assert.equal(ingest.push(quote), true);
    assert.equal(ingest.drain(), 500);
  }
  const minutes = closed.filter((candle) => candle.symbol === 'SIM1' && candle.interval === '1m');
  const current = ingest.candle('SIM1', '1m') as Candle;
  const built = [...minutes, current].map(({ openMs, open, high, low, close, volume, trades }) => ({
    openMs,
    open,
    high,
    low,
    close,
    volume,
    trades,
  }));
  assert.deepEqual(built, naiveMinuteCandles(all, 'SIM1'));
  assert.ok(minutes.every((candle) => candle.closed));
  assert.equal(ingest.stats().accepted, 6_000);
});

test('replaying the same feed twice never double-counts', () => {
  const closed: Candle[] = [];
  const ingest = new QuoteIngest({
    publisher: silent,
    closedCandles: { add: (candles) => closed.push(...candles) },
  });
  const all = quotes(11, 2_000, 1_000);
  for (const quote of all) ingest.push(quote);
  ingest.drain();
  const volumeOnce = ingest.candle('SIM0', '1d')?.volume;
  for (const quote of all) ingest.push({ ...quote });
  ingest.drain();
  assert.equal(ingest.candle('SIM0', '1d')?.volume, volumeOnce);
  const stats = ingest.stats();
  assert.equal(stats.accepted, 2_000);
  assert.equal(stats.duplicates + stats.late, 2_000);
});

test('the ring is bounded: a push beyond queueMax is refused and counted', () => {
  const ingest = new QuoteIngest({ publisher: silent, queueMax: 4 });
  const all = quotes(3, 5, 10);
  assert.deepEqual(
    all.map((quote) => ingest.push(quote)),
    [true, true, true, true, false],
  );
  assert.equal(ingest.stats().queueFull, 1);
  assert.equal(ingest.drain(), 4);
  assert.equal(ingest.push(all[4]), true);
});

test('bad quotes are rejected with a reason; the timer drains within its interval', async () => {
  const ingest = new QuoteIngest({ publisher: silent, drainMs: 1 });
  ingest.start();
  const good = quotes(5, 1, 10)[0];
  ingest.push({ ...good, price: 1.5 });
  ingest.push({ ...good, country: 'usa' });
  ingest.push({ ...good, timezone: 'Mars/Olympus' });
  ingest.push(good);
  ingest.push({ ...good, country: 'CA', tsNs: good.tsNs + 1n });
  await ingest.whenDrained();
  ingest.stop();
  assert.equal(ingest.stats().accepted, 1);
  assert.deepEqual(Object.fromEntries(ingest.rejections), {
    BAD_PRICE: 1,
    BAD_COUNTRY: 1,
    BAD_TIMEZONE_NAME: 1,
    SYMBOL_CONFLICT: 1,
  });
});

test('each batch publishes the latest quote and changed candles once per symbol, through the bus', () => {
  const hub = new ChannelHub();
  const bus = new InProcessBus();
  bus.subscribe(hub);
  let nowMs = 0;
  const ingest = new QuoteIngest({ publisher: bus, publishEveryMs: 50, clock: () => nowMs });
  hub.addSource(ingest);
  const all = quotes(13, 90, 10);
  for (const quote of all.slice(0, 3)) ingest.push(quote);
  ingest.drain();
  const client = new RecordingClient();
  const connection = hub.connect(client);
  connection?.handle({ op: 'subscribe', id: 1, ch: 'quotes.SIM0' });
  connection?.handle({ op: 'subscribe', id: 2, ch: 'quotecandles.SIM0.1s' });
  assert.deepEqual(
    client.take().map((message) => [message.ch, message.snapshot]),
    [
      ['quotes.SIM0', undefined],
      ['quotes.SIM0', true],
      ['quotecandles.SIM0.1s', undefined],
      ['quotecandles.SIM0.1s', true],
    ],
  );
  nowMs = 100;
  for (const quote of all.slice(3, 60)) ingest.push(quote);
  ingest.drain();
  const received = client.take();
  const quoteMessages = received.filter((message) => message.ch === 'quotes.SIM0');
  assert.equal(quoteMessages.length, 1, 'one quote message per symbol per batch');
  const last = all
    .slice(0, 60)
    .filter((quote) => quote.symbol === 'SIM0')
    .at(-1) as Quote;
  assert.equal((quoteMessages[0].data as { tsNs: string }).tsNs, last.tsNs.toString());
  const candles = received
    .filter((message) => message.ch === 'quotecandles.SIM0.1s')
    .map((message) => message.data as { closed: boolean; openMs: number });
  assert.ok(candles.filter((candle) => candle.closed).length >= 4, '1s candles closed over 6 s of quotes');
  assert.equal(candles.at(-1)?.closed, false, 'the candle in progress comes last');

  // Within the publish cadence only closed candles go out; the latest values follow when due.
  nowMs = 120;
  for (const quote of all.slice(60)) ingest.push(quote);
  ingest.drain();
  const throttled = client.take();
  assert.ok(throttled.every((message) => (message.data as { closed?: boolean }).closed === true));
  assert.ok(throttled.length >= 2, 'the 1s candles that closed were published at once');
  nowMs = 150;
  assert.equal(ingest.drain(), 0);
  const due = client.take();
  assert.deepEqual(
    due.map((message) => message.ch),
    ['quotes.SIM0', 'quotecandles.SIM0.1s'],
  );
  assert.equal(
    (due[0].data as { tsNs: string }).tsNs,
    (all.filter((quote) => quote.symbol === 'SIM0').at(-1) as Quote).tsNs.toString(),
  );
});

/** Closed and in-progress candles of every symbol and interval, comparable across runs. */
function candleState(closed: Candle[], ingest: QuoteIngest): string[] {
  const current = ['SIM0', 'SIM1', 'SIM2'].flatMap((symbol) =>
    candleIntervals.map((interval) => ingest.candle(symbol, interval)),
  );
  return [...closed, ...current].map((candle) =>
    JSON.stringify(candle && { ...candle, quoteVolume: String(candle.quoteVolume) }),
  );
}

test('a restart from the snapshot state continues the candles exactly as an uninterrupted run', () => {
  const all = quotes(21, 8_000, 20);
  const uninterruptedClosed: Candle[] = [];
  const uninterrupted = new QuoteIngest({
    publisher: silent,
    closedCandles: { add: (candles) => uninterruptedClosed.push(...candles) },
  });
  for (const quote of all) uninterrupted.push(quote);
  while (uninterrupted.drain() > 0) {}

  const restartedClosed: Candle[] = [];
  const closedCandles = { add: (candles: readonly Candle[]) => restartedClosed.push(...candles) };
  const before = new QuoteIngest({ publisher: silent, closedCandles });
  const half = 4_321;
  for (const quote of all.slice(0, half)) before.push(quote);
  while (before.drain() > 0) {}
  // Through JSON, as the snapshot file holds it.
  const state: unknown = JSON.parse(JSON.stringify(before.snapshotParticipant.exportState()));
  assert.equal(before.snapshotParticipant.readsState?.(state), true);
  const after = new QuoteIngest({ publisher: silent, closedCandles });
  after.snapshotParticipant.restoreState(state);
  // A feed that starts again from a little before where it stopped: the repeats are not counted.
  for (const quote of all.slice(half - 30)) after.push({ ...quote });
  while (after.drain() > 0) {}
  assert.deepEqual(candleState(restartedClosed, after), candleState(uninterruptedClosed, uninterrupted));
  assert.equal(before.stats().accepted + after.stats().accepted, all.length);
});

test('a snapshot state of another version is not read, so recovery passes the snapshot over', () => {
  const ingest = new QuoteIngest({ publisher: silent });
  assert.equal(ingest.snapshotParticipant.readsState?.({ version: 99, symbols: [] }), false);
  assert.throws(() => ingest.snapshotParticipant.restoreState({ symbols: 'nope' }), /quote ingest state/);
});

test('the same quote sent twice is counted once; a late quote of an earlier nanosecond is counted', () => {
  const ingest = new QuoteIngest({ publisher: silent });
  const [first] = quotes(5, 1, 10);
  const later = { ...first, tsNs: first.tsNs + 1n, price: first.price + 1 };
  const late = { ...first, price: first.price + 2 };
  for (const quote of [first, { ...first }, later, late, { ...later }]) ingest.push(quote);
  ingest.drain();
  const stats = ingest.stats();
  assert.equal(stats.accepted, 3);
  assert.equal(stats.duplicates, 2);
  assert.equal(ingest.candle(first.symbol, '1m')?.volume, first.size * 3);
});
