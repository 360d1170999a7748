// A seeded random command stream for the engine-versus-model property test. It peeks at the
// reference model (never at the engine) to aim FOK sizes at the available liquidity, to pick
// live, dead and foreign orders for cancel/amend, and to leave tight funds before market buys.
// Few users, few symbols and a narrow price band make books cross and queue a lot; every kind
// of invalid input is mixed in so that every rejection code occurs. Stop prices are aimed a few
// ticks from the last price and stop sizes at the book's depth, so that stops trigger and cascade;
// icebergs show small parts, so that one sweep refills them more than once (issue 17).
import type { EngineLimits } from '../../src/core/types.js';
import { Random } from '../support/random.js';
import { type ModelOrder, type ModelSide, type ModelSymbol, ReferenceModel } from './reference.js';

type Fields = Record<string, unknown>;

interface SymbolPlan extends ModelSymbol {
  /** Centre of the narrow price band, a multiple of tickSize. */
  midPrice: number;
  /** Typical order size in lots. */
  qtyScale: number;
}

const unsafeInteger = Number.MAX_SAFE_INTEGER + 1;
const recentIdsMax = 64;
const tradedLateSymbolsMax = 3;

/** How a stream looks: a narrow, churning book or a wide, deep one. */
export interface GeneratorStyle {
  /** Prices are drawn within this many ticks of the middle. */
  priceBandTicks: number;
  /** Relative weights of command kinds. */
  weights: ReadonlyArray<readonly [string, number]>;
  /** Weight of big deposits, so that deep books can be funded. */
  bigDepositWeight: number;
  /** Bids mostly below the middle and asks above, so that resting orders pile up. */
  deepBook: boolean;
}

/** Few levels, constant crossing and queueing: the default. */
export const narrowStyle: GeneratorStyle = {
  priceBandTicks: 4,
  weights: [
    ['limit', 38],
    ['market', 9],
    ['cancel', 10],
    ['amend', 7],
    ['deposit', 8],
    ['withdraw', 5],
    ['badPlace', 7],
    ['badOther', 5],
    ['symbol', 1],
    ['overflow', 1],
    ['stop', 12],
    ['ladder', 1],
    ['iceberg', 6],
    ['oco', 6],
    ['badStop', 3],
    ['badOco', 2],
  ],
  bigDepositWeight: 1,
  deepBook: false,
};

/** Mostly stop, iceberg and OCO traffic in a band of a few ticks: dense interactions between them. */
export const stopsStyle: GeneratorStyle = {
  priceBandTicks: 2,
  weights: [
    ['limit', 20],
    ['market', 6],
    ['cancel', 6],
    ['amend', 6],
    ['deposit', 8],
    ['withdraw', 2],
    ['stop', 20],
    ['ladder', 3],
    ['iceberg', 12],
    ['oco', 12],
    ['badStop', 2],
    ['badOco', 2],
  ],
  bigDepositWeight: 2,
  deepBook: false,
};

/** The narrow mix plus limited offerings (most with fee coupons), claims and closes. */
export const offeringStyle: GeneratorStyle = {
  ...narrowStyle,
  weights: [...narrowStyle.weights, ['offering', 3], ['claim', 10], ['closeOffering', 1]],
};

/** Hundreds of price levels and about a thousand resting orders: grows the engine's structures. */
export const wideStyle: GeneratorStyle = {
  priceBandTicks: 300,
  weights: [
    ['limit', 60],
    ['market', 3],
    ['cancel', 3],
    ['amend', 3],
    ['deposit', 8],
    ['withdraw', 1],
    ['badPlace', 2],
    ['badOther', 1],
    ['stop', 4],
    ['iceberg', 6],
    ['oco', 2],
  ],
  bigDepositWeight: 6,
  deepBook: true,
};

/** Keys of a place command that a mutation may corrupt, with the bad values to use. */
const badPlaceValues: ReadonlyArray<readonly [string, readonly unknown[]]> = [
  ['symbol', [undefined, 5, 'NOPE/X', '', null]],
  ['id', [-1, 1.5, '7', undefined, null, unsafeInteger, { id: 1 }, [3], true]],
  ['user', [-1, 2.5, '1', undefined, true, unsafeInteger]],
  ['side', ['BUY', undefined, 0, null]],
  ['type', ['stop', undefined, null, 'LIMIT']],
  ['stp', ['expire', 3, true, 'EXPIREMAKER']],
  ['postOnly', ['yes', 1, 0]],
  ['tif', ['DAY', 'gtc', 5, '']],
  ['qty', [0, -3, 1.5, '3', undefined, unsafeInteger, null, -0]],
];

export class CommandGenerator {
  private readonly plans: SymbolPlan[];
  private readonly users: number[];
  private readonly setupQueue: Fields[] = [];
  private readonly recentIds: Array<{ id: number; user: number }> = [];
  private nextId: number;
  private extraSymbolNext = 0;
  private readonly offeringPlans: Array<{ id: number; startTs: number; endTs: number }> = [];
  private offeringNext = 1;
  /** Sequencer time for offering commands: moves forward slowly so windows open and close. */
  private clock = 0;

