// Hoga market data in Binance's field names and text forms, shared by the REST routes and the
// streams: prices and quantities are the market's own decimal strings (Binance clients parse any
// decimal text), quote amounts have the quote asset's decimals, times are ms.
import { formatUnits, lotsToQty, minorToPrice } from '../gateway/decimal.js';
import type { MarketDataReader } from '../gateway/market-views.js';
import type { Market } from '../gateway/markets.js';
import type { TapeTrade } from '../marketdata/index.js';
import type { CandleRecord } from '../store/candles.js';
import { binanceSymbol } from './symbols.js';
import { isBuyerMaker } from './units.js';

export const dayMs = 86_400_000;

/** Engine price and lot counts in Binance's text (the market's own decimal strings). */
export function price(market: Market, minor: number): string {
  return minorToPrice(minor, market.scale);
}

export function qty(market: Market, lots: number): string {
  return lotsToQty(lots, market.scale);
}

export function quote(market: Market, minor: bigint | string | number): string {
  return formatUnits(BigInt(minor), market.scale.spec.quoteDecimals);
}

/** The largest price and quantity an engine integer can hold, for PRICE_FILTER and LOT_SIZE. */
function maxPrice(market: Market): string {
  const ticks = BigInt(Math.floor(Number.MAX_SAFE_INTEGER / market.scale.tickSizeMinor));
  return formatUnits(ticks * market.scale.tick.units, market.scale.tick.scale);
}

export function symbolInfo(market: Market) {
  const { spec } = market.scale;
  return {
    symbol: binanceSymbol(market),
    status: 'TRADING',
    baseAsset: market.base,
    baseAssetPrecision: spec.baseDecimals,
    quoteAsset: market.quote,
    quotePrecision: spec.quoteDecimals,
    quoteAssetPrecision: spec.quoteDecimals,
    baseCommissionPrecision: spec.baseDecimals,
    quoteCommissionPrecision: spec.quoteDecimals,
    // The engine's order kinds: limit and market, post-only, stop-loss and take-profit (market or limit).
    orderTypes: [
      'LIMIT',
      'LIMIT_MAKER',
      'MARKET',
      'STOP_LOSS',
      'STOP_LOSS_LIMIT',
      'TAKE_PROFIT',
      'TAKE_PROFIT_LIMIT',
    ],
    icebergAllowed: true,
    ocoAllowed: true,
    otoAllowed: false,
    quoteOrderQtyMarketAllowed: false,
    allowTrailingStop: false,
    cancelReplaceAllowed: false,
    amendAllowed: true,
    isSpotTradingAllowed: true,
    isMarginTradingAllowed: false,
    filters: [
      {
        filterType: 'PRICE_FILTER',
        minPrice: spec.tickSize,
        maxPrice: maxPrice(market),
        tickSize: spec.tickSize,
      },
      {
        filterType: 'LOT_SIZE',
        minQty: spec.lotSize,
        maxQty: qty(market, Number.MAX_SAFE_INTEGER),
        stepSize: spec.lotSize,
      },
    ],
    permissions: [],
    permissionSets: [['SPOT']],
    defaultSelfTradePreventionMode: 'NONE',
    allowedSelfTradePreventionModes: ['NONE', 'EXPIRE_TAKER', 'EXPIRE_MAKER', 'EXPIRE_BOTH'],
    // Hoga's own name and fees, for clients that want them (Binance clients ignore extra fields).
    hogaSymbol: market.symbol,
    makerFeeBps: market.makerFeeBps,
    takerFeeBps: market.takerFeeBps,
  };
}

export function tradeJson(market: Market, trade: TapeTrade) {
  return {
    id: trade.id,
    price: price(market, trade.price),
    qty: qty(market, trade.qty),
    quoteQty: quote(market, BigInt(trade.price) * BigInt(trade.qty)),
    time: trade.ts,
    isBuyerMaker: isBuyerMaker(trade.side),
    isBestMatch: true,
  };
}

