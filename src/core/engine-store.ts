// The engine's state and its small shared operations (see engine.ts for the layers).
import { assert } from './assert.js';
import { Account, availableSlot, Book, lockedSlot, Order } from './book.js';
import { IdIndex, NumberMap, OrderIdSet } from './collections.js';
import { EventPool } from './event-pool.js';
import { isNonNegativeSafeInteger } from './numbers.js';
import type { OcoRequest } from './oco.js';
import { type OfferingLedger, Offerings } from './offerings.js';
import { STP_EXPIRE_MAKER } from './order-fields.js';
import { type StopFields, triggerName } from './stops.js';
import type { SymbolConfig } from './symbol-config.js';
import {
  type AcceptedEvent,
  type AmendedEvent,
  type CancelledEvent,
  type DepositedEvent,
  defaultEngineLimits,
  type EngineEvent,
  type EngineLimits,
  type ExpiredEvent,
  type ExpireReason,
  type RefilledEvent,
  type RejectCode,
  type RejectedEvent,
  type RestedEvent,
  type SymbolAddedEvent,
  type TimeInForce,
  type TradeEvent,
  type TriggeredEvent,
  type WithdrawnEvent,
} from './types.js';

export { BPS_MAX, isBps, isName, NAME_LENGTH_MAX } from './symbol-config.js';

/** User 0 receives every fee. */
export const FEE_USER = 0;
/** Freed order objects kept for reuse. */
export const ORDER_POOL_MAX = 65_536;
/** Result arrays kept per event count; commands with more events (long sweeps) get a fresh array. */
export const RESULT_EVENTS_MAX = 32;
/** Event objects (and scratch slots) kept after a long sweep; more are dropped for the GC. */
export const EVENT_POOL_MAX = 4_096;
export const STATE_FORMAT = 'hoga-engine-state';
/** Version 2 added last prices, pending orders, iceberg fields and OCO links; version 1 still loads. */
export const STATE_VERSION = 2;

export type Fields = { readonly [key: string]: unknown };

/** One balance line of the whole ledger (see `Engine.allBalances`). */
export interface LedgerEntry {
  user: number;
  asset: string;
  available: number;
  locked: number;
}

export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The order index's array holds at most 2^26 slots at half load (V8's array length bound). */
export const RESTING_ORDERS_CEILING = 30_000_000;

export function resolveLimits(limits: Partial<EngineLimits> | undefined): Required<EngineLimits> {
  const resolved = { ...defaultEngineLimits } as Required<EngineLimits>;
  for (const key of Object.keys(defaultEngineLimits) as (keyof EngineLimits)[]) {
    const value = limits?.[key];
    if (value === undefined) continue;
    if (!isNonNegativeSafeInteger(value)) {
      throw new Error(`engine limit ${key} must be a non-negative safe integer`);
    }
    resolved[key] = value;
  }
  if (resolved.restingOrdersMax > RESTING_ORDERS_CEILING) {
    throw new Error(`engine limit restingOrdersMax must be at most ${RESTING_ORDERS_CEILING}`);
  }
  return resolved;
}

/** Engine state: indexes, balances, pools, reused events, and the small operations every layer uses. */
export abstract class EngineStore {
  protected readonly limits: Required<EngineLimits>;
  protected readonly books = new Map<string, Book>();
  protected readonly assetNames: string[] = [];
  protected readonly assetIndexes = new Map<string, number>();
  /** Per asset: accepted deposits minus accepted withdrawals. */
  protected readonly assetSupply: number[] = [];
  protected readonly accounts = new NumberMap<Account>();
  protected readonly feeAccount = new Account(FEE_USER);
  /** Stands in, read-only, for a user without an account: all balances zero. */
  protected readonly absentAccount = new Account(-1);
  protected depositedUserCount = 0;
  protected readonly restingOrders = new IdIndex<Order>();
  protected readonly usedOrderIds = new OrderIdSet();
  protected tradeCount = 0;
  protected restSequence = 0;
  protected readonly orderPool: Order[] = [];
  /** The running command's `ts` (0 when absent): offerings and coupons depend on time. */
  protected commandTs = 0;
  /** Numbers the FOK dry run's simulated fills, below zero (real fills use their trade id). */
  protected dryFillToken = 0;
  protected readonly offerings: Offerings;
  /** Why the last sweep left a remainder. */
  protected sweepStop: ExpireReason = 'UNFILLED';
  /** Pending stop orders by id, all symbols (cancel and amend find them here). */
  protected readonly pendingOrders = new Map<number, Order>();
  /** The order being placed or activated (one at a time: activations run after the command's own run). */
  protected readonly request: OrderRequest = {
    book: null as unknown as Book,
    account: null as unknown as Account,
    id: 0,
    user: 0,
    isBuy: true,
    isMarket: false,
    tif: 'GTC',
    price: 0,
    qty: 0,
    remaining: 0,
    stp: STP_EXPIRE_MAKER,
    displayQty: 0,
    stopPrice: 0,
    isStopLoss: false,
  };
  protected readonly stopFields: StopFields = { stopPrice: 0, isStopLoss: false };
  protected readonly ocoRequest: OcoRequest = {
    user: 0,
    isBuy: true,
    qty: 0,
    id: 0,
    price: 0,
    stopId: 0,
    stopPrice: 0,
    stopLimitPrice: 0,
    stp: STP_EXPIRE_MAKER,
  };
  /** Lowest and highest trade price of the current run (highest 0: no trade yet). */
  protected runLowPrice = 0;
  protected runHighPrice = 0;
  /** Triggered orders of the current command waiting to run, first in, first out. */
  protected readonly activationQueue: Order[] = [];
  protected readonly triggeredScratch: Order[] = [];
  protected readonly triggeredEvents = new EventPool<TriggeredEvent>(() => ({
    ev: 'triggered',
    id: 0,
    user: 0,
    symbol: '',
    side: 'buy',
  }));
  protected readonly refilledEvents = new EventPool<RefilledEvent>(() => ({
    ev: 'refilled',
    id: 0,
    user: 0,
    symbol: '',
    side: 'buy',
    price: 0,
    qty: 0,
  }));

