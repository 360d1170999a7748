// Binance market streams over Hoga market data. The stream hub listens on the market-data bus next
// to the channel hub (it is a ChannelPublisher): each Hoga channel (`depth.BTC-USDT`) feeds the
// Binance streams built on it (`btcusdt@depth`, `btcusdt@depth5`, `btcusdt@bookTicker`), each event
// is encoded once per stream (raw and combined forms, each only when some socket wants it) and the
// same string goes to every subscriber. A socket whose send buffer passes the bound is closed.
import type { MarketDataReader } from '../gateway/market-views.js';
import type { Market, MarketRegistry } from '../gateway/markets.js';
import {
  type CandleInterval,
  type CandleJson,
  type ChannelPublisher,
  type DepthDiff,
  isCandleInterval,
  type TapeTrade,
} from '../marketdata/index.js';
import { binanceSymbol } from './symbols.js';
import { isBuyerMaker } from './units.js';
import { bookTicker, price, qty, quote, ticker24h } from './views.js';

export type StreamKind =
  | 'depth'
  | 'partialDepth'
  | 'trade'
  | 'aggTrade'
  | 'kline'
  | 'ticker'
  | 'miniTicker'
  | 'bookTicker';

export interface StreamName {
  /** As the client wrote it (lower-case symbol). */
  name: string;
  kind: StreamKind;
  market: Market;
  /** The Hoga channel it is built from. */
  channel: string;
  /** Levels for partialDepth, interval for kline. */
  levels?: number;
  interval?: CandleInterval;
}

export const partialDepthLevels = [5, 10, 20] as const;
const updateSpeeds = new Set(['', '@100ms', '@1000ms']);

/**
 * Parses `<symbol>@<kind>`: `depth`, `depth@100ms`, `depth5|10|20[@100ms]`, `trade`, `aggTrade`,
 * `kline_<interval>`, `ticker`, `bookTicker`. Undefined for anything else or an unknown market.
 */
export function parseStreamName(text: unknown, markets: MarketRegistry): StreamName | undefined {
  if (typeof text !== 'string' || text.length === 0 || text.length > 96) return undefined;
  const at = text.indexOf('@');
  if (at <= 0) return undefined;
  const market = markets.marketByJoinedName(text.slice(0, at));
  if (market === undefined) return undefined;
  const name = `${binanceSymbol(market).toLowerCase()}${text.slice(at)}`;
  const rest = text.slice(at + 1);
  const base = { name, market };
  const depthMatch = /^depth([0-9]*)(@[0-9]+ms)?$/.exec(rest);
  if (depthMatch !== null) {
    if (!updateSpeeds.has(depthMatch[2] ?? '')) return undefined;
    if (depthMatch[1] === '') return { ...base, kind: 'depth', channel: `depth.${market.symbol}` };
    const levels = Number(depthMatch[1]);
    if (!(partialDepthLevels as readonly number[]).includes(levels)) return undefined;
    return { ...base, kind: 'partialDepth', channel: `depth.${market.symbol}`, levels };
  }
  if (rest === 'trade') return { ...base, kind: 'trade', channel: `trades.${market.symbol}` };
  if (rest === 'aggTrade') return { ...base, kind: 'aggTrade', channel: `trades.${market.symbol}` };
  if (rest === 'ticker') return { ...base, kind: 'ticker', channel: `ticker.${market.symbol}` };
  if (rest === 'miniTicker') return { ...base, kind: 'miniTicker', channel: `ticker.${market.symbol}` };
  if (rest === 'bookTicker') return { ...base, kind: 'bookTicker', channel: `depth.${market.symbol}` };
  if (rest.startsWith('kline_')) {
    const interval = rest.slice('kline_'.length);
    if (!isCandleInterval(interval)) return undefined;
    return { ...base, kind: 'kline', channel: `candles.${market.symbol}.${interval}`, interval };
  }
  return undefined;
}

