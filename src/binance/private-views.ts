// The one place that maps Hoga's orders, trades, balances and errors to Binance's spot shapes
// (docs/BINANCE.md "Private API"): statuses, order types, decimal fields and numeric error codes.
import type { BalanceView } from '../core/types.js';
import {
  formatUnits,
  lotsToQty,
  minorToAmount,
  minorToPrice,
  priceToMinor,
  qtyToLots,
} from '../gateway/decimal.js';
import { joinedSymbolName, type Market, type MarketRegistry } from '../gateway/markets.js';
import type { TrackedOrder, TrackedTrade } from '../gateway/order-tracker.js';
import type { PlaceResult } from '../gateway/trading.js';
import { BinanceError, toBinanceError } from './errors.js';

export { BinanceError };

export type BinanceOrderType =
  | 'LIMIT'
  | 'MARKET'
  | 'LIMIT_MAKER'
  | 'STOP_LOSS'
  | 'STOP_LOSS_LIMIT'
  | 'TAKE_PROFIT'
  | 'TAKE_PROFIT_LIMIT';

export const binanceOrderTypes: readonly BinanceOrderType[] = [
  'LIMIT',
  'MARKET',
  'LIMIT_MAKER',
  'STOP_LOSS',
  'STOP_LOSS_LIMIT',
  'TAKE_PROFIT',
  'TAKE_PROFIT_LIMIT',
];

/**
 * A Binance symbol is base and quote joined, upper case (`BTCUSDT`); Hoga's may have a separator.
 * The same names as the public API's (symbols.ts): one index in the market registry.
 */
export function binanceSymbolOf(market: Market): string {
  return joinedSymbolName(market.base, market.quote);
}

export function marketOfBinanceSymbol(markets: MarketRegistry, symbol: string): Market | undefined {
  return markets.marketByJoinedName(symbol);
}

/** Any error thrown by a private route as Binance's `{code, msg}` and its HTTP status (errors.ts's table). */
export function binanceErrorOf(error: unknown): BinanceError {
  return toBinanceError(error);
}

export function orderStatusOf(order: TrackedOrder): string {
  switch (order.status) {
    case 'pending':
      return 'NEW';
    case 'open':
      return order.filled > 0 ? 'PARTIALLY_FILLED' : 'NEW';
    case 'filled':
      return 'FILLED';
    case 'cancelled':
      return 'CANCELED';
    default:
      return 'EXPIRED';
  }
}

export function placeStatusOf(result: PlaceResult): string {
  switch (result.status) {
    case 'pending':
    case 'resting':
      return 'NEW';
    case 'partiallyFilled':
      return 'PARTIALLY_FILLED';
    case 'filled':
      return 'FILLED';
    default:
      return 'EXPIRED';
  }
}

/** The order's Binance type; a post-only order reads back as LIMIT (the tracker keeps no flag). */
export function orderTypeOf(order: { type: string; stopPrice?: number; trigger?: string }): BinanceOrderType {
  if (order.stopPrice !== undefined && order.stopPrice > 0) {
    const kind = order.trigger === 'takeProfit' ? 'TAKE_PROFIT' : 'STOP_LOSS';
    return order.type === 'limit' ? `${kind}_LIMIT` : kind;
  }
  return order.type === 'market' ? 'MARKET' : 'LIMIT';
}

/** Quote amount of lots at a price (minor units): what `cummulativeQuoteQty` adds up. */
function quoteMinor(lots: number, priceMinor: number): bigint {
  return BigInt(lots) * BigInt(priceMinor);
}

function quoteText(minor: bigint, market: Market): string {
  return formatUnits(minor, market.scale.spec.quoteDecimals);
}

/** `cummulativeQuoteQty` of an order from the caller's recent trades of it (else at its own price). */
export function cumulativeQuoteOf(
  order: TrackedOrder,
  trades: readonly TrackedTrade[],
  market: Market,
): string {
  let total = 0n;
  let lots = 0;
  for (const trade of trades) {
    if (trade.orderId !== order.id) continue;
    total += quoteMinor(trade.qty, trade.price);
    lots += trade.qty;
  }
  // Trades older than the tracker keeps: the order's own price stands in for the rest.
  if (lots < order.filled && order.price > 0) total += quoteMinor(order.filled - lots, order.price);
  return quoteText(total, market);
}