/** Each Hoga trade is its own aggregate (first and last id are its id). */
export function aggTradeJson(market: Market, trade: TapeTrade) {
  return {
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

export type Kline = [
  number,
  string,
  string,
  string,
  string,
  string,
  number,
  string,
  number,
  string,
  string,
  string,
];

export function kline(
  market: Market,
  candle: { openMs: number; closeMs: number; open: number; high: number; low: number; close: number },
  volumeLots: number,
  quoteVolume: bigint | string,
  trades: number,
): Kline {
  return [
    candle.openMs,
    price(market, candle.open),
    price(market, candle.high),
    price(market, candle.low),
    price(market, candle.close),
    qty(market, volumeLots),
    candle.closeMs - 1,
    quote(market, quoteVolume),
    trades,
    // Taker buy volumes are not kept by Hoga's candles.
    '0',
    '0',
    '0',
  ];
}

export function storedKline(market: Market, record: CandleRecord): Kline {
  return kline(
    market,
    { ...record, openMs: record.openTimeMs, closeMs: record.closeTimeMs },
    record.volumeQty,
    record.quoteVolume,
    record.tradeCount,
  );
}

/** quoteVolume / volume at the price's scale, truncated; "0" without volume. */
function weightedAverage(market: Market, quoteMinor: bigint, volumeLots: number): string {
  const { scale } = market;
  if (volumeLots === 0) return formatUnits(0n, scale.tick.scale);
  const numerator = quoteMinor * 10n ** BigInt(scale.lot.scale + scale.tick.scale);
  const denominator = BigInt(volumeLots) * scale.lot.units * 10n ** BigInt(scale.spec.quoteDecimals);
  return formatUnits(numerator / denominator, scale.tick.scale);
}

export function ticker24h(data: MarketDataReader, market: Market, nowMs: number, mini: boolean) {
  const view = data.ticker(market.symbol, nowMs);
  const open = view?.open ?? 0;
  const last = view?.last ?? 0;
  const volume = view?.volume ?? 0;
  const quoteVolume = BigInt(view?.quoteVolume ?? '0');
  const count = view?.trades ?? 0;
  const openTime = nowMs - dayMs;
  const inWindow = (data.recentTrades(market.symbol) ?? []).filter((trade) => trade.ts > openTime);
  const lastTrade = inWindow.at(-1);
  const base = {
    symbol: binanceSymbol(market),
    openPrice: price(market, open),
    highPrice: price(market, view?.high ?? 0),
    lowPrice: price(market, view?.low ?? 0),
    lastPrice: price(market, last),
    volume: qty(market, volume),
    quoteVolume: quote(market, quoteVolume),
    openTime,
    closeTime: nowMs,
    // The tape keeps the last trades only: the first id is known when it holds the whole window.
    firstId: count > 0 && inWindow.length === count ? inWindow[0].id : -1,
    lastId: lastTrade?.id ?? -1,
    count,
  };
  if (mini) return base;
  const best = data.depth(market.symbol, 1);
  const bid = best?.bids[0];
  const ask = best?.asks[0];
  const change = last - open;
  return {
    ...base,
    priceChange: price(market, change),
    priceChangePercent: formatUnits(BigInt(view?.changeBps ?? 0), 2),
    weightedAvgPrice: weightedAverage(market, quoteVolume, volume),
    // Hoga's ticker keeps no close before the window.
    prevClosePrice: price(market, 0),
    lastQty: qty(market, lastTrade?.qty ?? 0),
    bidPrice: price(market, bid?.[0] ?? 0),
    bidQty: qty(market, bid?.[1] ?? 0),
    askPrice: price(market, ask?.[0] ?? 0),
    askQty: qty(market, ask?.[1] ?? 0),
  };
}

export function bookTicker(data: MarketDataReader, market: Market) {
  const best = data.depth(market.symbol, 1);
  const bid = best?.bids[0];
  const ask = best?.asks[0];
  return {
    symbol: binanceSymbol(market),
    bidPrice: price(market, bid?.[0] ?? 0),
    bidQty: qty(market, bid?.[1] ?? 0),
    askPrice: price(market, ask?.[0] ?? 0),
    askQty: qty(market, ask?.[1] ?? 0),
  };
}
