// Order book structures: pooled orders in intrusive doubly linked lists per price level, price
// levels in a skip list per side (O(log n) insert and remove, O(1) best), and the per-user account
// that owns its balances and its list of open orders.
import type { TimeInForce } from './types.js';

/** Tallest skip-list tower: with a 1/4 promotion chance this covers about 4^20 levels. */
const TOWER_HEIGHT_MAX = 20;
/** Emptied price levels kept for reuse per side, so that churn at the touch allocates nothing. */
const LEVEL_POOL_MAX = 4_096;

/** Where an asset's available amount sits in Account.balances. */
export function availableSlot(asset: number): number {
  return asset * 2;
}

/** Where an asset's locked amount sits in Account.balances. */
export function lockedSlot(asset: number): number {
  return asset * 2 + 1;
}

export class Account {
  /**
   * Available and locked per asset index, interleaved (see availableSlot/lockedSlot) so that a
   * fill touches one array per account; grown on demand as assets are added.
   */
  readonly balances: number[] = [];
  hasDeposited = false;
  /** Resting and pending orders of this user (found through the order indexes). */
  openOrderCount = 0;
  /** Pending stop orders of this user. */
  pendingCount = 0;

  constructor(readonly user: number) {}

  get assetCount(): number {
    return this.balances.length / 2;
  }

  ensureAssets(assetCount: number): void {
    while (this.balances.length < assetCount * 2) this.balances.push(0, 0);
  }
}

/** The fields of an iceberg, a pending stop order or an OCO leg (see Order.extras). */
export class OrderExtras {
  displayQty = 0;
  visible = 0;
  ocoPartner: Order | null = null;
  isPending = false;
  stopPrice = 0;
  isStopLoss = false;
  isMarket = false;
  tif: TimeInForce = 'GTC';
  stp = 0;
}

/** What a plain order's extras read as. */
const plainExtras = new OrderExtras();

export class Order {
  id = 0;
  user = 0;
  isBuy = false;
  price = 0;
  /** Quantity at acceptance, in lots. */
  qty = 0;
  /** Quantity still resting, in lots. */
  remaining = 0;
  /** Rest order, engine-wide; only used to check FIFO within a level. */
  sequence = 0;
  account: Account;
  book: Book;
  level: PriceLevel | null = null;
  previous: Order | null = null;
  next: Order | null = null;
  /**
   * Iceberg, stop and OCO state, null for a plain order: kept out of line so that an order stays
   * small (the book holds millions; cache misses dominate matching and cancelling) and plain
   * orders never read it. The accessors below read defaults for a plain order and allocate the
   * extras on the first write.
   */
  extras: OrderExtras | null = null;

  constructor(account: Account, book: Book) {
    this.account = account;
    this.book = book;
  }

  get hasExtras(): boolean {
    return this.extras !== null;
  }

  private writableExtras(): OrderExtras {
    if (this.extras === null) this.extras = new OrderExtras();
    return this.extras;
  }

  /** Iceberg: the shown part's size, 0 for an ordinary order. */
  get displayQty(): number {
    return this.extras === null ? plainExtras.displayQty : this.extras.displayQty;
  }

  set displayQty(value: number) {
    this.writableExtras().displayQty = value;
  }

  /** Iceberg: what is shown now (fills take from it). */
  get visible(): number {
    return this.extras === null ? plainExtras.visible : this.extras.visible;
  }

  set visible(value: number) {
    this.writableExtras().visible = value;
  }

  /** The other leg while an OCO link is live, else null. */
  get ocoPartner(): Order | null {
    return this.extras === null ? plainExtras.ocoPartner : this.extras.ocoPartner;
  }

  set ocoPartner(value: Order | null) {
    this.writableExtras().ocoPartner = value;
  }

  /** Pending stop order: linked (through level/previous/next) into its book's stop lists, not the book. */
  get isPending(): boolean {
    return this.extras === null ? plainExtras.isPending : this.extras.isPending;
  }

