// Each user's recent orders and trades, kept from applied commands (live and replay), so "get one
// order", "my orders" and "my trades" answer from memory. Bounded per user: open orders are always
// kept (the engine bounds them); finished orders beyond the bound drop in the order they finished
// (a FIFO of ids, O(1) per drop), trades beyond theirs oldest first. The SQL read model holds the
// complete history (GET /orders/:id falls back to it for an order no longer kept here).
import type {
  AcceptedEvent,
  CancelledEvent,
  EngineEvent,
  PlaceCommand,
  StopTrigger,
  TradeEvent,
} from '../core/types.js';
import { DeferredArray } from '../journal/deferred-json.js';
import type { CommandOutcome } from '../ports.js';
import type { OrderRecord } from '../store/history.js';

/** `pending`: a stop order waiting for its trigger price (docs/API.md "Order statuses"). */
export type OrderStatus = 'pending' | 'open' | 'filled' | 'cancelled' | 'expired';

/** Live statuses: the order may still trade or be cancelled. */
export function isLive(status: OrderStatus): boolean {
  return status === 'open' || status === 'pending';
}

export interface TrackedOrder {
  id: number;
  user: number;
  symbol: string;
  side: AcceptedEvent['side'];
  type: AcceptedEvent['type'];
  tif: AcceptedEvent['tif'];
  price: number;
  qty: number;
  filled: number;
  remaining: number;
  status: OrderStatus;
  clientOrderId?: string;
  createdAtMs: number;
  updatedAtMs: number;
  /** Stop orders: trigger price (minor units) and direction; kept after the order triggered. */
  stopPrice?: number;
  trigger?: StopTrigger;
  /** When the stop order triggered (it stays set: the order ran as a taker from then on). */
  triggeredAtMs?: number;
  /** Iceberg orders: the shown part's size and what the book shows of it now (lots). */
  displayQty?: number;
  visibleQty?: number;
  /** The other leg of an OCO pair while the link is live. */
  ocoId?: number;
}

export interface TrackedTrade {
  tradeId: number;
  orderId: number;
  symbol: string;
  side: AcceptedEvent['side'];
  role: 'taker' | 'maker';
  price: number;
  qty: number;
  fee: number;
  atMs: number;
}

export interface OrderTrackerOptions {
  finishedOrdersPerUserMax: number;
  tradesPerUserMax: number;
}

/** A bounded FIFO: pushing onto a full ring evicts (and returns) the oldest item. */
class Ring<T> {
  private readonly items: T[] = [];
  private start = 0;

  constructor(private readonly capacity: number) {}

  get size(): number {
    return this.items.length;
  }

  push(item: T): T | undefined {
    if (this.capacity <= 0) return item;
    if (this.items.length < this.capacity) {
      this.items.push(item);
      return undefined;
    }
    const evicted = this.items[this.start];
    this.items[this.start] = item;
    this.start = (this.start + 1) % this.capacity;
    return evicted;
  }

  /** The item `age` places from the newest (0 = newest). */
  fromNewest(age: number): T {
    return this.items[(this.start + this.items.length - 1 - age) % this.items.length];
  }

  oldestFirst(): T[] {
    if (this.start === 0) return this.items.slice();
    return [...this.items.slice(this.start), ...this.items.slice(0, this.start)];
  }
}

interface UserBook {
  /** Open and kept finished orders, in the order they were accepted. */
  orders: Map<number, TrackedOrder>;
  /** Ids of the kept finished orders, in the order they finished. */
  finished: Ring<number>;
  trades: Ring<TrackedTrade>;
}

/** Compact snapshot form of an order: the user is the entry's, clientOrderId only when present. */
type OrderTuple = [
  id: number,
  symbol: string,
  side: TrackedOrder['side'],
  type: TrackedOrder['type'],
  tif: TrackedOrder['tif'],
  price: number,
  qty: number,
  filled: number,
  remaining: number,
  status: OrderStatus,
  createdAtMs: number,
  updatedAtMs: number,
  clientOrderId?: string | null,
  extras?: OrderExtras,
];

/** The stop, iceberg and OCO fields of an order in the snapshot form (only those it has). */
interface OrderExtras {
  stopPrice?: number;
  trigger?: StopTrigger;
  triggeredAtMs?: number;
  displayQty?: number;
  visibleQty?: number;
  ocoId?: number;
}

