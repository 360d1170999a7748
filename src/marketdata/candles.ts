// OHLCV candles at fixed intervals. Intraday intervals are aligned to the Unix epoch (UTC);
// daily and weekly candles open at the market's local midnight (weeks start on Monday).
import type { MarketTimezone } from './timezone.js';

export const candleIntervals = ['1s', '1m', '5m', '15m', '1h', '4h', '1d', '1w'] as const;
export type CandleInterval = (typeof candleIntervals)[number];

const fixedIntervalMs: Record<Exclude<CandleInterval, '1d' | '1w'>, number> = {
  '1s': 1_000,
  '1m': 60_000,
  '5m': 300_000,
  '15m': 900_000,
  '1h': 3_600_000,
  '4h': 14_400_000,
};

const hourMs = 3_600_000;
const dayMs = 24 * hourMs;

/**
 * The longest an interval can be: the fixed length, or for days and weeks in a market's timezone
 * one hour more (a day with a clock change may have 25 hours, a week 169).
 */
export function intervalLengthMsMax(interval: CandleInterval): number {
  if (interval === '1d') return dayMs + hourMs;
  if (interval === '1w') return 7 * dayMs + hourMs;
  return fixedIntervalMs[interval];
}

export function isCandleInterval(value: string): value is CandleInterval {
  return (candleIntervals as readonly string[]).includes(value);
}

/**
 * Which series a candle belongs to: the exchange's own trades, or an external quote feed's
 * prices. They are different series and never share a channel, a stored row or a chart.
 */
export const candleSources = ['trades', 'quotes'] as const;
export type CandleSource = (typeof candleSources)[number];

/** Channel kind per source: `candles.<symbol>.<interval>` and `quotecandles.<symbol>.<interval>`. */
export const candleChannelKinds = { trades: 'candles', quotes: 'quotecandles' } as const;

export interface Candle {
  symbol: string;
  interval: CandleInterval;
  source: CandleSource;
  /** First millisecond of the candle (inclusive). */
  openMs: number;
  /** First millisecond after the candle (exclusive). */
  closeMs: number;
  open: number;
  high: number;
  low: number;
  close: number;
  /** Sum of quantities, in lots (or quote sizes). */
  volume: number;
  /** Sum of price * qty: a BigInt because the sum can leave the safe-integer range. */
  quoteVolume: bigint;
  trades: number;
  closed: boolean;
}

/** The wire and file form: BigInt becomes a decimal string. */
export interface CandleJson extends Omit<Candle, 'quoteVolume'> {
  quoteVolume: string;
}

export function candleToJson(candle: Candle): CandleJson {
  return { ...candle, quoteVolume: candle.quoteVolume.toString() };
}

/** Identity of a candle: a sink upserts by it, so replaying a batch never double-counts. */
export function candleKey(candle: Pick<Candle, 'symbol' | 'interval' | 'source' | 'openMs'>): string {
  return `${candle.symbol}|${candle.interval}|${candle.source}|${candle.openMs}`;
}

/** One symbol, one interval: the candle in progress. */
class CandleSeries {
  current: Candle | undefined;
  dirty = false;
  /**
   * Quote volume not yet added to `current.quoteVolume`: summed as a plain number while it stays
   * a safe integer, because a BigInt addition per trade per interval allocates.
   */
  private pendingQuoteVolume = 0;

  constructor(
    readonly symbol: string,
    readonly interval: CandleInterval,
    readonly source: CandleSource,
    private readonly timezone: MarketTimezone,
  ) {}

  /** Adds a trade; returns the candle it closed, if the trade falls in a later interval. */
  add(atMs: number, price: number, qty: number, notional: number): Candle | undefined {
    let closed: Candle | undefined;
    const current = this.current;
    if (current !== undefined && atMs >= current.closeMs) {
      this.settle();
      current.closed = true;
      closed = current;
      this.current = undefined;
    }
    if (this.current === undefined) {
      this.current = this.open(atMs, price);
    }
    // A timestamp before the open candle (a clock step back) counts in the open candle: a closed
    // candle is never reopened.
    const candle = this.current;
    if (price > candle.high) candle.high = price;
    if (price < candle.low) candle.low = price;
    candle.close = price;
    candle.volume += qty;
    if (Number.isSafeInteger(notional) && Number.isSafeInteger(this.pendingQuoteVolume + notional)) {
      this.pendingQuoteVolume += notional;
    } else {
      this.settle();
      candle.quoteVolume += BigInt(price) * BigInt(qty);
    }
    candle.trades += 1;
    this.dirty = true;
    return closed;
  }