  /** Events of the current command, in order; only the first `eventCount` are live. */
  protected readonly events: EngineEvent[] = [];
  protected eventCount = 0;
  /** resultArrays[n] has length n: returned without resizing, so `apply` allocates nothing. */
  protected readonly resultArrays: EngineEvent[][] = [];
  protected readonly tradeEvents: TradeEvent[] = [];
  protected tradeEventsUsed = 0;
  protected readonly cancelledEvents: CancelledEvent[] = [];
  protected cancelledEventsUsed = 0;
  protected readonly acceptedEvents = new EventPool<AcceptedEvent>(() => ({
    ev: 'accepted',
    id: 0,
    user: 0,
    symbol: '',
    side: 'buy',
    type: 'limit',
    tif: 'GTC',
    price: 0,
    qty: 0,
    stopPrice: 0,
    trigger: undefined,
    displayQty: 0,
  }));
  protected readonly restedEvents = new EventPool<RestedEvent>(() => ({
    ev: 'rested',
    id: 0,
    user: 0,
    symbol: '',
    side: 'buy',
    price: 0,
    qty: 0,
    shownQty: 0,
  }));
  protected readonly expiredEvents = new EventPool<ExpiredEvent>(() => ({
    ev: 'expired',
    id: 0,
    user: 0,
    symbol: '',
    side: 'buy',
    price: 0,
    qty: 0,
    reason: 'UNFILLED',
  }));
  protected readonly amendedEvent: AmendedEvent = {
    ev: 'amended',
    id: 0,
    user: 0,
    symbol: '',
    side: 'buy',
    price: 0,
    qty: 0,
    reducedBy: 0,
    shownReducedBy: 0,
  };
  protected readonly rejectedEvent: RejectedEvent = { ev: 'rejected', id: null, reason: 'UNKNOWN_COMMAND' };
  protected readonly depositedEvent: DepositedEvent = { ev: 'deposited', user: 0, asset: '', amount: 0 };
  protected readonly withdrawnEvent: WithdrawnEvent = { ev: 'withdrawn', user: 0, asset: '', amount: 0 };
  protected readonly symbolAddedEvent: SymbolAddedEvent = {
    ev: 'symbolAdded',
    symbol: '',
    base: '',
    quote: '',
    lotSize: 0,
    tickSize: 0,
    makerFeeBps: 0,
    takerFeeBps: 0,
  };

  protected readonly isUsedId = (id: number): boolean => this.usedOrderIds.has(id);

  constructor(limits?: Partial<EngineLimits>) {
    this.limits = resolveLimits(limits);
    this.accounts.set(FEE_USER, this.feeAccount);
    this.offerings = new Offerings(this.offeringLedger(), {
      offeringsMax: this.limits.offeringsMax,
      claimantsPerOfferingMax: this.limits.claimantsPerOfferingMax,
    });
    for (let count = 0; count <= RESULT_EVENTS_MAX; count++) {
      this.resultArrays.push(new Array<EngineEvent>(count).fill(this.rejectedEvent));
    }
  }

  /** Frees the previous command's events for reuse. */
  protected startCommand(): void {
    this.eventCount = 0;
    this.tradeEventsUsed = 0;
    this.cancelledEventsUsed = 0;
    this.acceptedEvents.reset();
    this.restedEvents.reset();
    this.expiredEvents.reset();
    this.triggeredEvents.reset();
    this.refilledEvents.reset();
    if (this.events.length > EVENT_POOL_MAX) this.trimEventPools();
  }