  constructor(
    private readonly random: Random,
    private readonly model: ReferenceModel,
    private readonly style: GeneratorStyle = narrowStyle,
  ) {
    this.plans = this.planSymbols();
    this.users = [0, 1, 2, 3, random.chance(0.5) ? 4 : Number.MAX_SAFE_INTEGER].slice(0, random.int(3, 5));
    this.nextId = random.pick([1, 1000, 2 ** 40]);
    this.queueSetup();
  }

  /** The next command: setup first, then a weighted mix of everything. */
  next(): unknown {
    const queued = this.setupQueue.shift();
    if (queued !== undefined) return queued;
    const command = this.mixed();
    if (
      typeof command === 'object' &&
      command !== null &&
      !Array.isArray(command) &&
      this.random.chance(0.05)
    ) {
      (command as Fields).ts = this.random.int(0, 2 ** 42);
    }
    return command;
  }

  private mixed(): unknown {
    const kind = this.random.weighted<string>(this.style.weights);
    switch (kind) {
      case 'limit':
        return this.limitOrder();
      case 'market':
        return this.marketOrder();
      case 'cancel':
        return this.cancel();
      case 'amend':
        return this.amend();
      case 'deposit':
        return this.deposit();
      case 'withdraw':
        return this.withdraw();
      case 'badPlace':
        return this.badPlace();
      case 'badOther':
        return this.badOther();
      case 'symbol':
        return this.symbolCommand();
      case 'offering':
        return this.offering();
      case 'claim':
        return this.claim();
      case 'closeOffering':
        return this.closeOffering();
      case 'stop':
        return this.stopOrder();
      case 'ladder':
        return this.stopLadder();
      case 'iceberg':
        return this.icebergOrder();
      case 'oco':
        return this.oco();
      case 'badStop':
        return this.badStop();
      case 'badOco':
        return this.badOco();
      default:
        return this.overflowOrder();
    }
  }

  // ---- setup ----

  private planSymbols(): SymbolPlan[] {
    const random = this.random;
    const plan = (
      symbol: string,
      base: string,
      quote: string,
      lotSize: number,
      tickSize: number,
    ): SymbolPlan => ({
      symbol,
      base,
      quote,
      lotSize,
      tickSize,
      makerFeeBps: random.weighted([
        [0, 3],
        [10, 3],
        [25, 2],
        [10_000, 1],
      ]),
      takerFeeBps: random.weighted([
        [0, 2],
        [20, 3],
        [77, 2],
        [10_000, 1],
      ]),
      midPrice: tickSize * random.int(this.style.priceBandTicks + 1, this.style.priceBandTicks + 60),
      qtyScale: 1,
    });
    const plans = [
      plan('AAA/USD', 'AAA', 'USD', random.pick([1, 10, 100]), random.pick([1, 5, 25])),
      plan('bbb/USD', 'bbb', 'USD', random.pick([1, 3]), random.pick([1, 2])),
      plan('AAA/bbb', 'AAA', 'bbb', random.pick([1, 7]), random.pick([1, 3])),
    ];
    // Huge amounts: fees on these overflow a naive `received * bps`.
    const whale = plan('WHL/BIG', 'WHL', 'BIG', 1_000_000_000, 1_000_000);
    whale.midPrice = 1_000_000 * random.int(900, 1100);
    whale.qtyScale = 100_000;
    plans.push(whale);
    return plans;
  }

  private queueSetup(): void {
    for (const plan of this.plans) {
      const { midPrice: _mid, qtyScale: _scale, ...symbol } = plan;
      this.setupQueue.push({ op: 'symbol', ...symbol });
    }
    for (const user of this.users) {
      for (const asset of this.assets()) {
        if (this.random.chance(0.85)) {
          this.setupQueue.push({ op: 'deposit', user, asset, amount: this.depositAmount(asset) });
        }
      }
    }
  }

  private assets(): string[] {
    const names = new Set<string>();
    for (const plan of this.plans) names.add(plan.base).add(plan.quote);
    names.add('ĀZ');
    return [...names];
  }

  /** Scale of one asset: a lot for a base, a price for a quote, whichever is larger. */
  private unitOf(asset: string): number {
    let unit = 1;
    for (const plan of this.plans) {
      if (plan.base === asset) unit = Math.max(unit, plan.lotSize * plan.qtyScale);
      if (plan.quote === asset) unit = Math.max(unit, plan.midPrice * plan.qtyScale);
    }
    return unit;
  }

  private depositAmount(asset: string): number {
    const unit = this.unitOf(asset);
    if (asset === 'BIG' || asset === 'WHL') return this.random.int(2 ** 49, 2 ** 52);
    return this.random.weighted<number>([
      [this.random.int(1, unit * 3), 2],
      [this.random.int(unit * 3, unit * 40), 5],
      [unit * 400, this.style.bigDepositWeight],
    ]);
  }

