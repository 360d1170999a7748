// Matching: one taker run against the book (see engine.ts for the layers).
import { assert } from './assert.js';
import { type Account, availableSlot, type Book, type LevelList, lockedSlot, type Order } from './book.js';
import { EngineSnapshots } from './engine-snapshots.js';
import { FEE_USER, type OrderRequest, reservedAssetOf, shownQty } from './engine-store.js';
import { basisPointsOf, floorDivide } from './numbers.js';
import { linkedReservation, reservationOf } from './oco.js';
import { STP_EXPIRE_MAKER, STP_EXPIRE_TAKER, STP_NONE } from './order-fields.js';
import { SweepCursor } from './sweep-cursor.js';
import type { CancelReason, ExpireReason } from './types.js';
/** Runs: the FOK dry run, the sweep, fills and fees, resting, cancels. */
export abstract class EngineMatching extends EngineSnapshots {
  /** The dry run's walk through the book (see sweep). */
  protected readonly cursor = new SweepCursor();
  /** Fills the last dry sweep would make; it stops counting once they pass dryFillsMax. */
  protected dryFills = 0;
  protected dryFillsMax = Number.MAX_SAFE_INTEGER;
  /** A market buy's simulated available quote during a dry sweep. */
  protected dryFunds = 0;
  /** Leg A of a live OCO pair got its first fill (engine-stops.ts). */
  protected abstract resolveOcoOnFill(legA: Order, fillQty: number): void;

  /** A run: the taker processing of one order (FOK dry run, sweep, remainder) with the reservation it holds. */
  protected runTaker(request: OrderRequest): void {
    const { book, account, isBuy, price } = request;
    this.runLowPrice = Number.MAX_SAFE_INTEGER;
    this.runHighPrice = 0;
    const reservedAsset = isBuy ? book.quoteAsset : book.baseAsset;
    const unit = isBuy ? price : book.lotSize;
    const qty = request.remaining;
    if (request.tif === 'FOK' && this.drySweep(request, qty) !== 0) {
      this.expireWhole(request, 'FOK');
      return;
    }
    const remaining = this.sweep(request, qty, false);
    if (remaining === 0) return;
    if (request.tif === 'GTC' && this.sweepStop !== 'STP' && this.hasRoomToRest(book)) {
      this.rest(request, remaining);
      return;
    }
    this.release(account, reservedAsset, remaining * unit);
    this.emitExpired(request, remaining, this.sweepStop);
  }

  /** The taker expires before its run, all of it, and releases what it holds. */
  protected expireWhole(request: OrderRequest, reason: ExpireReason): void {
    const book = request.book;
    const qty = request.remaining;
    const isBuy = request.isBuy;
    this.release(
      request.account,
      isBuy ? book.quoteAsset : book.baseAsset,
      qty * (isBuy ? request.price : book.lotSize),
    );
    this.emitExpired(request, qty, reason);
  }

  /** Whether the request's sweep would make more than `budget` fills: a dry run that stops at budget + 1. */
  protected exceedsFills(request: OrderRequest, budget: number): boolean {
    this.dryFillsMax = budget;
    this.drySweep(request, request.remaining);
    this.dryFillsMax = Number.MAX_SAFE_INTEGER;
    return this.dryFills > budget;
  }

  /** Placed orders were checked before matching; an activated stop order may find the bounds reached. */
  protected hasRoomToRest(book: Book): boolean {
    return (
      book.orderCount < this.limits.ordersPerBookMax && this.restingOrders.size < this.limits.restingOrdersMax
    );
  }

  protected wouldCross(book: Book, isBuy: boolean, price: number): boolean {
    const best = (isBuy ? book.asks : book.bids).best();
    if (best === null) return false;
    return isBuy ? best.price <= price : best.price >= price;
  }

