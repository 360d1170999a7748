// Pending stop orders, iceberg fields and OCO links in snapshots, the state hash and the
// integrity check. The engine owns the indexes; these helpers read one book at a time.
import type { Book, Order } from './book.js';
import type { Fnv64 } from './hash.js';
import { isNonNegativeSafeInteger, isPositiveSafeInteger } from './numbers.js';
import { linkedReservation, reservationOf } from './oco.js';
import { STP_EXPIRE_BOTH, STP_NONE } from './order-fields.js';
import type { TimeInForce } from './types.js';

const timesInForce: readonly TimeInForce[] = ['GTC', 'IOC', 'FOK'];
/** Snapshot form of "no OCO partner". */
const NO_PARTNER = -1;

/** Pending orders by ascending id: the canonical order for snapshots and the hash. */
export function pendingById(book: Book): Order[] {
  return [...book.pending.values()].sort((a, b) => a.id - b.id);
}

/**
 * One pending order as a snapshot tuple: [id, user, isBuy, isMarket, tif, stp, price, qty,
 * remaining, stopPrice, isStopLoss, ocoPartnerId or -1]. Booleans are 0/1, tif an index into
 * GTC/IOC/FOK, stp the engine's code.
 */
export function exportPendingOrder(order: Order): number[] {
  return [
    order.id,
    order.user,
    order.isBuy ? 1 : 0,
    order.isMarket ? 1 : 0,
    timesInForce.indexOf(order.tif),
    order.stp,
    order.price,
    order.qty,
    order.remaining,
    order.stopPrice,
    order.isStopLoss ? 1 : 0,
    order.ocoPartner === null ? NO_PARTNER : order.ocoPartner.id,
  ];
}

/** A book order's snapshot tuple: [id, user, price, qty, remaining], plus [displayQty, visible] for an iceberg. */
export function exportBookOrder(order: Order): number[] {
  const tuple = [order.id, order.user, order.price, order.qty, order.remaining];
  if (order.displayQty !== 0) tuple.push(order.displayQty, order.visible);
  return tuple;
}

/** The fields of a pending snapshot tuple, checked for form; the engine links them. */
export interface PendingTuple {
  id: number;
  user: number;
  isBuy: boolean;
  isMarket: boolean;
  tif: TimeInForce;
  stp: number;
  price: number;
  qty: number;
  remaining: number;
  stopPrice: number;
  isStopLoss: boolean;
  /** -1 when not linked. */
  partnerId: number;
}

/** Parses a pending tuple; null when malformed. */
export function parsePendingTuple(value: unknown): PendingTuple | null {
  if (!Array.isArray(value) || value.length !== 12) return null;
  const [id, user, isBuy, isMarket, tif, stp, price, qty, remaining, stopPrice, isStopLoss, partnerId] =
    value;
  const flags = [isBuy, isMarket, isStopLoss];
  if (![id, user, price, qty, remaining, stopPrice].every(isNonNegativeSafeInteger)) return null;
  if (!flags.every((flag) => flag === 0 || flag === 1)) return null;
  if (
    !(tif === 0 || tif === 1 || tif === 2) ||
    !Number.isInteger(stp) ||
    stp < STP_NONE ||
    stp > STP_EXPIRE_BOTH
  )
    return null;
  if (!(partnerId === NO_PARTNER || isNonNegativeSafeInteger(partnerId))) return null;
  return {
    id,
    user,
    isBuy: isBuy === 1,
    isMarket: isMarket === 1,
    tif: timesInForce[tif],
    stp,
    price,
    qty,
    remaining,
    stopPrice,
    isStopLoss: isStopLoss === 1,
    partnerId,
  };
}

/** Feeds the book's last price and its pending orders, by id, into the hash. */
export function hashPending(hash: Fnv64, book: Book): void {
  hash.integer(book.lastPrice);
  const pending = pendingById(book);
  hash.integer(pending.length);
  for (const order of pending) for (const value of exportPendingOrder(order)) hash.integer(value);
}