  // ---- orders ----

  private listedPlan(): SymbolPlan | undefined {
    const listed = new Set(this.model.listedSymbols().map((symbol) => symbol.symbol));
    const candidates = this.plans.filter((plan) => listed.has(plan.symbol));
    return candidates.length === 0 ? undefined : this.random.pick(candidates);
  }

  private orderId(): number {
    const roll = this.random.fraction();
    if (roll < 0.004 && !this.model.isUsedId(0)) return 0;
    if (roll < 0.008 && !this.model.isUsedId(Number.MAX_SAFE_INTEGER)) return Number.MAX_SAFE_INTEGER;
    if (roll < 0.03 && this.recentIds.length > 0) return this.random.pick(this.recentIds).id;
    if (roll < 0.04) return this.random.int(0, Number.MAX_SAFE_INTEGER);
    // Ids around multiples of 256 and of 2^32 land on the edges of bitmap pages and words.
    if (roll < 0.05)
      return this.random.pick([256, 2 ** 32, 2 ** 48]) * this.random.int(1, 64) + this.random.int(-1, 0);
    return this.nextId++;
  }

  private remember(id: number, user: number): void {
    this.recentIds.push({ id, user });
    if (this.recentIds.length > recentIdsMax) this.recentIds.shift();
  }

  private quantity(plan: SymbolPlan): number {
    const lots = this.random.weighted<number>([
      [this.random.int(1, 5), 6],
      [this.random.int(6, 20), 3],
      [this.random.int(21, 60), 1],
    ]);
    return lots * (plan.qtyScale > 1 ? this.random.int(1, plan.qtyScale) : 1);
  }

  private nearPrice(plan: SymbolPlan, side: ModelSide): number {
    const lean = side === 'buy' ? 1 : -1;
    const band = this.style.priceBandTicks;
    let offsetTicks: number;
    if (this.style.deepBook) {
      // Bids below the middle and asks above, so the book deepens; now and then one crosses.
      offsetTicks = this.random.chance(0.05)
        ? lean * this.random.int(1, 40)
        : -lean * this.random.int(1, band);
    } else {
      // Buyers lean above the middle and sellers below so that books cross often.
      offsetTicks = this.random.int(-band, band) + (this.random.chance(0.3) ? lean : 0);
    }
    return Math.max(plan.tickSize, plan.midPrice + offsetTicks * plan.tickSize);
  }

  private stp(): unknown {
    return this.random.weighted<unknown>([
      [undefined, 4],
      ['none', 2],
      ['expireMaker', 2],
      ['expireTaker', 1],
      ['expireBoth', 1],
      [null, 1],
    ]);
  }

  /** Lots on the opposite side that a taker at `limitPrice` (null: market) could reach. */
  private liquidity(symbol: string, side: ModelSide, limitPrice: number | null): number {
    let lots = 0;
    for (const order of this.model.restingOrders()) {
      if (order.symbol !== symbol || order.side === side) continue;
      if (limitPrice !== null && (side === 'buy' ? order.price > limitPrice : order.price < limitPrice))
        continue;
      lots += order.remaining;
    }
    return lots;
  }

  /** A FOK size at the edge of what is there, so it fills exactly or misses by one. */
  private edgeQuantity(symbol: string, side: ModelSide, limitPrice: number | null, fallback: number): number {
    const lots = this.liquidity(symbol, side, limitPrice);
    if (lots === 0) return fallback;
    return Math.max(1, lots + this.random.int(-1, 1));
  }

  private baseOrder(plan: SymbolPlan, type: 'limit' | 'market'): Fields {
    const side: ModelSide = this.random.chance(0.5) ? 'buy' : 'sell';
    const user = this.random.pick(this.users);
    const id = this.orderId();
    this.remember(id, user);
    const fields: Fields = {
      op: 'place',
      user,
      id,
      symbol: plan.symbol,
      side,
      type,
      qty: this.quantity(plan),
    };
    if (type === 'limit') fields.price = this.nearPrice(plan, side);
    const stp = this.stp();
    if (stp !== undefined) fields.stp = stp;
    return fields;
  }

  private limitOrder(): Fields {
    const plan = this.listedPlan();
    if (plan === undefined) return this.deposit();
    const fields = this.baseOrder(plan, 'limit');
    const tif = this.random.weighted<unknown>([
      [undefined, 4],
      ['GTC', this.style.deepBook ? 12 : 2],
      ['IOC', 2],
      ['FOK', 2],
      [null, 1],
    ]);
    if (tif !== undefined) fields.tif = tif;
    if (tif === 'FOK' && this.random.chance(0.6)) {
      const side = fields.side as ModelSide;
      fields.qty = this.edgeQuantity(plan.symbol, side, fields.price as number, fields.qty as number);
    }
    if (tif !== 'IOC' && tif !== 'FOK' && this.random.chance(0.15)) fields.postOnly = this.random.chance(0.8);
    return fields;
  }

