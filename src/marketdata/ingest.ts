// External quote ingest. Feeds push quotes into a bounded ring (no locks: one thread, and push
// never waits); a timer drains it every `drainMs` in one batch: key, dedupe, aggregate into the
// candle intervals, then publish the latest quote and changed candles once per symbol per batch.
// Candles close on feed time (the newest quote timestamp seen), never on the wall clock, so a
// replay of an old file builds the same candles as the live feed did.
import { type Candle, type CandleInterval, candleToJson, SymbolCandles } from './candles.js';
import { type ChannelName, channelName } from './channels.js';
import type { ChannelPublisher, ChannelSource } from './hub.js';
import type { ClosedCandleHandler } from './marketdata.js';
import { QuoteDeduper, type QuoteKeyError, SymbolQuoteKeys } from './quote-key.js';
import { isValidTimezone, MarketTimezone } from './timezone.js';

const nanosecondsPerMillisecond = 1_000_000n;

export interface Quote {
  symbol: string;
  /** ISO 3166-1 alpha-2. */
  country: string;
  /** IANA timezone of the market. */
  timezone: string;
  /** Exchange timestamp, nanoseconds since the epoch. */
  tsNs: bigint;
  /** Integer minor units. */
  price: number;
  /** Integer units. */
  size: number;
}

/** What `quotes.<sym>` carries. */
export interface QuoteMessage {
  key: string;
  symbol: string;
  price: number;
  size: number;
  /** Decimal string of the nanosecond timestamp. */
  tsNs: string;
}

export interface QuoteIngestOptions {
  publisher: ChannelPublisher;
  closedCandles?: ClosedCandleHandler;
  queueMax?: number;
  drainMs?: number;
  /** Quotes taken per drain, so one drain never holds the event loop for long. */
  drainBatchMax?: number;
  /**
   * Latest quotes and in-progress candles are latest-value data: published at most this often
   * (0: after every drain). Closed candles always go out at once.
   */
  publishEveryMs?: number;
  /** Milliseconds, for the publish cadence only. */
  clock?: () => number;
  dedupeWindowMs?: number;
  /** Keys remembered per symbol for dedupe. */
  dedupeKeysPerSymbolMax?: number;
  symbolsMax?: number;
}

export const quoteIngestDefaults = {
  queueMax: 65_536,
  drainMs: 1,
  drainBatchMax: 16_384,
  publishEveryMs: 50,
  dedupeWindowMs: 60_000,
  dedupeKeysPerSymbolMax: 100_000,
  symbolsMax: 10_000,
};

/**
 * Why a quote was refused. `SYMBOL_CONFLICT`: a symbol keeps the country and timezone of its
 * first quote, since both are part of its keys and its candles' day boundaries.
 */
export type QuoteRejection =
  | QuoteKeyError
  | 'BAD_PRICE'
  | 'BAD_TIMEZONE_NAME'
  | 'SYMBOLS_MAX'
  | 'SYMBOL_CONFLICT';

export interface QuoteIngestStats {
  accepted: number;
  duplicates: number;
  late: number;
  rejected: number;
  /** Pushes refused because the ring was full. */
  queueFull: number;
  queued: number;
  batches: number;
}

class QuoteSymbol {
  readonly candles: SymbolCandles;
  readonly channel: string;
  latestQuote: Quote | undefined;
  latestSequence = 0;
  dirty = false;

  constructor(
    readonly symbol: string,
    timezone: MarketTimezone,
    readonly keys: SymbolQuoteKeys,
    readonly deduper: QuoteDeduper,
  ) {
    this.candles = new SymbolCandles(symbol, timezone);
    this.channel = channelName('quotes', symbol);
  }

  /** Built only when published: most quotes of a batch are superseded before then. */
  latest(): QuoteMessage | null {
    const quote = this.latestQuote;
    if (quote === undefined) return null;
    return {
      key: this.keys.key(quote.tsNs, this.latestSequence),
      symbol: this.symbol,
      price: quote.price,
      size: quote.size,
      tsNs: quote.tsNs.toString(),
    };
  }
}