/** What the stream hub needs from a socket (a `ws` WebSocket fits). */
export interface StreamClient {
  send(data: string): void;
  readonly bufferedAmount: number;
  close(code: number, reason: string): void;
}

export interface StreamLimits {
  streamsPerConnectionMax: number;
  connectionsMax: number;
  sendBufferBytesMax: number;
}

export const defaultStreamLimits: StreamLimits = {
  streamsPerConnectionMax: 1_024,
  connectionsMax: 10_000,
  sendBufferBytesMax: 4 * 1024 * 1024,
};

/** Close code for a socket that fell too far behind (the channel hub's too). */
export const slowConsumerCloseCode = 4008;

export class StreamConnection {
  readonly streams = new Map<string, Stream>();
  closed = false;

  constructor(
    readonly client: StreamClient,
    /** Combined sockets get `{stream, data}`, raw ones the data alone. */
    public combined: boolean,
  ) {}
}

class Stream {
  readonly subscribers = new Set<StreamConnection>();
  /** bookTicker only: the last best bid/ask sent, so an unchanged top of book sends nothing. */
  lastTop = '';

  constructor(readonly parsed: StreamName) {}
}

export class BinanceStreamHub implements ChannelPublisher {
  readonly limits: StreamLimits;
  private readonly streams = new Map<string, Stream>();
  /** Hoga channel → the streams built on it. */
  private readonly byChannel = new Map<string, Set<Stream>>();
  private readonly connections = new Set<StreamConnection>();