  /**
   * The one matcher. Matches `qty` of the taker against the opposite side and returns its unfilled
   * qty, the reason in sweepStop. With `dry` it changes nothing: makers come from the dry-run
   * cursor instead of the book, STP cancels and fills only advance the cursor, a market buy's
   * funds are simulated (including what the taker receives back as its own maker or as the fee
   * account), and the fills it would make are counted in dryFills, stopping once they pass
   * dryFillsMax.
   */
  protected sweep(request: OrderRequest, qty: number, dry: boolean): number {
    const book = request.book;
    const isBuy = request.isBuy;
    const isMarket = request.isMarket;
    const limitPrice = request.price;
    const user = request.user;
    const stp = request.stp;
    const opposite = isBuy ? book.asks : book.bids;
    const marketBuy = isMarket && isBuy;
    const cursor = this.cursor;
    if (dry) this.startDrySweep(request, opposite, marketBuy);
    let remaining = qty;
    this.sweepStop = 'UNFILLED';
    while (remaining > 0) {
      let maker: Order;
      let price: number;
      let shown: number;
      if (dry) {
        if (!cursor.ready() || this.dryFills > this.dryFillsMax) break;
        maker = cursor.maker!;
        price = cursor.price;
        shown = cursor.shown;
      } else {
        const level = opposite.best();
        if (level === null) break;
        maker = level.head!;
        price = level.price;
        shown = shownQty(maker);
      }
      if (!isMarket && (isBuy ? price > limitPrice : price < limitPrice)) break;
      if (maker.user === user && stp !== STP_NONE) {
        if (this.selfTrade(maker, stp, dry)) continue;
        break;
      }
      // Makers fill against what they show: an iceberg's visible part.
      let fillQty = remaining < shown ? remaining : shown;
      if (marketBuy) {
        fillQty = this.affordableQty(request, price, fillQty, dry);
        if (fillQty === 0) break;
      }
      if (dry) this.dryFill(request, maker, price, fillQty, marketBuy);
      else this.fill(request, maker, fillQty);
      remaining -= fillQty;
    }
    return remaining;
  }

  /**
   * The taker meets its own order (STP, the taker's mode governs): expireMaker and expireBoth
   * cancel the maker (a dry run only steps past it). True when the sweep goes on; otherwise it
   * stops with sweepStop 'STP'. Out of the sweep's loop to keep the loop small enough to inline.
   */
  protected selfTrade(maker: Order, stp: number, dry: boolean): boolean {
    if (stp !== STP_EXPIRE_TAKER) {
      if (dry) this.cursor.drop();
      else this.cancelOrder(maker, 'STP');
    }
    if (stp === STP_EXPIRE_MAKER) return true;
    this.sweepStop = 'STP';
    return false;
  }

  /**
   * What a market buy can pay for of `fillQty` lots at `price`, from its available quote (a dry
   * run's simulated funds); 0 stops the sweep with sweepStop 'INSUFFICIENT_FUNDS'.
   */
  protected affordableQty(request: OrderRequest, price: number, fillQty: number, dry: boolean): number {
    const funds = dry ? this.dryFunds : request.account.balances[availableSlot(request.book.quoteAsset)];
    const affordable = floorDivide(funds, price);
    if (affordable === 0) this.sweepStop = 'INSUFFICIENT_FUNDS';
    return affordable < fillQty ? affordable : fillQty;
  }

  protected startDrySweep(request: OrderRequest, opposite: LevelList, marketBuy: boolean): void {
    this.cursor.start(opposite);
    this.dryFunds = marketBuy ? request.account.balances[availableSlot(request.book.quoteAsset)] : 0;
    this.dryFills = 0;
  }

  /** A dry fill: the cursor moves on; a market buy's funds move as the fill would move them. */
  protected dryFill(
    request: OrderRequest,
    maker: Order,
    price: number,
    qty: number,
    marketBuy: boolean,
  ): void {
    if (marketBuy) {
      const paid = qty * price;
      // Dry fills are numbered below zero so they never share a coupon token with a real fill.
      const makerFee = this.fee(maker.account, paid, request.book.makerFeeBps, true, --this.dryFillToken);
      this.dryFunds -= paid;
      if (maker.user === request.user) this.dryFunds += paid - makerFee;
      if (request.user === FEE_USER) this.dryFunds += makerFee;
    }
    this.cursor.take(qty);
    this.dryFills++;
  }

  /**
   * The sweep as a dry run (the FOK check, the fill-count bound): what it would leave unfilled.
   * Coupon uses its simulated fees spend are put back.
   */
  protected drySweep(request: OrderRequest, qty: number): number {
    if (!this.offerings.hasCoupons) return this.sweep(request, qty, true);
    const uses = this.offerings.saveUses();
    const remaining = this.sweep(request, qty, true);
    this.offerings.restoreUses(uses);
    return remaining;
  }

