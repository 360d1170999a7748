// The engine's integrity check, state hash and snapshots (see engine.ts for the layers).
import { Account, availableSlot, type Book, type LevelList, lockedSlot, type Order } from './book.js';
import { EngineQueries } from './engine-queries.js';
import {
  compareText,
  FEE_USER,
  isName,
  reservedAssetOf,
  STATE_FORMAT,
  STATE_VERSION,
  shownQty,
} from './engine-store.js';
import { Fnv64 } from './hash.js';
import { isNonNegativeSafeInteger, isPositiveSafeInteger } from './numbers.js';
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
import { parseSymbolConfig } from './symbol-config.js';
/** Integrity checks, the state hash and snapshots (export and load). */
export abstract class EngineSnapshots extends EngineQueries {
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

  protected expectLock(
    expectedLocked: Map<Account, number[]>,
    account: Account,
    asset: number,
    amount: number,
  ): void {
    const locked = expectedLocked.get(account) ?? new Array<number>(this.assetNames.length).fill(0);
    expectedLocked.set(account, locked);
    locked[asset] += amount;
  }

  protected validateSide(
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

  protected validateOrder(
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

  protected validateAccounts(
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

  protected load(state: unknown): void {
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

  protected loadAccounts(entries: unknown[]): void {
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

  protected loadBook(entry: Record<string, unknown>): void {
    const config = parseSymbolConfig(entry);
    if (
      config === null ||
      this.books.has(config.symbol) ||
      !this.assetIndexes.has(config.base) ||
      !this.assetIndexes.has(config.quote)
    ) {
      fail('state: symbol malformed');
    }
    const book = this.createBook(config);
    this.loadOrders(book, true, expectArray(entry.bids, 'bids'));
    this.loadOrders(book, false, expectArray(entry.asks, 'asks'));
    // Version 1 snapshots predate last prices and pending orders.
    book.lastPrice = entry.lastPrice === undefined ? 0 : expectInteger(entry.lastPrice, 'lastPrice');
    for (const tuple of entry.pending === undefined ? [] : expectArray(entry.pending, 'pending')) {
      this.loadPending(book, tuple);
    }
  }

  protected loadPending(book: Book, value: unknown): void {
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

  protected loadOrders(book: Book, isBuy: boolean, entries: unknown[]): void {
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
      if (displayQty !== 0) {
        order.displayQty = displayQty;
        order.visible = visible;
      }
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
