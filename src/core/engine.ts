// The matching and risk engine: a pure, deterministic state machine (shared/spec/ENGINE.md,
// decisions in docs/ENGINE.md). Commands arrive as raw JSON values and are validated here.
// Hot-path rules: orders and price levels are pooled, event objects and the event array are
// reused (valid until the next `apply`), lookups by id are O(1), best price is O(1).
import { Account, availableSlot, Book, type LevelList, lockedSlot, Order, type PriceLevel } from './book.js';
import { IdIndex, NumberMap, OrderIdSet } from './collections.js';
import { EventPool } from './event-pool.js';
import { Fnv64 } from './hash.js';
import { basisPointsOf, floorDivide, isNonNegativeSafeInteger, isPositiveSafeInteger } from './numbers.js';
import { checkOcoFields, linkedReservation, type OcoRequest, ocoReservation, reservationOf } from './oco.js';
import { type CouponView, type OfferingLedger, Offerings, type OfferingView } from './offerings.js';
import {
  isAbsent,
  parseStp,
  parseTif,
  STP_EXPIRE_MAKER,
  STP_EXPIRE_TAKER,
  STP_INVALID,
  STP_NONE,
} from './order-fields.js';
import {
  checkedBookOrderReservation,
  checkPendingOrders,
  exportBookOrder,
  exportPendingOrder,
  hashBookOrderExtras,
  hashPending,
  parsePendingTuple,
  pendingById,
} from './pending-state.js';
import {
  collectTriggered,
  parseStopFields,
  STOP_ABSENT,
  STOP_INVALID,
  type StopFields,
  stopConditionHolds,
  triggerName,
} from './stops.js';
import {
  type AcceptedEvent,
  type AmendedEvent,
  type BalanceView,
  type CancelledEvent,
  type CancelReason,
  type DepositedEvent,
  type DepthView,
  defaultEngineLimits,
  type EngineEvent,
  type EngineLimits,
  type ExpiredEvent,
  type ExpireReason,
  type MatchingEngine,
  type OrderView,
  type RefilledEvent,
  type RejectCode,
  type RejectedEvent,
  type RestedEvent,
  type SymbolAddedEvent,
  type SymbolView,
  type TimeInForce,
  type TradeEvent,
  type TriggeredEvent,
  type WithdrawnEvent,
} from './types.js';

/** User 0 receives every fee. */
export const FEE_USER = 0;
const NAME_LENGTH_MAX = 32;
const BPS_MAX = 10_000;
/** Freed order objects kept for reuse. */
const ORDER_POOL_MAX = 65_536;
/** Result arrays kept per event count; commands with more events (long sweeps) get a fresh array. */
const RESULT_EVENTS_MAX = 32;
/** Event objects (and scratch slots) kept after a long sweep; more are dropped for the GC. */
const EVENT_POOL_MAX = 4_096;
const STATE_FORMAT = 'hoga-engine-state';
/** Version 2 added last prices, pending orders, iceberg fields and OCO links; version 1 still loads. */
const STATE_VERSION = 2;

type Fields = { readonly [key: string]: unknown };

/** One balance line of the whole ledger (see `Engine.allBalances`). */
export interface LedgerEntry {
  user: number;
  asset: string;
  available: number;
  locked: number;
}

function isName(value: unknown): value is string {
  return typeof value === 'string' && value.length >= 1 && value.length <= NAME_LENGTH_MAX;
}

function isBps(value: unknown): value is number {
  return Number.isInteger(value) && (value as number) >= 0 && (value as number) <= BPS_MAX;
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The order index's array holds at most 2^26 slots at half load (V8's array length bound). */
const RESTING_ORDERS_CEILING = 30_000_000;

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

