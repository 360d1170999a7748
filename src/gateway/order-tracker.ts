// Each user's recent orders and trades, kept from applied commands (live and replay), so "get one
// order", "my orders" and "my trades" answer from memory. Bounded per user: open orders are always
// kept (the engine bounds them), finished ones and trades beyond the bound drop oldest first. The
// SQL read model holds the complete history.
import type { AcceptedEvent, EngineEvent, PlaceCommand, TradeEvent } from '../core/types.js';
import type { CommandOutcome } from '../ports.js';

export type OrderStatus = 'open' | 'filled' | 'cancelled' | 'expired';

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

interface UserBook {
  orders: Map<number, TrackedOrder>;
  finishedCount: number;
  trades: TrackedTrade[];
}

/** Snapshot form: per user, the tracked orders in insertion order and the trades oldest first. */
export interface OrderTrackerState {
  users: Array<{ user: number; orders: TrackedOrder[]; trades: TrackedTrade[] }>;
}

export class OrderTracker {
  private readonly users = new Map<number, UserBook>();
  /** Open orders by id: a trade names its maker only by order id. */
  private readonly openById = new Map<number, TrackedOrder>();

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

  openOrders(user: number): TrackedOrder[] {
    return this.orders(user).filter((order) => order.status === 'open');
  }

  /** Newest first. */
  trades(user: number): TrackedTrade[] {
    const book = this.users.get(user);
    return book === undefined ? [] : [...book.trades].reverse();
  }

  /** One of the user's recent trades, searched newest first. */
  trade(user: number, tradeId: number, orderId: number): TrackedTrade | undefined {
    const trades = this.users.get(user)?.trades ?? [];
    for (let index = trades.length - 1; index >= 0; index -= 1) {
      const trade = trades[index];
      if (trade.tradeId === tradeId && trade.orderId === orderId) return trade;
    }
    return undefined;
  }

  /**
   * Plain data for a snapshot. Orders change after they are tracked (fills, status), so they are
   * copied; a tracked trade never changes, so only the arrays are copied.
   */
  exportState(): OrderTrackerState {
    const users: OrderTrackerState['users'] = [];
    for (const [user, book] of this.users) {
      const orders: TrackedOrder[] = [];
      for (const order of book.orders.values()) orders.push({ ...order });
      users.push({ user, orders, trades: book.trades.slice() });
    }
    return { users };
  }

  /** Replaces everything tracked (recovery, before the tail replays), within the current bounds. */
  restoreState(state: unknown): void {
    const users = (state as Partial<OrderTrackerState> | null)?.users;
    if (!Array.isArray(users)) throw new Error('order tracker state: users expected');
    const restored = new Map<number, UserBook>();
    for (const { user, orders, trades } of users) {
      if (!Number.isSafeInteger(user) || !Array.isArray(orders) || !Array.isArray(trades))
        throw new Error('order tracker state: { user, orders, trades } expected');
      const book: UserBook = {
        orders: new Map(),
        finishedCount: 0,
        trades: trades.slice(-this.options.tradesPerUserMax).map((trade) => ({ ...trade })),
      };
      for (const order of orders) {
        book.orders.set(order.id, { ...order });
        if (order.status !== 'open') book.finishedCount += 1;
      }
      while (book.finishedCount > this.options.finishedOrdersPerUserMax) this.dropOldestFinished(book);
      restored.set(user, book);
    }
    this.users.clear();
    this.openById.clear();
    for (const [user, book] of restored) {
      this.users.set(user, book);
      for (const order of book.orders.values())
        if (order.status === 'open') this.openById.set(order.id, order);
    }
  }

  apply(outcome: CommandOutcome): void {
    for (const event of outcome.events) this.applyEvent(event, outcome);
  }

  private applyEvent(event: EngineEvent, outcome: CommandOutcome): void {
    switch (event.ev) {
      case 'accepted':
        this.accept(event, outcome);
        break;
      case 'trade':
        this.fill(event.taker, event, 'taker', outcome.ts);
        this.fill(event.maker, event, 'maker', outcome.ts);
        break;
      case 'expired':
      case 'cancelled':
        this.finish(event.id, event.ev, outcome.ts);
        break;
      case 'amended': {
        const order = this.openById.get(event.id);
        if (order !== undefined) {
          order.remaining = event.qty;
          order.updatedAtMs = outcome.ts;
        }
        break;
      }
      default:
        break;
    }
  }

  private accept(event: AcceptedEvent, outcome: CommandOutcome): void {
    const command = outcome.command as PlaceCommand & { clientOrderId?: unknown };
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
      status: 'open',
      createdAtMs: outcome.ts,
      updatedAtMs: outcome.ts,
    };
    if (typeof command.clientOrderId === 'string') order.clientOrderId = command.clientOrderId;
    this.bookOf(event.user).orders.set(order.id, order);
    this.openById.set(order.id, order);
  }

  private fill(id: number, trade: TradeEvent, role: TrackedTrade['role'], atMs: number): void {
    const order = this.openById.get(id);
    if (order === undefined) return;
    order.filled += trade.qty;
    order.remaining -= trade.qty;
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
    if (book.trades.length > this.options.tradesPerUserMax) book.trades.shift();
    if (order.remaining === 0) this.finish(id, 'filled', atMs);
  }

  private finish(id: number, how: 'filled' | 'expired' | 'cancelled', atMs: number): void {
    const order = this.openById.get(id);
    if (order === undefined) return;
    this.openById.delete(id);
    order.status = how;
    order.remaining = 0;
    order.updatedAtMs = atMs;
    const book = this.bookOf(order.user);
    book.finishedCount += 1;
    if (book.finishedCount > this.options.finishedOrdersPerUserMax) this.dropOldestFinished(book);
  }

  private dropOldestFinished(book: UserBook): void {
    for (const [id, order] of book.orders) {
      if (order.status !== 'open') {
        book.orders.delete(id);
        book.finishedCount -= 1;
        return;
      }
    }
  }

  private bookOf(user: number): UserBook {
    let book = this.users.get(user);
    if (book === undefined) {
      book = { orders: new Map(), finishedCount: 0, trades: [] };
      this.users.set(user, book);
    }
    return book;
  }
}