  private marketOrder(): Fields {
    const plan = this.listedPlan();
    if (plan === undefined) return this.deposit();
    const fields = this.baseOrder(plan, 'market');
    const tif = this.random.weighted<unknown>([
      [undefined, 3],
      ['IOC', 1],
      ['FOK', 2],
    ]);
    if (tif !== undefined) fields.tif = tif;
    if (this.random.chance(0.5)) {
      const side = fields.side as ModelSide;
      fields.qty = this.edgeQuantity(plan.symbol, side, null, fields.qty as number);
    }
    if (this.random.chance(0.1)) fields.postOnly = this.random.pick([false, null]);
    if (this.random.chance(0.1)) fields.price = null;
    if (this.random.chance(0.05)) fields.note = 'ignored';
    return fields;
  }

  private overflowOrder(): Fields {
    const plan = this.listedPlan();
    if (plan === undefined) return this.deposit();
    const fields = this.baseOrder(plan, 'limit');
    if (this.random.chance(0.3)) {
      fields.trigger = 'stopLoss';
      fields.stopPrice = this.stopPriceFor(plan, fields.side as ModelSide, 'stopLoss');
    }
    if (this.random.chance(0.5) && plan.lotSize > 1) {
      fields.qty = Number.MAX_SAFE_INTEGER;
    } else {
      fields.qty = 2 ** 30;
      fields.price = plan.tickSize * 2 ** 30;
    }
    return fields;
  }

  /** A place with exactly one corrupted field, so each validation step gets hit. */
  private badPlace(): Fields {
    const plan = this.listedPlan() ?? this.plans[0];
    const fields = this.baseOrder(plan, this.random.chance(0.8) ? 'limit' : 'market');
    const roll = this.random.int(0, 5);
    if (roll === 0) return this.badTif(fields);
    if (roll === 1) return this.badPrice(fields, plan);
    if (roll === 2 && this.recentIds.length > 0) {
      fields.id = this.random.pick(this.recentIds).id;
      return fields;
    }
    const [key, values] = this.random.pick(badPlaceValues);
    const value = this.random.pick(values);
    if (value === undefined) delete fields[key];
    else fields[key] = value;
    return fields;
  }

  private badTif(fields: Fields): Fields {
    const roll = this.random.int(0, 2);
    if (roll === 0) {
      fields.type = 'market';
      delete fields.price;
      fields.tif = 'GTC';
    } else if (roll === 1) {
      fields.postOnly = true;
      fields.tif = this.random.pick(['IOC', 'FOK']);
    } else {
      fields.type = 'market';
      delete fields.price;
      fields.postOnly = true;
    }
    return fields;
  }

  private badPrice(fields: Fields, plan: SymbolPlan): Fields {
    if (fields.type === 'market') {
      fields.price = this.random.pick([plan.midPrice, 0, '1']);
      return fields;
    }
    const offTick = plan.tickSize > 1 ? plan.midPrice + 1 : 1.5;
    const value = this.random.pick<unknown>([
      undefined,
      0,
      -plan.tickSize,
      offTick,
      '100',
      unsafeInteger,
      null,
    ]);
    if (value === undefined) delete fields.price;
    else fields.price = value;
    return fields;
  }

  // ---- stop, iceberg and OCO orders (issue 17) ----

  /** Where stop prices are aimed: the last trade price, or the band's middle before any trade. */
  private reference(plan: SymbolPlan): number {
    return this.model.lastPrice(plan.symbol) ?? plan.midPrice;
  }

  private ticksFrom(plan: SymbolPlan, price: number, ticks: number): number {
    return Math.max(plan.tickSize, price + ticks * plan.tickSize);
  }

  /** A stop price a few ticks away on the side that does not trigger at once; now and then on the other. */
  private stopPriceFor(plan: SymbolPlan, side: ModelSide, trigger: string): number {
    const rising = (side === 'buy') === (trigger === 'stopLoss');
    const away = this.random.chance(0.9) ? this.random.int(1, 3) : -this.random.int(0, 1);
    return this.ticksFrom(plan, this.reference(plan), rising ? away : -away);
  }

  /** Lots resting against `side`: a stop of about this size moves the price through the book. */
  private bookDepth(symbol: string, side: ModelSide): number {
    return this.liquidity(symbol, side, null);
  }

  private stopOrder(): Fields {
    const plan = this.listedPlan();
    if (plan === undefined) return this.deposit();
    const fields = this.baseOrder(plan, this.random.chance(0.55) ? 'limit' : 'market');
    const side = fields.side as ModelSide;
    const trigger = this.random.chance(0.65) ? 'stopLoss' : 'takeProfit';
    fields.trigger = trigger;
    fields.stopPrice = this.stopPriceFor(plan, side, trigger);
    const lean = side === 'buy' ? 1 : -1;
    if (fields.type === 'limit') {
      fields.price = this.ticksFrom(plan, fields.stopPrice as number, lean * this.random.int(-1, 3));
      const tif = this.random.weighted<unknown>([
        [undefined, 5],
        ['GTC', 1],
        ['IOC', 2],
        ['FOK', 2],
      ]);
      if (tif !== undefined) fields.tif = tif;
    } else if (this.random.chance(0.3)) {
      fields.tif = this.random.pick(['IOC', 'FOK']);
    }
    const depth = this.bookDepth(plan.symbol, side);
    if (depth > 0 && this.random.chance(0.4)) fields.qty = Math.max(1, depth + this.random.int(-2, 4));
    return fields;
  }

