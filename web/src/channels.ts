// Public market-data channels (docs/MARKETDATA.md) and readers for their payloads. Payloads carry
// decimal strings in the market's units (the server's default); the readers also accept engine
// integers (`"units":"engine"`) and turn them into decimal strings with the symbol's units, so the
// rest of the UI sees only typed values in human units.

import type { Candle, Offering, PublicTrade, Side, Ticker } from './api.js';
import type { DepthDiff } from './book.js';
import type { SymbolUnits } from './units.js';

export const candleIntervals = ['1s', '1m', '5m', '15m', '1h', '4h', '1d', '1w'] as const;
export type CandleInterval = (typeof candleIntervals)[number];

export const channelNames = {
  depth: (symbol: string) => `depth.${symbol}`,
  trades: (symbol: string) => `trades.${symbol}`,
  ticker: (symbol: string) => `ticker.${symbol}`,
  candles: (symbol: string, interval: CandleInterval) => `candles.${symbol}.${interval}`,
  offering: (offeringId: number) => `offerings.${offeringId}`,
};

/** Latest-value channels: the server may skip sequence numbers for a slow client. */
export function isConflatedChannel(channel: string): boolean {
  return channel.startsWith('ticker.') || channel.startsWith('quotes.') || channel.startsWith('offerings.');
}

type Loose = Record<string, unknown>;

function count(value: unknown): number {
  return typeof value === 'number' ? value : Number(value ?? 0);
}

function levels(value: unknown, units: SymbolUnits): Array<[string, string]> {
  if (!Array.isArray(value)) return [];
  return value.map((level) => {
    const [price, qty] = level as [unknown, unknown];
    return [units.price(price), units.qty(qty)];
  });
}

/** A depth message is a diff (U/u) or, on (re)subscribe, a snapshot (lastUpdateId). */
export type DepthMessage =
  | { kind: 'diff'; diff: DepthDiff }
  | { kind: 'snapshot'; lastUpdateId: number; bids: Array<[string, string]>; asks: Array<[string, string]> };

export function readDepth(data: unknown, units: SymbolUnits): DepthMessage {
  const message = (data ?? {}) as Loose;
  const bids = levels(message.bids, units);
  const asks = levels(message.asks, units);
  if (message.lastUpdateId !== undefined) {
    return { kind: 'snapshot', lastUpdateId: count(message.lastUpdateId), bids, asks };
  }
  return { kind: 'diff', diff: { U: count(message.U), u: count(message.u), bids, asks } };
}

export function readTrade(data: unknown, units: SymbolUnits): PublicTrade {
  const trade = data as Loose;
  return {
    tradeId: String(trade.id ?? trade.tradeId),
    price: units.price(trade.price),
    qty: units.qty(trade.qty),
    takerSide: ((trade.side ?? trade.takerSide) === 'sell' ? 'sell' : 'buy') as Side,
    timeMs: count(trade.ts ?? trade.atMs ?? trade.timeMs),
  };
}

/** The trades channel snapshot is the recent tape (oldest first); a data message is one trade. */
export function readTrades(data: unknown, units: SymbolUnits): PublicTrade[] {
  if (data === null || data === undefined) return [];
  const items = Array.isArray(data) ? data : [data];
  return items.map((item) => readTrade(item, units));
}

export function readTicker(data: unknown, symbol: string, units: SymbolUnits): Ticker | undefined {
  if (data === null || typeof data !== 'object') return undefined;
  const ticker = data as Loose;
  return {
    symbol,
    open: units.price(ticker.open),
    high: units.price(ticker.high),
    low: units.price(ticker.low),
    last: units.price(ticker.last),
    volume: units.qty(ticker.volume),
    quoteVolume: units.quoteAmount(ticker.quoteVolume),
    trades: count(ticker.trades),
  };
}

export function readCandle(data: unknown, units: SymbolUnits): Candle | undefined {
  if (data === null || typeof data !== 'object') return undefined;
  const candle = data as Loose;
  return {
    timeMs: count(candle.openMs ?? candle.timeMs),
    open: units.price(candle.open),
    high: units.price(candle.high),
    low: units.price(candle.low),
    close: units.price(candle.close),
    volume: units.qty(candle.volume),
    closed: candle.closed === true,
  };
}

/**
 * An `offerings.<id>` message carries the offering as `GET /offerings/:id` shows it (human units
 * already); only the live fields are read, so a stale page keeps its static ones.
 */
export function readOfferingLive(
  data: unknown,
): Pick<Offering, 'id' | 'left' | 'closed' | 'claimants'> | undefined {
  if (data === null || typeof data !== 'object') return undefined;
  const offering = data as Loose;
  if (typeof offering.id !== 'number' || typeof offering.left !== 'number') return undefined;
  return {
    id: offering.id,
    left: offering.left,
    closed: offering.closed === true,
    claimants: count(offering.claimants),
  };
}
