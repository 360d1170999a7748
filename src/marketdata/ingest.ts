// External quote ingest. Feeds push quotes into a bounded ring (no locks: one thread, and push
// never waits); a timer drains it every `drainMs` in one batch: key, dedupe, aggregate into the
// candle intervals, then publish the latest quote and changed candles once per symbol per batch.
// Candles close on feed time (the newest quote timestamp seen), never on the wall clock, so a
// replay of an old file builds the same candles as the live feed did.
import type { SnapshotParticipant } from '../journal/participant.js';
import { type Candle, type CandleInterval, type CandleJson, candleToJson, SymbolCandles } from './candles.js';
import { type ChannelName, channelName } from './channels.js';
import type { ChannelPublisher, ChannelSource } from './hub.js';
import type { ClosedCandleHandler } from './marketdata.js';
import {
  isQuoteTimestamp,
  QuoteDeduper,
  type QuoteDeduperState,
  type QuoteKeyError,
  quoteSourceIdLengthMax,
  SymbolQuoteKeys,
} from './quote-key.js';
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
  /**
   * The feed's own id of the quote, if it has one: then it is the quote's identity for dedupe
   * (a resend with the same id is a duplicate); without it, the content is.
   */
  sourceId?: string;
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
  | 'BAD_SOURCE_ID'
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

/** The snapshot form of one quote symbol: what a restart needs to continue where it stopped. */
interface QuoteSymbolState {
  symbol: string;
  country: string;
  timezone: string;
  /** The candle in progress per interval, in `candleIntervals` order. */
  candles: Array<CandleJson | null>;
  latest: { tsNs: string; sequence: number; price: number; size: number } | null;
  dedupe: QuoteDeduperState;
}

/** The version of the snapshot form; a snapshot with another one is passed over. */
const quoteStateVersion = 1;

interface QuoteIngestState {
  version: number;
  feedTimeMs: number;
  symbols: QuoteSymbolState[];
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
    this.candles = new SymbolCandles(symbol, timezone, 'quotes');
    this.channel = channelName('quotes', symbol);
  }

  exportState(): QuoteSymbolState {
    const quote = this.latestQuote;
    return {
      symbol: this.symbol,
      country: this.keys.country,
      timezone: this.keys.timezone,
      candles: this.candles.exportState(),
      latest:
        quote === undefined
          ? null
          : {
              tsNs: quote.tsNs.toString(),
              sequence: this.latestSequence,
              price: quote.price,
              size: quote.size,
            },
      dedupe: this.deduper.exportState(),
    };
  }

  restoreState(state: QuoteSymbolState): void {
    this.candles.restoreState(state.candles);
    this.deduper.restoreState(state.dedupe);
    const latest = state.latest;
    if (latest === null) return;
    this.latestQuote = {
      symbol: this.symbol,
      country: this.keys.country,
      timezone: this.keys.timezone,
      tsNs: BigInt(latest.tsNs),
      price: latest.price,
      size: latest.size,
    };
    this.latestSequence = latest.sequence;
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
    return (channel.kind === 'quotes' || channel.kind === 'quotecandles') && this.symbols.has(channel.symbol);
  }

  /**
   * The snapshot participant: per symbol the candles in progress, the latest quote and the
   * dedupe window's newest millisecond. Quotes are not journaled, so without it a restart lost
   * every open quote candle (the stored candle then missed the quotes before the restart).
   * Quotes still in the ring are not part of it: `stop()` drains them before a graceful
   * shutdown's snapshot.
   */
  readonly snapshotParticipant: SnapshotParticipant = {
    name: 'quotes',
    exportState: () => this.exportState(),
    restoreState: (state) => this.restoreState(state),
    readsState: (state) => (state as { version?: unknown } | null)?.version === quoteStateVersion,
  };

  exportState(): QuoteIngestState {
    const symbols: QuoteSymbolState[] = [];
    for (const state of this.symbols.values()) symbols.push(state.exportState());
    return { version: quoteStateVersion, feedTimeMs: this.feedTimeMs, symbols };
  }

  /** Replaces every symbol (recovery, before any quote or subscriber). */
  restoreState(state: unknown): void {
    const saved = state as Partial<QuoteIngestState> | null;
    if (saved?.version !== quoteStateVersion || !Array.isArray(saved.symbols))
      throw new Error(`quote ingest state: version ${quoteStateVersion} with symbols expected`);
    this.symbols.clear();
    this.dirty.length = 0;
    for (const symbolState of saved.symbols.slice(0, this.symbolsMax)) {
      const restored = this.createSymbol(symbolState.symbol, symbolState.country, symbolState.timezone);
      if (typeof restored === 'string')
        throw new Error(`quote ingest state: symbol ${symbolState.symbol}: ${restored}`);
      restored.restoreState(symbolState);
      this.symbols.set(symbolState.symbol, restored);
    }
    this.feedTimeMs = Number(saved.feedTimeMs ?? 0);
    this.closeCheckedSecond = 0;
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
    if (!isQuoteTimestamp(quote.tsNs)) {
      this.reject('BAD_TIMESTAMP');
      return;
    }
    const sourceId = quote.sourceId;
    if (
      sourceId !== undefined &&
      (typeof sourceId !== 'string' || sourceId.length > quoteSourceIdLengthMax)
    ) {
      this.reject('BAD_SOURCE_ID');
      return;
    }
    const state = this.symbolState(quote);
    if (state === undefined) return;
    if (quote.country !== state.keys.country || quote.timezone !== state.keys.timezone) {
      this.reject('SYMBOL_CONFLICT');
      return;
    }
    const atMs = Number(quote.tsNs / nanosecondsPerMillisecond);
    const sequence = state.deduper.admit(quote, atMs);
    if (typeof sequence === 'string') {
      if (sequence === 'duplicate') this.counters.duplicates += 1;
      else if (sequence === 'late') this.counters.late += 1;
      else this.reject(sequence);
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
    const state = this.createSymbol(quote.symbol, quote.country, quote.timezone);
    if (typeof state === 'string') {
      this.reject(state);
      return undefined;
    }
    this.symbols.set(quote.symbol, state);
    return state;
  }

  private createSymbol(symbol: string, country: string, timezoneName: string): QuoteSymbol | QuoteRejection {
    let timezone = this.timezones.get(timezoneName);
    if (timezone === undefined) {
      if (!isValidTimezone(timezoneName)) return 'BAD_TIMEZONE_NAME';
      timezone = new MarketTimezone(timezoneName);
      this.timezones.set(timezoneName, timezone);
    }
    const keys = SymbolQuoteKeys.create(symbol, country, timezoneName);
    if (typeof keys === 'string') return keys;
    const deduper = new QuoteDeduper(this.dedupeWindowMs, this.dedupeKeysPerSymbolMax);
    return new QuoteSymbol(symbol, timezone, keys, deduper);
  }

  private reject(reason: QuoteRejection): void {
    this.counters.rejected += 1;
    this.rejections.set(reason, (this.rejections.get(reason) ?? 0) + 1);
  }
}