  constructor(
    private readonly markets: MarketRegistry,
    private readonly data: MarketDataReader,
    private readonly clock: () => number,
    limits: Partial<StreamLimits> = {},
  ) {
    this.limits = { ...defaultStreamLimits, ...limits };
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  parse(name: unknown): StreamName | undefined {
    return parseStreamName(name, this.markets);
  }

  /** Undefined (the socket closed with 1013) at `connectionsMax`. */
  connect(client: StreamClient, combined: boolean): StreamConnection | undefined {
    if (this.connections.size >= this.limits.connectionsMax) {
      client.close(1013, 'CONNECTION_LIMIT');
      return undefined;
    }
    const connection = new StreamConnection(client, combined);
    this.connections.add(connection);
    return connection;
  }

  /** Whether adding the streams keeps the connection within its stream limit. */
  canSubscribe(connection: StreamConnection, names: readonly StreamName[]): boolean {
    const added = new Set(
      names.filter((name) => !connection.streams.has(name.name)).map((name) => name.name),
    );
    return connection.streams.size + added.size <= this.limits.streamsPerConnectionMax;
  }

  /** Adds the streams; false (nothing added) when the connection would pass its stream limit. */
  subscribe(connection: StreamConnection, names: readonly StreamName[]): boolean {
    if (!this.canSubscribe(connection, names)) return false;
    const added = names.filter((name) => !connection.streams.has(name.name));
    for (const parsed of added) {
      if (connection.streams.has(parsed.name)) continue;
      let stream = this.streams.get(parsed.name);
      if (stream === undefined) {
        stream = new Stream(parsed);
        this.streams.set(parsed.name, stream);
        let onChannel = this.byChannel.get(parsed.channel);
        if (onChannel === undefined) {
          onChannel = new Set();
          this.byChannel.set(parsed.channel, onChannel);
        }
        onChannel.add(stream);
      }
      stream.subscribers.add(connection);
      connection.streams.set(parsed.name, stream);
      this.sendCurrent(connection, stream);
    }
    return true;
  }

  unsubscribe(connection: StreamConnection, names: readonly string[]): void {
    for (const name of names) {
      const stream = connection.streams.get(name);
      if (stream === undefined) continue;
      connection.streams.delete(name);
      this.release(stream, connection);
    }
  }

  detach(connection: StreamConnection): void {
    if (connection.closed) return;
    connection.closed = true;
    for (const stream of connection.streams.values()) this.release(stream, connection);
    connection.streams.clear();
    this.connections.delete(connection);
  }

  isWatched(channel: string): boolean {
    return this.byChannel.has(channel);
  }

  publish(channel: string, data: unknown): void {
    const streams = this.byChannel.get(channel);
    if (streams === undefined) return;
    const eventMs = this.clock();
    for (const stream of streams) {
      const event = this.event(stream, data, eventMs);
      if (event !== undefined) this.fanOut(stream, event);
    }
  }

  /** Latest-value streams start with the current state, so a client need not wait for a change. */
  private sendCurrent(connection: StreamConnection, stream: Stream): void {
    const { parsed } = stream;
    const nowMs = this.clock();
    let event: unknown;
    if (parsed.kind === 'partialDepth') event = this.partialDepth(parsed);
    else if (parsed.kind === 'bookTicker') event = this.bookTickerEvent(parsed);
    else if (parsed.kind === 'ticker') event = this.tickerEvent(parsed, nowMs);
    else if (parsed.kind === 'miniTicker') event = this.miniTickerEvent(parsed, nowMs);
    else if (parsed.kind === 'kline') {
      const candle = this.data.candle(parsed.market.symbol, parsed.interval as CandleInterval);
      if (candle !== undefined)
        event = this.klineEvent(parsed, { ...candle, quoteVolume: String(candle.quoteVolume) }, nowMs);
    }
    if (event === undefined) return;
    this.send(connection, this.encode(stream, event, connection.combined));
  }

  private event(stream: Stream, data: unknown, eventMs: number): unknown {
    const { parsed } = stream;
    const { market } = parsed;
    switch (parsed.kind) {
      case 'depth': {
        const diff = data as DepthDiff;
        return {
          e: 'depthUpdate',
          E: eventMs,
          s: binanceSymbol(market),
          U: diff.U,
          u: diff.u,
          b: diff.bids.map(([p, q]) => [price(market, p), qty(market, q)]),
          a: diff.asks.map(([p, q]) => [price(market, p), qty(market, q)]),
        };
      }
      case 'partialDepth':
        return this.partialDepth(parsed);
      case 'bookTicker': {
        const event = this.bookTickerEvent(parsed);
        const top = `${event.b} ${event.B} ${event.a} ${event.A}`;
        if (top === stream.lastTop) return undefined;
        stream.lastTop = top;
        return event;
      }
      case 'trade': {
        const trade = data as TapeTrade;
        return {
          e: 'trade',
          E: eventMs,
          s: binanceSymbol(market),
          t: trade.id,
          p: price(market, trade.price),
          q: qty(market, trade.qty),
          T: trade.ts,
          m: isBuyerMaker(trade.side),
          M: true,
        };
      }
      case 'aggTrade': {
        const trade = data as TapeTrade;
        return {
          e: 'aggTrade',
          E: eventMs,
          s: binanceSymbol(market),
          a: trade.id,
          p: price(market, trade.price),
          q: qty(market, trade.qty),
          f: trade.id,
          l: trade.id,
          T: trade.ts,
          m: isBuyerMaker(trade.side),
          M: true,
        };
      }
      case 'kline':
        return this.klineEvent(parsed, data as CandleJson, eventMs);
      case 'ticker':
        // The published ticker says something changed; the event is read whole (best bid and ask too).
        return this.tickerEvent(parsed, eventMs);
      case 'miniTicker':
        return this.miniTickerEvent(parsed, eventMs);
      default:
        return undefined;
    }
  }

  private partialDepth(parsed: StreamName) {
    const { market } = parsed;
    const depth = this.data.depth(market.symbol, parsed.levels ?? 5);
    return {
      lastUpdateId: depth?.lastUpdateId ?? 0,
      bids: (depth?.bids ?? []).map(([p, q]) => [price(market, p), qty(market, q)]),
      asks: (depth?.asks ?? []).map(([p, q]) => [price(market, p), qty(market, q)]),
    };
  }

  private bookTickerEvent(parsed: StreamName) {
    const top = bookTicker(this.data, parsed.market);
    const depth = this.data.depth(parsed.market.symbol, 1);
    return {
      u: depth?.lastUpdateId ?? 0,
      s: top.symbol,
      b: top.bidPrice,
      B: top.bidQty,
      a: top.askPrice,
      A: top.askQty,
    };
  }

  private tickerEvent(parsed: StreamName, eventMs: number) {
    const view = ticker24h(this.data, parsed.market, eventMs, false) as ReturnType<typeof ticker24h> & {
      priceChange: string;
      priceChangePercent: string;
      weightedAvgPrice: string;
      prevClosePrice: string;
      lastQty: string;
      bidPrice: string;
      bidQty: string;
      askPrice: string;
      askQty: string;
    };
    return {
      e: '24hrTicker',
      E: eventMs,
      s: view.symbol,
      p: view.priceChange,
      P: view.priceChangePercent,
      w: view.weightedAvgPrice,
      x: view.prevClosePrice,
      c: view.lastPrice,
      Q: view.lastQty,
      b: view.bidPrice,
      B: view.bidQty,
      a: view.askPrice,
      A: view.askQty,
      o: view.openPrice,
      h: view.highPrice,
      l: view.lowPrice,
      v: view.volume,
      q: view.quoteVolume,
      O: view.openTime,
      C: view.closeTime,
      F: view.firstId,
      L: view.lastId,
      n: view.count,
    };
  }

  private miniTickerEvent(parsed: StreamName, eventMs: number) {
    const view = ticker24h(this.data, parsed.market, eventMs, true);
    return {
      e: '24hrMiniTicker',
      E: eventMs,
      s: view.symbol,
      c: view.lastPrice,
      o: view.openPrice,
      h: view.highPrice,
      l: view.lowPrice,
      v: view.volume,
      q: view.quoteVolume,
    };
  }

  private klineEvent(parsed: StreamName, candle: CandleJson, eventMs: number) {
    const { market } = parsed;
    return {
      e: 'kline',
      E: eventMs,
      s: binanceSymbol(market),
      k: {
        t: candle.openMs,
        T: candle.closeMs - 1,
        s: binanceSymbol(market),
        i: candle.interval,
        // Hoga candles keep no trade ids.
        f: -1,
        L: -1,
        o: price(market, candle.open),
        c: price(market, candle.close),
        h: price(market, candle.high),
        l: price(market, candle.low),
        v: qty(market, candle.volume),
        n: candle.trades,
        x: candle.closed,
        q: quote(market, candle.quoteVolume),
        V: '0',
        Q: '0',
        B: '0',
      },
    };
  }

  private fanOut(stream: Stream, event: unknown): void {
    let raw: string | undefined;
    let combined: string | undefined;
    for (const connection of stream.subscribers) {
      if (connection.combined) {
        combined ??= this.encode(stream, event, true);
        this.send(connection, combined);
      } else {
        raw ??= this.encode(stream, event, false);
        this.send(connection, raw);
      }
    }
  }

  private encode(stream: Stream, event: unknown, combined: boolean): string {
    const data = JSON.stringify(event);
    return combined ? `{"stream":${JSON.stringify(stream.parsed.name)},"data":${data}}` : data;
  }

  private send(connection: StreamConnection, encoded: string): void {
    if (connection.closed) return;
    if (connection.client.bufferedAmount > this.limits.sendBufferBytesMax) {
      this.detach(connection);
      connection.client.close(slowConsumerCloseCode, 'SLOW_CONSUMER');
      return;
    }
    connection.client.send(encoded);
  }

  private release(stream: Stream, connection: StreamConnection): void {
    stream.subscribers.delete(connection);
    if (stream.subscribers.size > 0) return;
    this.streams.delete(stream.parsed.name);
    const onChannel = this.byChannel.get(stream.parsed.channel);
    onChannel?.delete(stream);
    if (onChannel !== undefined && onChannel.size === 0) this.byChannel.delete(stream.parsed.channel);
  }
}
