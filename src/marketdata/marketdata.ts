// Market data built from engine events: depth with U/u diffs, the trade tape, 24h tickers and
// candles per symbol, published on channels. Depth diffs and trades go out as each command's
// outcome arrives; tickers and in-progress candles are conflated and go out on `flush`.
import type { DepthView, TradeEvent } from '../core/types.js';
import type { SnapshotParticipant } from '../journal/participant.js';
import type { CommandOutcome } from '../ports.js';
import { type Candle, type CandleInterval, type CandleJson, candleToJson, SymbolCandles } from './candles.js';
import { type ChannelName, channelName } from './channels.js';
import { DepthBook, type DepthSnapshot, type DepthState } from './depth.js';
import type { ChannelPublisher, ChannelSource } from './hub.js';
import { RollingTicker, type Ticker, type TickerState } from './ticker.js';
import { isValidTimezone, MarketTimezone } from './timezone.js';
import { type TapeTrade, TradeTape } from './trades.js';

/** Receives closed candles (a CandleWriter batches them for a store, spilling on failure). */
export interface ClosedCandleHandler {
  add(candles: readonly Candle[]): void;
}

export interface MarketDataOptions {
  publisher: ChannelPublisher;
  closedCandles?: ClosedCandleHandler;
  /** IANA timezone per symbol; others use `defaultTimezone`. */
  timezones?: Record<string, string>;
  defaultTimezone?: string;
  /** Levels per side in a depth channel snapshot. */
  depthSnapshotLevelsMax?: number;
  symbolsMax?: number;
}

/** Snapshot form of one symbol's market data: everything it built from outcomes. */
export interface SymbolMarketState {
  symbol: string;
  timezone: string;
  depth: DepthState;
  trades: TapeTrade[];
  ticker: TickerState;
  /** The candle in progress per interval, in `candleIntervals` order. */
  candles: Array<CandleJson | null>;
}

export const depthSnapshotLevelsMaxDefault = 1_000;
export const marketSymbolsMaxDefault = 1_000;

class SymbolMarket {
  readonly depth: DepthBook;
  readonly tape = new TradeTape();
  readonly ticker: RollingTicker;
  readonly candles: SymbolCandles;
  readonly channels: { depth: string; trades: string; ticker: string };

  constructor(
    readonly symbol: string,
    readonly timezone: MarketTimezone,
  ) {
    this.depth = new DepthBook(symbol);
    this.ticker = new RollingTicker(symbol);
    this.candles = new SymbolCandles(symbol, timezone);
    this.channels = {
      depth: channelName('depth', symbol),
      trades: channelName('trades', symbol),
      ticker: channelName('ticker', symbol),
    };
  }
}

