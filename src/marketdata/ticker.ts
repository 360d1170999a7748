// A 24-hour rolling ticker in bounded memory: one bucket per minute in a ring of 1,440. The
// window is whole minutes: [current minute - 1439, current minute].

const minuteMs = 60_000;
const bucketsMax = 1_440;

interface MinuteBucket {
  minute: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
  quoteVolume: bigint;
  /**
   * Quote volume not yet in `quoteVolume`, summed as a plain number while it stays a safe integer:
   * a BigInt addition per trade allocates. Read a bucket's total with `quoteVolumeOf`.
   */
  pendingQuoteVolume: number;
  trades: number;
}

function addQuoteVolume(bucket: MinuteBucket, price: number, qty: number): void {
  const notional = price * qty;
  if (Number.isSafeInteger(notional) && Number.isSafeInteger(bucket.pendingQuoteVolume + notional)) {
    bucket.pendingQuoteVolume += notional;
    return;
  }
  bucket.quoteVolume += BigInt(bucket.pendingQuoteVolume) + BigInt(price) * BigInt(qty);
  bucket.pendingQuoteVolume = 0;
}

function quoteVolumeOf(bucket: MinuteBucket): bigint {
  return bucket.pendingQuoteVolume === 0
    ? bucket.quoteVolume
    : bucket.quoteVolume + BigInt(bucket.pendingQuoteVolume);
}

export interface Ticker {
  symbol: string;
  open: number;
  high: number;
  low: number;
  last: number;
  volume: number;
  /** Decimal string: the sum of price * qty can leave the safe-integer range. */
  quoteVolume: string;
  change: number;
  /** Change in basis points of the open, truncated toward zero. */
  changeBps: number;
  trades: number;
  /** Milliseconds since the epoch of the last trade, 0 before any. */
  lastTs: number;
}

/** Snapshot form: the minute buckets kept (quote volume as a decimal string) and the last trade. */
export interface TickerState {
  last: number;
  lastTs: number;
  buckets: Array<Omit<MinuteBucket, 'quoteVolume' | 'pendingQuoteVolume'> & { quoteVolume: string }>;
}

export class RollingTicker {
  private readonly buckets: Array<MinuteBucket | undefined> = new Array(bucketsMax);
  private last = 0;
  private lastTs = 0;

  constructor(readonly symbol: string) {}

  add(atMs: number, price: number, qty: number): void {
    const minute = Math.floor(atMs / minuteMs);
    const slot = minute % bucketsMax;
    let bucket = this.buckets[slot];
    if (bucket === undefined || bucket.minute !== minute) {
      bucket = {
        minute,
        open: price,
        high: price,
        low: price,
        close: price,
        volume: 0,
        quoteVolume: 0n,
        pendingQuoteVolume: 0,
        trades: 0,
      };
      this.buckets[slot] = bucket;
    }
    if (price > bucket.high) bucket.high = price;
    if (price < bucket.low) bucket.low = price;
    bucket.close = price;
    bucket.volume += qty;
    addQuoteVolume(bucket, price, qty);
    bucket.trades += 1;
    if (atMs >= this.lastTs) {
      this.last = price;
      this.lastTs = atMs;
    }
  }

  exportState(): TickerState {
    const buckets: TickerState['buckets'] = [];
    for (const bucket of this.buckets) {
      if (bucket === undefined) continue;
      const { pendingQuoteVolume: _pending, ...fields } = bucket;
      buckets.push({ ...fields, quoteVolume: quoteVolumeOf(bucket).toString() });
    }
    return { last: this.last, lastTs: this.lastTs, buckets };
  }

  restoreState(state: TickerState): void {
    if (!Array.isArray(state?.buckets)) throw new Error(`ticker state of ${this.symbol}: buckets expected`);
    this.buckets.fill(undefined);
    for (const bucket of state.buckets) {
      if (!Number.isSafeInteger(bucket.minute)) throw new Error(`ticker state of ${this.symbol}: bad minute`);
      this.buckets[bucket.minute % bucketsMax] = {
        ...bucket,
        quoteVolume: BigInt(bucket.quoteVolume),
        pendingQuoteVolume: 0,
      };
    }
    this.last = state.last;
    this.lastTs = state.lastTs;
  }

  /** The ticker over the 24 hours ending at `nowMs`. Without trades in the window all prices are `last`. */
  view(nowMs: number): Ticker {
    const newestMinute = Math.floor(nowMs / minuteMs);
    const oldestMinute = newestMinute - bucketsMax + 1;
    let oldest: MinuteBucket | undefined;
    let high = this.last;
    let low = this.last;
    let volume = 0;
    let quoteVolume = 0n;
    let trades = 0;
    for (const bucket of this.buckets) {
      if (bucket === undefined || bucket.minute < oldestMinute || bucket.minute > newestMinute) continue;
      if (oldest === undefined) {
        high = bucket.high;
        low = bucket.low;
      }
      if (oldest === undefined || bucket.minute < oldest.minute) oldest = bucket;
      if (bucket.high > high) high = bucket.high;
      if (bucket.low < low) low = bucket.low;
      volume += bucket.volume;
      quoteVolume += quoteVolumeOf(bucket);
      trades += bucket.trades;
    }
    const open = oldest?.open ?? this.last;
    const change = this.last - open;
    return {
      symbol: this.symbol,
      open,
      high,
      low,
      last: this.last,
      volume,
      quoteVolume: quoteVolume.toString(),
      change,
      changeBps: open === 0 ? 0 : Number((BigInt(change) * 10_000n) / BigInt(open)),
      trades,
      lastTs: this.lastTs,
    };
  }
}