  /**
   * Stop-market orders one tick apart beyond the last price, each sized to the resting lots one
   * level further: when the first triggers, each activated run tends to trade exactly one level
   * up (or down) and trigger the next, a cascade several runs deep. The rest come next.
   */
  private stopLadder(): Fields {
    const plan = this.listedPlan();
    if (plan === undefined) return this.deposit();
    const side: ModelSide = this.random.chance(0.5) ? 'buy' : 'sell';
    const lean = side === 'buy' ? 1 : -1;
    const reference = this.reference(plan);
    const steps = this.random.int(3, 5);
    const rungs: Fields[] = [];
    for (let step = 1; step <= steps; step++) {
      const fields = this.baseOrder(plan, 'market');
      const nextLevel = this.ticksFrom(plan, reference, lean * (step + 1));
      const atLevel = this.model
        .restingOrders()
        .filter((order) => order.symbol === plan.symbol && order.side !== side && order.price === nextLevel)
        .reduce((lots, order) => lots + order.remaining, 0);
      Object.assign(fields, {
        side,
        stp: 'none',
        trigger: 'stopLoss',
        stopPrice: this.ticksFrom(plan, reference, lean * step),
        qty: Math.max(1, atLevel + this.random.int(0, 1)),
      });
      rungs.push(fields);
    }
    this.setupQueue.push(...rungs.slice(1));
    return rungs[0];
  }

  private icebergOrder(): Fields {
    const plan = this.listedPlan();
    if (plan === undefined) return this.deposit();
    const fields = this.baseOrder(plan, 'limit');
    const qty = this.random.int(2, 40) * (plan.qtyScale > 1 ? this.random.int(1, plan.qtyScale) : 1);
    fields.qty = qty;
    // Small parts refill often; whale-sized orders keep their parts large so sweeps stay short.
    const smallest = plan.qtyScale > 1 ? Math.ceil(qty / 8) : 1;
    fields.displayQty = this.random.chance(0.6)
      ? this.random.int(smallest, Math.max(smallest, Math.min(smallest + 2, qty - 1)))
      : this.random.int(smallest, qty - 1);
    if (this.random.chance(0.2)) fields.tif = 'GTC';
    if (this.random.chance(0.15)) fields.postOnly = this.random.chance(0.7);
    return fields;
  }

  private oco(): Fields {
    const plan = this.listedPlan();
    if (plan === undefined) return this.deposit();
    const side: ModelSide = this.random.chance(0.5) ? 'buy' : 'sell';
    const user = this.random.pick(this.users);
    const id = this.orderId();
    const stopId = this.orderId();
    this.remember(id, user);
    this.remember(stopId, user);
    const lean = side === 'buy' ? 1 : -1;
    const reference = this.reference(plan);
    // Leg A a little on the passive side, leg B's stop a little beyond the last price.
    const price = this.ticksFrom(plan, reference, -lean * this.random.int(0, 3));
    const stopPrice = this.ticksFrom(
      plan,
      reference,
      lean * (this.random.chance(0.92) ? this.random.int(1, 3) : 0),
    );
    const fields: Fields = {
      op: 'oco',
      user,
      symbol: plan.symbol,
      side,
      qty: this.quantity(plan),
      id,
      price,
      stopId,
      stopPrice,
    };
    if (this.random.chance(0.6)) {
      fields.stopLimitPrice = this.ticksFrom(plan, stopPrice, lean * this.random.int(-1, 3));
    }
    const stp = this.stp();
    if (stp !== undefined) fields.stp = stp;
    return fields;
  }