export class QuoteIngest implements ChannelSource {
  private readonly ring: Array<Quote | undefined>;
  private head = 0;
  private count = 0;
  private readonly symbols = new Map<string, QuoteSymbol>();
  private readonly timezones = new Map<string, MarketTimezone>();
  private readonly dedupeWindowMs: number;
  private readonly dedupeKeysPerSymbolMax: number;
  private readonly dirty: QuoteSymbol[] = [];
  private readonly publisher: ChannelPublisher;
  private readonly closedCandles: ClosedCandleHandler | undefined;
  private readonly queueMax: number;
  private readonly drainMs: number;
  private readonly drainBatchMax: number;
  private readonly publishEveryMs: number;
  private readonly clock: () => number;
  private publishedAtMs = Number.NEGATIVE_INFINITY;
  private readonly symbolsMax: number;
  private feedTimeMs = 0;
  private closeCheckedSecond = 0;
  private drainWaiters: Array<() => void> = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly counters = { accepted: 0, duplicates: 0, late: 0, rejected: 0, queueFull: 0, batches: 0 };
  /** Invalid quotes, by reason, for operators. */
  readonly rejections = new Map<QuoteRejection, number>();

  constructor(options: QuoteIngestOptions) {
    this.publisher = options.publisher;
    this.closedCandles = options.closedCandles;
    this.queueMax = options.queueMax ?? quoteIngestDefaults.queueMax;
    this.drainMs = options.drainMs ?? quoteIngestDefaults.drainMs;
    this.drainBatchMax = options.drainBatchMax ?? quoteIngestDefaults.drainBatchMax;
    this.publishEveryMs = options.publishEveryMs ?? quoteIngestDefaults.publishEveryMs;
    this.clock = options.clock ?? (() => performance.now());
    this.symbolsMax = options.symbolsMax ?? quoteIngestDefaults.symbolsMax;
    this.ring = new Array(this.queueMax);
    this.dedupeWindowMs = options.dedupeWindowMs ?? quoteIngestDefaults.dedupeWindowMs;
    this.dedupeKeysPerSymbolMax =
      options.dedupeKeysPerSymbolMax ?? quoteIngestDefaults.dedupeKeysPerSymbolMax;
  }

  /** Queues a quote; false when the ring is full (the feed should slow down or drop). */
  push(quote: Quote): boolean {
    if (this.count === this.queueMax) {
      this.counters.queueFull += 1;
      return false;
    }
    this.ring[(this.head + this.count) % this.queueMax] = quote;
    this.count += 1;
    return true;
  }

  start(): void {
    this.timer ??= setInterval(() => this.drain(), this.drainMs);
  }

