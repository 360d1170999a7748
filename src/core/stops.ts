// Stop orders (docs/ENGINE.md "Stop orders"): the fields' validation, the trigger condition, and
// the per-symbol scan that finds the pending orders a run's trades trigger.
import type { Book, Order } from './book.js';
import { isPositiveSafeInteger } from './numbers.js';
import { isAbsent } from './order-fields.js';

type Fields = { readonly [key: string]: unknown };

/** A place command's stop fields: absent, malformed, or a trigger price and direction. */
export const STOP_ABSENT = 0;
export const STOP_INVALID = -1;

export interface StopFields {
  stopPrice: number;
  isStopLoss: boolean;
}

/**
 * Parses `stopPrice` + `trigger` into `out`. Returns STOP_ABSENT when neither is present,
 * STOP_INVALID when malformed, when only one is present, or when the order also has postOnly or
 * displayQty, else the stop price.
 */
export function parseStopFields(fields: Fields, tickSize: number, out: StopFields): number {
  const stopPrice = fields.stopPrice;
  const trigger = fields.trigger;
  if (isAbsent(stopPrice) && isAbsent(trigger)) return STOP_ABSENT;
  if (!isPositiveSafeInteger(stopPrice) || stopPrice % tickSize !== 0) return STOP_INVALID;
  if (trigger !== 'stopLoss' && trigger !== 'takeProfit') return STOP_INVALID;
  if (fields.postOnly === true || !isAbsent(fields.displayQty)) return STOP_INVALID;
  out.stopPrice = stopPrice;
  out.isStopLoss = trigger === 'stopLoss';
  return stopPrice;
}

/**
 * Whether a stop order's condition holds at trade price `price`: a buy stopLoss at or above its
 * stop price, a buy takeProfit at or below, a sell stopLoss at or below, a sell takeProfit at or
 * above.
 */
export function stopConditionHolds(
  isBuy: boolean,
  isStopLoss: boolean,
  stopPrice: number,
  price: number,
): boolean {
  return isBuy === isStopLoss ? price >= stopPrice : price <= stopPrice;
}

/**
 * Fills `out` with the book's pending orders a run trading between the two prices triggers, by
 * ascending id. A condition "at or above the stop price" holds at the lowest or the highest price
 * exactly when it holds at the highest, and "at or below" when it holds at the lowest, so only a
 * prefix of each stop list is visited.
 */
export function collectTriggered(book: Book, lowPrice: number, highPrice: number, out: Order[]): void {
  out.length = 0;
  for (
    let level = book.stopsRising.best();
    level !== null && level.price <= highPrice;
    level = level.forward[0]
  ) {
    for (let order = level.head; order !== null; order = order.next) out.push(order);
  }
  for (
    let level = book.stopsFalling.best();
    level !== null && level.price >= lowPrice;
    level = level.forward[0]
  ) {
    for (let order = level.head; order !== null; order = order.next) out.push(order);
  }
  if (out.length > 1) out.sort(byId);
}

function byId(a: Order, b: Order): number {
  return a.id - b.id;
}

/** The trigger's name as commands and snapshots spell it. */
export function triggerName(isStopLoss: boolean): 'stopLoss' | 'takeProfit' {
  return isStopLoss ? 'stopLoss' : 'takeProfit';
}