  /** A stop or iceberg place with one bad stop or display field. */
  private badStop(): Fields {
    const fields = this.random.chance(0.6) ? this.stopOrder() : this.icebergOrder();
    if (fields.op !== 'place') return fields;
    const plan = this.plans.find((candidate) => candidate.symbol === fields.symbol)!;
    const roll = this.random.int(0, 7);
    if (roll === 0) delete fields[this.random.pick(['stopPrice', 'trigger'])];
    else if (roll === 1)
      fields.stopPrice = this.random.pick<unknown>([
        0,
        -plan.tickSize,
        plan.tickSize > 1 ? plan.tickSize + 1 : 2.5,
        '5',
        unsafeInteger,
      ]);
    else if (roll === 2) fields.trigger = this.random.pick<unknown>(['stop', 'STOPLOSS', 1, true]);
    else if (roll === 3) {
      fields.stopPrice ??= this.stopPriceFor(plan, fields.side as ModelSide, 'stopLoss');
      fields.trigger ??= 'stopLoss';
      if (fields.type === 'limit' && this.random.chance(0.5)) {
        delete fields.tif;
        fields.postOnly = true;
      } else fields.displayQty = 1;
    } else if (roll === 4) {
      fields.displayQty = this.random.pick<unknown>([
        0,
        fields.qty,
        (fields.qty as number) + 1,
        -1,
        '1',
        1.5,
      ]);
    } else if (roll === 5) {
      fields.displayQty = 1;
      if (this.random.chance(0.5)) fields.tif = this.random.pick(['IOC', 'FOK']);
      else {
        fields.type = 'market';
        delete fields.price;
      }
    } else if (roll === 6) {
      fields.postOnly = false;
    } else {
      fields.stopPrice = null;
      fields.trigger = null;
    }
    return fields;
  }

  /** An OCO with one field corrupted, so that each of its checks gets hit. */
  private badOco(): Fields {
    const fields = this.oco();
    if (fields.op !== 'oco') return fields;
    const plan = this.plans.find((candidate) => candidate.symbol === fields.symbol)!;
    const key = this.random.pick([
      'symbol',
      'id',
      'stopId',
      'same',
      'user',
      'side',
      'stp',
      'qty',
      'price',
      'stopLimitPrice',
      'stopPrice',
      'stopSide',
      'cross',
      'funds',
      'overflow',
    ]);
    const offTick = plan.tickSize > 1 ? plan.tickSize + 1 : 1.5;
    const bad: Record<string, unknown[]> = {
      symbol: [undefined, 'NOPE/X', 5],
      id: [-1, '7', undefined, 1.5, ...this.recentIds.slice(-3).map((recent) => recent.id)],
      stopId: [-1, null, 2.5, ...this.recentIds.slice(-3).map((recent) => recent.id)],
      user: [-1, '1', undefined],
      side: ['BUY', undefined],
      stp: ['expire', 3],
      qty: [0, -1, 1.5, undefined, '2'],
      price: [0, offTick, undefined, '100'],
      stopLimitPrice: [0, offTick, '100', -plan.tickSize],
      stopPrice: [0, offTick, undefined, '100'],
    };
    if (key === 'same') fields.stopId = fields.id;
    else if (key === 'stopSide') fields.stopPrice = fields.price;
    else if (key === 'cross') {
      const best = this.bestPrice(plan.symbol, fields.side === 'buy' ? 'sell' : 'buy');
      if (best !== undefined) {
        fields.price = best;
        fields.stopPrice = this.ticksFrom(plan, best, fields.side === 'buy' ? 2 : -2);
      }
    } else if (key === 'funds') fields.qty = (fields.qty as number) * 10_000;
    else if (key === 'overflow') fields.qty = Math.floor(Number.MAX_SAFE_INTEGER / (fields.price as number));
    else {
      const value = this.random.pick(bad[key]);
      if (value === undefined) delete fields[key];
      else fields[key] = value;
    }
    return fields;
  }

  private bestPrice(symbol: string, side: ModelSide): number | undefined {
    const prices = this.model
      .restingOrders()
      .filter((order) => order.symbol === symbol && order.side === side)
      .map((order) => order.price);
    if (prices.length === 0) return undefined;
    return side === 'buy' ? Math.max(...prices) : Math.min(...prices);
  }

  // ---- cancel and amend ----

  /** A live order (by its owner or someone else), a recent possibly dead one, or a made-up id. */
  private target(): { id: unknown; user: unknown; remaining: number } {
    const resting = this.model.restingOrders();
    const pending = this.model.pendingOrders();
    const links = this.model.liveLinks();
    const roll = this.random.fraction();
    let order: ModelOrder | undefined;
    if (roll < 0.15 && links.length > 0) {
      const link = this.random.pick(links);
      const legId = this.random.chance(0.5) ? link.legA : link.legB;
      order = [...resting, ...pending].find((candidate) => candidate.id === legId);
    } else if (roll < 0.35 && pending.length > 0) {
      order = this.random.pick(pending);
    } else if (roll < 0.7 && resting.length > 0) {
      order = this.random.pick(resting);
    }
    if (order !== undefined) {
      const foreign = this.random.chance(0.1);
      const user = foreign
        ? this.random.pick(this.users.filter((other) => other !== order.user))
        : order.user;
      return { id: order.id, user, remaining: order.remaining };
    }
    if (roll < 0.9 && this.recentIds.length > 0) {
      const recent = this.random.pick(this.recentIds);
      return { id: recent.id, user: recent.user, remaining: 2 };
    }
    return {
      id: this.random.pick<unknown>([this.nextId + 5, 123_456, -1, '5', 1.5, { id: 1 }, [2], false]),
      user: this.random.pick(this.users),
      remaining: 2,
    };
  }

  private cancel(): Fields {
    const { id, user } = this.target();
    return { op: 'cancel', user, id };
  }