  set isPending(value: boolean) {
    this.writableExtras().isPending = value;
  }

  /** Stop orders: the trigger price, 0 for an order that was never a stop order. */
  get stopPrice(): number {
    return this.extras === null ? plainExtras.stopPrice : this.extras.stopPrice;
  }

  set stopPrice(value: number) {
    this.writableExtras().stopPrice = value;
  }

  /** Stop orders: stopLoss (true) or takeProfit (false). */
  get isStopLoss(): boolean {
    return this.extras === null ? plainExtras.isStopLoss : this.extras.isStopLoss;
  }

  set isStopLoss(value: boolean) {
    this.writableExtras().isStopLoss = value;
  }

  /** Market orders only reach here as pending stop orders (they never rest). */
  get isMarket(): boolean {
    return this.extras === null ? plainExtras.isMarket : this.extras.isMarket;
  }

  set isMarket(value: boolean) {
    this.writableExtras().isMarket = value;
  }

  /** Pending orders run with their time in force when triggered. */
  get tif(): TimeInForce {
    return this.extras === null ? plainExtras.tif : this.extras.tif;
  }

  set tif(value: TimeInForce) {
    this.writableExtras().tif = value;
  }

  /** Self-trade prevention code; pending orders run with it when triggered. */
  get stp(): number {
    return this.extras === null ? plainExtras.stp : this.extras.stp;
  }

  set stp(value: number) {
    this.writableExtras().stp = value;
  }
}

export class PriceLevel {
  price = 0;
  /** Sum of the shown quantity of the orders at this level (remaining, or an iceberg's visible), in lots. */
  totalQty = 0;
  orderCount = 0;
  /** Iceberg orders at this level: the FOK dry run simulates refills only where there are some. */
  icebergCount = 0;
  head: Order | null = null;
  tail: Order | null = null;
  /** Skip-list tower: forward[i] is the next level at height i. */
  readonly forward: (PriceLevel | null)[];

  constructor(height: number) {
    this.forward = new Array<PriceLevel | null>(height).fill(null);
  }

  append(order: Order): void {
    order.level = this;
    order.previous = this.tail;
    order.next = null;
    if (this.tail === null) this.head = order;
    else this.tail.next = order;
    this.tail = order;
    this.orderCount++;
    if (!order.hasExtras || order.displayQty === 0) {
      this.totalQty += order.remaining;
    } else {
      this.totalQty += order.visible;
      this.icebergCount++;
    }
  }

  /** Removes the order; the caller has already taken its remaining quantity off totalQty or not. */
  unlink(order: Order): void {
    if (order.previous === null) this.head = order.next;
    else order.previous.next = order.next;
    if (order.next === null) this.tail = order.previous;
    else order.next.previous = order.previous;
    order.previous = null;
    order.next = null;
    order.level = null;
    this.orderCount--;
    if (order.hasExtras && order.displayQty !== 0) this.icebergCount--;
  }
}

/** One side of a book: price levels ordered best first (bids descending, asks ascending). */
export class LevelList {
  private readonly header = new PriceLevel(TOWER_HEIGHT_MAX);
  private height = 1;
  private readonly byPrice = new Map<number, PriceLevel>();
  private readonly predecessors: PriceLevel[] = [];
  private readonly levelPool: PriceLevel[] = [];
  /** xorshift32 state for tower heights: deterministic, and shape never changes behaviour. */
  private randomState = 0x9e3779b9;

  constructor(readonly descending: boolean) {
    for (let index = 0; index < TOWER_HEIGHT_MAX; index++) this.predecessors.push(this.header);
  }

  get levelCount(): number {
    return this.byPrice.size;
  }

  best(): PriceLevel | null {
    return this.header.forward[0];
  }

  find(price: number): PriceLevel | undefined {
    return this.byPrice.get(price);
  }

  /** True when price a comes before price b on this side. */
  precedes(a: number, b: number): boolean {
    return this.descending ? a > b : a < b;
  }