  /** After a sweep with more events than the pools keep: the previous result is dead by now. */
  protected trimEventPools(): void {
    this.events.length = EVENT_POOL_MAX;
    if (this.tradeEvents.length > EVENT_POOL_MAX) this.tradeEvents.length = EVENT_POOL_MAX;
    if (this.cancelledEvents.length > EVENT_POOL_MAX) this.cancelledEvents.length = EVENT_POOL_MAX;
    this.restedEvents.trim(EVENT_POOL_MAX);
    this.expiredEvents.trim(EVENT_POOL_MAX);
    this.triggeredEvents.trim(EVENT_POOL_MAX);
    this.refilledEvents.trim(EVENT_POOL_MAX);
  }

  protected result(): readonly EngineEvent[] {
    const count = this.eventCount;
    const events = this.events;
    if (count > RESULT_EVENTS_MAX) return events.slice(0, count);
    const result = this.resultArrays[count];
    for (let index = 0; index < count; index++) result[index] = events[index];
    return result;
  }

  /** The offerings' narrow view of the ledger. */
  protected offeringLedger(): OfferingLedger {
    return {
      assetIndex: (name) => this.assetIndexes.get(name),
      account: (user) => this.accounts.get(user),
      ensureAssets: (account) => account.ensureAssets(this.assetNames.length),
      emit: (event) => {
        this.events[this.eventCount++] = event;
      },
      reject: (id, reason) => this.reject(id, reason),
    };
  }

  /** Available to locked. Callers checked the funds: a shortfall here is a bug (EngineAssertionError). */
  protected reserve(account: Account, asset: number, amount: number): void {
    if (amount === 0) return;
    const balances = account.balances;
    const available = balances[availableSlot(asset)];
    assert(amount > 0 && available >= amount, 'reserve: amount negative or above available');
    balances[availableSlot(asset)] = available - amount;
    balances[lockedSlot(asset)] += amount;
  }

  /** Locked to available: never more than is locked (EngineAssertionError). */
  protected release(account: Account, asset: number, amount: number): void {
    if (amount === 0) return;
    const balances = account.balances;
    const locked = balances[lockedSlot(asset)];
    assert(amount > 0 && locked >= amount, 'release: amount negative or above locked');
    balances[lockedSlot(asset)] = locked - amount;
    balances[availableSlot(asset)] += amount;
  }

  protected allocateOrder(account: Account, book: Book): Order {
    const pooled = this.orderPool.pop();
    if (pooled === undefined) return new Order(account, book);
    pooled.account = account;
    pooled.book = book;
    return pooled;
  }

  protected freeOrder(order: Order): void {
    // Back to a plain order, so that reuse never reads stale extras.
    order.extras = null;
    if (this.orderPool.length < ORDER_POOL_MAX) this.orderPool.push(order);
  }

  /** Puts a filled-in order at the back of its price level and into every index. */
  protected link(order: Order): void {
    const book = order.book;
    order.sequence = ++this.restSequence;
    (order.isBuy ? book.bids : book.asks).levelAt(order.price).append(order);
    this.restingOrders.add(order);
    order.account.openOrderCount++;
    book.orderCount++;
  }

  /** Removes a resting order from every index and returns it to the pool. */
  protected retire(order: Order): void {
    const level = order.level!;
    const book = order.book;
    level.unlink(order);
    if (level.orderCount === 0) (order.isBuy ? book.bids : book.asks).remove(level);
    this.restingOrders.remove(order);
    order.account.openOrderCount--;
    book.orderCount--;
    this.freeOrder(order);
  }

  protected linkPending(order: Order): void {
    const book = order.book;
    order.isPending = true;
    book.stopListOf(order).levelAt(order.stopPrice).append(order);
    book.pending.set(order.id, order);
    this.pendingOrders.set(order.id, order);
    order.account.pendingCount++;
    order.account.openOrderCount++;
  }

  protected removePending(order: Order): void {
    const book = order.book;
    const level = order.level!;
    level.totalQty -= order.remaining;
    level.unlink(order);
    if (level.orderCount === 0) book.stopListOf(order).remove(level);
    order.isPending = false;
    book.pending.delete(order.id);
    this.pendingOrders.delete(order.id);
    order.account.pendingCount--;
    order.account.openOrderCount--;
  }

  /** The user's account, created (without counting as a depositor) for a pending stop-market buy of a user with none. */
  protected accountOf(user: number): Account {
    let account = this.accounts.get(user);
    if (account === undefined) {
      account = new Account(user);
      account.ensureAssets(this.assetNames.length);
      this.accounts.set(user, account);
    }
    return account;
  }