/** Per open order, what may still change, captured inside the snapshot pause. */
const capturedFields = 6;

type TradeTuple = [
  tradeId: number,
  orderId: number,
  symbol: string,
  side: TrackedTrade['side'],
  role: TrackedTrade['role'],
  price: number,
  qty: number,
  fee: number,
  atMs: number,
];

/** Version of the snapshot form written by `exportState`; `restoreState` also reads form 1. */
export const orderTrackerStateVersion = 2;

/**
 * Snapshot form 2: per user, its orders in acceptance order, the ids of its finished ones in the
 * order they finished, and its trades oldest first, all as tuples (no field names: a tenth of
 * form 1's bytes went to names).
 */
export interface OrderTrackerState {
  version: 2;
  users: Array<[user: number, orders: OrderTuple[], finishedIds: number[], trades: TradeTuple[]]>;
}

/** What `exportState` returns: form 2 once serialised (JSON.stringify or the snapshot writer). */
export interface OrderTrackerExport {
  version: 2;
  users: DeferredArray;
}

/** Form 1 (before the version field): objects with named fields. Read, never written. */
interface OrderTrackerStateV1 {
  users: Array<{ user: number; orders: TrackedOrder[]; trades: TrackedTrade[] }>;
}

/** Whether `restoreState` reads this state's form (a newer, unknown form is passed over). */
export function isReadableTrackerState(state: unknown): boolean {
  if (state === null || typeof state !== 'object') return false;
  const version = (state as { version?: unknown }).version;
  return version === undefined || version === orderTrackerStateVersion;
}

export class OrderTracker {
  /** Every event names its order's user, so one map per user finds any order: no global index. */
  private readonly users = new Map<number, UserBook>();

  constructor(private readonly options: OrderTrackerOptions) {}

  /** The order if `user` owns it (someone else's order is simply not found). */
  order(user: number, id: number): TrackedOrder | undefined {
    return this.users.get(user)?.orders.get(id);
  }

  /** Newest first. */
  orders(user: number): TrackedOrder[] {
    const book = this.users.get(user);
    return book === undefined ? [] : [...book.orders.values()].reverse();
  }

  /** Resting, running and pending orders. */
  openOrders(user: number): TrackedOrder[] {
    return this.orders(user).filter((order) => isLive(order.status));
  }

  /** Newest first. */
  trades(user: number): TrackedTrade[] {
    const book = this.users.get(user);
    return book === undefined ? [] : book.trades.oldestFirst().reverse();
  }

  /** One of the user's recent trades, searched newest first. */
  trade(user: number, tradeId: number, orderId: number): TrackedTrade | undefined {
    const trades = this.users.get(user)?.trades;
    if (trades === undefined) return undefined;
    for (let age = 0; age < trades.size; age += 1) {
      const trade = trades.fromNewest(age);
      if (trade.tradeId === tradeId && trade.orderId === orderId) return trade;
    }
    return undefined;
  }

  /**
   * The snapshot (form 2), captured inside the snapshot pause: only what may still change is
   * copied there (which orders and trades are kept, and each open order's filled, remaining and
   * update time); finished orders and trades never change again, so their tuples are built while
   * the snapshot is written (DeferredArray), from the live records.
   */
  exportState(): OrderTrackerExport {
    const entries: Array<() => OrderTrackerState['users'][number]> = [];
    for (const [user, book] of this.users) {
      const orders = Array.from(book.orders.values());
      const captured = new Float64Array(orders.length * capturedFields);
      for (let index = 0; index < orders.length; index++) captureOpen(orders[index], captured, index);
      const finishedIds = book.finished.oldestFirst();
      const trades = book.trades.oldestFirst();
      const orderTuples = new DeferredArray(orders.length, (index) =>
        capturedTuple(orders[index], captured, index),
      );
      entries.push(() => [user, orderTuples as unknown as OrderTuple[], finishedIds, trades.map(tradeTuple)]);
    }
    return {
      version: orderTrackerStateVersion,
      users: new DeferredArray(entries.length, (index) => entries[index]()),
    };
  }