  /** Stops the timer after draining what is queued. */
  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    while (this.drain() > 0) {}
  }

  /** Processes the queued quotes (up to drainBatchMax) as one batch; returns how many were taken. */
  drain(): number {
    const taken = Math.min(this.count, this.drainBatchMax);
    if (taken === 0) {
      // Nothing new, but changes held back by the publish cadence may be due now.
      if (this.dirty.length > 0) this.publishBatch([]);
      return 0;
    }
    const closed: Candle[] = [];
    for (let index = 0; index < taken; index += 1) {
      const slot = (this.head + index) % this.queueMax;
      this.ingest(this.ring[slot] as Quote, closed);
      this.ring[slot] = undefined;
    }
    this.head = (this.head + taken) % this.queueMax;
    this.count -= taken;
    this.counters.batches += 1;
    this.closeDue(closed);
    this.publishBatch(closed);
    for (const resolve of this.drainWaiters.splice(0)) resolve();
    return taken;
  }

  /** Resolves after the next drain: a feed whose push was refused waits on it. */
  whenDrained(): Promise<void> {
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  stats(): QuoteIngestStats {
    return { ...this.counters, queued: this.count };
  }

  has(channel: ChannelName): boolean {
    return (channel.kind === 'quotes' || channel.kind === 'candles') && this.symbols.has(channel.symbol);
  }

  snapshot(channel: ChannelName): unknown {
    const state = this.symbols.get(channel.symbol);
    if (state === undefined) return null;
    if (channel.kind === 'quotes') return state.latest();
    const candle = state.candles.current(channel.interval as CandleInterval);
    return candle === undefined ? null : candleToJson(candle);
  }

  candle(symbol: string, interval: CandleInterval): Candle | undefined {
    return this.symbols.get(symbol)?.candles.current(interval);
  }

  private ingest(quote: Quote, closed: Candle[]): void {
    if (
      !Number.isSafeInteger(quote.price) ||
      quote.price <= 0 ||
      !Number.isSafeInteger(quote.size) ||
      quote.size < 0
    ) {
      this.reject('BAD_PRICE');
      return;
    }
    const state = this.symbolState(quote);
    if (state === undefined) return;
    if (quote.country !== state.keys.country || quote.timezone !== state.keys.timezone) {
      this.reject('SYMBOL_CONFLICT');
      return;
    }
    const sequence = state.keys.assign(quote.tsNs);
    if (typeof sequence === 'string') {
      this.reject(sequence);
      return;
    }
    const atMs = Number(quote.tsNs / nanosecondsPerMillisecond);
    const verdict = state.deduper.check(quote.tsNs, sequence, atMs);
    if (verdict !== 'new') {
      if (verdict === 'duplicate') this.counters.duplicates += 1;
      else this.counters.late += 1;
      return;
    }
    if (atMs > this.feedTimeMs) this.feedTimeMs = atMs;
    state.candles.add(atMs, quote.price, quote.size, closed);
    state.latestQuote = quote;
    state.latestSequence = sequence;
    if (!state.dirty) {
      state.dirty = true;
      this.dirty.push(state);
    }
    this.counters.accepted += 1;
  }

  /** The shortest interval is a second: scanning every symbol more often cannot close anything. */
  private closeDue(closed: Candle[]): void {
    const second = Math.floor(this.feedTimeMs / 1_000);
    if (second === this.closeCheckedSecond) return;
    this.closeCheckedSecond = second;
    for (const state of this.symbols.values()) state.candles.closeDue(this.feedTimeMs, closed);
  }

  private publishBatch(closed: Candle[]): void {
    for (const candle of closed) this.publishCandle(candle);
    if (closed.length > 0) this.closedCandles?.add(closed);
    const nowMs = this.clock();
    if (nowMs - this.publishedAtMs < this.publishEveryMs) return;
    this.publishedAtMs = nowMs;
    const inProgress: Candle[] = [];
    for (const state of this.dirty) {
      state.dirty = false;
      if (this.publisher.isWatched(state.channel)) this.publisher.publish(state.channel, state.latest());
      state.candles.takeDirty(inProgress);
    }
    this.dirty.length = 0;
    for (const candle of inProgress) this.publishCandle(candle);
  }

  private publishCandle(candle: Candle): void {
    const state = this.symbols.get(candle.symbol) as QuoteSymbol;
    const channel = state.candles.channels[candle.interval];
    if (this.publisher.isWatched(channel)) this.publisher.publish(channel, candleToJson(candle));
  }

  private symbolState(quote: Quote): QuoteSymbol | undefined {
    const existing = this.symbols.get(quote.symbol);
    if (existing !== undefined) return existing;
    if (this.symbols.size >= this.symbolsMax) {
      this.reject('SYMBOLS_MAX');
      return undefined;
    }
    let timezone = this.timezones.get(quote.timezone);
    if (timezone === undefined) {
      if (!isValidTimezone(quote.timezone)) {
        this.reject('BAD_TIMEZONE_NAME');
        return undefined;
      }
      timezone = new MarketTimezone(quote.timezone);
      this.timezones.set(quote.timezone, timezone);
    }
    const keys = SymbolQuoteKeys.create(quote.symbol, quote.country, quote.timezone);
    if (typeof keys === 'string') {
      this.reject(keys);
      return undefined;
    }
    const deduper = new QuoteDeduper(this.dedupeWindowMs, this.dedupeKeysPerSymbolMax);
    const state = new QuoteSymbol(quote.symbol, timezone, keys, deduper);
    this.symbols.set(quote.symbol, state);
    return state;
  }

  private reject(reason: QuoteRejection): void {
    this.counters.rejected += 1;
    this.rejections.set(reason, (this.rejections.get(reason) ?? 0) + 1);
  }
}
