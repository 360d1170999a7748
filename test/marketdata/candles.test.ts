// Candle boundaries: intraday intervals on the UTC grid; daily and weekly candles at the
// market's local midnight, across DST changes in New York and London (23- and 25-hour days).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { SymbolCandles } from '../../src/marketdata/candles.js';
import { type Candle, type CandleInterval, candleIntervals } from '../../src/marketdata/index.js';
import { MarketTimezone } from '../../src/marketdata/timezone.js';

const hourMs = 3_600_000;
const utc = (text: string): number => Date.parse(`${text}Z`);

function dayOf(timezone: string, atUtc: string): { start: string; hours: number } {
  const range = new MarketTimezone(timezone).dayRange(utc(atUtc));
  return { start: new Date(range.startMs).toISOString(), hours: (range.endMs - range.startMs) / hourMs };
}

test('local days across DST: New York and London, spring and autumn', () => {
  assert.deepEqual(dayOf('America/New_York', '2026-03-08T12:00:00'), {
    start: '2026-03-08T05:00:00.000Z',
    hours: 23,
  });
  assert.deepEqual(dayOf('America/New_York', '2026-11-01T12:00:00'), {
    start: '2026-11-01T04:00:00.000Z',
    hours: 25,
  });
  assert.deepEqual(dayOf('America/New_York', '2026-03-09T03:59:59'), {
    start: '2026-03-08T05:00:00.000Z',
    hours: 23,
  });
  assert.deepEqual(dayOf('America/New_York', '2026-03-09T04:00:00'), {
    start: '2026-03-09T04:00:00.000Z',
    hours: 24,
  });
  assert.deepEqual(dayOf('Europe/London', '2026-03-29T12:00:00'), {
    start: '2026-03-29T00:00:00.000Z',
    hours: 23,
  });
  assert.deepEqual(dayOf('Europe/London', '2026-10-25T12:00:00'), {
    start: '2026-10-24T23:00:00.000Z',
    hours: 25,
  });
  assert.deepEqual(dayOf('Europe/London', '2026-10-24T22:59:59'), {
    start: '2026-10-23T23:00:00.000Z',
    hours: 24,
  });
  assert.deepEqual(dayOf('Asia/Kolkata', '2026-03-08T12:00:00'), {
    start: '2026-03-07T18:30:00.000Z',
    hours: 24,
  });
});

test('local weeks start on Monday at local midnight, 167 or 169 hours long across DST', () => {
  const newYork = new MarketTimezone('America/New_York');
  const spring = newYork.weekRange(utc('2026-03-08T12:00:00'));
  assert.equal(new Date(spring.startMs).toISOString(), '2026-03-02T05:00:00.000Z');
  assert.equal((spring.endMs - spring.startMs) / hourMs, 167);
  const london = new MarketTimezone('Europe/London');
  const autumn = london.weekRange(utc('2026-10-26T00:00:00'));
  assert.equal(new Date(autumn.startMs).toISOString(), '2026-10-26T00:00:00.000Z');
  const before = london.weekRange(utc('2026-10-25T23:59:59'));
  assert.equal(new Date(before.startMs).toISOString(), '2026-10-18T23:00:00.000Z');
  assert.equal((before.endMs - before.startMs) / hourMs, 169);
});

test('property: a local day range holds its instant and starts and ends where the local date changes', () => {
  const zones = [
    'America/New_York',
    'Europe/London',
    'America/Santiago',
    'Australia/Lord_Howe',
    'Asia/Kathmandu',
    'UTC',
  ];
  fc.assert(
    fc.property(
      fc.constantFrom(...zones),
      fc.integer({ min: utc('2020-01-01T00:00:00'), max: utc('2030-01-01T00:00:00') }),
      (zone, atMs) => {
        const timezone = new MarketTimezone(zone);
        const { startMs, endMs } = timezone.dayRange(atMs);
        const date = timezone.localDate(atMs);
        assert.ok(startMs <= atMs && atMs < endMs);
        assert.equal(timezone.localDate(startMs), date);
        assert.notEqual(timezone.localDate(startMs - 1), date);
        assert.equal(timezone.localDate(endMs - 1), date);
        assert.notEqual(timezone.localDate(endMs), date);
      },
    ),
    { numRuns: 300 },
  );
});

function candlesBy(closed: Candle[], interval: CandleInterval): Candle[] {
  return closed.filter((candle) => candle.interval === interval);
}

test('daily candles close at New York local midnight, so the spring day is 23 hours of trades', () => {
  const candles = new SymbolCandles('AAPL', new MarketTimezone('America/New_York'));
  const closed: Candle[] = [];
  candles.add(utc('2026-03-08T04:59:59'), 100, 1, closed);
  candles.add(utc('2026-03-08T05:00:00'), 110, 2, closed);
  candles.add(utc('2026-03-08T20:00:00'), 90, 3, closed);
  candles.add(utc('2026-03-09T04:00:00'), 120, 4, closed);
  const days = candlesBy(closed, '1d');
  assert.equal(days.length, 2);
  assert.equal(new Date(days[0].closeMs).toISOString(), '2026-03-08T05:00:00.000Z');
  assert.deepEqual(
    { ...days[1], quoteVolume: days[1].quoteVolume.toString() },
    {
      symbol: 'AAPL',
      interval: '1d',
      source: 'trades',
      openMs: utc('2026-03-08T05:00:00'),
      closeMs: utc('2026-03-09T04:00:00'),
      open: 110,
      high: 110,
      low: 90,
      close: 90,
      volume: 5,
      quoteVolume: '490',
      trades: 2,
      closed: true,
    },
  );
  const current = candles.current('1d');
  assert.equal(current?.openMs, utc('2026-03-09T04:00:00'));
  assert.equal(current?.closed, false);
});