  /**
   * Replaces everything tracked (recovery, before the tail replays), within the current bounds.
   * Reads form 2 and form 1; throws on anything else (check with `isReadableTrackerState` first).
   */
  restoreState(state: unknown): void {
    if (!isReadableTrackerState(state)) throw new Error('order tracker state: unknown form');
    const form = state as Partial<OrderTrackerState> | OrderTrackerStateV1;
    if (!Array.isArray(form.users)) throw new Error('order tracker state: users expected');
    const restored =
      (form as { version?: number }).version === orderTrackerStateVersion
        ? this.booksOfV2((form as OrderTrackerState).users)
        : this.booksOfV1((form as OrderTrackerStateV1).users);
    this.users.clear();
    for (const [user, book] of restored) this.users.set(user, book);
  }

  private booksOfV2(users: OrderTrackerState['users']): Map<number, UserBook> {
    const restored = new Map<number, UserBook>();
    for (const entry of users) {
      if (!Array.isArray(entry))
        throw new Error('order tracker state: [user, orders, finishedIds, trades] expected');
      const [user, orders, finishedIds, trades] = entry;
      if (
        !Number.isSafeInteger(user) ||
        !Array.isArray(orders) ||
        !Array.isArray(finishedIds) ||
        !Array.isArray(trades)
      )
        throw new Error('order tracker state: [user, orders, finishedIds, trades] expected');
      const book = this.emptyBook();
      for (const tuple of orders) {
        const order = orderOfTuple(user, tuple);
        book.orders.set(order.id, order);
      }
      for (const id of finishedIds) this.keepFinished(book, id);
      for (const tuple of trades) book.trades.push(tradeOfTuple(tuple));
      restored.set(user, book);
    }
    return restored;
  }

  private booksOfV1(users: OrderTrackerStateV1['users']): Map<number, UserBook> {
    const restored = new Map<number, UserBook>();
    for (const entry of users) {
      const { user, orders, trades } = entry ?? {};
      if (!Number.isSafeInteger(user) || !Array.isArray(orders) || !Array.isArray(trades))
        throw new Error('order tracker state: { user, orders, trades } expected');
      const book = this.emptyBook();
      for (const order of orders) book.orders.set(order.id, { ...order });
      // Form 1 did not keep the finishing order: acceptance order is the closest there is.
      for (const order of orders) if (order.status !== 'open') this.keepFinished(book, order.id);
      for (const trade of trades) book.trades.push({ ...trade });
      restored.set(user, book);
    }
    return restored;
  }

  apply(outcome: CommandOutcome): void {
    const events = outcome.events;
    for (let index = 0; index < events.length; index++) this.applyEvent(events[index], outcome);
  }

  private applyEvent(event: EngineEvent, outcome: CommandOutcome): void {
    switch (event.ev) {
      case 'accepted':
        this.accept(event, outcome);
        break;
      case 'trade':
        this.fill(event.takerUser, event.taker, event, 'taker', outcome.ts);
        this.fill(event.makerUser, event.maker, event, 'maker', outcome.ts);
        break;
      case 'expired': {
        const order = this.openOrder(event.user, event.id);
        if (order !== undefined) this.finish(order, event.ev, outcome.ts);
        break;
      }
      case 'cancelled':
        this.cancel(event, outcome.ts);
        break;
      case 'amended': {
        const order = this.openOrder(event.user, event.id);
        if (order !== undefined) {
          order.remaining = event.qty;
          if (order.visibleQty !== undefined) order.visibleQty = Math.min(order.visibleQty, event.qty);
          order.updatedAtMs = outcome.ts;
        }
        break;
      }
      case 'triggered': {
        const order = this.openOrder(event.user, event.id);
        if (order !== undefined) {
          order.status = 'open';
          order.triggeredAtMs = outcome.ts;
          order.updatedAtMs = outcome.ts;
        }
        break;
      }
      case 'rested': {
        const order = this.openOrder(event.user, event.id);
        if (order?.displayQty !== undefined) order.visibleQty = event.shownQty ?? event.qty;
        break;
      }
      case 'refilled': {
        const order = this.openOrder(event.user, event.id);
        if (order !== undefined) order.visibleQty = event.qty;
        break;
      }
      default:
        break;
    }
  }

  /** A cancel finishes the order; a live OCO partner is then alone (its link resolved). */
  private cancel(event: CancelledEvent, atMs: number): void {
    const order = this.openOrder(event.user, event.id);
    if (order === undefined) return;
    this.finish(order, 'cancelled', atMs);
    if (order.ocoId === undefined) return;
    const partner = this.openOrder(event.user, order.ocoId);
    if (partner !== undefined) partner.ocoId = undefined;
    order.ocoId = undefined;
  }