  /** The level at `price`, created and linked in order if missing. */
  levelAt(price: number): PriceLevel {
    const existing = this.byPrice.get(price);
    if (existing !== undefined) return existing;
    const update = this.predecessors;
    let node = this.header;
    for (let height = this.height - 1; height >= 0; height--) {
      let next = node.forward[height];
      while (next !== null && this.precedes(next.price, price)) {
        node = next;
        next = node.forward[height];
      }
      update[height] = node;
    }
    const level = this.allocate();
    level.price = price;
    const towerHeight = level.forward.length;
    for (let height = this.height; height < towerHeight; height++) update[height] = this.header;
    if (towerHeight > this.height) this.height = towerHeight;
    for (let height = 0; height < towerHeight; height++) {
      level.forward[height] = update[height].forward[height];
      update[height].forward[height] = level;
    }
    this.byPrice.set(price, level);
    return level;
  }

  /** Unlinks an empty level and keeps it for reuse. */
  remove(level: PriceLevel): void {
    const towerHeight = level.forward.length;
    if (this.header.forward[0] === level) {
      // The best level's predecessor is the header at every height of its tower.
      for (let height = 0; height < towerHeight; height++)
        this.header.forward[height] = level.forward[height];
    } else {
      let node = this.header;
      for (let height = this.height - 1; height >= 0; height--) {
        let next = node.forward[height];
        while (next !== null && next !== level && this.precedes(next.price, level.price)) {
          node = next;
          next = node.forward[height];
        }
        if (height < towerHeight && node.forward[height] === level)
          node.forward[height] = level.forward[height];
      }
    }
    while (this.height > 1 && this.header.forward[this.height - 1] === null) this.height--;
    this.byPrice.delete(level.price);
    // The tower is not cleared: levelAt rewrites every height of it when the level is reused.
    level.head = null;
    level.tail = null;
    level.totalQty = 0;
    level.orderCount = 0;
    level.icebergCount = 0;
    if (this.levelPool.length < LEVEL_POOL_MAX) this.levelPool.push(level);
  }

  private allocate(): PriceLevel {
    const pooled = this.levelPool.pop();
    if (pooled !== undefined) return pooled;
    return new PriceLevel(this.towerHeight());
  }

  private towerHeight(): number {
    let state = this.randomState;
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    this.randomState = state === 0 ? 0x9e3779b9 : state;
    let height = 1;
    while ((state & 3) === 0 && height < TOWER_HEIGHT_MAX) {
      height++;
      state >>>= 2;
    }
    return height;
  }
}

export class Book {
  readonly bids = new LevelList(true);
  readonly asks = new LevelList(false);
  /** Resting orders (pending stop orders are not in the book). */
  orderCount = 0;
  /** The price of the most recent trade, 0 before the first (prices are positive). */
  lastPrice = 0;
  /** Pending stop orders by id (insertion order is not id order: triggering sorts). */
  readonly pending = new Map<number, Order>();
  /**
   * Pending orders by stop price, for triggering without a scan: those whose condition holds at
   * or above their stop price (buy stopLoss, sell takeProfit), lowest first, and those whose
   * condition holds at or below it (buy takeProfit, sell stopLoss), highest first. A level's
   * totalQty is the remaining qty of its orders.
   */
  readonly stopsRising = new LevelList(false);
  readonly stopsFalling = new LevelList(true);

  /** The stop list a pending order belongs in. */
  stopListOf(order: Order): LevelList {
    return order.isBuy === order.isStopLoss ? this.stopsRising : this.stopsFalling;
  }

  constructor(
    readonly symbol: string,
    readonly base: string,
    readonly quote: string,
    readonly baseAsset: number,
    readonly quoteAsset: number,
    readonly lotSize: number,
    readonly tickSize: number,
    readonly makerFeeBps: number,
    readonly takerFeeBps: number,
  ) {}
}
