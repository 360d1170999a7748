// OCO orders (docs/ENGINE.md "OCO"): the `oco` command's field checks, and the reservation
// arithmetic of a linked pair. The engine does the placing and the link's resolution.
import type { Book, Order } from './book.js';
import { isNonNegativeSafeInteger, isPositiveSafeInteger } from './numbers.js';
import { isAbsent, parseStp, STP_INVALID } from './order-fields.js';
import type { RejectCode } from './types.js';

type Fields = { readonly [key: string]: unknown };

/** A well-formed `oco` command. */
export interface OcoRequest {
  user: number;
  isBuy: boolean;
  qty: number;
  id: number;
  price: number;
  stopId: number;
  stopPrice: number;
  /** 0 when leg B is a stop-market order. */
  stopLimitPrice: number;
  stp: number;
}

function isPrice(value: unknown, tickSize: number): value is number {
  return isPositiveSafeInteger(value) && value % tickSize === 0;
}

/**
 * The checks that need no balances or book state beyond used ids, in the spec's order
 * (DUPLICATE_ORDER_ID through INVALID_STOP). Fills `out` and returns null when they pass.
 */
export function checkOcoFields(
  fields: Fields,
  book: Book,
  isUsed: (id: number) => boolean,
  out: OcoRequest,
): RejectCode | null {
  const { id, stopId } = fields;
  const idWellFormed = isNonNegativeSafeInteger(id);
  const stopIdWellFormed = isNonNegativeSafeInteger(stopId);
  if (
    (idWellFormed && isUsed(id)) ||
    (stopIdWellFormed && isUsed(stopId)) ||
    (idWellFormed && stopIdWellFormed && id === stopId)
  )
    return 'DUPLICATE_ORDER_ID';
  const { user, side, qty, price, stopPrice, stopLimitPrice } = fields;
  const stp = parseStp(fields.stp);
  if (
    !idWellFormed ||
    !stopIdWellFormed ||
    !isNonNegativeSafeInteger(user) ||
    (side !== 'buy' && side !== 'sell') ||
    stp === STP_INVALID
  )
    return 'INVALID_ORDER';
  if (!isPositiveSafeInteger(qty)) return 'INVALID_QTY';
  const stopLimitGiven = !isAbsent(stopLimitPrice);
  if (!isPrice(price, book.tickSize) || (stopLimitGiven && !isPrice(stopLimitPrice, book.tickSize)))
    return 'INVALID_PRICE';
  const isBuy = side === 'buy';
  if (!isPrice(stopPrice, book.tickSize) || (isBuy ? price >= stopPrice : price <= stopPrice))
    return 'INVALID_STOP';
  out.user = user;
  out.isBuy = isBuy;
  out.qty = qty;
  out.id = id;
  out.price = price;
  out.stopId = stopId;
  out.stopPrice = stopPrice;
  out.stopLimitPrice = stopLimitGiven ? (stopLimitPrice as number) : 0;
  out.stp = stp;
  return null;
}

/**
 * The pair's one reservation: a sell `qty * lotSize` base, a buy `qty * max(price,
 * stopLimitPrice)` quote (`qty * price` with a stop-market leg B). NaN-free: the caller has
 * checked each product is safe.
 */
export function ocoReservation(
  isBuy: boolean,
  qty: number,
  price: number,
  stopLimitPrice: number,
  lotSize: number,
): number {
  if (!isBuy) return qty * lotSize;
  return qty * Math.max(price, stopLimitPrice);
}

/** The reservation of a live pair, from its legs (neither has filled or been amended while linked). */
export function linkedReservation(legA: Order, legB: Order): number {
  return ocoReservation(legA.isBuy, legA.qty, legA.price, legB.isMarket ? 0 : legB.price, legA.book.lotSize);
}

/** What one open order alone reserves: a limit buy its remaining at its price, a market buy nothing, a sell its base. */
export function reservationOf(order: Order): number {
  if (!order.isBuy) return order.remaining * order.book.lotSize;
  return order.hasExtras && order.isMarket ? 0 : order.remaining * order.price;
}
