// Seeded order flow for one symbol: limit orders, cancels of live orders and market orders, as Hoga
// commands held in memory. A small price-time model book follows the flow while it is generated,
// so every cancel names an order that is really resting and market orders can be sized from the
// real depth. Engine benchmarks replay the flow; gateway/journal benchmarks can reuse it.
import type { Command, PlaceCommand, Side } from '../../src/core/types.js';
import { SeededRandom } from './random.js';

export const CommandKind = { limit: 0, market: 1, cancel: 2 } as const;
export type CommandKind = (typeof CommandKind)[keyof typeof CommandKind];

/** How the resting book is spread: few crowded prices or many thin ones. */
export interface BookShape {
  name: string;
  levelsPerSide: number;
  /** Non-crossing limit orders placed before the mixed flow, to build the book. */
  prefillOrders: number;
  /** Distinct users placing orders (each funded in the setup). */
  users: number;
  /** Of the mixed commands, the percentage of limit orders and of cancels; the rest are market orders. */
  percentLimit: number;
  percentCancel: number;
}

/** Few prices, thousands of orders each: the queue-heavy case. */
export const crowdedBook: BookShape = {
  name: 'crowded',
  levelsPerSide: 50,
  prefillOrders: 200_000,
  users: 1_000,
  percentLimit: 50,
  percentCancel: 45,
};
/** 800 prices. */
export const wideBook: BookShape = { ...crowdedBook, name: 'wide', levelsPerSide: 400 };
/**
 * The shape of a busy public market: many users, 1,000 prices, fewer cancels (30%) and more
 * market orders, so accounts and price levels are spread out rather than hot in cache.
 */
export const manyUsersBook: BookShape = {
  name: 'many-users',
  levelsPerSide: 500,
  prefillOrders: 200_000,
  users: 10_000,
  percentLimit: 60,
  percentCancel: 30,
};

export interface OrderFlowOptions {
  shape: BookShape;
  seed: number;
  /** Mixed commands after the prefill and warm-up: the ones a benchmark measures. */
  measuredCommands: number;
  /** Mixed commands between the prefill and the measured ones, to warm up the JIT. */
  warmupCommands: number;
  /** Also keep the model's depth after this many measured commands (for a peer run on a prefix); default 0. */
  checkpointAfterMeasured?: number;
}

export interface OrderFlowStats {
  limitOrders: number;
  crossingLimitOrders: number;
  cancels: number;
  marketOrders: number;
  /** Market orders sized to take the whole best opposite level and more. */
  sweeps: number;
  /** Fills in the measured part: each is one trade event in Hoga. */
  measuredTrades: number;
  restingAtMeasuredStart: number;
  restingAtEnd: number;
  occupiedLevelsAtMeasuredStart: number;
}

export interface OrderFlow {
  symbol: string;
  base: string;
  quote: string;
  /** The symbol and the deposits that fund every user: not part of any measurement. */
  setup: Command[];
  /** Prefill, then warm-up, then measured commands. */
  commands: Command[];
  /** The kind of each command in `commands`, so a peer engine can map it without inspecting it. */
  kinds: Uint8Array;
  measuredStart: number;
  stats: OrderFlowStats;
  /** The model's depth after `checkpointAfterMeasured` measured commands. */
  checkpointDepth: BookDepth;
  /** The model's final depth. */
  finalDepth: BookDepth;
}

/** [price, total qty] per level, best first. */
export interface BookDepth {
  bids: Array<[number, number]>;
  asks: Array<[number, number]>;
}

const symbol = 'BTC-USD';
const base = 'BTC';
const quote = 'USD';
/** The price (quote minor units per lot) separating bids from asks. */
const midPrice = 100_000;
const qtyLotsMax = 100;
/** Far more than any user can lock or spend in a run, so no order fails for funds. */
const depositBaseLots = 1_000_000_000;
const depositQuoteMinor = 100_000_000_000;
/** Crossing limit orders reach this many ticks into the opposite side. */
const crossTicksMax = 3;
const percentCrossingLimits = 5;
/** One market order in this many sweeps past the whole best opposite level. */
const sweepEveryMarketOrders = 2_000;