  private accept(event: AcceptedEvent, outcome: CommandOutcome): void {
    const command = outcome.command as Omit<PlaceCommand, 'op'> & {
      op: string;
      clientOrderId?: unknown;
      stopId?: number;
    };
    const order: TrackedOrder = {
      id: event.id,
      user: event.user,
      symbol: event.symbol,
      side: event.side,
      type: event.type,
      tif: event.tif,
      price: event.price,
      qty: event.qty,
      filled: 0,
      remaining: event.qty,
      status: (event.stopPrice ?? 0) > 0 ? 'pending' : 'open',
      createdAtMs: outcome.ts,
      updatedAtMs: outcome.ts,
    };
    if (typeof command.clientOrderId === 'string') order.clientOrderId = command.clientOrderId;
    if ((event.stopPrice ?? 0) > 0) {
      order.stopPrice = event.stopPrice;
      order.trigger = event.trigger;
    }
    if ((event.displayQty ?? 0) > 0) order.displayQty = event.displayQty;
    if (command.op === 'oco' && typeof command.stopId === 'number')
      order.ocoId = event.id === command.id ? command.stopId : command.id;
    this.bookOf(event.user).orders.set(order.id, order);
  }

  private openOrder(user: number, id: number): TrackedOrder | undefined {
    const order = this.users.get(user)?.orders.get(id);
    return order !== undefined && isLive(order.status) ? order : undefined;
  }

  private fill(user: number, id: number, trade: TradeEvent, role: TrackedTrade['role'], atMs: number): void {
    const order = this.openOrder(user, id);
    if (order === undefined) return;
    order.filled += trade.qty;
    order.remaining -= trade.qty;
    if (role === 'maker' && order.visibleQty !== undefined) order.visibleQty -= trade.qty;
    order.updatedAtMs = atMs;
    const book = this.bookOf(order.user);
    book.trades.push({
      tradeId: trade.tradeId,
      orderId: id,
      symbol: trade.symbol,
      side: order.side,
      role,
      price: trade.price,
      qty: trade.qty,
      fee: role === 'taker' ? trade.takerFee : trade.makerFee,
      atMs,
    });
    if (order.remaining === 0) this.finish(order, 'filled', atMs);
  }

  private finish(order: TrackedOrder, how: 'filled' | 'expired' | 'cancelled', atMs: number): void {
    order.status = how;
    order.remaining = 0;
    if (order.visibleQty !== undefined) order.visibleQty = 0;
    order.updatedAtMs = atMs;
    this.keepFinished(this.bookOf(order.user), order.id);
  }

  /** Remembers a finished order; the one that finished longest ago leaves when over the bound. */
  private keepFinished(book: UserBook, id: number): void {
    const dropped = book.finished.push(id);
    if (dropped !== undefined) book.orders.delete(dropped);
  }

  private emptyBook(): UserBook {
    return {
      orders: new Map(),
      finished: new Ring(this.options.finishedOrdersPerUserMax),
      trades: new Ring(this.options.tradesPerUserMax),
    };
  }

  private bookOf(user: number): UserBook {
    let book = this.users.get(user);
    if (book === undefined) {
      book = this.emptyBook();
      this.users.set(user, book);
    }
    return book;
  }
}

function orderTuple(order: TrackedOrder): OrderTuple {
  const tuple: OrderTuple = [
    order.id,
    order.symbol,
    order.side,
    order.type,
    order.tif,
    order.price,
    order.qty,
    order.filled,
    order.remaining,
    order.status,
    order.createdAtMs,
    order.updatedAtMs,
  ];
  const extras = extrasOf(order);
  if (order.clientOrderId !== undefined || extras !== undefined) tuple.push(order.clientOrderId ?? null);
  if (extras !== undefined) tuple.push(extras);
  return tuple;
}

const extraFields = ['stopPrice', 'trigger', 'triggeredAtMs', 'displayQty', 'visibleQty', 'ocoId'] as const;

function extrasOf(order: TrackedOrder): OrderExtras | undefined {
  let extras: OrderExtras | undefined;
  for (const field of extraFields) {
    if (order[field] === undefined) continue;
    extras ??= {};
    (extras as Record<string, unknown>)[field] = order[field];
  }
  return extras;
}

