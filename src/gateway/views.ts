// Engine integers → the JSON clients see (decimal strings), shared by REST and WebSocket.
import type { BalanceView } from '../core/types.js';
import { lotsToQty, minorToAmount, minorToPrice } from './decimal.js';
import type { Market, MarketRegistry } from './markets.js';
import type { TrackedOrder, TrackedTrade } from './order-tracker.js';

export interface OrderJson {
  orderId: number;
  clientOrderId?: string;
  symbol: string;
  side: string;
  type: string;
  tif: string;
  price: string | null;
  qty: string;
  filledQty: string;
  remainingQty: string;
  status: string;
  createdAtMs: number;
  updatedAtMs: number;
  /** Stop orders: the trigger price and direction; `triggeredAtMs` once it triggered. */
  stopPrice?: string;
  trigger?: string;
  triggeredAtMs?: number;
  /** Iceberg orders: the shown part's size and what the book shows now. */
  displayQty?: string;
  visibleQty?: string;
  /** The other leg of an OCO pair while the link is live. */
  ocoId?: number;
}

export function orderJson(order: TrackedOrder, market: Market): OrderJson {
  const json: OrderJson = {
    orderId: order.id,
    symbol: order.symbol,
    side: order.side,
    type: order.type,
    tif: order.tif,
    price: order.type === 'market' ? null : minorToPrice(order.price, market.scale),
    qty: lotsToQty(order.qty, market.scale),
    filledQty: lotsToQty(order.filled, market.scale),
    remainingQty: lotsToQty(order.remaining, market.scale),
    status: order.status,
    createdAtMs: order.createdAtMs,
    updatedAtMs: order.updatedAtMs,
  };
  if (order.clientOrderId !== undefined) json.clientOrderId = order.clientOrderId;
  if (order.stopPrice !== undefined) json.stopPrice = minorToPrice(order.stopPrice, market.scale);
  if (order.trigger !== undefined) json.trigger = order.trigger;
  if (order.triggeredAtMs !== undefined) json.triggeredAtMs = order.triggeredAtMs;
  if (order.displayQty !== undefined) json.displayQty = lotsToQty(order.displayQty, market.scale);
  if (order.visibleQty !== undefined) json.visibleQty = lotsToQty(order.visibleQty, market.scale);
  if (order.ocoId !== undefined) json.ocoId = order.ocoId;
  return json;
}

export function tradeJson(trade: TrackedTrade, market: Market) {
  const feeAsset = trade.side === 'buy' ? market.base : market.quote;
  const feeDecimals = trade.side === 'buy' ? market.scale.spec.baseDecimals : market.scale.spec.quoteDecimals;
  return {
    tradeId: trade.tradeId,
    orderId: trade.orderId,
    symbol: trade.symbol,
    side: trade.side,
    role: trade.role,
    price: minorToPrice(trade.price, market.scale),
    qty: lotsToQty(trade.qty, market.scale),
    fee: minorToAmount(trade.fee, feeDecimals),
    feeAsset,
    atMs: trade.atMs,
  };
}

export function balanceJson(balance: BalanceView, markets: MarketRegistry) {
  const decimals = markets.decimalsOf(balance.asset) ?? 0;
  return {
    asset: balance.asset,
    available: minorToAmount(balance.available, decimals),
    locked: minorToAmount(balance.locked, decimals),
  };
}

export function marketJson(market: Market) {
  return {
    symbol: market.symbol,
    base: market.base,
    quote: market.quote,
    baseDecimals: market.scale.spec.baseDecimals,
    quoteDecimals: market.scale.spec.quoteDecimals,
    lotSize: market.scale.spec.lotSize,
    tickSize: market.scale.spec.tickSize,
    makerFeeBps: market.makerFeeBps,
    takerFeeBps: market.takerFeeBps,
  };
}
