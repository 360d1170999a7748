// Matching: one taker run against the book (see engine.ts for the layers).
import { type Account, availableSlot, type Book, lockedSlot, type Order, type PriceLevel } from './book.js';
import { EngineSnapshots } from './engine-snapshots.js';
import { type DryRunState, FEE_USER, type OrderRequest, reservedAssetOf, shownQty } from './engine-store.js';
import { basisPointsOf, floorDivide } from './numbers.js';
import { linkedReservation, reservationOf } from './oco.js';
import { STP_EXPIRE_MAKER, STP_EXPIRE_TAKER, STP_NONE } from './order-fields.js';
import type { CancelReason } from './types.js';
/** Runs: the FOK dry run, the sweep, fills and fees, resting, cancels. */
export abstract class EngineMatching extends EngineSnapshots {
  /** Leg A of a live OCO pair got its first fill (engine-stops.ts). */
  protected abstract resolveOcoOnFill(legA: Order, fillQty: number): void;

  /** A run: the taker processing of one order (FOK dry run, sweep, remainder) with the reservation it holds. */
  protected runTaker(request: OrderRequest): void {
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

  /** Matches against the opposite side; returns the taker's unfilled qty, reason in sweepStop. */
  protected sweep(
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
      let fillQty = Math.min(remaining, shownQty(maker));
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
  protected fokWouldFill(
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
  protected wouldFillCompletely(
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
  protected simulateIcebergLevel(
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
  protected fill(
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