  private amend(): Fields {
    const { id, user, remaining } = this.target();
    const qty = this.random.weighted<number>([
      [remaining > 1 ? this.random.int(1, remaining - 1) : 1, 7],
      [remaining, 1],
      [0, 1],
      [remaining + 3, 1],
    ]);
    return { op: 'amend', user, id, qty };
  }

  // ---- balances ----

  private deposit(): Fields {
    const asset = this.random.pick(this.assets());
    return { op: 'deposit', user: this.random.pick(this.users), asset, amount: this.depositAmount(asset) };
  }

  /** Often leaves just a little behind, so market buys run out of funds mid-sweep. */
  private withdraw(): Fields {
    const user = this.random.pick(this.users);
    const asset = this.random.pick(this.assets());
    const available = this.model.available(user, asset);
    const amount = this.random.weighted<number>([
      [available, 2],
      [available - this.random.int(0, this.unitOf(asset) * 2), 3],
      [available + 1, 1],
      [this.random.int(1, this.unitOf(asset)), 2],
    ]);
    return { op: 'withdraw', user, asset, amount: Math.max(1, amount) };
  }

  // ---- offerings ----

  private offering(): Fields {
    this.clock += this.random.int(0, 3);
    const assets = this.assets();
    const startTs = this.clock + this.random.int(0, 20);
    const reuse = this.random.chance(0.05) && this.offeringPlans.length > 0;
    const id = reuse ? this.random.pick(this.offeringPlans).id : this.offeringNext++;
    const fields: Fields = {
      op: 'offering',
      id,
      issuer: this.random.pick(this.users),
      asset: this.random.pick(assets),
      quote: this.random.pick(assets),
      price: this.random.int(1, 60),
      unitSize: this.random.pick([1, 5, 100]),
      units: this.random.chance(0.5) ? this.random.int(1, 6) : this.random.int(7, 30),
      perUserMax: this.random.int(1, 10),
      startTs,
      endTs: startTs + this.random.int(1, 80),
      ts: this.clock,
    };
    if (this.random.chance(0.6)) {
      fields.coupon = {
        makerDiscountPct: this.random.pick([0, 10, 50, 100]),
        takerDiscountPct: this.random.pick([0, 25, 100]),
        // Trading commands mostly carry no ts (0), so most coupons are usable; some never are.
        expiresTs: this.random.pick([0, 1, this.random.int(2, 2 ** 43)]),
        uses: this.random.int(1, 5),
      };
    }
    if (this.random.chance(0.15)) this.corruptOffering(fields);
    if (typeof fields.startTs === 'number' && typeof fields.endTs === 'number') {
      this.offeringPlans.push({ id, startTs: fields.startTs, endTs: fields.endTs });
    }
    return fields;
  }

  /** One clearly malformed field (values the docs settle), or an overflowing size. */
  private corruptOffering(fields: Fields): void {
    const bad: Record<string, unknown[]> = {
      id: [-1, 'x', undefined, 1.5],
      issuer: [-1, 1.5, '1', undefined],
      asset: ['UNLISTED', '', 5, undefined],
      quote: [fields.asset, 'UNLISTED', null],
      price: [-3, 1.5, '5', undefined],
      unitSize: [-1, '1', 2.5],
      units: [-2, '3', 1.5],
      perUserMax: [-1, 2.5, 'x'],
      startTs: ['1', 1.5, fields.endTs],
      endTs: [fields.startTs, 'x', undefined],
      overflow: [2 ** 40],
      coupon: [{ makerDiscountPct: 101, takerDiscountPct: 0, expiresTs: 9, uses: 1 }, 'x', { uses: 0 }],
    };
    const key = this.random.pick(Object.keys(bad));
    const value = this.random.pick(bad[key]);
    if (key === 'overflow') {
      fields.units = value;
      fields.unitSize = 2 ** 20;
    } else if (value === undefined) {
      delete fields[key];
    } else {
      fields[key] = value;
    }
  }

  private claim(): Fields {
    if (this.offeringPlans.length === 0) return this.offering();
    const plan = this.random.pick(this.offeringPlans);
    const ts = this.random.weighted<number>([
      [this.random.int(plan.startTs, Math.max(plan.startTs, plan.endTs - 1)), 8],
      [Math.max(0, plan.startTs - this.random.int(1, 3)), 1],
      [plan.endTs + this.random.int(0, 2), 1],
    ]);
    const fields: Fields = {
      op: 'claim',
      user: this.random.pick(this.users),
      offering: plan.id,
      units: this.random.int(1, 4),
      ts,
    };
    // Aim at what is left, so a claim for one unit more than that is refused whole.
    const left = this.model.offeringLeft(plan.id);
    if (left !== undefined && left > 0 && this.random.chance(0.3))
      fields.units = left + this.random.int(0, 1);
    if (this.random.chance(0.1)) {
      const key = this.random.pick(['offering', 'user', 'units']);
      const value = this.random.pick<unknown>([undefined, -1, '1', 1.5, 999_999]);
      if (value === undefined) delete fields[key];
      else fields[key] = value;
    }
    return fields;
  }