  /** Closes the open candle once the clock has passed its end, even without a later trade. */
  closeDue(nowMs: number): Candle | undefined {
    const current = this.current;
    if (current === undefined || nowMs < current.closeMs) return undefined;
    this.settle();
    current.closed = true;
    this.current = undefined;
    this.dirty = false;
    return current;
  }

  /** The candle in progress with its quote volume brought up to date. */
  read(): Candle | undefined {
    this.settle();
    return this.current;
  }

  /** Starts from a snapshot's candle in progress (or none). */
  restore(candle: CandleJson | null): void {
    this.pendingQuoteVolume = 0;
    this.dirty = false;
    // The series decides the source: state written before candles carried one has none.
    this.current =
      candle === null
        ? undefined
        : { ...candle, source: this.source, quoteVolume: BigInt(candle.quoteVolume) };
  }

  private settle(): void {
    if (this.pendingQuoteVolume === 0 || this.current === undefined) return;
    this.current.quoteVolume += BigInt(this.pendingQuoteVolume);
    this.pendingQuoteVolume = 0;
  }

  private open(atMs: number, price: number): Candle {
    const [openMs, closeMs] = this.bounds(atMs);
    return {
      symbol: this.symbol,
      interval: this.interval,
      source: this.source,
      openMs,
      closeMs,
      open: price,
      high: price,
      low: price,
      close: price,
      volume: 0,
      quoteVolume: 0n,
      trades: 0,
      closed: false,
    };
  }

  private bounds(atMs: number): [number, number] {
    if (this.interval === '1d') {
      const range = this.timezone.dayRange(atMs);
      return [range.startMs, range.endMs];
    }
    if (this.interval === '1w') {
      const range = this.timezone.weekRange(atMs);
      return [range.startMs, range.endMs];
    }
    const lengthMs = fixedIntervalMs[this.interval];
    const openMs = atMs - (((atMs % lengthMs) + lengthMs) % lengthMs);
    return [openMs, openMs + lengthMs];
  }
}

/** Every interval of one symbol. */
export class SymbolCandles {
  private readonly series: CandleSeries[];
  /** Channel name per interval, built once. */
  readonly channels: Record<CandleInterval, string>;

  constructor(
    readonly symbol: string,
    timezone: MarketTimezone,
    source: CandleSource = 'trades',
  ) {
    this.series = candleIntervals.map((interval) => new CandleSeries(symbol, interval, source, timezone));
    const kind = candleChannelKinds[source];
    this.channels = Object.fromEntries(
      candleIntervals.map((interval) => [interval, `${kind}.${symbol}.${interval}`]),
    ) as Record<CandleInterval, string>;
  }

  /** Adds a trade to every interval; closed candles are appended to `closedOut`. */
  add(atMs: number, price: number, qty: number, closedOut: Candle[]): void {
    const notional = price * qty;
    for (const series of this.series) {
      const closed = series.add(atMs, price, qty, notional);
      if (closed !== undefined) closedOut.push(closed);
    }
  }

  closeDue(nowMs: number, closedOut: Candle[]): void {
    for (const series of this.series) {
      const closed = series.closeDue(nowMs);
      if (closed !== undefined) closedOut.push(closed);
    }
  }

  /** In-progress candles changed since the last call (for `closed: false` pushes). */
  takeDirty(dirtyOut: Candle[]): void {
    for (const series of this.series) {
      if (!series.dirty) continue;
      series.dirty = false;
      const current = series.read();
      if (current !== undefined) dirtyOut.push(current);
    }
  }

  current(interval: CandleInterval): Candle | undefined {
    return this.series[candleIntervals.indexOf(interval)].read();
  }

  /** The candle in progress per interval (null for none), in `candleIntervals` order, for a snapshot. */
  exportState(): Array<CandleJson | null> {
    return this.series.map((series) => {
      const current = series.read();
      return current === undefined ? null : candleToJson(current);
    });
  }

  restoreState(state: ReadonlyArray<CandleJson | null>): void {
    if (!Array.isArray(state) || state.length !== this.series.length)
      throw new Error(`candle state of ${this.symbol}: one entry per interval expected`);
    this.series.forEach((series, index) => {
      const candle = state[index];
      if (candle !== null && candle.interval !== series.interval)
        throw new Error(
          `candle state of ${this.symbol}: ${candle.interval} where ${series.interval} belongs`,
        );
      series.restore(candle);
    });
  }
}
