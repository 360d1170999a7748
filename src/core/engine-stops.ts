// Stop orders and OCO pairs on top of matching (see engine.ts for the layers).
import { type Account, availableSlot, type Book, type Order } from './book.js';
import { type Fields, type OrderRequest, reservedAssetOf } from './engine-store.js';
import { EngineMatching } from './matching.js';
import { checkOcoFields, linkedReservation, ocoReservation, reservationOf } from './oco.js';
import { collectTriggered, stopConditionHolds } from './stops.js';
/** Stop orders and OCO: bounds, pending orders, triggering and the activation queue, the link. */
export abstract class EngineStops extends EngineMatching {
  /**
   * LIMIT_EXCEEDED bounds, checked before any matching, for an order (or OCO pair) that would
   * use `newIds` ids, add `newResting` orders that could rest (GTC) and `newPending` stop orders:
   * the id set; the user's open orders; the book's and the engine's resting orders; the symbol's
   * and the user's pending orders.
   */
  protected orderBoundsReached(
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
  protected wouldTrigger(book: Book, isBuy: boolean, isStopLoss: boolean, stopPrice: number): boolean {
    return book.lastPrice !== 0 && stopConditionHolds(isBuy, isStopLoss, stopPrice, book.lastPrice);
  }

  /** A stop order (or OCO leg B) waits, pending, holding its reservation. */
  protected addPending(request: OrderRequest): Order {
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

  /**
   * After a run with trades: triggers what it reached, then runs the activation queue first in,
   * first out, each run triggering more. Each order triggers once (it leaves the pending set),
   * so the cascade ends within the symbol's pending orders.
   */
  protected triggerAndActivate(book: Book): void {
    const queue = this.activationQueue;
    this.triggerPending(book);
    for (let head = 0; head < queue.length; head++) {
      this.activate(queue[head]);
      if (this.runHighPrice !== 0 && book.pending.size !== 0) this.triggerPending(book);
    }
    queue.length = 0;
  }

  /** Every pending order of the book whose condition holds at the run's lowest or highest price, by id. */
  protected triggerPending(book: Book): void {
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
  protected activate(order: Order): void {
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
    // The command's fill bound: an activation that would pass it expires whole, before its run.
    const budget = this.limits.fillsPerCommandMax - this.tradeEventsUsed;
    if (request.remaining > budget && this.exceedsFills(request, budget)) {
      this.runLowPrice = Number.MAX_SAFE_INTEGER;
      this.runHighPrice = 0;
      this.expireWhole(request, 'UNFILLED');
      return;
    }
    this.runTaker(request);
  }

  /** Leg A's first fill: leg B is cancelled right after the trade; the pair's reservation shrinks to leg A's. */
  protected resolveOcoOnFill(legA: Order, fillQty: number): void {
    const legB = legA.ocoPartner!;
    const unit = legA.isBuy ? legA.price : legA.book.lotSize;
    const excess = linkedReservation(legA, legB) - fillQty * unit - reservationOf(legA);
    legA.ocoPartner = null;
    legB.ocoPartner = null;
    this.release(legA.account, reservedAssetOf(legA), excess);
    this.removeOrder(legB, 'OCO');
  }

  /** Leg B triggered: leg A is cancelled right after the `triggered` event; the reservation shrinks to leg B's. */
  protected resolveOcoOnTrigger(legB: Order): void {
    const legA = legB.ocoPartner!;
    const excess = linkedReservation(legA, legB) - reservationOf(legB);
    legA.ocoPartner = null;
    legB.ocoPartner = null;
    this.release(legB.account, reservedAssetOf(legB), excess);
    this.removeOrder(legA, 'OCO');
  }

  /** The `oco` command: leg A rests (post-only GTC limit), leg B waits (stopLoss), one reservation. */
  protected placeOco(fields: Fields): void {
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
}