  private closeOffering(): Fields {
    const known = this.offeringPlans.length > 0 && this.random.chance(0.9);
    const offering = known
      ? this.random.pick(this.offeringPlans).id
      : this.random.pick<unknown>([999_999, 'x', null]);
    return { op: 'closeOffering', offering, ts: this.clock };
  }

  // ---- symbols and malformed input ----

  private symbolCommand(): Fields {
    const plan = this.random.pick(this.plans);
    const { midPrice: _mid, qtyScale: _scale, ...symbol } = plan;
    if (this.random.chance(0.3)) return { op: 'symbol', ...symbol };
    const name = `S${this.extraSymbolNext++}`.padEnd(this.random.chance(0.3) ? 32 : 2, '_');
    const base = this.random.chance(0.5) ? plan.base : `N${this.extraSymbolNext}`;
    // The first few late symbols are traded too: their new assets reach accounts that predate them.
    if (this.extraSymbolNext <= tradedLateSymbolsMax) this.plans.push({ ...plan, symbol: name, base });
    return { op: 'symbol', ...symbol, symbol: name, base };
  }

  private badOther(): unknown {
    const roll = this.random.int(0, 4);
    if (roll === 0) {
      return this.random.pick<unknown>([
        null,
        42,
        'place',
        [],
        true,
        {},
        { op: 'trade' },
        { op: 'PLACE' },
        { op: 7 },
      ]);
    }
    if (roll === 1) return this.badBalanceCommand();
    if (roll === 2) return this.badSymbol();
    const fields = roll === 3 ? this.cancel() : this.amend();
    const key = this.random.pick(fields.op === 'amend' ? ['user', 'id', 'qty'] : ['user', 'id']);
    const value = this.random.pick<unknown>([undefined, -1, '1', 1.5, null]);
    if (value === undefined) delete fields[key];
    else fields[key] = value;
    return fields;
  }

  private badBalanceCommand(): Fields {
    const fields: Fields = {
      op: this.random.pick(['deposit', 'withdraw']),
      user: this.random.pick(this.users),
      asset: this.random.pick(this.assets()),
      amount: 10,
    };
    const key = this.random.pick(['user', 'asset', 'amount']);
    const bad: Record<string, unknown[]> = {
      user: [undefined, -1, '2', 1.5, unsafeInteger],
      asset: [undefined, '', 'X'.repeat(33), 5],
      amount: [undefined, 0, -5, 2.5, '10', unsafeInteger, null],
    };
    const value = this.random.pick(bad[key]);
    if (value === undefined) delete fields[key];
    else fields[key] = value;
    return fields;
  }

  private badSymbol(): Fields {
    const { midPrice: _mid, qtyScale: _scale, ...symbol } = this.random.pick(this.plans);
    const fields: Fields = { op: 'symbol', ...symbol, symbol: `B${this.random.int(0, 9)}` };
    const key = this.random.pick([
      'symbol',
      'base',
      'quote',
      'lotSize',
      'tickSize',
      'makerFeeBps',
      'takerFeeBps',
      'same',
    ]);
    if (key === 'same') {
      fields.quote = fields.base;
      return fields;
    }
    const bad: Record<string, unknown[]> = {
      symbol: [undefined, '', 'Y'.repeat(33), 7],
      base: [undefined, '', 'Y'.repeat(33), 7],
      quote: [undefined, '', 8, null],
      lotSize: [0, -1, 1.5, '1', unsafeInteger, undefined],
      tickSize: [0, -2, 2.5, '1', unsafeInteger, null],
      makerFeeBps: [-1, 10_001, 2.5, '1', undefined],
      takerFeeBps: [-1, 10_001, 0.5, '1', null],
    };
    const value = this.random.pick(bad[key]);
    if (value === undefined) delete fields[key];
    else fields[key] = value;
    return fields;
  }
}

/** Limits small enough that every bound is hit within a few hundred commands. */
export const tinyLimits: EngineLimits = {
  symbolsMax: 3,
  assetsMax: 5,
  usersMax: 3,
  openOrdersPerUserMax: 3,
  ordersPerBookMax: 5,
  orderIdsMax: 400,
  restingOrdersMax: 7,
  pendingOrdersPerSymbolMax: 3,
  pendingOrdersPerUserMax: 2,
  fillsPerCommandMax: 4,
};

/** A whole stream for one seed (the model is run alongside so the generator can peek). */
export function generateCommands(
  seed: number,
  count: number,
  limits: EngineLimits,
  style: GeneratorStyle = narrowStyle,
): unknown[] {
  const model = new ReferenceModel(limits);
  const generator = new CommandGenerator(new Random(seed), model, style);
  const commands: unknown[] = [];
  for (let index = 0; index < count; index++) {
    const command = generator.next();
    commands.push(command);
    model.apply(command, index);
  }
  return commands;
}