/** Feeds a book order's iceberg fields into the hash (zeros for an ordinary order). */
export function hashBookOrderExtras(hash: Fnv64, order: Order): void {
  hash.integer(order.displayQty);
  hash.integer(order.displayQty === 0 ? 0 : order.visible);
  hash.integer(order.ocoPartner === null ? NO_PARTNER : order.ocoPartner.id);
}

/**
 * What a book order reserves in the integrity check: its own need, or for leg A of a live OCO
 * the pair's one reservation (leg B then counts nothing). Throws through `fail` on a broken
 * iceberg or link.
 */
export function checkedBookOrderReservation(order: Order, fail: (message: string) => never): number {
  const name = `order ${order.id}`;
  if (!order.hasExtras && (order.displayQty !== 0 || order.ocoPartner !== null || order.isPending))
    fail(`${name}: iceberg or OCO fields set on an order marked plain`);
  if (order.displayQty !== 0) {
    if (order.displayQty >= order.qty || !isPositiveSafeInteger(order.visible))
      fail(`${name}: iceberg fields broken`);
    if (order.visible > Math.min(order.displayQty, order.remaining))
      fail(`${name}: visible beyond its bounds`);
  }
  if (order.stopPrice !== 0 && order.ocoPartner !== null) fail(`${name}: a linked leg A with a stop price`);
  const partner = order.ocoPartner;
  if (partner === null) return reservationOf(order);
  checkLink(order, partner, fail);
  return linkedReservation(order, partner);
}

function checkLink(legA: Order, legB: Order, fail: (message: string) => never): void {
  const name = `OCO ${legA.id}/${legB.id}`;
  if (legB.ocoPartner !== legA || !legB.isPending || legB.book.pending.get(legB.id) !== legB)
    fail(`${name}: leg B is not the pending partner of leg A`);
  if (
    legA.user !== legB.user ||
    legA.isBuy !== legB.isBuy ||
    legA.qty !== legB.qty ||
    legA.book !== legB.book
  )
    fail(`${name}: legs differ in user, side, qty or symbol`);
  if (legA.remaining !== legA.qty || legB.remaining !== legB.qty || !legB.isStopLoss || legA.displayQty !== 0)
    fail(`${name}: a live leg has filled, been amended or has the wrong kind`);
}

/**
 * Checks one book's pending orders and returns what each account reserves for them (an OCO
 * leg B reserves nothing of its own: its leg A carries the pair) and how many each has.
 */
export function checkPendingOrders(
  book: Book,
  indexed: (id: number) => Order | undefined,
  fail: (message: string) => never,
  count: (order: Order, reservation: number) => void,
): void {
  for (const [id, order] of book.pending) {
    const name = `pending order ${id} of ${book.symbol}`;
    if (order.id !== id || indexed(id) !== order || order.book !== book || !order.isPending)
      fail(`${name} is filed wrongly`);
    if (!isPositiveSafeInteger(order.remaining) || order.remaining > order.qty)
      fail(`${name} has remaining ${order.remaining} of ${order.qty}`);
    if (!isPositiveSafeInteger(order.stopPrice) || order.stopPrice % book.tickSize !== 0)
      fail(`${name} has a malformed stop price`);
    const priceWellFormed = order.isMarket
      ? order.price === 0 && order.tif !== 'GTC'
      : isPositiveSafeInteger(order.price) && order.price % book.tickSize === 0;
    if (!priceWellFormed || order.displayQty !== 0) fail(`${name} has a malformed price, tif or display`);
    if (order.ocoPartner !== null && order.ocoPartner.ocoPartner !== order)
      fail(`${name} has a one-sided link`);
    if (order.level === null || book.stopListOf(order).find(order.stopPrice) !== order.level)
      fail(`${name} is missing from its stop list`);
    count(order, order.ocoPartner === null ? reservationOf(order) : 0);
  }
}
