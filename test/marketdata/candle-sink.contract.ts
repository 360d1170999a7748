// The CandleSink port's contract (src/marketdata/candle-sink.ts), run against every adapter
// (MemoryCandleSink, and SqlCandleSink on PGlite and PostgreSQL: test/store/candle-sink.contract.test.ts).
// What the candle writer relies on when it replays a spilled batch: a sink upserts by
// (symbol, interval, source, open time), so the latest version of a candle wins within a batch and
// across batches, a batch written twice changes nothing, and trade and quote candles of the same
// minute are two series.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CandleSink } from '../../src/marketdata/candle-sink.js';
import type { CandleJson } from '../../src/marketdata/candles.js';

export const contractSymbol = 'AAA/USD';
export const contractStartMs = Date.UTC(2026, 10, 24, 9);
const minuteMs = 60_000;

/** A stored candle as the contract compares it, whatever the adapter's own shape. */
export type StoredCandle = [openMs: number, close: number, quoteVolume: string];

export interface CandleSinkFixture {
  sink: CandleSink;
  /** Every stored 1m candle of `contractSymbol` with this source, oldest first. */
  stored(source: 'trades' | 'quotes'): Promise<StoredCandle[]>;
  close(): Promise<void>;
}

function candle(minute: number, close: number, source: 'trades' | 'quotes' = 'trades'): CandleJson {
  return {
    symbol: contractSymbol,
    interval: '1m',
    source,
    openMs: contractStartMs + minute * minuteMs,
    closeMs: contractStartMs + (minute + 1) * minuteMs,
    open: 100,
    high: Math.max(100, close),
    low: Math.min(100, close),
    close,
    volume: minute + 1,
    quoteVolume: minute === 2 ? '123456789012345678901' : String((minute + 1) * 100),
    trades: 1,
    closed: true,
  };
}

function at(minute: number, close: number): StoredCandle {
  return [
    contractStartMs + minute * minuteMs,
    close,
    minute === 2 ? '123456789012345678901' : String((minute + 1) * 100),
  ];
}

async function withFixture(
  open: () => Promise<CandleSinkFixture | undefined>,
  run: (fixture: CandleSinkFixture) => Promise<void>,
) {
  const fixture = await open();
  if (fixture === undefined) return;
  try {
    await run(fixture);
  } finally {
    await fixture.close();
  }
}

/** `open` resolves undefined when the adapter cannot run here (it says why itself). */
export function candleSinkContract(name: string, open: () => Promise<CandleSinkFixture | undefined>): void {
  describe(`CandleSink contract: ${name}`, () => {
    it('keeps the latest version of each candle, within a batch and across batches', async () => {
      await withFixture(open, async ({ sink, stored }) => {
        await sink.write([candle(0, 100), candle(1, 101), candle(2, 102)]);
        await sink.write([candle(1, 7), candle(3, 8), candle(3, 9)]);
        assert.deepEqual(await stored('trades'), [at(0, 100), at(1, 7), at(2, 102), at(3, 9)]);
      });
    });

    it('changes nothing when a batch is written again, and takes an empty batch', async () => {
      await withFixture(open, async ({ sink, stored }) => {
        const batch = [candle(0, 100), candle(1, 101)];
        await sink.write(batch);
        await sink.write([]);
        await sink.write(batch);
        assert.deepEqual(await stored('trades'), [at(0, 100), at(1, 101)]);
      });
    });

    it('keeps trade and quote candles of the same minute as two series', async () => {
      await withFixture(open, async ({ sink, stored }) => {
        await sink.write([candle(0, 100), candle(0, 555, 'quotes')]);
        assert.deepEqual(await stored('trades'), [at(0, 100)]);
        assert.deepEqual(await stored('quotes'), [at(0, 555)]);
      });
    });
  });
}
