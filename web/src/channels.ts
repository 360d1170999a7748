// Public market-data channel names and payload readers (docs/MARKETDATA.md). The rest of the UI
// sees only the typed values returned here.

import type { Candle, PublicTrade, Side, Ticker } from './api.js';
import type { DepthDiff } from './book.js';

export const candleIntervals = ['1s', '1m', '5m', '15m', '1h', '4h', '1d', '1w'] as const;
export type CandleInterval = (typeof candleIntervals)[number];

export const channelNames = {
  depth: (symbol: string) => `depth.${symbol}`,
  trades: (symbol: string) => `trades.${symbol}`,
  ticker: (symbol: string) => `ticker.${symbol}`,
  candles: (symbol: string, interval: CandleInterval) => `candles.${symbol}.${interval}`,
};

type Loose = Record<string, unknown>;

function text(value: unknown): string {
  return typeof value === 'string' ? value : typeof value === 'number' ? String(value) : '0';
}

function count(value: unknown): number {
  return typeof value === 'number' ? value : Number(value ?? 0);
}

function levels(value: unknown): Array<[string, string]> {
  if (!Array.isArray(value)) return [];
  return value.map((level) => [text((level as unknown[])[0]), text((level as unknown[])[1])]);
}

/** A depth message is either a diff (U/u) or, after a reset, a snapshot (lastUpdateId). */
export type DepthMessage =
  | { kind: 'diff'; diff: DepthDiff }
  | {
      kind: 'snapshot';
      lastUpdateId: number;
      bids: Array<[string, string]>;
      asks: Array<[string, string]>;
    };

export function readDepth(data: unknown): DepthMessage {
  const message = data as Loose;
  if (message.lastUpdateId !== undefined) {
    return {
      kind: 'snapshot',
      lastUpdateId: count(message.lastUpdateId),
      bids: levels(message.bids),
      asks: levels(message.asks),
    };
  }
  return {
    kind: 'diff',
    diff: {
      U: count(message.U),
      u: count(message.u),
      bids: levels(message.bids),
      asks: levels(message.asks),
    },
  };
}

export function readTrade(data: unknown): PublicTrade {
  const trade = data as Loose;
  return {
    tradeId: text(trade.tradeId ?? trade.id),
    price: text(trade.price),
    qty: text(trade.qty),
    takerSide: (trade.takerSide ?? trade.side) === 'sell' ? 'sell' : ('buy' as Side),
    timeMs: count(trade.timeMs ?? trade.ts ?? trade.time),
  };
}

export function readTicker(data: unknown, symbol: string): Ticker {
  const ticker = data as Loose;
  return {
    symbol,
    open: text(ticker.open),
    high: text(ticker.high),
    low: text(ticker.low),
    last: text(ticker.last),
    volume: text(ticker.volume),
    quoteVolume: text(ticker.quoteVolume),
  };
}

export function readCandle(data: unknown): Candle {
  const candle = data as Loose;
  return {
    timeMs: count(candle.openTimeMs ?? candle.timeMs ?? candle.t ?? candle.openTime),
    open: text(candle.open),
    high: text(candle.high),
    low: text(candle.low),
    close: text(candle.close),
    volume: text(candle.volume),
    closed: candle.closed === true,
  };
}