export function orderView(order: TrackedOrder, market: Market, trades: readonly TrackedTrade[]) {
  const scale = market.scale;
  return {
    symbol: binanceSymbolOf(market),
    orderId: order.id,
    orderListId: order.ocoId === undefined ? -1 : Math.min(order.id, order.ocoId),
    clientOrderId: order.clientOrderId ?? String(order.id),
    price: order.type === 'market' ? '0' : minorToPrice(order.price, scale),
    origQty: lotsToQty(order.qty, scale),
    executedQty: lotsToQty(order.filled, scale),
    cummulativeQuoteQty: cumulativeQuoteOf(order, trades, market),
    status: orderStatusOf(order),
    timeInForce: order.tif,
    type: orderTypeOf(order),
    side: order.side === 'buy' ? 'BUY' : 'SELL',
    stopPrice: order.stopPrice === undefined ? '0' : minorToPrice(order.stopPrice, scale),
    icebergQty: order.displayQty === undefined ? '0' : lotsToQty(order.displayQty, scale),
    time: order.createdAtMs,
    updateTime: order.updatedAtMs,
    isWorking: order.status === 'open',
    workingTime: order.triggeredAtMs ?? (order.status === 'pending' ? -1 : order.createdAtMs),
    origQuoteOrderQty: '0',
    selfTradePreventionMode: 'EXPIRE_MAKER',
  };
}

export type BinanceResponseType = 'ACK' | 'RESULT' | 'FULL';

export interface PlaceViewInput {
  result: PlaceResult;
  market: Market;
  type: BinanceOrderType;
  side: 'BUY' | 'SELL';
  timeInForce: string;
  price: string;
  origQty: string;
  stopPrice?: string;
  icebergQty?: string;
  clientOrderId: string;
  responseType: BinanceResponseType;
}

/** The reply to a new order, in the ACK, RESULT or FULL form asked for. */
export function placeView(input: PlaceViewInput) {
  const { result, market } = input;
  const ack = {
    symbol: binanceSymbolOf(market),
    orderId: result.orderId,
    orderListId: result.stopOrderId === undefined ? -1 : result.orderId,
    clientOrderId: input.clientOrderId,
    transactTime: result.ts,
  };
  if (input.responseType === 'ACK') return ack;
  let quote = 0n;
  for (const fill of result.fills) {
    const price = priceToMinor(fill.price, market.scale);
    const lots = qtyToLots(fill.qty, market.scale);
    if (price.ok && lots.ok) quote += quoteMinor(lots.value, price.value);
  }
  const full = {
    ...ack,
    price: input.price,
    origQty: input.origQty,
    executedQty: result.filledQty,
    origQuoteOrderQty: '0',
    cummulativeQuoteQty: quoteText(quote, market),
    status: placeStatusOf(result),
    timeInForce: input.timeInForce,
    type: input.type,
    side: input.side,
    workingTime: result.status === 'pending' ? -1 : result.ts,
    selfTradePreventionMode: 'EXPIRE_MAKER',
    ...(input.stopPrice === undefined ? {} : { stopPrice: input.stopPrice }),
    ...(input.icebergQty === undefined ? {} : { icebergQty: input.icebergQty }),
  };
  if (input.responseType === 'RESULT') return full;
  return {
    ...full,
    fills: result.fills.map((fill) => ({
      price: fill.price,
      qty: fill.qty,
      commission: fill.fee,
      commissionAsset: fill.feeAsset,
      tradeId: fill.tradeId,
    })),
  };
}

/** One of the caller's trades as `myTrades` lists it. */
export function tradeView(trade: TrackedTrade, market: Market) {
  const scale = market.scale;
  const feeAsset = trade.side === 'buy' ? market.base : market.quote;
  const feeDecimals = trade.side === 'buy' ? scale.spec.baseDecimals : scale.spec.quoteDecimals;
  return {
    symbol: binanceSymbolOf(market),
    id: trade.tradeId,
    orderId: trade.orderId,
    orderListId: -1,
    price: minorToPrice(trade.price, scale),
    qty: lotsToQty(trade.qty, scale),
    quoteQty: quoteText(quoteMinor(trade.qty, trade.price), market),
    commission: minorToAmount(trade.fee, feeDecimals),
    commissionAsset: feeAsset,
    time: trade.atMs,
    isBuyer: trade.side === 'buy',
    isMaker: trade.role === 'maker',
    isBestMatch: true,
  };
}

export function balanceView(balance: BalanceView, markets: MarketRegistry) {
  const decimals = markets.decimalsOf(balance.asset) ?? 0;
  return {
    asset: balance.asset,
    free: minorToAmount(balance.available, decimals),
    locked: minorToAmount(balance.locked, decimals),
  };
}