export class MarketData implements ChannelSource {
  private readonly symbols = new Map<string, SymbolMarket>();
  private readonly timezones = new Map<string, MarketTimezone>();
  private readonly touched = new Set<SymbolMarket>();
  private readonly dirtyTickers = new Set<SymbolMarket>();
  private readonly publisher: ChannelPublisher;
  private readonly closedCandles: ClosedCandleHandler | undefined;
  private readonly timezoneBySymbol: Record<string, string>;
  private readonly defaultTimezone: string;
  private readonly depthSnapshotLevelsMax: number;
  private readonly symbolsMax: number;
  private tickerMinute = 0;
  /** Candles a trade closed (most trades close none): reused so a trade allocates no array. */
  private readonly closedScratch: Candle[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(options: MarketDataOptions) {
    this.publisher = options.publisher;
    this.closedCandles = options.closedCandles;
    this.timezoneBySymbol = options.timezones ?? {};
    this.defaultTimezone = options.defaultTimezone ?? 'UTC';
    this.depthSnapshotLevelsMax = options.depthSnapshotLevelsMax ?? depthSnapshotLevelsMaxDefault;
    this.symbolsMax = options.symbolsMax ?? marketSymbolsMaxDefault;
    for (const timezone of [this.defaultTimezone, ...Object.values(this.timezoneBySymbol)]) {
      if (!isValidTimezone(timezone)) throw new Error(`MARKETDATA_BAD_TIMEZONE: ${timezone}`);
    }
  }

  /** Feeds one durable command's events (live or during replay), in sequence order. */
  onOutcome(outcome: CommandOutcome): void {
    const events = outcome.events;
    for (let index = 0; index < events.length; index++) {
      const event = events[index];
      if (event.ev === 'symbolAdded') {
        // The gateway journals the market's timezone as an extra field of the symbol command.
        const listed =
          (event as { timezone?: unknown }).timezone ?? (outcome.command as { timezone?: unknown }).timezone;
        this.addSymbol(event.symbol, listed);
        continue;
      }
      if (!('symbol' in event)) continue;
      const market = this.symbols.get(event.symbol);
      if (market === undefined) continue;
      market.depth.diffWanted = this.publisher.isWatched(market.channels.depth);
      if (market.depth.apply(event)) this.touched.add(market);
      if (event.ev === 'trade') this.onTrade(market, event, outcome.ts);
    }
    if (this.touched.size === 0) return;
    for (const market of this.touched) {
      // A diff nobody receives is not built: a new subscriber starts from a snapshot anyway.
      if (!this.publisher.isWatched(market.channels.depth)) {
        market.depth.discardDiff();
        continue;
      }
      const diff = market.depth.takeDiff();
      if (diff !== undefined) this.publisher.publish(market.channels.depth, diff);
    }
    this.touched.clear();
  }

  /**
   * Publishes tickers and in-progress candles changed since the last flush, closes candles whose
   * interval ended by `nowMs`, and hands closed candles to the store.
   */
  flush(nowMs: number): void {
    const closed: Candle[] = [];
    const minute = Math.floor(nowMs / 60_000);
    const minuteChanged = minute !== this.tickerMinute;
    this.tickerMinute = minute;
    for (const market of this.symbols.values()) {
      market.candles.closeDue(nowMs, closed);
      if (minuteChanged) this.dirtyTickers.add(market);
    }
    this.publishCandles(closed);
    this.closedCandles?.add(closed);
    const inProgress: Candle[] = [];
    for (const market of this.dirtyTickers) {
      market.candles.takeDirty(inProgress);
      if (this.publisher.isWatched(market.channels.ticker)) {
        this.publisher.publish(market.channels.ticker, market.ticker.view(nowMs));
      }
    }
    this.dirtyTickers.clear();
    this.publishCandles(inProgress);
  }

  /**
   * Flushes every `flushMs` on the wall clock. Start it after journal replay: during replay,
   * trades close candles by their own timestamps.
   */
  start(flushMs = 100, clock: () => number = Date.now): void {
    this.timer ??= setInterval(() => this.flush(clock()), flushMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /**
   * The snapshot participant: every symbol's depth (with its update id, so a client's `since`
   * and U/u continue across a restart), trade tape, ticker minutes and candles in progress.
   */
  readonly snapshotParticipant: SnapshotParticipant = {
    name: 'marketdata',
    exportState: () => this.exportState(),
    restoreState: (state) => this.restoreState(state),
  };

  exportState(): { symbols: SymbolMarketState[] } {
    const symbols: SymbolMarketState[] = [];
    for (const market of this.symbols.values()) {
      symbols.push({
        symbol: market.symbol,
        timezone: market.timezone.timezone,
        depth: market.depth.exportState(),
        trades: market.tape.recent(),
        ticker: market.ticker.exportState(),
        candles: market.candles.exportState(),
      });
    }
    return { symbols };
  }

  /** Replaces every symbol (recovery, before the tail replays and before any subscriber). */
  restoreState(state: unknown): void {
    const symbols = (state as { symbols?: unknown } | null)?.symbols;
    if (!Array.isArray(symbols)) throw new Error('market data state: symbols expected');
    const restored = new Map<string, SymbolMarket>();
    for (const saved of symbols.slice(0, this.symbolsMax) as SymbolMarketState[]) {
      const market = new SymbolMarket(saved.symbol, this.timezoneFor(saved.symbol, saved.timezone));
      market.depth.restoreState(saved.depth);
      market.tape.restore(saved.trades);
      market.ticker.restoreState(saved.ticker);
      market.candles.restoreState(saved.candles);
      restored.set(saved.symbol, market);
    }
    this.symbols.clear();
    this.touched.clear();
    this.dirtyTickers.clear();
    for (const [symbol, market] of restored) this.symbols.set(symbol, market);
  }

  /** Starts from an engine restored from a snapshot: the symbol and its current book. */
  restoreSymbol(symbol: string, depth: DepthView | undefined): void {
    const market = this.addSymbol(symbol);
    if (market === undefined || depth === undefined) return;
    market.depth.restore(depth);
  }

  has(channel: ChannelName): boolean {
    const ownKind = channel.kind === 'depth' || channel.kind === 'trades' || channel.kind === 'ticker';
    return (ownKind || channel.kind === 'candles') && this.symbols.has(channel.symbol);
  }

  snapshot(channel: ChannelName): unknown {
    const market = this.symbols.get(channel.symbol);
    if (market === undefined) return null;
    switch (channel.kind) {
      case 'depth':
        return market.depth.snapshot(this.depthSnapshotLevelsMax);
      case 'trades':
        return market.tape.recent();
      case 'ticker':
        return market.ticker.view(Date.now());
      case 'candles': {
        const candle = market.candles.current(channel.interval as CandleInterval);
        return candle === undefined ? null : candleToJson(candle);
      }
      default:
        return null;
    }
  }

  depth(symbol: string, levelsMax: number): DepthSnapshot | undefined {
    return this.symbols.get(symbol)?.depth.snapshot(levelsMax);
  }

  recentTrades(symbol: string): TapeTrade[] | undefined {
    return this.symbols.get(symbol)?.tape.recent();
  }

  ticker(symbol: string, nowMs: number): Ticker | undefined {
    return this.symbols.get(symbol)?.ticker.view(nowMs);
  }

  candle(symbol: string, interval: CandleInterval): Candle | undefined {
    return this.symbols.get(symbol)?.candles.current(interval);
  }

  private onTrade(market: SymbolMarket, event: TradeEvent, atMs: number): void {
    const trade = market.tape.add(event, atMs);
    if (this.publisher.isWatched(market.channels.trades))
      this.publisher.publish(market.channels.trades, trade);
    market.ticker.add(atMs, event.price, event.qty);
    const closed = this.closedScratch;
    market.candles.add(atMs, event.price, event.qty, closed);
    if (closed.length > 0) {
      // Handed out as a new array: the store's writer may keep it.
      const handed = closed.slice();
      closed.length = 0;
      this.publishCandles(handed);
      this.closedCandles?.add(handed);
    }
    this.dirtyTickers.add(market);
  }

  private publishCandles(candles: readonly Candle[]): void {
    for (const candle of candles) {
      const market = this.symbols.get(candle.symbol) as SymbolMarket;
      const channel = market.candles.channels[candle.interval];
      if (this.publisher.isWatched(channel)) this.publisher.publish(channel, candleToJson(candle));
    }
  }

  /** `listedTimezone`: a timezone carried by the listing event, if the engine ever adds one. */
  private addSymbol(symbol: string, listedTimezone?: unknown): SymbolMarket | undefined {
    const existing = this.symbols.get(symbol);
    if (existing !== undefined) return existing;
    if (this.symbols.size >= this.symbolsMax) return undefined;
    const market = new SymbolMarket(symbol, this.timezoneFor(symbol, listedTimezone));
    this.symbols.set(symbol, market);
    return market;
  }

  /** Configuration first, then the listing's own timezone when valid, then the default. */
  private timezoneFor(symbol: string, listedTimezone: unknown): MarketTimezone {
    const listed =
      typeof listedTimezone === 'string' && isValidTimezone(listedTimezone) ? listedTimezone : undefined;
    const name = this.timezoneBySymbol[symbol] ?? listed ?? this.defaultTimezone;
    let timezone = this.timezones.get(name);
    if (timezone === undefined) {
      // Symbols of one zone share its cached day and week ranges.
      timezone = new MarketTimezone(name);
      this.timezones.set(name, timezone);
    }
    return timezone;
  }
}
