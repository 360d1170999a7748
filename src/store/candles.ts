// Closed candles from market data, upserted in batches. Idempotent by key (symbol, interval,
// source, open time), so a sink that resends a batch after a failure writes the same rows: no checkpoint.
import { decodeCursor, pageOf, pageSizeOf } from './cursor.js';
import { StoreError } from './errors.js';
import type { HistoryQuery, Page } from './ports.js';
import type { SqlExecutor } from './sql.js';

export interface CandleRecord {
  symbol: string;
  /** Market data's interval name, e.g. '1s', '1m', '1h', '1d'. */
  interval: string;
  /** 'trades' (the exchange's own) or 'quotes' (an external feed): different series. */
  source: string;
  openTimeMs: number;
  /** First millisecond after the candle. */
  closeTimeMs: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volumeQty: number;
  /** Sum of price * qty as a decimal integer string (it can pass 2^53). */
  quoteVolume: string;
  tradeCount: number;
}

/** Candles per write: bounds one statement's arrays (a caller with more splits them). */
export const candleBatchMax = 10_000;

/**
 * Writes candle rows to the candles table (upsert by key). Not market data's `CandleSink`
 * (src/marketdata/candle-sink.ts), which takes candles as market data emits them: SqlCandleSink
 * adapts that one onto this one.
 */
export interface CandleRowWriter {
  writeCandles(batch: readonly CandleRecord[]): Promise<void>;
}

export interface CandleRange {
  symbol: string;
  interval: string;
  source: string;
  fromMs: number;
  /** Exclusive. */
  toMs: number;
}

type Numeric = number | string;

export class SqlCandles implements CandleRowWriter {
  constructor(private readonly executor: SqlExecutor) {}

  async writeCandles(batch: readonly CandleRecord[]): Promise<void> {
    for (let start = 0; start < batch.length; start += candleBatchMax) {
      await this.writeChunk(latestPerKey(batch.slice(start, start + candleBatchMax)));
    }
  }

  /** Candles of one symbol and interval with open time in [fromMs, toMs), oldest first. */
  async candles(range: CandleRange, query: HistoryQuery): Promise<Page<CandleRecord>> {
    if (
      !Number.isSafeInteger(range.fromMs) ||
      !Number.isSafeInteger(range.toMs) ||
      range.fromMs > range.toMs
    ) {
      throw new StoreError('INVALID_QUERY', 'fromMs and toMs must be integers with fromMs <= toMs');
    }
    const pageSize = pageSizeOf(query);
    const [afterMs] = decodeCursor(query.cursor, 1) ?? [range.fromMs - 1];
    const records = await this.executor.query<CandleSqlRow>(
      `SELECT symbol, interval, source, open_time_ms, close_time_ms, open, high, low, close, volume_qty,
              quote_volume::text AS quote_volume, trade_count FROM candles
        WHERE symbol = $1 AND interval = $2 AND source = $3
          AND open_time_ms > $4 AND open_time_ms >= $5 AND open_time_ms < $6
        ORDER BY open_time_ms LIMIT $7`,
      [range.symbol, range.interval, range.source, afterMs, range.fromMs, range.toMs, pageSize + 1],
    );
    return pageOf(records.map(candleOf), pageSize, (candle) => [candle.openTimeMs]);
  }

  private async writeChunk(batch: readonly CandleRecord[]): Promise<void> {
    if (batch.length === 0) return;
    await this.executor.query(
      `INSERT INTO candles (symbol, interval, open_time_ms, open, high, low, close, volume_qty, trade_count,
                           close_time_ms, quote_volume, source)
       SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[],
                            $7::bigint[], $8::bigint[], $9::bigint[], $10::bigint[], $11::numeric[], $12::text[])
       ON CONFLICT (symbol, interval, source, open_time_ms) DO UPDATE SET
         open = excluded.open, high = excluded.high, low = excluded.low, close = excluded.close,
         volume_qty = excluded.volume_qty, trade_count = excluded.trade_count,
         close_time_ms = excluded.close_time_ms, quote_volume = excluded.quote_volume`,
      [
        batch.map((candle) => candle.symbol),
        batch.map((candle) => candle.interval),
        batch.map((candle) => candle.openTimeMs),
        batch.map((candle) => candle.open),
        batch.map((candle) => candle.high),
        batch.map((candle) => candle.low),
        batch.map((candle) => candle.close),
        batch.map((candle) => candle.volumeQty),
        batch.map((candle) => candle.tradeCount),
        batch.map((candle) => candle.closeTimeMs),
        batch.map((candle) => candle.quoteVolume),
        batch.map((candle) => candle.source),
      ],
    );
  }
}

/** ON CONFLICT cannot touch one row twice in a statement: the last candle of a key wins. */
function latestPerKey(batch: readonly CandleRecord[]): CandleRecord[] {
  const byKey = new Map<string, CandleRecord>();
  for (const candle of batch)
    byKey.set(
      `${candle.symbol}\u0000${candle.interval}\u0000${candle.source}\u0000${candle.openTimeMs}`,
      candle,
    );
  return [...byKey.values()];
}

interface CandleSqlRow {
  symbol: string;
  interval: string;
  source: string;
  open_time_ms: Numeric;
  close_time_ms: Numeric;
  open: Numeric;
  high: Numeric;
  low: Numeric;
  close: Numeric;
  volume_qty: Numeric;
  quote_volume: string;
  trade_count: Numeric;
}

function candleOf(record: CandleSqlRow): CandleRecord {
  return {
    symbol: record.symbol,
    interval: record.interval,
    source: record.source,
    openTimeMs: Number(record.open_time_ms),
    closeTimeMs: Number(record.close_time_ms),
    open: Number(record.open),
    high: Number(record.high),
    low: Number(record.low),
    close: Number(record.close),
    volumeQty: Number(record.volume_qty),
    quoteVolume: record.quote_volume,
    tradeCount: Number(record.trade_count),
  };
}