/** A level's consumed id prefix is cut once it is at least this long and half the array. */
const levelCompactionHeadMin = 1_024;

const sideBuy = 0;
const sideSell = 1;
const sideNames: readonly Side[] = ['buy', 'sell'];

export function generateOrderFlow(options: OrderFlowOptions): OrderFlow {
  const { shape, seed, measuredCommands, warmupCommands, checkpointAfterMeasured = 0 } = options;
  const random = new SeededRandom(seed);
  const total = shape.prefillOrders + warmupCommands + measuredCommands;
  const book = new ModelBook(shape.levelsPerSide + crossTicksMax, total + 1);
  const generator = new FlowGenerator(random, book, shape, total);
  for (let count = 0; count < shape.prefillOrders; count += 1) generator.prefillOrder();
  for (let count = 0; count < warmupCommands; count += 1) generator.mixedCommand();
  const measuredStart = generator.commands.length;
  const tradesBeforeMeasured = book.trades;
  const restingAtMeasuredStart = book.restingCount;
  const occupiedLevelsAtMeasuredStart = book.occupiedLevels();
  let checkpointDepth = book.depth();
  for (let count = 0; count < measuredCommands; count += 1) {
    generator.mixedCommand();
    if (count + 1 === checkpointAfterMeasured) checkpointDepth = book.depth();
  }
  return {
    symbol,
    base,
    quote,
    setup: setupCommands(shape.users),
    commands: generator.commands,
    kinds: generator.kinds,
    measuredStart,
    stats: {
      ...generator.counts,
      measuredTrades: book.trades - tradesBeforeMeasured,
      restingAtMeasuredStart,
      restingAtEnd: book.restingCount,
      occupiedLevelsAtMeasuredStart,
    },
    checkpointDepth,
    finalDepth: book.depth(),
  };
}

function setupCommands(usersCount: number): Command[] {
  const setup: Command[] = [
    { op: 'symbol', symbol, base, quote, lotSize: 1, tickSize: 1, makerFeeBps: 1, takerFeeBps: 2 },
  ];
  for (let user = 1; user <= usersCount; user += 1) {
    setup.push({ op: 'deposit', user, asset: base, amount: depositBaseLots });
    setup.push({ op: 'deposit', user, asset: quote, amount: depositQuoteMinor });
  }
  return setup;
}

class FlowGenerator {
  readonly commands: Command[] = [];
  readonly kinds: Uint8Array;
  readonly counts = { limitOrders: 0, crossingLimitOrders: 0, cancels: 0, marketOrders: 0, sweeps: 0 };
  private nextOrderId = 1;

  constructor(
    private readonly random: SeededRandom,
    private readonly book: ModelBook,
    private readonly shape: BookShape,
    commandCount: number,
  ) {
    this.kinds = new Uint8Array(commandCount);
  }

  prefillOrder(): void {
    const side = this.random.below(2);
    this.limitOrder(side, this.passivePrice(side));
  }

  mixedCommand(): void {
    const roll = this.random.below(100);
    const { percentLimit, percentCancel } = this.shape;
    if (roll < percentLimit || this.book.restingCount === 0) {
      const side = this.random.below(2);
      const crossing = this.random.chance(percentCrossingLimits, 100);
      if (crossing) this.counts.crossingLimitOrders += 1;
      this.limitOrder(side, crossing ? this.crossingPrice(side) : this.passivePrice(side));
    } else if (roll < percentLimit + percentCancel) {
      this.cancel();
    } else {
      this.marketOrder(this.random.below(2));
    }
  }

  /** A price on the order's own side of the mid, uniform over the shape's levels. */
  private passivePrice(side: number): number {
    const ticksAway = this.random.below(this.shape.levelsPerSide);
    return side === sideBuy ? midPrice - 1 - ticksAway : midPrice + ticksAway;
  }