  /** One fill of `qty` lots at the maker's price: moves money, emits the trade, retires a filled maker. */
  protected fill(request: OrderRequest, maker: Order, qty: number): void {
    const book = request.book;
    const taker = request.account;
    const limitPrice = request.price;
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
    const balances = taker.balances;
    const makerBalances = makerAccount.balances;
    // Money moves are checked in the same pass, once for either side (EngineAssertionError, see
    // assert.ts): no balance the fill debits goes negative, a limit buy never pays above its limit
    // (its refund is not negative), and each fee lies between 0 and what its payer receives (the
    // credit after the fee is not negative), so base and quote are conserved: what the payer gives
    // equals what the receiver and the fee account get.
    let debited: number;
    let makerLocked: number;
    let refund = 0;
    let takerCredit: number;
    let makerCredit: number;
    if (request.isBuy) {
      if (request.isMarket) {
        balances[availableSlot(quoteAsset)] -= quoteAmount;
        debited = balances[availableSlot(quoteAsset)];
      } else {
        const held = qty * limitPrice;
        refund = held - quoteAmount;
        balances[lockedSlot(quoteAsset)] -= held;
        debited = balances[lockedSlot(quoteAsset)];
        balances[availableSlot(quoteAsset)] += refund;
      }
      takerFee = this.fee(taker, baseAmount, book.takerFeeBps, false, fillToken);
      takerCredit = baseAmount - takerFee;
      balances[availableSlot(baseAsset)] += takerCredit;
      makerBalances[lockedSlot(baseAsset)] -= baseAmount;
      makerLocked = makerBalances[lockedSlot(baseAsset)];
      makerFee = this.fee(makerAccount, quoteAmount, book.makerFeeBps, true, fillToken);
      makerCredit = quoteAmount - makerFee;
      makerBalances[availableSlot(quoteAsset)] += makerCredit;
      fees.balances[availableSlot(baseAsset)] += takerFee;
      fees.balances[availableSlot(quoteAsset)] += makerFee;
    } else {
      balances[lockedSlot(baseAsset)] -= baseAmount;
      debited = balances[lockedSlot(baseAsset)];
      takerFee = this.fee(taker, quoteAmount, book.takerFeeBps, false, fillToken);
      takerCredit = quoteAmount - takerFee;
      balances[availableSlot(quoteAsset)] += takerCredit;
      makerBalances[lockedSlot(quoteAsset)] -= quoteAmount;
      makerLocked = makerBalances[lockedSlot(quoteAsset)];
      makerFee = this.fee(makerAccount, baseAmount, book.makerFeeBps, true, fillToken);
      makerCredit = baseAmount - makerFee;
      makerBalances[availableSlot(baseAsset)] += makerCredit;
      fees.balances[availableSlot(quoteAsset)] += takerFee;
      fees.balances[availableSlot(baseAsset)] += makerFee;
    }
    assert(
      debited >= 0 &&
        makerLocked >= 0 &&
        refund >= 0 &&
        takerFee >= 0 &&
        makerFee >= 0 &&
        takerCredit >= 0 &&
        makerCredit >= 0,
      'fill: a debit went below zero, a limit buy paid above its limit, or a fee left [0, received]',
    );
    this.emitTrade(request, maker, qty, takerFee, makerFee);
    book.lastPrice = price;
    if (price < this.runLowPrice) this.runLowPrice = price;
    if (price > this.runHighPrice) this.runHighPrice = price;
    maker.remaining -= qty;
    maker.level!.totalQty -= qty;
    if (!maker.hasExtras) {
      if (maker.remaining === 0) this.retire(maker);
      return;
    }
    if (maker.ocoPartner !== null) this.resolveOcoOnFill(maker, qty);
    if (maker.remaining === 0) this.retire(maker);
    else if (maker.displayQty !== 0) {
      maker.visible -= qty;
      if (maker.visible === 0) this.refill(maker);
    }
  }

  /** An iceberg's visible part is used up: show the next part at the back of its level. */
  protected refill(order: Order): void {
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
  protected fee(
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

  /** The remainder of a taker rests in the book (an iceberg showing its first part). */
  protected rest(request: OrderRequest, remaining: number): Order {
    const book = request.book;
    const order = this.allocateOrder(request.account, book);
    order.id = request.id;
    order.user = request.user;
    order.isBuy = request.isBuy;
    order.price = request.price;
    order.qty = request.qty;
    order.remaining = remaining;
    if (request.displayQty !== 0) {
      order.displayQty = request.displayQty;
      order.visible = Math.min(request.displayQty, remaining);
    }
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

  /** Cancels an open order (resting or pending) and releases what it holds; a live OCO pair goes together. */
  protected cancelOrder(order: Order, reason: CancelReason): void {
    const partner = order.hasExtras ? order.ocoPartner : null;
    if (partner === null) {
      this.release(order.account, reservedAssetOf(order), reservationOf(order));
      this.removeOrder(order, reason);
      return;
    }
    const legA = order.isPending ? partner : order;
    this.release(order.account, reservedAssetOf(order), linkedReservation(legA, legA.ocoPartner!));
    order.ocoPartner = null;
    partner.ocoPartner = null;
    this.removeOrder(order, reason);
    this.removeOrder(partner, 'OCO');
  }

  /** Takes an order out of the book or the pending set with its `cancelled` event; releases nothing. */
  protected removeOrder(order: Order, reason: CancelReason): void {
    const book = order.book;
    const inBook = !order.hasExtras || !order.isPending;
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
}
