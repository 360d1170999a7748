// The engine's read-side queries (see engine.ts for the layers).
import { availableSlot, type LevelList, lockedSlot, type Order } from './book.js';
import { EngineStore, type LedgerEntry } from './engine-store.js';
import { isNonNegativeSafeInteger } from './numbers.js';
import type { CouponView, OfferingView } from './offerings.js';
import { triggerName } from './stops.js';
import type { BalanceView, DepthView, OrderView, SymbolView } from './types.js';
/** Read-side queries: balances, open orders, depth, symbols, offerings. They allocate; `apply` does not. */
export abstract class EngineQueries extends EngineStore {
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

  protected orderView(order: Order): OrderView {
    const view: OrderView = {
      id: order.id,
      user: order.user,
      symbol: order.book.symbol,
      side: order.isBuy ? 'buy' : 'sell',
      price: order.price,
      qty: order.qty,
      remaining: order.remaining,
    };
    if (order.isPending) {
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

  protected sideDepth(side: LevelList, levelsMax: number): Array<[number, number]> {
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
}