  /** A price a few ticks into the opposite side, so the order trades if liquidity is there. */
  private crossingPrice(side: number): number {
    const ticksInto = this.random.below(crossTicksMax);
    return side === sideBuy ? midPrice + ticksInto : midPrice - 1 - ticksInto;
  }

  private limitOrder(side: number, price: number): void {
    const id = this.nextOrderId++;
    const user = this.randomUser();
    const qty = this.random.between(1, qtyLotsMax);
    this.counts.limitOrders += 1;
    this.push(CommandKind.limit, {
      op: 'place',
      user,
      id,
      symbol,
      side: sideNames[side],
      type: 'limit',
      qty,
      price,
      stp: 'none',
    });
    const left = this.book.sweep(side, price, qty);
    if (left > 0) this.book.rest(id, user, side, price, left);
  }

  private marketOrder(side: number): void {
    const id = this.nextOrderId++;
    const sweep = this.random.chance(1, sweepEveryMarketOrders);
    let qty = this.random.between(1, qtyLotsMax);
    if (sweep) {
      qty += this.book.bestLevelQty(1 - side);
      this.counts.sweeps += 1;
    }
    this.counts.marketOrders += 1;
    const command: PlaceCommand = {
      op: 'place',
      user: this.randomUser(),
      id,
      symbol,
      side: sideNames[side],
      type: 'market',
      qty,
      stp: 'none',
    };
    this.push(CommandKind.market, command);
    this.book.sweep(side, undefined, qty);
  }

  private cancel(): void {
    const id = this.book.randomResting(this.random);
    this.counts.cancels += 1;
    this.push(CommandKind.cancel, { op: 'cancel', user: this.book.owner(id), id });
    this.book.cancel(id);
  }

  private randomUser(): number {
    return 1 + this.random.below(this.shape.users);
  }

  private push(kind: CommandKind, command: Command): void {
    this.kinds[this.commands.length] = kind;
    this.commands.push(command);
  }
}

/** The orders resting at one price, oldest first. Cancelled ids stay until they reach the head. */
class LevelQueue {
  ids: number[] = [];
  head = 0;
  restingCount = 0;
  qtyLots = 0;
}

/**
 * Price-time priority over one symbol, just enough to know which orders rest and how much: fills
 * at the maker's price, oldest first; no funds, fees or self-trade prevention (the flow funds
 * everyone and disables STP, so the engines behave the same).
 */
class ModelBook {
  trades = 0;
  restingCount = 0;
  private readonly lowestPrice: number;
  private readonly levels: [LevelQueue[], LevelQueue[]];
  private readonly remaining: Int32Array;
  private readonly owners: Int32Array;
  private readonly sides: Uint8Array;
  private readonly prices: Int32Array;
  /** Resting ids, unordered, for uniform random cancels; `positions` maps an id to its slot. */
  private readonly restingIds: Int32Array;
  private readonly positions: Int32Array;
  /** Best level index per side, -1 when the side is empty. */
  private readonly best: [number, number] = [-1, -1];

  constructor(ticksFromMid: number, orderCapacity: number) {
    this.lowestPrice = midPrice - 1 - ticksFromMid;
    const levelCount = 2 * ticksFromMid + 2;
    const makeSide = () => Array.from({ length: levelCount }, () => new LevelQueue());
    this.levels = [makeSide(), makeSide()];
    this.remaining = new Int32Array(orderCapacity);
    this.owners = new Int32Array(orderCapacity);
    this.sides = new Uint8Array(orderCapacity);
    this.prices = new Int32Array(orderCapacity);
    this.restingIds = new Int32Array(orderCapacity);
    this.positions = new Int32Array(orderCapacity);
  }

  owner(id: number): number {
    return this.owners[id];
  }

