// External quotes across a graceful restart of the real exchange: the quote ingest's open candles
// and dedupe window are part of the snapshot, so the candles continue exactly as an uninterrupted
// run builds them (before, every open quote candle was lost and the stored candle came out short).
// Also: quote candles are stored and served apart from trade candles, and the ingest's counters
// are in /metrics.
import assert from 'node:assert/strict';
import { after, it } from 'node:test';
import { type Candle, candleIntervals, type Quote, QuoteIngest } from '../../src/marketdata/index.js';
import { startTestExchange, type TestExchange } from './support/exchange.js';

const symbol = 'BTC-USD';
const startMs = Date.parse('2026-03-06T14:30:00Z');
const quoteCount = 900;

/** One quote every 700 ms: 10.5 minutes, so 1s, 1m and 5m candles close along the way. */
function quoteAt(index: number): Quote {
  return {
    symbol,
    country: 'US',
    timezone: 'America/New_York',
    tsNs: BigInt(startMs + index * 700) * 1_000_000n,
    price: 60_000_000 + ((index * 7_919) % 50_000),
    size: 1 + (index % 9),
  };
}

const all = Array.from({ length: quoteCount }, (_, index) => quoteAt(index));
let test: TestExchange | undefined;
after(() => test?.close());

async function ingest(quotes: Quote[]): Promise<void> {
  const target = (test as TestExchange).exchange.quotes;
  for (const quote of quotes) {
    while (!target.push(quote)) await target.whenDrained();
  }
  while (target.stats().queued > 0) await target.whenDrained();
}

function comparable(candle: Candle | undefined) {
  return candle && { ...candle, quoteVolume: String(candle.quoteVolume) };
}

it('quote candles continue across a snapshot and restart exactly as without one', async () => {
  test = await startTestExchange();
  const admin = await test.api.adminToken();
  await test.api.createMarket(admin);
  await ingest(all.slice(0, 500));
  await test.api.expect(201, 'POST', '/api/v1/admin/snapshots', undefined, admin);
  await test.restart();
  // The feed starts again a little before where it stopped: the repeats are not counted.
  await ingest(all.slice(480));

  const closed: Candle[] = [];
  const reference = new QuoteIngest({
    publisher: { publish: () => {}, isWatched: () => false },
    closedCandles: { add: (candles) => closed.push(...candles) },
  });
  for (const quote of all) reference.push(quote);
  while (reference.drain() > 0) {}
  for (const interval of candleIntervals) {
    assert.deepEqual(
      comparable(test.exchange.quotes.candle(symbol, interval)),
      comparable(reference.candle(symbol, interval)),
      interval,
    );
  }
  assert.equal(test.exchange.quotes.candle(symbol, '1d')?.trades, quoteCount, 'every quote in the day');

  const query = `/api/v1/candles?symbol=${symbol}&interval=1m&limit=100`;
  const stored = await test.api.expect(200, 'GET', `${query}&source=quotes`);
  const referenceMinutes = closed.filter((candle) => candle.interval === '1m');
  assert.deepEqual(
    stored.items.map((candle: Record<string, unknown>) => [
      candle.openMs,
      candle.open,
      candle.close,
      candle.volume,
      candle.trades,
    ]),
    referenceMinutes.map((candle) => [
      candle.openMs,
      String(candle.open),
      String(candle.close),
      String(candle.volume),
      candle.trades,
    ]),
    'quote prices and sizes in the feed own integer units',
  );
  const trades = await test.api.expect(200, 'GET', query);
  assert.deepEqual(trades.items, [], 'quotes never appear among trade candles');
  const unknownSource = await test.api.call('GET', `${query}&source=ticks`);
  assert.equal(unknownSource.status, 400);
  assert.equal(unknownSource.body.code, 'VALIDATION_FAILED');
});

it('counts accepted, duplicate and refused quotes in /metrics', async () => {
  const exchange = (test as TestExchange).exchange;
  exchange.quotes.push({ ...all[0], price: 0 });
  exchange.quotes.push({ ...all[quoteCount - 1] });
  await ingest([]);
  const metrics = await (test as TestExchange).api.call('GET', '/metrics');
  const text = String(metrics.body);
  // Since the restart: 420 quotes from index 480, of which the 20 repeats were 19 late (before
  // the snapshot's newest millisecond) and 1 duplicate (in it); then one resend, one bad price.
  assert.match(text, /^hoga_quotes_accepted_total 400$/m);
  assert.match(text, /^hoga_quotes_duplicates_total 2$/m);
  assert.match(text, /^hoga_quotes_late_total 19$/m);
  assert.match(text, /^hoga_quotes_rejected_total\{reason="BAD_PRICE"\} 1$/m);
});