test('intraday candles sit on the UTC grid and every interval closes exactly once', () => {
  const candles = new SymbolCandles('BTC', new MarketTimezone('Europe/London'));
  const closed: Candle[] = [];
  const startMs = utc('2026-10-24T22:00:00');
  for (let second = 0; second < 3 * 3600; second += 7)
    candles.add(startMs + second * 1_000, 100 + (second % 13), 1, closed);
  candles.closeDue(utc('2026-11-02T00:00:00'), closed);
  for (const interval of candleIntervals) {
    const series = candlesBy(closed, interval);
    const volume = series.reduce((sum, candle) => sum + candle.volume, 0);
    assert.equal(volume, Math.ceil((3 * 3600) / 7), `${interval} volume`);
    for (let index = 1; index < series.length; index += 1)
      assert.ok(series[index].openMs >= series[index - 1].closeMs);
  }
  const hours = candlesBy(closed, '1h');
  assert.deepEqual(
    hours.map((candle) => new Date(candle.openMs).toISOString()),
    ['2026-10-24T22:00:00.000Z', '2026-10-24T23:00:00.000Z', '2026-10-25T00:00:00.000Z'],
  );
  const days = candlesBy(closed, '1d');
  assert.deepEqual(
    days.map((candle) => new Date(candle.openMs).toISOString()),
    ['2026-10-23T23:00:00.000Z', '2026-10-24T23:00:00.000Z'],
  );
  assert.equal(candlesBy(closed, '4h')[0].openMs, utc('2026-10-24T20:00:00'));
});

test('a trade stamped before the open candle counts in it; closed candles never reopen', () => {
  const candles = new SymbolCandles('X', new MarketTimezone('UTC'));
  const closed: Candle[] = [];
  candles.add(utc('2026-01-01T00:00:01'), 10, 1, closed);
  candles.add(utc('2026-01-01T00:00:02'), 11, 1, closed);
  candles.add(utc('2026-01-01T00:00:01.500'), 12, 1, closed);
  assert.equal(candlesBy(closed, '1s').length, 1);
  assert.equal(candles.current('1s')?.volume, 2);
  assert.equal(candles.current('1s')?.close, 12);
});

const dayFormats = new Map<string, Intl.DateTimeFormat>();

/** An independent local date: en-CA formats as YYYY-MM-DD. */
function localDay(timezone: string, atMs: number): string {
  let format = dayFormats.get(timezone);
  if (format === undefined) {
    format = new Intl.DateTimeFormat('en-CA', {
      timeZone: timezone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
    });
    dayFormats.set(timezone, format);
  }
  return format.format(atMs);
}

/** Monday of the local week, from the independent local date. */
function localWeek(timezone: string, atMs: number): string {
  const day = localDay(timezone, atMs);
  const date = new Date(`${day}T00:00:00Z`);
  date.setUTCDate(date.getUTCDate() - ((date.getUTCDay() + 6) % 7));
  return date.toISOString().slice(0, 10);
}

test('property: daily and weekly candles group trades exactly by local date and local week', () => {
  fc.assert(
    fc.property(
      fc.constantFrom(
        'America/New_York',
        'Europe/London',
        'Australia/Sydney',
        'Asia/Kolkata',
        'America/Santiago',
      ),
      fc.integer({ min: Date.parse('2024-01-01T00:00:00Z'), max: Date.parse('2027-01-01T00:00:00Z') }),
      fc.array(
        fc.record({
          gapMs: fc.integer({ min: 1, max: 20 * 3_600_000 }),
          price: fc.integer({ min: 1, max: 1_000 }),
          qty: fc.integer({ min: 1, max: 50 }),
        }),
        { minLength: 1, maxLength: 60 },
      ),
      (zone, startMs, steps) => {
        const candles = new SymbolCandles('P', new MarketTimezone(zone));
        const closed: Candle[] = [];
        const trades: Array<{ atMs: number; price: number; qty: number }> = [];
        let atMs = startMs;
        for (const step of steps) {
          atMs += step.gapMs;
          trades.push({ atMs, price: step.price, qty: step.qty });
          candles.add(atMs, step.price, step.qty, closed);
        }
        candles.closeDue(atMs + 9 * 86_400_000, closed);
        for (const [interval, groupOf] of [
          ['1d', localDay],
          ['1w', localWeek],
        ] as const) {
          const expected = new Map<string, { volume: number; trades: number; open: number; close: number }>();
          for (const trade of trades) {
            const group = groupOf(zone, trade.atMs);
            const entry = expected.get(group) ?? { volume: 0, trades: 0, open: trade.price, close: 0 };
            entry.volume += trade.qty;
            entry.trades += 1;
            entry.close = trade.price;
            expected.set(group, entry);
          }
          const built = candlesBy(closed, interval).map((candle) => {
            assert.equal(groupOf(zone, candle.openMs), groupOf(zone, candle.closeMs - 1), 'one local period');
            assert.notEqual(
              groupOf(zone, candle.openMs),
              groupOf(zone, candle.openMs - 1),
              'starts at its first instant',
            );
            return [
              groupOf(zone, candle.openMs),
              { volume: candle.volume, trades: candle.trades, open: candle.open, close: candle.close },
            ];
          });
          assert.deepEqual(built, [...expected]);
        }
      },
    ),
    { numRuns: 150 },
  );
});