/** Marks which open orders' changing fields were captured (NaN = finished: nothing changes). */
function captureOpen(order: TrackedOrder, captured: Float64Array, index: number): void {
  const at = index * capturedFields;
  if (!isLive(order.status)) {
    captured[at] = Number.NaN;
    return;
  }
  captured[at] = order.filled;
  captured[at + 1] = order.remaining;
  captured[at + 2] = order.updatedAtMs;
  captured[at + 3] = order.status === 'pending' ? 1 : 0;
  captured[at + 4] = order.visibleQty ?? -1;
  captured[at + 5] = order.ocoId ?? -1;
}

/** The order's tuple with its captured state (an open order may have changed since the pause). */
function capturedTuple(order: TrackedOrder, captured: Float64Array, index: number): OrderTuple {
  const at = index * capturedFields;
  if (Number.isNaN(captured[at])) return orderTuple(order);
  const pending = captured[at + 3] === 1;
  const visibleQty = captured[at + 4] < 0 ? undefined : captured[at + 4];
  const ocoId = captured[at + 5] < 0 ? undefined : captured[at + 5];
  return orderTuple({
    ...order,
    filled: captured[at],
    remaining: captured[at + 1],
    updatedAtMs: captured[at + 2],
    status: pending ? 'pending' : 'open',
    // A pending order that triggers after the pause has no trigger time at the pause.
    triggeredAtMs: pending ? undefined : order.triggeredAtMs,
    visibleQty,
    ocoId,
  });
}

function orderOfTuple(user: number, tuple: unknown): TrackedOrder {
  if (!Array.isArray(tuple) || tuple.length < 12 || !Number.isSafeInteger(tuple[0]))
    throw new Error('order tracker state: order tuple expected');
  const [id, symbol, side, type, tif, price, qty, filled, remaining, status, createdAtMs, updatedAtMs] =
    tuple as OrderTuple;
  const order: TrackedOrder = {
    id,
    user,
    symbol,
    side,
    type,
    tif,
    price,
    qty,
    filled,
    remaining,
    status,
    createdAtMs,
    updatedAtMs,
  };
  if (typeof tuple[12] === 'string') order.clientOrderId = tuple[12];
  const extras = tuple[13];
  if (extras !== null && typeof extras === 'object') {
    for (const field of extraFields) {
      const value = (extras as Record<string, unknown>)[field];
      if (value !== undefined) (order as unknown as Record<string, unknown>)[field] = value;
    }
  }
  return order;
}

function tradeTuple(trade: TrackedTrade): TradeTuple {
  return [
    trade.tradeId,
    trade.orderId,
    trade.symbol,
    trade.side,
    trade.role,
    trade.price,
    trade.qty,
    trade.fee,
    trade.atMs,
  ];
}

function tradeOfTuple(tuple: unknown): TrackedTrade {
  if (!Array.isArray(tuple) || tuple.length !== 9)
    throw new Error('order tracker state: trade tuple expected');
  const [tradeId, orderId, symbol, side, role, price, qty, fee, atMs] = tuple as TradeTuple;
  return { tradeId, orderId, symbol, side, role, price, qty, fee, atMs };
}

/** A read-model row in the tracker's shape (the read model keeps no clientOrderId). */
export function trackedOf(record: OrderRecord): TrackedOrder {
  return {
    id: record.orderId,
    user: record.userId,
    symbol: record.symbol,
    side: record.side,
    type: record.type as TrackedOrder['type'],
    tif: record.tif as TrackedOrder['tif'],
    price: record.price,
    qty: record.qty,
    filled: record.filledQty,
    remaining: record.remainingQty,
    // The tracker's statuses: a partly filled order is open (only while the read model lags).
    status: record.status === 'partiallyFilled' ? 'open' : record.status,
    createdAtMs: record.createdTsMs,
    updatedAtMs: record.updatedTsMs,
    stopPrice: record.stopPrice ?? undefined,
    trigger: (record.trigger ?? undefined) as TrackedOrder['trigger'],
    triggeredAtMs: record.triggeredTsMs ?? undefined,
    displayQty: record.displayQty ?? undefined,
    ocoId: record.ocoId ?? undefined,
  };
}
