// Public market data (depth, trades, tickers, candles) from market data's engine integers to the
// units clients see everywhere: decimal strings in the market's units, times in ms. One place, so
// REST, the WebSocket channels and the Binance-compatible layer can never disagree.
import type {
  Candle,
  CandleInterval,
  CandleJson,
  DepthDiff,
  DepthSnapshot,
  Level,
  TapeTrade,
  Ticker,
} from '../marketdata/index.js';
import { formatUnits, lotsToQty, minorToPrice } from './decimal.js';
import type { Market } from './markets.js';

/** What the public routes read from market data (MarketData fits). */
export interface MarketDataReader {
  depth(symbol: string, levelsMax: number): DepthSnapshot | undefined;
  recentTrades(symbol: string): TapeTrade[] | undefined;
  ticker(symbol: string, nowMs: number): Ticker | undefined;
  candle(symbol: string, interval: CandleInterval): Candle | undefined;
}

export type DecimalLevel = [price: string, qty: string];

export function levelsJson(levels: readonly Level[], market: Market): DecimalLevel[] {
  return levels.map(([price, qty]) => [minorToPrice(price, market.scale), lotsToQty(qty, market.scale)]);
}

export function depthJson(depth: DepthSnapshot, market: Market) {
  return {
    symbol: depth.symbol,
    lastUpdateId: depth.lastUpdateId,
    bids: levelsJson(depth.bids, market),
    asks: levelsJson(depth.asks, market),
  };
}

/** A diff keeps its Binance-style ids `U` and `u`; levels with quantity "0…" are removed. */
export function depthDiffJson(diff: DepthDiff, market: Market) {
  return {
    symbol: diff.symbol,
    U: diff.U,
    u: diff.u,
    bids: levelsJson(diff.bids, market),
    asks: levelsJson(diff.asks, market),
  };
}

export interface PublicTradeJson {
  tradeId: number;
  price: string;
  qty: string;
  /** The taker's side. */
  side: string;
  atMs: number;
}

export function publicTradeJson(trade: TapeTrade, market: Market): PublicTradeJson {
  return {
    tradeId: trade.id,
    price: minorToPrice(trade.price, market.scale),
    qty: lotsToQty(trade.qty, market.scale),
    side: trade.side,
    atMs: trade.ts,
  };
}

/** Price * lots in engine units is quote minor units: as a decimal string of the quote asset. */
export function quoteAmount(quoteMinor: bigint | string, market: Market): string {
  return formatUnits(BigInt(quoteMinor), market.scale.spec.quoteDecimals);
}

export interface TickerJson {
  symbol: string;
  open: string;
  high: string;
  low: string;
  last: string;
  volume: string;
  quoteVolume: string;
  change: string;
  /** Change in percent of the open with two decimals ("-1.25"), truncated toward zero. */
  changePercent: string;
  trades: number;
  /** Time of the last trade, 0 before any. */
  lastTradeMs: number;
}

export function tickerJson(ticker: Ticker, market: Market): TickerJson {
  return {
    symbol: ticker.symbol,
    open: minorToPrice(ticker.open, market.scale),
    high: minorToPrice(ticker.high, market.scale),
    low: minorToPrice(ticker.low, market.scale),
    last: minorToPrice(ticker.last, market.scale),
    volume: lotsToQty(ticker.volume, market.scale),
    quoteVolume: quoteAmount(ticker.quoteVolume, market),
    change: minorToPrice(ticker.change, market.scale),
    changePercent: formatUnits(BigInt(ticker.changeBps), 2),
    trades: ticker.trades,
    lastTradeMs: ticker.lastTs,
  };
}

export interface CandleItemJson {
  openMs: number;
  closeMs: number;
  open: string;
  high: string;
  low: string;
  close: string;
  volume: string;
  quoteVolume: string;
  trades: number;
}

/** A trades candle (open or closed) in the market's units. */
export function candleItemJson(
  candle: Pick<
    Candle | CandleJson,
    'openMs' | 'closeMs' | 'open' | 'high' | 'low' | 'close' | 'volume' | 'trades'
  > & {
    quoteVolume: bigint | string;
  },
  market: Market,
): CandleItemJson {
  return {
    openMs: candle.openMs,
    closeMs: candle.closeMs,
    open: minorToPrice(candle.open, market.scale),
    high: minorToPrice(candle.high, market.scale),
    low: minorToPrice(candle.low, market.scale),
    close: minorToPrice(candle.close, market.scale),
    volume: lotsToQty(candle.volume, market.scale),
    quoteVolume: quoteAmount(candle.quoteVolume, market),
    trades: candle.trades,
  };
}

export interface BookTickerJson {
  symbol: string;
  updateId: number;
  bidPrice: string | null;
  bidQty: string | null;
  askPrice: string | null;
  askQty: string | null;
}

export function bookTickerJson(depth: DepthSnapshot, market: Market): BookTickerJson {
  const bid = depth.bids[0];
  const ask = depth.asks[0];
  return {
    symbol: depth.symbol,
    updateId: depth.lastUpdateId,
    bidPrice: bid === undefined ? null : minorToPrice(bid[0], market.scale),
    bidQty: bid === undefined ? null : lotsToQty(bid[1], market.scale),
    askPrice: ask === undefined ? null : minorToPrice(ask[0], market.scale),
    askQty: ask === undefined ? null : lotsToQty(ask[1], market.scale),
  };
}
