// Market data's candle sink (src/marketdata/candle-sink.ts) over the SQL candles table: the
// candle writer batches closed candles, spills them when this throws, and replays them later,
// which the upsert by (symbol, interval, source, open time) makes harmless.
import type { CandleSink } from '../marketdata/candle-sink.js';
import type { CandleJson } from '../marketdata/candles.js';
import type { SqlCandles } from './candles.js';

export class SqlCandleSink implements CandleSink {
  constructor(private readonly candles: SqlCandles) {}

  write(batch: readonly CandleJson[]): Promise<void> {
    return this.candles.writeCandles(
      batch.map((candle) => ({
        symbol: candle.symbol,
        interval: candle.interval,
        // A spill line written before candles carried their source is a trade candle.
        source: candle.source ?? 'trades',
        openTimeMs: candle.openMs,
        closeTimeMs: candle.closeMs,
        open: candle.open,
        high: candle.high,
        low: candle.low,
        close: candle.close,
        volumeQty: candle.volume,
        quoteVolume: candle.quoteVolume,
        tradeCount: candle.trades,
      })),
    );
  }
}