  randomResting(random: SeededRandom): number {
    return this.restingIds[random.below(this.restingCount)];
  }

  rest(id: number, user: number, side: number, price: number, qty: number): void {
    const index = price - this.lowestPrice;
    const level = this.levels[side][index];
    level.ids.push(id);
    level.restingCount += 1;
    level.qtyLots += qty;
    this.remaining[id] = qty;
    this.owners[id] = user;
    this.sides[id] = side;
    this.prices[id] = price;
    this.positions[id] = this.restingCount;
    this.restingIds[this.restingCount] = id;
    this.restingCount += 1;
    const best = this.best[side];
    if (best === -1 || (side === sideBuy ? index > best : index < best)) this.best[side] = index;
  }

  cancel(id: number): void {
    const side = this.sides[id];
    const index = this.prices[id] - this.lowestPrice;
    const level = this.levels[side][index];
    level.qtyLots -= this.remaining[id];
    this.remaining[id] = 0;
    this.leave(id, side, index, level);
  }

  /** Fills a taker against the opposite side; `limitPrice` undefined means a market order. */
  sweep(takerSide: number, limitPrice: number | undefined, qty: number): number {
    const makerSide = 1 - takerSide;
    const limitIndex = limitPrice === undefined ? undefined : limitPrice - this.lowestPrice;
    while (qty > 0) {
      const index = this.best[makerSide];
      if (index === -1) break;
      if (limitIndex !== undefined && (takerSide === sideBuy ? index > limitIndex : index < limitIndex))
        break;
      const level = this.levels[makerSide][index];
      const makerId = this.headOf(level);
      const fillLots = Math.min(qty, this.remaining[makerId]);
      qty -= fillLots;
      this.remaining[makerId] -= fillLots;
      level.qtyLots -= fillLots;
      this.trades += 1;
      if (this.remaining[makerId] === 0) this.leave(makerId, makerSide, index, level);
    }
    return qty;
  }

  bestLevelQty(side: number): number {
    const index = this.best[side];
    return index === -1 ? 0 : this.levels[side][index].qtyLots;
  }

  occupiedLevels(): number {
    let occupied = 0;
    for (const side of this.levels) for (const level of side) if (level.restingCount > 0) occupied += 1;
    return occupied;
  }

  depth(): BookDepth {
    const collect = (side: number): Array<[number, number]> =>
      this.levels[side]
        .map((level, index): [number, number] => [this.lowestPrice + index, level.qtyLots])
        .filter(([, qtyLots]) => qtyLots > 0);
    return { bids: collect(sideBuy).reverse(), asks: collect(sideSell) };
  }

  /** The oldest order still resting at a level, dropping cancelled ids met on the way. */
  private headOf(level: LevelQueue): number {
    while (this.remaining[level.ids[level.head]] === 0) level.head += 1;
    // Drop the consumed prefix now and then, so a level that never empties stays bounded by its
    // live orders (plus cancelled ones not yet reached) instead of every order it ever held.
    if (level.head >= levelCompactionHeadMin && level.head * 2 >= level.ids.length) {
      level.ids = level.ids.slice(level.head);
      level.head = 0;
    }
    return level.ids[level.head];
  }

  private leave(id: number, side: number, index: number, level: LevelQueue): void {
    level.restingCount -= 1;
    this.restingCount -= 1;
    const slot = this.positions[id];
    const lastId = this.restingIds[this.restingCount];
    this.restingIds[slot] = lastId;
    this.positions[lastId] = slot;
    if (level.restingCount > 0) return;
    level.ids = [];
    level.head = 0;
    if (this.best[side] === index) this.best[side] = this.nextOccupied(side, index);
  }

  private nextOccupied(side: number, from: number): number {
    const step = side === sideBuy ? -1 : 1;
    const levels = this.levels[side];
    for (let index = from + step; index >= 0 && index < levels.length; index += step) {
      if (levels[index].restingCount > 0) return index;
    }
    return -1;
  }
}