export class Engine implements MatchingEngine {
  private readonly limits: Required<EngineLimits>;
  private readonly books = new Map<string, Book>();
  private readonly assetNames: string[] = [];
  private readonly assetIndexes = new Map<string, number>();
  /** Per asset: accepted deposits minus accepted withdrawals. */
  private readonly assetSupply: number[] = [];
  private readonly accounts = new NumberMap<Account>();
  private readonly feeAccount = new Account(FEE_USER);
  /** Stands in, read-only, for a user without an account: all balances zero. */
  private readonly absentAccount = new Account(-1);
  private depositedUserCount = 0;
  private readonly restingOrders = new IdIndex<Order>();
  private readonly usedOrderIds = new OrderIdSet();
  private tradeCount = 0;
  private restSequence = 0;
  private readonly orderPool: Order[] = [];
  /** The running command's `ts` (0 when absent): offerings and coupons depend on time. */
  private commandTs = 0;
  /** Numbers the FOK dry run's simulated fills, below zero (real fills use their trade id). */
  private dryFillToken = 0;
  private readonly offerings: Offerings;
  /** Why the last sweep left a remainder. */
  private sweepStop: ExpireReason = 'UNFILLED';
  /** Pending stop orders by id, all symbols (cancel and amend find them here). */
  private readonly pendingOrders = new Map<number, Order>();
  /** The order being placed or activated (one at a time: activations run after the command's own run). */
  private readonly request: OrderRequest = {
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
  private readonly stopFields: StopFields = { stopPrice: 0, isStopLoss: false };
  private readonly ocoRequest: OcoRequest = {
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
  private runLowPrice = 0;
  private runHighPrice = 0;
  /** Triggered orders of the current command waiting to run, first in, first out. */
  private readonly activationQueue: Order[] = [];
  private readonly triggeredScratch: Order[] = [];
  /** The FOK dry run's queue through a level with icebergs (see simulateIcebergLevel). */
  private readonly dryOrders: Order[] = [];
  private readonly dryLeft: number[] = [];
  private readonly dryShown: number[] = [];
  private readonly dryRun: DryRunState = { remaining: 0, funds: 0 };
  private readonly triggeredEvents = new EventPool<TriggeredEvent>(() => ({
    ev: 'triggered',
    id: 0,
    user: 0,
    symbol: '',
    side: 'buy',
  }));
  private readonly refilledEvents = new EventPool<RefilledEvent>(() => ({
    ev: 'refilled',
    id: 0,
    user: 0,
    symbol: '',
    side: 'buy',
    price: 0,
    qty: 0,
  }));

  /** Events of the current command, in order; only the first `eventCount` are live. */
  private readonly events: EngineEvent[] = [];
  private eventCount = 0;
  /** resultArrays[n] has length n: returned without resizing, so `apply` allocates nothing. */
  private readonly resultArrays: EngineEvent[][] = [];
  private readonly tradeEvents: TradeEvent[] = [];
  private tradeEventsUsed = 0;
  private readonly cancelledEvents: CancelledEvent[] = [];
  private cancelledEventsUsed = 0;
  private readonly acceptedEvents = new EventPool<AcceptedEvent>(() => ({
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
  private readonly restedEvents = new EventPool<RestedEvent>(() => ({
    ev: 'rested',
    id: 0,
    user: 0,
    symbol: '',
    side: 'buy',
    price: 0,
    qty: 0,
    shownQty: 0,
  }));
  private readonly expiredEvents = new EventPool<ExpiredEvent>(() => ({
    ev: 'expired',
    id: 0,
    user: 0,
    symbol: '',
    side: 'buy',
    price: 0,
    qty: 0,
    reason: 'UNFILLED',
  }));
  private readonly amendedEvent: AmendedEvent = {
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
  private readonly rejectedEvent: RejectedEvent = { ev: 'rejected', id: null, reason: 'UNKNOWN_COMMAND' };
  private readonly depositedEvent: DepositedEvent = { ev: 'deposited', user: 0, asset: '', amount: 0 };
  private readonly withdrawnEvent: WithdrawnEvent = { ev: 'withdrawn', user: 0, asset: '', amount: 0 };
  private readonly symbolAddedEvent: SymbolAddedEvent = {
    ev: 'symbolAdded',
    symbol: '',
    base: '',
    quote: '',
    lotSize: 0,
    tickSize: 0,
    makerFeeBps: 0,
    takerFeeBps: 0,
  };

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

  static fromState(state: unknown, limits?: Partial<EngineLimits>): Engine {
    const engine = new Engine(limits);
    engine.load(state);
    engine.validateInternalState();
    return engine;
  }

  apply(command: unknown): readonly EngineEvent[] {
    this.eventCount = 0;
    this.tradeEventsUsed = 0;
    this.cancelledEventsUsed = 0;
    this.acceptedEvents.reset();
    this.restedEvents.reset();
    this.expiredEvents.reset();
    this.triggeredEvents.reset();
    this.refilledEvents.reset();
    if (this.events.length > EVENT_POOL_MAX) this.trimEventPools();
    if (typeof command === 'object' && command !== null) {
      const fields = command as Fields;
      this.commandTs = isNonNegativeSafeInteger(fields.ts) ? fields.ts : 0;
      switch (fields.op) {
        case 'place':
          this.place(fields);
          break;
        case 'oco':
          this.placeOco(fields);
          break;
        case 'cancel':
          this.cancel(fields);
          break;
        case 'amend':
          this.amend(fields);
          break;
        case 'deposit':
          this.deposit(fields);
          break;
        case 'withdraw':
          this.withdraw(fields);
          break;
        case 'symbol':
          this.addSymbol(fields);
          break;
        case 'offering':
          this.offerings.create(fields);
          break;
        case 'claim':
          this.offerings.claim(fields, this.commandTs);
          break;
        case 'closeOffering':
          this.offerings.close(fields);
          break;
        default:
          this.reject(null, 'UNKNOWN_COMMAND');
      }
    } else {
      this.reject(null, 'UNKNOWN_COMMAND');
    }
    return this.result();
  }

  /** After a sweep with more events than the pools keep: the previous result is dead by now. */
  private trimEventPools(): void {
    this.events.length = EVENT_POOL_MAX;
    if (this.tradeEvents.length > EVENT_POOL_MAX) this.tradeEvents.length = EVENT_POOL_MAX;
    if (this.cancelledEvents.length > EVENT_POOL_MAX) this.cancelledEvents.length = EVENT_POOL_MAX;
    this.restedEvents.trim(EVENT_POOL_MAX);
    this.expiredEvents.trim(EVENT_POOL_MAX);
    this.triggeredEvents.trim(EVENT_POOL_MAX);
    this.refilledEvents.trim(EVENT_POOL_MAX);
  }

  private result(): readonly EngineEvent[] {
    const count = this.eventCount;
    const events = this.events;
    if (count > RESULT_EVENTS_MAX) return events.slice(0, count);
    const result = this.resultArrays[count];
    for (let index = 0; index < count; index++) result[index] = events[index];
    return result;
  }

  // ---------------------------------------------------------------- orders

  private place(fields: Fields): void {
    const rawId = fields.id;
    const echoId = rawId ?? null;
    const symbol = fields.symbol;
    const book = typeof symbol === 'string' ? this.books.get(symbol) : undefined;
    if (book === undefined) {
      this.reject(echoId, 'UNKNOWN_SYMBOL');
      return;
    }
    const idWellFormed = isNonNegativeSafeInteger(rawId);
    if (idWellFormed && this.usedOrderIds.has(rawId)) {
      this.reject(echoId, 'DUPLICATE_ORDER_ID');
      return;
    }
    const user = fields.user;
    const side = fields.side;
    const type = fields.type;
    const postOnly = fields.postOnly ?? false;
    const stp = parseStp(fields.stp);
    if (
      !idWellFormed ||
      !isNonNegativeSafeInteger(user) ||
      (side !== 'buy' && side !== 'sell') ||
      (type !== 'limit' && type !== 'market') ||
      stp === STP_INVALID ||
      typeof postOnly !== 'boolean'
    ) {
      this.reject(echoId, 'INVALID_ORDER');
      return;
    }
    const isMarket = type === 'market';
    const tif = parseTif(fields.tif, isMarket);
    const displayQty = fields.displayQty;
    const isIceberg = !isAbsent(displayQty);
    if (
      tif === null ||
      (isMarket && tif === 'GTC') ||
      ((postOnly || isIceberg) && (isMarket || tif !== 'GTC'))
    ) {
      this.reject(echoId, 'INVALID_TIF');
      return;
    }
    const qty = fields.qty;
    if (
      !isPositiveSafeInteger(qty) ||
      (isIceberg && !(isPositiveSafeInteger(displayQty) && displayQty < qty))
    ) {
      this.reject(echoId, 'INVALID_QTY');
      return;
    }
    const rawPrice = fields.price;
    let price = 0;
    if (isMarket) {
      if (rawPrice !== undefined && rawPrice !== null) {
        this.reject(echoId, 'INVALID_PRICE');
        return;
      }
    } else {
      if (!isPositiveSafeInteger(rawPrice) || rawPrice % book.tickSize !== 0) {
        this.reject(echoId, 'INVALID_PRICE');
        return;
      }
      price = rawPrice;
    }
    const stopPrice = parseStopFields(fields, book.tickSize, this.stopFields);
    if (stopPrice === STOP_INVALID) {
      this.reject(echoId, 'INVALID_STOP');
      return;
    }
    const isStop = stopPrice !== STOP_ABSENT;
    const baseAmount = qty * book.lotSize;
    const quoteAmount = qty * price;
    if (!Number.isSafeInteger(baseAmount) || !Number.isSafeInteger(quoteAmount)) {
      this.reject(echoId, 'LIMIT_EXCEEDED');
      return;
    }
    const account = this.accounts.get(user) ?? this.absentAccount;
    account.ensureAssets(this.assetNames.length);
    if (this.orderBoundsReached(account, book, 1, !isStop && tif === 'GTC' ? 1 : 0, isStop ? 1 : 0)) {
      this.reject(echoId, 'LIMIT_EXCEEDED');
      return;
    }
    const isBuy = side === 'buy';
    if (postOnly && this.wouldCross(book, isBuy, price)) {
      this.reject(echoId, 'POST_ONLY_WOULD_CROSS');
      return;
    }
    if (isStop && this.wouldTrigger(book, isBuy, this.stopFields.isStopLoss, stopPrice)) {
      this.reject(echoId, 'STOP_WOULD_TRIGGER');
      return;
    }
    const reservedAsset = isBuy ? book.quoteAsset : book.baseAsset;
    const reservation = isBuy ? quoteAmount : baseAmount;
    if (reservation > account.balances[availableSlot(reservedAsset)]) {
      this.reject(echoId, 'INSUFFICIENT_FUNDS');
      return;
    }

    this.usedOrderIds.add(rawId);
    const request = this.request;
    request.book = book;
    request.account = isStop ? this.accountOf(user) : account;
    request.id = rawId;
    request.user = user;
    request.isBuy = isBuy;
    request.isMarket = isMarket;
    request.tif = tif;
    request.price = price;
    request.qty = qty;
    request.remaining = qty;
    request.stp = stp;
    request.displayQty = isIceberg ? (displayQty as number) : 0;
    request.stopPrice = stopPrice;
    request.isStopLoss = this.stopFields.isStopLoss;
    this.emitAccepted(request, type);
    this.reserve(request.account, reservedAsset, reservation);
    if (isStop) {
      this.addPending(request);
      return;
    }
    this.runTaker(request);
    if (this.runHighPrice !== 0 && book.pending.size !== 0) this.triggerAndActivate(book);
  }

  /**
   * LIMIT_EXCEEDED bounds, checked before any matching, for an order (or OCO pair) that would
   * use `newIds` ids, add `newResting` orders that could rest (GTC) and `newPending` stop orders:
   * the id set; the user's open orders; the book's and the engine's resting orders; the symbol's
   * and the user's pending orders.
   */
  private orderBoundsReached(
    account: Account,
    book: Book,
    newIds: number,
    newResting: number,
    newPending: number,
  ): boolean {
    const limits = this.limits;
    const newOpen = newResting + newPending;
    return (
      this.usedOrderIds.size + newIds > limits.orderIdsMax ||
      (newOpen > 0 && account.openOrderCount + newOpen > limits.openOrdersPerUserMax) ||
      (newResting > 0 &&
        (book.orderCount + newResting > limits.ordersPerBookMax ||
          this.restingOrders.size + newResting > limits.restingOrdersMax)) ||
      (newPending > 0 &&
        (book.pending.size + newPending > limits.pendingOrdersPerSymbolMax ||
          account.pendingCount + newPending > limits.pendingOrdersPerUserMax))
    );
  }

  /** Whether a stop order's condition already holds at the symbol's last price. */
  private wouldTrigger(book: Book, isBuy: boolean, isStopLoss: boolean, stopPrice: number): boolean {
    return book.lastPrice !== 0 && stopConditionHolds(isBuy, isStopLoss, stopPrice, book.lastPrice);
  }

  /** The user's account, created (without counting as a depositor) for a pending stop-market buy of a user with none. */
  private accountOf(user: number): Account {
    let account = this.accounts.get(user);
    if (account === undefined) {
      account = new Account(user);
      account.ensureAssets(this.assetNames.length);
      this.accounts.set(user, account);
    }
    return account;
  }

  private reserve(account: Account, asset: number, amount: number): void {
    if (amount === 0) return;
    account.balances[availableSlot(asset)] -= amount;
    account.balances[lockedSlot(asset)] += amount;
  }

  /** A run: the taker processing of one order (FOK dry run, sweep, remainder) with the reservation it holds. */
  private runTaker(request: OrderRequest): void {
    const { book, account, isBuy, isMarket, price } = request;
    this.runLowPrice = Number.MAX_SAFE_INTEGER;
    this.runHighPrice = 0;
    const reservedAsset = isBuy ? book.quoteAsset : book.baseAsset;
    const unit = isBuy ? price : book.lotSize;
    const qty = request.remaining;
    if (
      request.tif === 'FOK' &&
      !this.fokWouldFill(book, account, request.user, isBuy, isMarket, price, qty, request.stp)
    ) {
      this.release(account, reservedAsset, qty * unit);
      this.emitExpired(book, request.id, request.user, isBuy, price, qty, 'FOK');
      return;
    }
    const remaining = this.sweep(
      book,
      account,
      request.user,
      request.id,
      isBuy,
      isMarket,
      price,
      qty,
      request.stp,
    );
    if (remaining === 0) return;
    if (request.tif === 'GTC' && this.sweepStop !== 'STP' && this.hasRoomToRest(book)) {
      this.rest(request, remaining);
      return;
    }
    this.release(account, reservedAsset, remaining * unit);
    this.emitExpired(book, request.id, request.user, isBuy, price, remaining, this.sweepStop);
  }

  /** Placed orders were checked before matching; an activated stop order may find the bounds reached. */
  private hasRoomToRest(book: Book): boolean {
    return (
      book.orderCount < this.limits.ordersPerBookMax && this.restingOrders.size < this.limits.restingOrdersMax
    );
  }

  private wouldCross(book: Book, isBuy: boolean, price: number): boolean {
    const best = (isBuy ? book.asks : book.bids).best();
    if (best === null) return false;
    return isBuy ? best.price <= price : best.price >= price;
  }

  /** Matches against the opposite side; returns the taker's unfilled qty, reason in sweepStop. */
  private sweep(
    book: Book,
    taker: Account,
    user: number,
    id: number,
    isBuy: boolean,
    isMarket: boolean,
    limitPrice: number,
    qty: number,
    stp: number,
  ): number {
    const opposite = isBuy ? book.asks : book.bids;
    const marketBuy = isMarket && isBuy;
    let remaining = qty;
    this.sweepStop = 'UNFILLED';
    while (remaining > 0) {
      const level = opposite.best();
      if (level === null) break;
      const price = level.price;
      if (!isMarket && (isBuy ? price > limitPrice : price < limitPrice)) break;
      const maker = level.head!;
      if (maker.user === user && stp !== STP_NONE) {
        if (stp !== STP_EXPIRE_TAKER) this.cancelOrder(maker, 'STP');
        if (stp === STP_EXPIRE_MAKER) continue;
        this.sweepStop = 'STP';
        break;
      }
      // Makers fill against what they show: an iceberg's visible part.
      let fillQty = Math.min(remaining, maker.displayQty === 0 ? maker.remaining : maker.visible);
      if (marketBuy) {
        const affordable = floorDivide(taker.balances[availableSlot(book.quoteAsset)], price);
        if (affordable === 0) {
          this.sweepStop = 'INSUFFICIENT_FUNDS';
          break;
        }
        if (affordable < fillQty) fillQty = affordable;
      }
      this.fill(book, taker, id, user, isBuy, isMarket, limitPrice, maker, fillQty);
      remaining -= fillQty;
    }
    return remaining;
  }

  /** The FOK dry run, with the coupon uses it spends (fees are simulated too) put back. */
  private fokWouldFill(
    book: Book,
    taker: Account,
    user: number,
    isBuy: boolean,
    isMarket: boolean,
    limitPrice: number,
    qty: number,
    stp: number,
  ): boolean {
    if (!this.offerings.hasCoupons) {
      return this.wouldFillCompletely(book, taker, user, isBuy, isMarket, limitPrice, qty, stp);
    }
    const uses = this.offerings.saveUses();
    const fills = this.wouldFillCompletely(book, taker, user, isBuy, isMarket, limitPrice, qty, stp);
    this.offerings.restoreUses(uses);
    return fills;
  }

  /**
   * The FOK dry run: the sweep's rules without touching state. A market buy's funds are
   * simulated, including what the taker receives back as its own maker or as the fee account.
   */
  private wouldFillCompletely(
    book: Book,
    taker: Account,
    user: number,
    isBuy: boolean,
    isMarket: boolean,
    limitPrice: number,
    qty: number,
    stp: number,
  ): boolean {
    const opposite = isBuy ? book.asks : book.bids;
    const marketBuy = isMarket && isBuy;
    let funds = marketBuy ? taker.balances[availableSlot(book.quoteAsset)] : 0;
    let remaining = qty;
    for (let level = opposite.best(); level !== null; level = level.forward[0]) {
      const price = level.price;
      if (!isMarket && (isBuy ? price > limitPrice : price < limitPrice)) return false;
      if (level.icebergCount !== 0) {
        // Refills reorder the level as it is swept: simulate its queue instead of walking it.
        const dry = this.dryRun;
        dry.remaining = remaining;
        dry.funds = funds;
        if (!this.simulateIcebergLevel(book, level, user, stp, marketBuy, dry)) return false;
        if (dry.remaining === 0) return true;
        remaining = dry.remaining;
        funds = dry.funds;
        continue;
      }
      for (let maker = level.head; maker !== null; maker = maker.next) {
        if (maker.user === user && stp !== STP_NONE) {
          if (stp === STP_EXPIRE_MAKER) continue;
          return false;
        }
        let makerLeft = maker.remaining;
        while (makerLeft > 0) {
          let fillQty = Math.min(remaining, makerLeft);
          if (marketBuy) {
            const affordable = floorDivide(funds, price);
            if (affordable === 0) return false;
            if (affordable < fillQty) fillQty = affordable;
            const paid = fillQty * price;
            // Dry fills are numbered below zero so they never share a token with a real fill.
            const makerFee = this.fee(maker.account, paid, book.makerFeeBps, true, --this.dryFillToken);
            funds -= paid;
            if (maker.user === user) funds += paid - makerFee;
            if (user === FEE_USER) funds += makerFee;
          }
          remaining -= fillQty;
          makerLeft -= fillQty;
          if (remaining === 0) return true;
        }
      }
    }
    return false;
  }

  /**
   * The FOK dry run through one level holding icebergs: its orders in a circular queue of the
   * level's size (a refilled iceberg leaves the front and rejoins at the back, so the queue never
   * grows), filled as the sweep would. False when the sweep would stop here (STP or funds).
   */
  private simulateIcebergLevel(
    book: Book,
    level: PriceLevel,
    user: number,
    stp: number,
    marketBuy: boolean,
    dry: DryRunState,
  ): boolean {
    const orders = this.dryOrders;
    const left = this.dryLeft;
    const shown = this.dryShown;
    const capacity = level.orderCount;
    let count = 0;
    for (let maker = level.head; maker !== null; maker = maker.next) {
      orders[count] = maker;
      left[count] = maker.remaining;
      shown[count] = shownQty(maker);
      count++;
    }
    let head = 0;
    const price = level.price;
    while (count > 0) {
      const maker = orders[head];
      if (maker.user === user && stp !== STP_NONE) {
        if (stp !== STP_EXPIRE_MAKER) return false;
        head = (head + 1) % capacity;
        count--;
        continue;
      }
      let fillQty = Math.min(dry.remaining, shown[head]);
      if (marketBuy) {
        const affordable = floorDivide(dry.funds, price);
        if (affordable === 0) return false;
        if (affordable < fillQty) fillQty = affordable;
        const paid = fillQty * price;
        const makerFee = this.fee(maker.account, paid, book.makerFeeBps, true, --this.dryFillToken);
        dry.funds -= paid;
        if (maker.user === user) dry.funds += paid - makerFee;
        if (user === FEE_USER) dry.funds += makerFee;
      }
      dry.remaining -= fillQty;
      left[head] -= fillQty;
      shown[head] -= fillQty;
      if (dry.remaining === 0) return true;
      // A fill cut short by funds leaves the same maker at the front.
      if (shown[head] > 0) continue;
      const makerLeft = left[head];
      head = (head + 1) % capacity;
      count--;
      if (makerLeft > 0) {
        const tail = (head + count) % capacity;
        orders[tail] = maker;
        left[tail] = makerLeft;
        shown[tail] = Math.min(maker.displayQty, makerLeft);
        count++;
      }
    }
    return true;
  }

  /** One fill of `qty` lots at the maker's price: moves money, emits the trade, retires a filled maker. */
  private fill(
    book: Book,
    taker: Account,
    takerId: number,
    takerUser: number,
    isBuy: boolean,
    isMarket: boolean,
    limitPrice: number,
    maker: Order,
    qty: number,
  ): void {
    const price = maker.price;
    const baseAsset = book.baseAsset;
    const quoteAsset = book.quoteAsset;
    const baseAmount = qty * book.lotSize;
    const quoteAmount = qty * price;
    const makerAccount = maker.account;
    /** The trade id this fill will get: coupons spend at most one use per fill. */
    const fillToken = this.tradeCount + 1;
    const fees = this.feeAccount;
    let takerFee: number;
    let makerFee: number;
    if (isBuy) {
      if (isMarket) {
        taker.balances[availableSlot(quoteAsset)] -= quoteAmount;
      } else {
        taker.balances[lockedSlot(quoteAsset)] -= qty * limitPrice;
        taker.balances[availableSlot(quoteAsset)] += qty * (limitPrice - price);
      }
      takerFee = this.fee(taker, baseAmount, book.takerFeeBps, false, fillToken);
      taker.balances[availableSlot(baseAsset)] += baseAmount - takerFee;
      makerAccount.balances[lockedSlot(baseAsset)] -= baseAmount;
      makerFee = this.fee(makerAccount, quoteAmount, book.makerFeeBps, true, fillToken);
      makerAccount.balances[availableSlot(quoteAsset)] += quoteAmount - makerFee;
      fees.balances[availableSlot(baseAsset)] += takerFee;
      fees.balances[availableSlot(quoteAsset)] += makerFee;
    } else {
      taker.balances[lockedSlot(baseAsset)] -= baseAmount;
      takerFee = this.fee(taker, quoteAmount, book.takerFeeBps, false, fillToken);
      taker.balances[availableSlot(quoteAsset)] += quoteAmount - takerFee;
      makerAccount.balances[lockedSlot(quoteAsset)] -= quoteAmount;
      makerFee = this.fee(makerAccount, baseAmount, book.makerFeeBps, true, fillToken);
      makerAccount.balances[availableSlot(baseAsset)] += baseAmount - makerFee;
      fees.balances[availableSlot(quoteAsset)] += takerFee;
      fees.balances[availableSlot(baseAsset)] += makerFee;
    }
    this.emitTrade(book, takerId, takerUser, isBuy, maker, price, qty, takerFee, makerFee);
    book.lastPrice = price;
    if (price < this.runLowPrice) this.runLowPrice = price;
    if (price > this.runHighPrice) this.runHighPrice = price;
    maker.remaining -= qty;
    maker.level!.totalQty -= qty;
    if (maker.ocoPartner !== null) this.resolveOcoOnFill(maker, qty);
    if (maker.remaining === 0) this.retire(maker);
    else if (maker.displayQty !== 0) {
      maker.visible -= qty;
      if (maker.visible === 0) this.refill(maker);
    }
  }

  /** An iceberg's visible part is used up: show the next part at the back of its level. */
  private refill(order: Order): void {
    const level = order.level!;
    level.unlink(order);
    order.visible = Math.min(order.displayQty, order.remaining);
    order.sequence = ++this.restSequence;
    level.append(order);
    const event = this.refilledEvents.take();
    event.id = order.id;
    event.user = order.user;
    event.symbol = order.book.symbol;
    event.side = order.isBuy ? 'buy' : 'sell';
    event.price = order.price;
    event.qty = order.visible;
    this.events[this.eventCount++] = event;
  }

  /**
   * The fee a user pays on what it receives: floor(received * bps / 10000). The one place fees
   * are computed: the payer's first usable coupon, if any, takes its discount off (and spends a
   * use; the FOK dry run puts uses back).
   */
  private fee(
    payer: Account,
    receivedAmount: number,
    feeBps: number,
    isMaker: boolean,
    fillToken: number,
  ): number {
    const fee = basisPointsOf(receivedAmount, feeBps);
    if (!this.offerings.hasCoupons) return fee;
    return this.offerings.discountedFee(payer.user, fee, isMaker, this.commandTs, fillToken);
  }

  /** The offerings' narrow view of the ledger. */
  private offeringLedger(): OfferingLedger {
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

  /** The remainder of a taker rests in the book (an iceberg showing its first part). */
  private rest(request: OrderRequest, remaining: number): Order {
    const book = request.book;
    const order = this.allocateOrder(request.account, book);
    order.id = request.id;
    order.user = request.user;
    order.isBuy = request.isBuy;
    order.price = request.price;
    order.qty = request.qty;
    order.remaining = remaining;
    order.displayQty = request.displayQty;
    order.visible = request.displayQty === 0 ? 0 : Math.min(request.displayQty, remaining);
    this.link(order);
    const event = this.restedEvents.take();
    event.id = order.id;
    event.user = order.user;
    event.symbol = book.symbol;
    event.side = order.isBuy ? 'buy' : 'sell';
    event.price = order.price;
    event.qty = remaining;
    event.shownQty = shownQty(order);
    this.events[this.eventCount++] = event;
    return order;
  }

  /** Puts a filled-in order at the back of its price level and into every index. */
  private link(order: Order): void {
    const book = order.book;
    order.sequence = ++this.restSequence;
    (order.isBuy ? book.bids : book.asks).levelAt(order.price).append(order);
    this.restingOrders.add(order);
    order.account.openOrderCount++;
    book.orderCount++;
  }

  /** Removes a resting order from every index and returns it to the pool. */
  private retire(order: Order): void {
    const level = order.level!;
    const book = order.book;
    level.unlink(order);
    if (level.orderCount === 0) (order.isBuy ? book.bids : book.asks).remove(level);
    this.restingOrders.remove(order);
    order.account.openOrderCount--;
    book.orderCount--;
    this.freeOrder(order);
  }

  private allocateOrder(account: Account, book: Book): Order {
    const pooled = this.orderPool.pop();
    if (pooled === undefined) return new Order(account, book);
    pooled.account = account;
    pooled.book = book;
    pooled.displayQty = 0;
    pooled.stopPrice = 0;
    pooled.isMarket = false;
    pooled.ocoPartner = null;
    return pooled;
  }

  private freeOrder(order: Order): void {
    order.ocoPartner = null;
    if (this.orderPool.length < ORDER_POOL_MAX) this.orderPool.push(order);
  }

  /** Cancels an open order (resting or pending) and releases what it holds; a live OCO pair goes together. */
  private cancelOrder(order: Order, reason: CancelReason): void {
    const partner = order.ocoPartner;
    if (partner === null) {
      this.release(order.account, reservedAssetOf(order), reservationOf(order));
      this.removeOrder(order, reason);
      return;
    }
    const legA = order.level !== null ? order : partner;
    this.release(order.account, reservedAssetOf(order), linkedReservation(legA, legA.ocoPartner!));
    order.ocoPartner = null;
    partner.ocoPartner = null;
    this.removeOrder(order, reason);
    this.removeOrder(partner, 'OCO');
  }

  /** Takes an order out of the book or the pending set with its `cancelled` event; releases nothing. */
  private removeOrder(order: Order, reason: CancelReason): void {
    const book = order.book;
    const inBook = order.level !== null;
    const shown = inBook ? shownQty(order) : 0;
    if (this.cancelledEventsUsed === this.cancelledEvents.length) {
      this.cancelledEvents.push({
        ev: 'cancelled',
        id: 0,
        user: 0,
        symbol: '',
        side: 'buy',
        price: 0,
        qty: 0,
        reason: 'USER',
        shownQty: 0,
      });
    }
    const event = this.cancelledEvents[this.cancelledEventsUsed++];
    event.id = order.id;
    event.user = order.user;
    event.symbol = book.symbol;
    event.side = order.isBuy ? 'buy' : 'sell';
    event.price = order.price;
    event.qty = order.remaining;
    event.reason = reason;
    event.shownQty = shown;
    this.events[this.eventCount++] = event;
    if (inBook) {
      order.level!.totalQty -= shown;
      this.retire(order);
    } else {
      this.removePending(order);
      this.freeOrder(order);
    }
  }

  private release(account: Account, asset: number, amount: number): void {
    if (amount === 0) return;
    account.balances[lockedSlot(asset)] -= amount;
    account.balances[availableSlot(asset)] += amount;
  }

  /** The open order (resting or pending) `id` if `user` owns it; anything else looks the same to the caller. */
  private ownedOrder(fields: Fields): Order | undefined {
    const user = fields.user;
    const id = fields.id;
    if (!isNonNegativeSafeInteger(user) || !isNonNegativeSafeInteger(id)) return undefined;
    const order = this.restingOrders.get(id) ?? this.pendingOrders.get(id);
    return order !== undefined && order.user === user ? order : undefined;
  }

  private cancel(fields: Fields): void {
    const order = this.ownedOrder(fields);
    if (order === undefined) {
      this.reject(fields.id ?? null, 'UNKNOWN_ORDER');
      return;
    }
    this.cancelOrder(order, 'USER');
  }

  private amend(fields: Fields): void {
    const order = this.ownedOrder(fields);
    if (order === undefined) {
      this.reject(fields.id ?? null, 'UNKNOWN_ORDER');
      return;
    }
    if (order.ocoPartner !== null) {
      this.reject(fields.id, 'NOT_AMENDABLE');
      return;
    }
    const qty = fields.qty;
    if (!isPositiveSafeInteger(qty) || qty >= order.remaining) {
      this.reject(fields.id, 'INVALID_QTY');
      return;
    }
    const book = order.book;
    const reducedBy = order.remaining - qty;
    const held = reservationOf(order);
    order.remaining = qty;
    this.release(order.account, reservedAssetOf(order), held - reservationOf(order));
    // Only an order in the book shows anything; an iceberg keeps its place and shows at most qty.
    let shownReducedBy = 0;
    if (order.level !== null) {
      shownReducedBy = reducedBy;
      if (order.displayQty !== 0) {
        const visible = Math.min(order.visible, qty);
        shownReducedBy = order.visible - visible;
        order.visible = visible;
      }
      order.level.totalQty -= shownReducedBy;
    }
    const event = this.amendedEvent;
    event.id = order.id;
    event.user = order.user;
    event.symbol = book.symbol;
    event.side = order.isBuy ? 'buy' : 'sell';
    event.price = order.price;
    event.qty = qty;
    event.reducedBy = reducedBy;
    event.shownReducedBy = shownReducedBy;
    this.events[this.eventCount++] = event;
  }

  // ---------------------------------------------------------------- stop orders and OCO

  /** A stop order (or OCO leg B) waits, pending, holding its reservation. */
  private addPending(request: OrderRequest): Order {
    const order = this.allocateOrder(request.account, request.book);
    order.id = request.id;
    order.user = request.user;
    order.isBuy = request.isBuy;
    order.isMarket = request.isMarket;
    order.tif = request.tif;
    order.stp = request.stp;
    order.price = request.price;
    order.qty = request.qty;
    order.remaining = request.remaining;
    order.stopPrice = request.stopPrice;
    order.isStopLoss = request.isStopLoss;
    this.linkPending(order);
    return order;
  }

  private linkPending(order: Order): void {
    order.book.pending.set(order.id, order);
    this.pendingOrders.set(order.id, order);
    order.account.pendingCount++;
    order.account.openOrderCount++;
  }

  private removePending(order: Order): void {
    order.book.pending.delete(order.id);
    this.pendingOrders.delete(order.id);
    order.account.pendingCount--;
    order.account.openOrderCount--;
  }

  /**
   * After a run with trades: triggers what it reached, then runs the activation queue first in,
   * first out, each run triggering more. Each order triggers once (it leaves the pending set),
   * so the cascade ends within the symbol's pending orders.
   */
  private triggerAndActivate(book: Book): void {
    const queue = this.activationQueue;
    this.triggerPending(book);
    for (let head = 0; head < queue.length; head++) {
      this.activate(queue[head]);
      if (this.runHighPrice !== 0 && book.pending.size !== 0) this.triggerPending(book);
    }
    queue.length = 0;
  }

  /** Every pending order of the book whose condition holds at the run's lowest or highest price, by id. */
  private triggerPending(book: Book): void {
    const triggered = this.triggeredScratch;
    collectTriggered(book, this.runLowPrice, this.runHighPrice, triggered);
    for (let index = 0; index < triggered.length; index++) {
      const order = triggered[index];
      this.removePending(order);
      const event = this.triggeredEvents.take();
      event.id = order.id;
      event.user = order.user;
      event.symbol = book.symbol;
      event.side = order.isBuy ? 'buy' : 'sell';
      this.events[this.eventCount++] = event;
      if (order.ocoPartner !== null) this.resolveOcoOnTrigger(order);
      this.activationQueue.push(order);
    }
    triggered.length = 0;
  }

  /** A triggered order runs as a taker of its type with the reservation it holds. */
  private activate(order: Order): void {
    const request = this.request;
    request.book = order.book;
    request.account = order.account;
    request.id = order.id;
    request.user = order.user;
    request.isBuy = order.isBuy;
    request.isMarket = order.isMarket;
    request.tif = order.tif;
    request.price = order.price;
    request.qty = order.qty;
    request.remaining = order.remaining;
    request.stp = order.stp;
    request.displayQty = 0;
    request.stopPrice = order.stopPrice;
    request.isStopLoss = order.isStopLoss;
    this.freeOrder(order);
    this.runTaker(request);
  }

  /** Leg A's first fill: leg B is cancelled right after the trade; the pair's reservation shrinks to leg A's. */
  private resolveOcoOnFill(legA: Order, fillQty: number): void {
    const legB = legA.ocoPartner!;
    const unit = legA.isBuy ? legA.price : legA.book.lotSize;
    const excess = linkedReservation(legA, legB) - fillQty * unit - reservationOf(legA);
    legA.ocoPartner = null;
    legB.ocoPartner = null;
    this.release(legA.account, reservedAssetOf(legA), excess);
    this.removeOrder(legB, 'OCO');
  }

  /** Leg B triggered: leg A is cancelled right after the `triggered` event; the reservation shrinks to leg B's. */
  private resolveOcoOnTrigger(legB: Order): void {
    const legA = legB.ocoPartner!;
    const excess = linkedReservation(legA, legB) - reservationOf(legB);
    legA.ocoPartner = null;
    legB.ocoPartner = null;
    this.release(legB.account, reservedAssetOf(legB), excess);
    this.removeOrder(legA, 'OCO');
  }

  private readonly isUsedId = (id: number): boolean => this.usedOrderIds.has(id);

  /** The `oco` command: leg A rests (post-only GTC limit), leg B waits (stopLoss), one reservation. */
  private placeOco(fields: Fields): void {
    const echoId = fields.id ?? null;
    const symbol = fields.symbol;
    const book = typeof symbol === 'string' ? this.books.get(symbol) : undefined;
    if (book === undefined) {
      this.reject(echoId, 'UNKNOWN_SYMBOL');
      return;
    }
    const oco = this.ocoRequest;
    const invalid = checkOcoFields(fields, book, this.isUsedId, oco);
    if (invalid !== null) {
      this.reject(echoId, invalid);
      return;
    }
    const { isBuy, qty, price, stopLimitPrice } = oco;
    if (
      !Number.isSafeInteger(qty * book.lotSize) ||
      !Number.isSafeInteger(qty * price) ||
      !Number.isSafeInteger(qty * stopLimitPrice)
    ) {
      this.reject(echoId, 'LIMIT_EXCEEDED');
      return;
    }
    const account = this.accounts.get(oco.user) ?? this.absentAccount;
    account.ensureAssets(this.assetNames.length);
    if (this.orderBoundsReached(account, book, 2, 1, 1)) {
      this.reject(echoId, 'LIMIT_EXCEEDED');
      return;
    }
    if (this.wouldCross(book, isBuy, price)) {
      this.reject(echoId, 'POST_ONLY_WOULD_CROSS');
      return;
    }
    if (this.wouldTrigger(book, isBuy, true, oco.stopPrice)) {
      this.reject(echoId, 'STOP_WOULD_TRIGGER');
      return;
    }
    const reservedAsset = isBuy ? book.quoteAsset : book.baseAsset;
    const reservation = ocoReservation(isBuy, qty, price, stopLimitPrice, book.lotSize);
    if (reservation > account.balances[availableSlot(reservedAsset)]) {
      this.reject(echoId, 'INSUFFICIENT_FUNDS');
      return;
    }
    this.usedOrderIds.add(oco.id);
    this.usedOrderIds.add(oco.stopId);
    this.reserve(account, reservedAsset, reservation);
    const request = this.request;
    request.book = book;
    request.account = account;
    request.id = oco.id;
    request.user = oco.user;
    request.isBuy = isBuy;
    request.isMarket = false;
    request.tif = 'GTC';
    request.price = price;
    request.qty = qty;
    request.remaining = qty;
    request.stp = oco.stp;
    request.displayQty = 0;
    request.stopPrice = 0;
    request.isStopLoss = false;
    this.emitAccepted(request, 'limit');
    const legA = this.rest(request, qty);
    request.id = oco.stopId;
    request.isMarket = stopLimitPrice === 0;
    request.tif = request.isMarket ? 'IOC' : 'GTC';
    request.price = stopLimitPrice;
    request.stopPrice = oco.stopPrice;
    request.isStopLoss = true;
    this.emitAccepted(request, request.isMarket ? 'market' : 'limit');
    const legB = this.addPending(request);
    legA.ocoPartner = legB;
    legB.ocoPartner = legA;
  }

  // ---------------------------------------------------------------- funds and markets

  private deposit(fields: Fields): void {
    const user = fields.user;
    const asset = fields.asset;
    const amount = fields.amount;
    if (!isNonNegativeSafeInteger(user) || !isName(asset) || !isPositiveSafeInteger(amount)) {
      this.reject(null, 'INVALID_AMOUNT');
      return;
    }
    let assetIndex = this.assetIndexes.get(asset);
    const overSupply =
      assetIndex === undefined
        ? this.assetNames.length >= this.limits.assetsMax
        : amount > Number.MAX_SAFE_INTEGER - this.assetSupply[assetIndex];
    let account = this.accounts.get(user);
    const newDepositor = account === undefined || !account.hasDeposited;
    if (overSupply || (newDepositor && this.depositedUserCount >= this.limits.usersMax)) {
      this.reject(null, 'LIMIT_EXCEEDED');
      return;
    }
    if (assetIndex === undefined) assetIndex = this.addAsset(asset);
    if (account === undefined) {
      account = new Account(user);
      this.accounts.set(user, account);
    }
    if (newDepositor) {
      account.hasDeposited = true;
      this.depositedUserCount++;
    }
    account.ensureAssets(this.assetNames.length);
    account.balances[availableSlot(assetIndex)] += amount;
    this.assetSupply[assetIndex] += amount;
    const event = this.depositedEvent;
    event.user = user;
    event.asset = asset;
    event.amount = amount;
    this.events[this.eventCount++] = event;
  }

  private withdraw(fields: Fields): void {
    const user = fields.user;
    const asset = fields.asset;
    const amount = fields.amount;
    if (!isNonNegativeSafeInteger(user) || !isName(asset) || !isPositiveSafeInteger(amount)) {
      this.reject(null, 'INVALID_AMOUNT');
      return;
    }
    const assetIndex = this.assetIndexes.get(asset);
    const account = this.accounts.get(user);
    if (assetIndex === undefined || account === undefined) {
      this.reject(null, 'INSUFFICIENT_FUNDS');
      return;
    }
    account.ensureAssets(this.assetNames.length);
    if (amount > account.balances[availableSlot(assetIndex)]) {
      this.reject(null, 'INSUFFICIENT_FUNDS');
      return;
    }
    account.balances[availableSlot(assetIndex)] -= amount;
    this.assetSupply[assetIndex] -= amount;
    const event = this.withdrawnEvent;
    event.user = user;
    event.asset = asset;
    event.amount = amount;
    this.events[this.eventCount++] = event;
  }

  private addSymbol(fields: Fields): void {
    const symbol = fields.symbol;
    if (isName(symbol) && this.books.has(symbol)) {
      this.reject(null, 'DUPLICATE_SYMBOL');
      return;
    }
    const { base, quote, lotSize, tickSize, makerFeeBps, takerFeeBps } = fields;
    if (
      !isName(symbol) ||
      !isName(base) ||
      !isName(quote) ||
      base === quote ||
      !isPositiveSafeInteger(lotSize) ||
      !isPositiveSafeInteger(tickSize) ||
      !isBps(makerFeeBps) ||
      !isBps(takerFeeBps)
    ) {
      this.reject(null, 'INVALID_SYMBOL');
      return;
    }
    const newAssets = (this.assetIndexes.has(base) ? 0 : 1) + (this.assetIndexes.has(quote) ? 0 : 1);
    if (
      this.books.size >= this.limits.symbolsMax ||
      this.assetNames.length + newAssets > this.limits.assetsMax
    ) {
      this.reject(null, 'LIMIT_EXCEEDED');
      return;
    }
    this.createBook(symbol, base, quote, lotSize, tickSize, makerFeeBps, takerFeeBps);
    const event = this.symbolAddedEvent;
    event.symbol = symbol;
    event.base = base;
    event.quote = quote;
    event.lotSize = lotSize;
    event.tickSize = tickSize;
    event.makerFeeBps = makerFeeBps;
    event.takerFeeBps = takerFeeBps;
    this.events[this.eventCount++] = event;
  }

  private createBook(
    symbol: string,
    base: string,
    quote: string,
    lotSize: number,
    tickSize: number,
    makerFeeBps: number,
    takerFeeBps: number,
  ): Book {
    const baseAsset = this.assetIndexes.get(base) ?? this.addAsset(base);
    const quoteAsset = this.assetIndexes.get(quote) ?? this.addAsset(quote);
    const book = new Book(
      symbol,
      base,
      quote,
      baseAsset,
      quoteAsset,
      lotSize,
      tickSize,
      makerFeeBps,
      takerFeeBps,
    );
    this.books.set(symbol, book);
    return book;
  }

  private addAsset(name: string): number {
    const index = this.assetNames.length;
    this.assetNames.push(name);
    this.assetIndexes.set(name, index);
    this.assetSupply.push(0);
    this.feeAccount.ensureAssets(this.assetNames.length);
    return index;
  }

  // ---------------------------------------------------------------- events

  private reject(id: unknown, reason: RejectCode): void {
    const event = this.rejectedEvent;
    event.id = id;
    event.reason = reason;
    this.events[this.eventCount++] = event;
  }

  private emitAccepted(request: OrderRequest, type: 'limit' | 'market'): void {
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

  private emitExpired(
    book: Book,
    id: number,
    user: number,
    isBuy: boolean,
    price: number,
    qty: number,
    reason: ExpireReason,
  ): void {
    const event = this.expiredEvents.take();
    event.id = id;
    event.user = user;
    event.symbol = book.symbol;
    event.side = isBuy ? 'buy' : 'sell';
    event.price = price;
    event.qty = qty;
    event.reason = reason;
    this.events[this.eventCount++] = event;
  }

  private emitTrade(
    book: Book,
    takerId: number,
    takerUser: number,
    isBuy: boolean,
    maker: Order,
    price: number,
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
    event.symbol = book.symbol;
    event.taker = takerId;
    event.maker = maker.id;
    event.takerUser = takerUser;
    event.makerUser = maker.user;
    event.takerSide = isBuy ? 'buy' : 'sell';
    event.price = price;
    event.qty = qty;
    event.takerFee = takerFee;
    event.makerFee = makerFee;
    this.events[this.eventCount++] = event;
  }

  // ---------------------------------------------------------------- queries

  balance(user: number, asset: string): BalanceView {
    const account = this.accounts.get(user);
    const index = this.assetIndexes.get(asset);
    if (account === undefined || index === undefined) return { asset, available: 0, locked: 0 };
    return {
      asset,
      available: account.balances[availableSlot(index)] ?? 0,
      locked: account.balances[lockedSlot(index)] ?? 0,
    };
  }

  /** Every asset where the user holds something, sorted by asset name. */
  balances(user: number): BalanceView[] {
    const account = this.accounts.get(user);
    if (account === undefined) return [];
    return this.accountBalances(account).map((entry) => ({
      asset: entry.asset,
      available: entry.available,
      locked: entry.locked,
    }));
  }

  /** Every (user, asset) pair not both zero, sorted by user then asset name (code units). */
  allBalances(): LedgerEntry[] {
    const entries: LedgerEntry[] = [];
    for (const user of this.accounts.sortedKeys()) {
      entries.push(...this.accountBalances(this.accounts.get(user)!));
    }
    return entries;
  }

  private accountBalances(account: Account): LedgerEntry[] {
    const entries: LedgerEntry[] = [];
    for (let index = 0; index < account.assetCount; index++) {
      const available = account.balances[availableSlot(index)];
      const locked = account.balances[lockedSlot(index)];
      if (available === 0 && locked === 0) continue;
      entries.push({ user: account.user, asset: this.assetNames[index], available, locked });
    }
    return entries.sort((a, b) => compareText(a.asset, b.asset));
  }

  /** The user's open orders, resting and pending, by id. */
  openOrders(user: number): OrderView[] {
    const views: OrderView[] = [];
    const account = this.accounts.get(user);
    if (account === undefined || account.openOrderCount === 0) return views;
    // A scan of the order indexes: a query, kept off the hot path (no per-user list to maintain).
    this.restingOrders.forEach((order) => {
      if (order.user === user) views.push(this.orderView(order));
    });
    if (account.pendingCount > 0) {
      for (const order of this.pendingOrders.values())
        if (order.user === user) views.push(this.orderView(order));
    }
    return views.sort((a, b) => a.id - b.id);
  }

  /** An open order (resting or pending), or undefined. */
  order(id: number): OrderView | undefined {
    if (!isNonNegativeSafeInteger(id)) return undefined;
    const order = this.restingOrders.get(id) ?? this.pendingOrders.get(id);
    return order === undefined ? undefined : this.orderView(order);
  }

  private orderView(order: Order): OrderView {
    const view: OrderView = {
      id: order.id,
      user: order.user,
      symbol: order.book.symbol,
      side: order.isBuy ? 'buy' : 'sell',
      price: order.price,
      qty: order.qty,
      remaining: order.remaining,
    };
    if (order.level === null) {
      view.stopPrice = order.stopPrice;
      view.trigger = triggerName(order.isStopLoss);
    }
    if (order.displayQty !== 0) {
      view.displayQty = order.displayQty;
      view.visibleQty = order.visible;
    }
    if (order.ocoPartner !== null) view.ocoId = order.ocoPartner.id;
    return view;
  }

  depth(symbol: string, levelsMax: number): DepthView | undefined {
    const book = this.books.get(symbol);
    if (book === undefined) return undefined;
    return { symbol, bids: this.sideDepth(book.bids, levelsMax), asks: this.sideDepth(book.asks, levelsMax) };
  }

  private sideDepth(side: LevelList, levelsMax: number): Array<[number, number]> {
    const levels: Array<[number, number]> = [];
    for (let level = side.best(); level !== null && levels.length < levelsMax; level = level.forward[0]) {
      levels.push([level.price, level.totalQty]);
    }
    return levels;
  }

  offeringList(): OfferingView[] {
    return this.offerings.list();
  }

  offering(id: number): OfferingView | undefined {
    return this.offerings.get(id);
  }

  /** Units claimed per user in one offering, or undefined when there is no such offering. */
  allocations(offering: number): Array<{ user: number; units: number }> | undefined {
    return this.offerings.allocations(offering);
  }

  claimsOf(user: number): Array<{ offering: number; units: number }> {
    return this.offerings.claimsOf(user);
  }

  couponsOf(user: number): CouponView[] {
    return this.offerings.couponsOf(user);
  }

  symbols(): SymbolView[] {
    const views: SymbolView[] = [];
    for (const book of this.books.values()) {
      views.push({
        symbol: book.symbol,
        base: book.base,
        quote: book.quote,
        lotSize: book.lotSize,
        tickSize: book.tickSize,
        makerFeeBps: book.makerFeeBps,
        takerFeeBps: book.takerFeeBps,
      });
    }
    return views;
  }

  // ---------------------------------------------------------------- integrity

  validateInternalState(): void {
    const expectedLocked = new Map<Account, number[]>();
    const expectedOrders = new Map<Account, number>();
    const expectedPending = new Map<Account, number>();
    let restingCount = 0;
    let pendingCount = 0;
    for (const book of this.books.values()) {
      const bookCount =
        this.validateSide(book, book.bids, expectedLocked, expectedOrders) +
        this.validateSide(book, book.asks, expectedLocked, expectedOrders);
      if (bookCount !== book.orderCount) {
        fail(`book ${book.symbol}: orderCount ${book.orderCount} but ${bookCount} orders rest`);
      }
      restingCount += bookCount;
      checkPendingOrders(
        book,
        (id) => this.pendingOrders.get(id),
        fail,
        (order, reservation) => {
          if (order.account !== this.accounts.get(order.user) || !this.usedOrderIds.has(order.id))
            fail(`pending order ${order.id} has the wrong account or an unused id`);
          this.expectLock(expectedLocked, order.account, reservedAssetOf(order), reservation);
          expectedOrders.set(order.account, (expectedOrders.get(order.account) ?? 0) + 1);
          expectedPending.set(order.account, (expectedPending.get(order.account) ?? 0) + 1);
          pendingCount++;
        },
      );
    }
    if (pendingCount !== this.pendingOrders.size) {
      fail(`pending index holds ${this.pendingOrders.size} orders but books hold ${pendingCount}`);
    }
    this.accounts.forEach((account, user) => {
      if (account.pendingCount !== (expectedPending.get(account) ?? 0))
        fail(`account ${user}: pending count ${account.pendingCount} is wrong`);
    });
    this.offerings.addExpectedLocks((account, asset, amount) =>
      this.expectLock(expectedLocked, account, asset, amount),
    );
    if (restingCount !== this.restingOrders.size) {
      fail(`order index holds ${this.restingOrders.size} orders but ${restingCount} rest in books`);
    }
    this.validateAccounts(expectedLocked, expectedOrders);
  }

  private expectLock(
    expectedLocked: Map<Account, number[]>,
    account: Account,
    asset: number,
    amount: number,
  ): void {
    const locked = expectedLocked.get(account) ?? new Array<number>(this.assetNames.length).fill(0);
    expectedLocked.set(account, locked);
    locked[asset] += amount;
  }

  private validateSide(
    book: Book,
    side: LevelList,
    expectedLocked: Map<Account, number[]>,
    expectedOrders: Map<Account, number>,
  ): number {
    const sideName = `book ${book.symbol} ${side.descending ? 'bids' : 'asks'}`;
    let previousPrice = -1;
    let levelCount = 0;
    let orderCount = 0;
    for (let level = side.best(); level !== null; level = level.forward[0]) {
      levelCount++;
      if (previousPrice !== -1 && !side.precedes(previousPrice, level.price)) {
        fail(`${sideName}: level ${level.price} out of order after ${previousPrice}`);
      }
      previousPrice = level.price;
      if (side.find(level.price) !== level)
        fail(`${sideName}: level ${level.price} missing from price index`);
      if (level.head === null) fail(`${sideName}: level ${level.price} is empty`);
      let totalQty = 0;
      let ordersAtLevel = 0;
      let icebergs = 0;
      let previous: Order | null = null;
      for (let order: Order | null = level.head; order !== null; order = order.next) {
        this.validateOrder(book, side, order, level.price, previous, sideName);
        totalQty += shownQty(order);
        ordersAtLevel++;
        if (order.displayQty !== 0) icebergs++;
        const reservation = checkedBookOrderReservation(order, fail);
        this.expectLock(expectedLocked, order.account, reservedAssetOf(order), reservation);
        expectedOrders.set(order.account, (expectedOrders.get(order.account) ?? 0) + 1);
        previous = order;
      }
      if (level.tail !== previous) fail(`${sideName}: level ${level.price} tail is not its last order`);
      if (totalQty !== level.totalQty) {
        fail(`${sideName}: level ${level.price} total ${level.totalQty} but orders sum to ${totalQty}`);
      }
      if (icebergs !== level.icebergCount) fail(`${sideName}: level ${level.price} iceberg count is wrong`);
      if (ordersAtLevel !== level.orderCount) {
        fail(`${sideName}: level ${level.price} count ${level.orderCount} but holds ${ordersAtLevel}`);
      }
      orderCount += ordersAtLevel;
    }
    if (levelCount !== side.levelCount)
      fail(`${sideName}: ${side.levelCount} indexed levels, ${levelCount} linked`);
    return orderCount;
  }

  private validateOrder(
    book: Book,
    side: LevelList,
    order: Order,
    price: number,
    previous: Order | null,
    sideName: string,
  ): void {
    const name = `${sideName}: order ${order.id}`;
    if (order.previous !== previous) fail(`${name} has a broken back link`);
    if (previous !== null && previous.sequence >= order.sequence) fail(`${name} breaks FIFO`);
    if (order.book !== book || order.isBuy !== side.descending || order.price !== price) {
      fail(`${name} is filed under the wrong book, side or price`);
    }
    if (!isPositiveSafeInteger(order.remaining) || order.remaining > order.qty) {
      fail(`${name} has remaining ${order.remaining} of ${order.qty}`);
    }
    if (order.price % book.tickSize !== 0) fail(`${name} price is not a multiple of the tick size`);
    if (this.restingOrders.get(order.id) !== order) fail(`${name} is missing from the order index`);
    if (!this.usedOrderIds.has(order.id)) fail(`${name} is missing from the used id set`);
    if (order.account !== this.accounts.get(order.user)) fail(`${name} points at the wrong account`);
  }

  private validateAccounts(
    expectedLocked: Map<Account, number[]>,
    expectedOrders: Map<Account, number>,
  ): void {
    const assetCount = this.assetNames.length;
    const totals = new Array<number>(assetCount).fill(0);
    let depositors = 0;
    this.accounts.forEach((account, user) => {
      if (account.user !== user) fail(`account ${user} is filed as user ${account.user}`);
      if (account.hasDeposited) depositors++;
      const locked = expectedLocked.get(account);
      for (let asset = 0; asset < assetCount; asset++) {
        const available = account.balances[availableSlot(asset)] ?? 0;
        const held = account.balances[lockedSlot(asset)] ?? 0;
        const name = `account ${user} ${this.assetNames[asset]}`;
        if (!isNonNegativeSafeInteger(available))
          fail(`${name}: available ${available} is negative or unsafe`);
        if (!isNonNegativeSafeInteger(held)) fail(`${name}: locked ${held} is negative or unsafe`);
        const reserved = locked === undefined ? 0 : locked[asset];
        if (held !== reserved) fail(`${name}: locked ${held} but open orders reserve ${reserved}`);
        totals[asset] += available + held;
      }
      const resting = expectedOrders.get(account) ?? 0;
      if (account.openOrderCount !== resting) {
        fail(`account ${user}: ${account.openOrderCount} open orders counted, ${resting} rest`);
      }
    });
    for (let asset = 0; asset < assetCount; asset++) {
      if (totals[asset] !== this.assetSupply[asset]) {
        fail(
          `conservation of ${this.assetNames[asset]}: balances sum to ${totals[asset]}, supply is ${this.assetSupply[asset]}`,
        );
      }
    }
    if (depositors !== this.depositedUserCount) {
      fail(`depositor count ${this.depositedUserCount} but ${depositors} accounts have deposited`);
    }
  }

  stateHash(): string {
    const hash = new Fnv64();
    hash.integer(this.tradeCount);
    hash.integer(this.depositedUserCount);
    const assetOrder = this.assetNames.map((_, index) => index);
    assetOrder.sort((a, b) => compareText(this.assetNames[a], this.assetNames[b]));
    hash.integer(assetOrder.length);
    for (const asset of assetOrder) {
      hash.text(this.assetNames[asset]);
      hash.integer(this.assetSupply[asset]);
    }
    const books = [...this.books.values()].sort((a, b) => compareText(a.symbol, b.symbol));
    hash.integer(books.length);
    for (const book of books) {
      hash.text(book.symbol);
      hash.text(book.base);
      hash.text(book.quote);
      hash.integer(book.lotSize);
      hash.integer(book.tickSize);
      hash.integer(book.makerFeeBps);
      hash.integer(book.takerFeeBps);
      for (const side of [book.bids, book.asks]) {
        hash.integer(side.levelCount);
        for (let level = side.best(); level !== null; level = level.forward[0]) {
          hash.integer(level.orderCount);
          for (let order = level.head; order !== null; order = order.next) {
            hash.integer(order.id);
            hash.integer(order.user);
            hash.integer(order.price);
            hash.integer(order.qty);
            hash.integer(order.remaining);
            hashBookOrderExtras(hash, order);
          }
        }
      }
      hashPending(hash, book);
    }
    const users = this.accounts.sortedKeys();
    hash.integer(users.length);
    for (const user of users) {
      const account = this.accounts.get(user)!;
      hash.integer(user);
      hash.integer(account.hasDeposited ? 1 : 0);
      const entries = this.accountBalances(account);
      hash.integer(entries.length);
      for (const entry of entries) {
        hash.text(entry.asset);
        hash.integer(entry.available);
        hash.integer(entry.locked);
      }
    }
    const ranges = this.usedOrderIds.ranges();
    hash.integer(ranges.length);
    for (const bound of ranges) hash.integer(bound);
    this.offerings.hashInto(hash);
    return hash.hex();
  }

  // ---------------------------------------------------------------- snapshots

  /**
   * The full state as plain JSON: assets with their supply, symbols with their orders in
   * priority order ([id, user, price, qty, remaining], bids best first, then asks), accounts
   * ([user, deposited, [[asset, available, locked], ...]]), used order ids as flattened
   * inclusive ranges, and the trade counter.
   */
  exportState(): unknown {
    return {
      format: STATE_FORMAT,
      version: STATE_VERSION,
      assets: this.assetNames.map((name, index) => [name, this.assetSupply[index]]),
      symbols: [...this.books.values()].map((book) => ({
        symbol: book.symbol,
        base: book.base,
        quote: book.quote,
        lotSize: book.lotSize,
        tickSize: book.tickSize,
        makerFeeBps: book.makerFeeBps,
        takerFeeBps: book.takerFeeBps,
        bids: exportSide(book.bids),
        asks: exportSide(book.asks),
        lastPrice: book.lastPrice,
        pending: pendingById(book).map(exportPendingOrder),
      })),
      accounts: this.accounts.sortedKeys().map((user) => {
        const account = this.accounts.get(user)!;
        const entries = this.accountBalances(account).map((entry) => [
          entry.asset,
          entry.available,
          entry.locked,
        ]);
        return [user, account.hasDeposited, entries];
      }),
      orderIds: this.usedOrderIds.ranges(),
      tradeCount: this.tradeCount,
      offerings: this.offerings.exportState(),
    };
  }

  private load(state: unknown): void {
    const root = expectRecord(state, 'state');
    if (root.format !== STATE_FORMAT || (root.version !== STATE_VERSION && root.version !== 1))
      fail('state: unknown format or version');
    for (const entry of expectArray(root.assets, 'assets')) {
      const [name, supply] = expectArray(entry, 'asset');
      if (!isName(name) || this.assetIndexes.has(name)) fail('state: asset name malformed or repeated');
      this.assetSupply[this.addAsset(name)] = expectInteger(supply, 'asset supply');
    }
    this.loadAccounts(expectArray(root.accounts, 'accounts'));
    for (const entry of expectArray(root.symbols, 'symbols')) this.loadBook(expectRecord(entry, 'symbol'));
    const ranges = expectArray(root.orderIds, 'orderIds');
    if (ranges.length % 2 !== 0) fail('state: orderIds must hold pairs');
    for (let index = 0; index < ranges.length; index += 2) {
      const first = expectInteger(ranges[index], 'order id');
      const last = expectInteger(ranges[index + 1], 'order id');
      for (let id = first; id <= last; id++) this.usedOrderIds.add(id);
    }
    this.tradeCount = expectInteger(root.tradeCount, 'tradeCount');
    this.offerings.load(root.offerings);
  }

  private loadAccounts(entries: unknown[]): void {
    for (const entry of entries) {
      const [user, deposited, balances] = expectArray(entry, 'account');
      const userId = expectInteger(user, 'user');
      if (typeof deposited !== 'boolean') fail('state: account deposited flag must be a boolean');
      let account = this.accounts.get(userId);
      if (account === undefined) {
        account = new Account(userId);
        this.accounts.set(userId, account);
      } else if (userId !== FEE_USER) {
        fail(`state: account ${userId} repeated`);
      }
      account.hasDeposited = deposited;
      if (deposited) this.depositedUserCount++;
      account.ensureAssets(this.assetNames.length);
      for (const balance of expectArray(balances, 'balances')) {
        const [asset, available, locked] = expectArray(balance, 'balance');
        const index = typeof asset === 'string' ? this.assetIndexes.get(asset) : undefined;
        if (index === undefined) fail(`state: account ${userId} holds an unknown asset`);
        account.balances[availableSlot(index)] = expectInteger(available, 'available');
        account.balances[lockedSlot(index)] = expectInteger(locked, 'locked');
      }
    }
  }

  private loadBook(entry: Record<string, unknown>): void {
    const { symbol, base, quote, lotSize, tickSize, makerFeeBps, takerFeeBps } = entry;
    if (
      !isName(symbol) ||
      this.books.has(symbol) ||
      !isName(base) ||
      !isName(quote) ||
      base === quote ||
      !this.assetIndexes.has(base) ||
      !this.assetIndexes.has(quote) ||
      !isPositiveSafeInteger(lotSize) ||
      !isPositiveSafeInteger(tickSize) ||
      !isBps(makerFeeBps) ||
      !isBps(takerFeeBps)
    ) {
      fail('state: symbol malformed');
    }
    const book = this.createBook(symbol, base, quote, lotSize, tickSize, makerFeeBps, takerFeeBps);
    this.loadOrders(book, true, expectArray(entry.bids, 'bids'));
    this.loadOrders(book, false, expectArray(entry.asks, 'asks'));
    // Version 1 snapshots predate last prices and pending orders.
    book.lastPrice = entry.lastPrice === undefined ? 0 : expectInteger(entry.lastPrice, 'lastPrice');
    for (const tuple of entry.pending === undefined ? [] : expectArray(entry.pending, 'pending')) {
      this.loadPending(book, tuple);
    }
  }

  private loadPending(book: Book, value: unknown): void {
    const tuple = parsePendingTuple(value);
    if (tuple === null) fail(`state: pending order of ${book.symbol} malformed`);
    const account = this.accounts.get(tuple.user);
    if (
      account === undefined ||
      this.pendingOrders.has(tuple.id) ||
      this.restingOrders.get(tuple.id) !== undefined
    )
      fail(`state: pending order ${tuple.id} has no account or is repeated`);
    const order = this.allocateOrder(account, book);
    Object.assign(order, {
      id: tuple.id,
      user: tuple.user,
      isBuy: tuple.isBuy,
      isMarket: tuple.isMarket,
      tif: tuple.tif,
      stp: tuple.stp,
      price: tuple.price,
      qty: tuple.qty,
      remaining: tuple.remaining,
      stopPrice: tuple.stopPrice,
      isStopLoss: tuple.isStopLoss,
    });
    this.linkPending(order);
    if (tuple.partnerId === -1) return;
    const legA = this.restingOrders.get(tuple.partnerId);
    if (legA === undefined || legA.ocoPartner !== null)
      fail(`state: OCO leg A of ${tuple.id} missing or linked twice`);
    legA.ocoPartner = order;
    order.ocoPartner = legA;
  }

  private loadOrders(book: Book, isBuy: boolean, entries: unknown[]): void {
    for (const entry of entries) {
      const fields = expectArray(entry, 'order').map((value) => expectInteger(value, 'order field'));
      if (fields.length !== 5 && fields.length !== 7) fail('state: an order has 5 or 7 fields');
      const [id, user, price, qty, remaining, displayQty = 0, visible = 0] = fields;
      const account = this.accounts.get(user);
      if (account === undefined || this.restingOrders.get(id) !== undefined) {
        fail(`state: order ${id} has no account or is repeated`);
      }
      if (price <= 0) fail(`state: order ${id} price must be positive`);
      const order = this.allocateOrder(account, book);
      order.id = id;
      order.user = user;
      order.isBuy = isBuy;
      order.price = price;
      order.qty = qty;
      order.remaining = remaining;
      order.displayQty = displayQty;
      order.visible = visible;
      this.link(order);
    }
  }
}

function exportSide(side: LevelList): number[][] {
  const orders: number[][] = [];
  for (let level = side.best(); level !== null; level = level.forward[0]) {
    for (let order = level.head; order !== null; order = order.next) {
      orders.push(exportBookOrder(order));
    }
  }
  return orders;
}

function fail(message: string): never {
  throw new Error(`engine invariant broken: ${message}`);
}

function expectRecord(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    fail(`state: ${what} must be an object`);
  return value as Record<string, unknown>;
}

function expectArray(value: unknown, what: string): unknown[] {
  if (!Array.isArray(value)) fail(`state: ${what} must be an array`);
  return value;
}

function expectInteger(value: unknown, what: string): number {
  if (!isNonNegativeSafeInteger(value)) fail(`state: ${what} must be a non-negative safe integer`);
  return value;
}

/** What an order in the book shows in depth: its remaining, or an iceberg's visible part. */
function shownQty(order: Order): number {
  return order.displayQty === 0 ? order.remaining : order.visible;
}

/** The asset an order's reservation is in: quote for a buy, base for a sell. */
function reservedAssetOf(order: Order): number {
  return order.isBuy ? order.book.quoteAsset : order.book.baseAsset;
}

/** The order being placed or activated, as one struct rather than a long parameter list. */
interface OrderRequest {
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

/** What the FOK dry run carries from level to level. */
interface DryRunState {
  remaining: number;
  /** A market buy's simulated available quote. */
  funds: number;
}