  protected createBook(config: SymbolConfig): Book {
    const { symbol, base, quote } = config;
    const baseAsset = this.assetIndexes.get(base) ?? this.addAsset(base);
    const quoteAsset = this.assetIndexes.get(quote) ?? this.addAsset(quote);
    const book = new Book(
      symbol,
      base,
      quote,
      baseAsset,
      quoteAsset,
      config.lotSize,
      config.tickSize,
      config.makerFeeBps,
      config.takerFeeBps,
    );
    this.books.set(symbol, book);
    return book;
  }

  protected addAsset(name: string): number {
    const index = this.assetNames.length;
    this.assetNames.push(name);
    this.assetIndexes.set(name, index);
    this.assetSupply.push(0);
    this.feeAccount.ensureAssets(this.assetNames.length);
    return index;
  }

  protected reject(id: unknown, reason: RejectCode): void {
    const event = this.rejectedEvent;
    event.id = id;
    event.reason = reason;
    this.events[this.eventCount++] = event;
  }

  protected emitAccepted(request: OrderRequest, type: 'limit' | 'market'): void {
    const event = this.acceptedEvents.take();
    event.id = request.id;
    event.user = request.user;
    event.symbol = request.book.symbol;
    event.side = request.isBuy ? 'buy' : 'sell';
    event.type = type;
    event.tif = request.tif;
    event.price = request.price;
    event.qty = request.qty;
    event.stopPrice = request.stopPrice;
    event.trigger = request.stopPrice === 0 ? undefined : triggerName(request.isStopLoss);
    event.displayQty = request.displayQty;
    this.events[this.eventCount++] = event;
  }

  /** The taker's `qty` expires (a run's remainder, or the whole order). */
  protected emitExpired(request: OrderRequest, qty: number, reason: ExpireReason): void {
    const event = this.expiredEvents.take();
    event.id = request.id;
    event.user = request.user;
    event.symbol = request.book.symbol;
    event.side = request.isBuy ? 'buy' : 'sell';
    event.price = request.price;
    event.qty = qty;
    event.reason = reason;
    this.events[this.eventCount++] = event;
  }

  /** A fill of the taker `request` against `maker`, at the maker's price. */
  protected emitTrade(
    request: OrderRequest,
    maker: Order,
    qty: number,
    takerFee: number,
    makerFee: number,
  ): void {
    if (this.tradeEventsUsed === this.tradeEvents.length) {
      this.tradeEvents.push({
        ev: 'trade',
        tradeId: 0,
        symbol: '',
        taker: 0,
        maker: 0,
        takerUser: 0,
        makerUser: 0,
        takerSide: 'buy',
        price: 0,
        qty: 0,
        takerFee: 0,
        makerFee: 0,
      });
    }
    const event = this.tradeEvents[this.tradeEventsUsed++];
    event.tradeId = ++this.tradeCount;
    event.symbol = request.book.symbol;
    event.taker = request.id;
    event.maker = maker.id;
    event.takerUser = request.user;
    event.makerUser = maker.user;
    event.takerSide = request.isBuy ? 'buy' : 'sell';
    event.price = maker.price;
    event.qty = qty;
    event.takerFee = takerFee;
    event.makerFee = makerFee;
    this.events[this.eventCount++] = event;
  }

  protected accountBalances(account: Account): LedgerEntry[] {
    const entries: LedgerEntry[] = [];
    for (let index = 0; index < account.assetCount; index++) {
      const available = account.balances[availableSlot(index)];
      const locked = account.balances[lockedSlot(index)];
      if (available === 0 && locked === 0) continue;
      entries.push({ user: account.user, asset: this.assetNames[index], available, locked });
    }
    return entries.sort((a, b) => compareText(a.asset, b.asset));
  }
}

/** What an order in the book shows in depth: its remaining, or an iceberg's visible part. */
export function shownQty(order: Order): number {
  return !order.hasExtras || order.displayQty === 0 ? order.remaining : order.visible;
}

/** The asset an order's reservation is in: quote for a buy, base for a sell. */
export function reservedAssetOf(order: Order): number {
  return order.isBuy ? order.book.quoteAsset : order.book.baseAsset;
}

/** The order being placed or activated, as one struct rather than a long parameter list. */
export interface OrderRequest {
  book: Book;
  account: Account;
  id: number;
  user: number;
  isBuy: boolean;
  isMarket: boolean;
  tif: TimeInForce;
  /** 0 for a market order. */
  price: number;
  /** Quantity at acceptance. */
  qty: number;
  /** Quantity this run takes (less than qty for an amended pending order). */
  remaining: number;
  stp: number;
  /** Iceberg shown part size, 0 for an ordinary order. */
  displayQty: number;
  /** 0 for an order that is not a stop order. */
  stopPrice: number;
  isStopLoss: boolean;
}
