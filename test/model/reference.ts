// The independent reference model of the engine, written only from shared/spec/ENGINE.md and
// docs/ENGINE.md, never from src/core. It is deliberately naive: plain arrays scanned for the
// best order, plain maps for balances, BigInt for every amount so no overflow can hide, and a
// copy of balances and books for the FOK dry run so that the dry run follows the sweep rules exactly.
// Speed does not matter beyond keeping the property test under a minute. Offerings and fee
// coupons (docs/ENGINE.md issue 7) are modelled too, and so are stop orders, iceberg orders and
// OCO (the spec's "Stop orders, iceberg orders and OCO", issue 17): pending orders are a plain
// array scanned for triggers, and an OCO's shared reservation is one number moved explicitly.
import { defaultEngineLimits, type EngineLimits } from '../../src/core/types.js';

export type ModelSide = 'buy' | 'sell';
type Tif = 'GTC' | 'IOC' | 'FOK';
type Stp = 'none' | 'expireMaker' | 'expireTaker' | 'expireBoth';
type Trigger = 'stopLoss' | 'takeProfit';

/** One line of the spec's replay output; key order matters and follows the spec. */
export type ReplayLine = Record<string, unknown>;

export interface ModelSymbol {
  symbol: string;
  base: string;
  quote: string;
  lotSize: number;
  tickSize: number;
  makerFeeBps: number;
  takerFeeBps: number;
}

/** A resting order (in the book) or a pending stop order (not in the book). */
export interface ModelOrder {
  id: number;
  user: number;
  symbol: string;
  side: ModelSide;
  type: 'limit' | 'market';
  tif: Tif;
  stp: Stp;
  /** The limit price; 0 for a (pending) market order. */
  price: number;
  /** Quantity at acceptance, before any fill or amend. */
  qty: number;
  remaining: number;
  /** Iceberg: the size of each visible part; undefined for a plain order. */
  displayQty: number | undefined;
  /** What makers can fill now: remaining for a plain order, the visible part of an iceberg. */
  visible: number;
  /** Arrival counter: among equal prices the lower one trades first (a refill takes a new one). */
  arrival: number;
  /** Pending stop orders only. */
  stopPrice: number | undefined;
  trigger: Trigger | undefined;
}

/** A live OCO: its two legs and the one reservation they share. */
export interface OcoLink {
  legA: number;
  legB: number;
  user: number;
  symbol: string;
  side: ModelSide;
  /** What the pair holds locked now (quote for a buy, base for a sell). */
  reserved: bigint;
}

/** How often the model saw each rule of issue 17 happen: the generator's coverage. */
export interface ModelStats {
  triggered: number;
  /** Orders triggered by the run of an order that was itself activated (cascade depth >= 2). */
  cascadeDepth2: number;
  /** Orders triggered three or more runs deep. */
  cascadeDepth3: number;
  /** Triggers whose condition held at the run's lowest or highest price but not at its last. */
  triggeredByExtreme: number;
  refills: number;
  /** Runs in which one or more icebergs were refilled at least twice. */
  runsWithTwoRefills: number;
  ocoPlaced: number;
  ocoFilledA: number;
  ocoTriggeredB: number;
  /** USER cancels of leg A (resting) and of leg B (pending) of a live OCO. */
  ocoUserCancelledA: number;
  ocoUserCancelledB: number;
  ocoStpCancelled: number;
  amendedPending: number;
  amendedIceberg: number;
  /** Amends of the remaining leg of a resolved OCO. */
  amendedFormerLeg: number;
  activatedFok: number;
  activatedRested: number;
  /** Stop orders and OCOs refused (LIMIT_EXCEEDED) by a pending-order bound. */
  pendingBoundRejects: number;
  /** Activated stop-limit remainders that found the book's bounds reached and expired. */
  activatedIntoFullBook: number;
  /** Placed orders refused (LIMIT_EXCEEDED) and activated ones expired by the command's fill bound. */
  fillBoundRejects: number;
  fillBoundExpiries: number;
}

interface ModelOffering {
  issuer: number;
  asset: string;
  quote: string;
  price: number;
  unitSize: number;
  perUserMax: number;
  startTs: number;
  endTs: number;
  /** Units not yet claimed (0 once closed: the rest went back to the issuer). */
  left: number;
  closed: boolean;
  /** Units claimed per user. */
  claimed: Map<number, number>;
  campaign: Campaign | undefined;
}

interface Campaign {
  makerDiscountPct: number;
  takerDiscountPct: number;
  expiresTs: number;
  uses: number;
}

function isPercent(value: unknown): boolean {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 && value <= 100;
}

function isCampaign(value: unknown): value is Campaign {
  if (typeof value !== 'object' || value === null) return false;
  const { makerDiscountPct, takerDiscountPct, expiresTs, uses } = value as Record<string, unknown>;
  return (
    isPercent(makerDiscountPct) &&
    isPercent(takerDiscountPct) &&
    isNonNegativeSafeInteger(expiresTs) &&
    isPositiveSafeInteger(uses)
  );
}

interface Account {
  available: bigint;
  locked: bigint;
}

/** What a sweep changes: copied whole for the FOK dry run. */
interface ModelCoupon {
  makerDiscountPct: number;
  takerDiscountPct: number;
  expiresTs: number;
  usesLeft: number;
}

interface Market {
  accounts: Map<number, Map<string, Account>>;
  /** Fee coupons per user, in issue order (a fill spends uses, so the FOK copy holds them too). */
  coupons: Map<number, ModelCoupon[]>;
  /** Every resting order of every symbol, in no particular order. */
  orders: ModelOrder[];
  /** Every pending stop order of every symbol, in no particular order. */
  pending: ModelOrder[];
  links: OcoLink[];
  /** Last trade price per symbol (absent before its first trade). */
  lastPrices: Map<string, number>;
  arrivalNext: number;
}

interface Taker {
  id: number;
  user: number;
  symbol: ModelSymbol;
  side: ModelSide;
  type: 'limit' | 'market';
  tif: Tif;
  /** The limit price; 0 for a market order. */
  price: number;
  /** The qty this run started with (what a FOK expires). */
  qty: number;
  remaining: number;
  stp: Stp;
  displayQty: number | undefined;
  /** The order's qty at acceptance, kept when an activated stop order rests. */
  acceptedQty: number;
}

/** Trade prices of one run: the triggers look at its lowest and highest. */
interface RunPrices {
  low: number;
  high: number;
  last: number;
}

type StopReason = 'STP' | 'INSUFFICIENT_FUNDS' | null;

const safeMax = BigInt(Number.MAX_SAFE_INTEGER);
const bpsDivisor = 10_000n;
const nameLengthMax = 32;
const feeAccount = 0;
const tifs: readonly unknown[] = ['GTC', 'IOC', 'FOK'];
const stpModes: readonly unknown[] = ['none', 'expireMaker', 'expireTaker', 'expireBoth'];

function isAbsent(value: unknown): boolean {
  return value === undefined || value === null;
}

function isNonNegativeSafeInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function isPositiveSafeInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0;
}

function isName(value: unknown): value is string {
  return typeof value === 'string' && value.length >= 1 && value.length <= nameLengthMax;
}

function isBps(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 10_000;
}

function big(value: number): bigint {
  return BigInt(value);
}

export class ReferenceModel {
  private readonly symbols = new Map<string, ModelSymbol>();
  private readonly assets = new Set<string>();
  private readonly depositors = new Set<number>();
  private readonly supply = new Map<string, bigint>();
  private readonly usedIds = new Set<number>();
  private market: Market = {
    accounts: new Map(),
    coupons: new Map(),
    orders: [],
    pending: [],
    links: [],
    lastPrices: new Map(),
    arrivalNext: 0,
  };
  /** Ids of every OCO leg ever placed (for the coverage counters only). */
  private readonly ocoLegIds = new Set<number>();
  /** Refills per iceberg in the current run (for the coverage counters only). */
  private refillsInRun = new Map<number, number>();
  readonly stats: ModelStats = {
    triggered: 0,
    cascadeDepth2: 0,
    cascadeDepth3: 0,
    triggeredByExtreme: 0,
    refills: 0,
    runsWithTwoRefills: 0,
    ocoPlaced: 0,
    ocoFilledA: 0,
    ocoTriggeredB: 0,
    ocoUserCancelledA: 0,
    ocoUserCancelledB: 0,
    ocoStpCancelled: 0,
    amendedPending: 0,
    amendedIceberg: 0,
    amendedFormerLeg: 0,
    activatedFok: 0,
    activatedRested: 0,
    pendingBoundRejects: 0,
    activatedIntoFullBook: 0,
    fillBoundRejects: 0,
    fillBoundExpiries: 0,
  };
  /** The running command's `ts` (absent means 0): claims and coupons depend on it. */
  private commandTs = 0;
  private readonly offerings = new Map<number, ModelOffering>();

  constructor(private readonly limits: EngineLimits) {}

  /** Runs one command; returns its replay lines (index is the 0-based command number). */
  apply(command: unknown, index: number): ReplayLine[] {
    const fields = (typeof command === 'object' && command !== null ? command : {}) as Record<
      string,
      unknown
    >;
    this.commandTs = typeof fields.ts === 'number' ? fields.ts : 0;
    switch (fields.op) {
      case 'symbol':
        return this.addSymbol(fields, index);
      case 'deposit':
        return this.deposit(fields, index);
      case 'withdraw':
        return this.withdraw(fields, index);
      case 'place':
        return this.place(fields, index);
      case 'cancel':
        return this.cancel(fields, index);
      case 'amend':
        return this.amend(fields, index);
      case 'oco':
        return this.oco(fields, index);
      case 'offering':
        return this.createOffering(fields, index);
      case 'claim':
        return this.claim(fields, index);
      case 'closeOffering':
        return this.closeOffering(fields, index);
      default:
        return [rejected(index, null, 'UNKNOWN_COMMAND')];
    }
  }

  /** The final balance lines: every pair not both zero, by user then asset (code units). */
  balanceLines(): ReplayLine[] {
    const lines: ReplayLine[] = [];
    const users = [...this.market.accounts.keys()].sort((left, right) => left - right);
    for (const user of users) {
      const byAsset = this.market.accounts.get(user)!;
      for (const asset of [...byAsset.keys()].sort()) {
        const account = byAsset.get(asset)!;
        if (account.available === 0n && account.locked === 0n) continue;
        lines.push({
          ev: 'balance',
          user,
          asset,
          available: Number(account.available),
          locked: Number(account.locked),
        });
      }
    }
    return lines;
  }

  // ---- views for the generator and for state comparisons ----

  listedSymbols(): ModelSymbol[] {
    return [...this.symbols.values()];
  }

  restingOrders(): readonly ModelOrder[] {
    return this.market.orders;
  }

  pendingOrders(): readonly ModelOrder[] {
    return this.market.pending;
  }

  liveLinks(): readonly OcoLink[] {
    return this.market.links;
  }

  lastPrice(symbol: string): number | undefined {
    return this.market.lastPrices.get(symbol);
  }

  isUsedId(id: number): boolean {
    return this.usedIds.has(id);
  }

  available(user: number, asset: string): number {
    return Number(this.market.accounts.get(user)?.get(asset)?.available ?? 0n);
  }

  /** Non-zero balances of one user, sorted by asset. */
  balancesOf(user: number): Array<{ asset: string; available: number; locked: number }> {
    const byAsset = this.market.accounts.get(user);
    if (byAsset === undefined) return [];
    return [...byAsset.keys()]
      .sort()
      .map((asset) => ({ asset, account: byAsset.get(asset)! }))
      .filter(({ account }) => account.available !== 0n || account.locked !== 0n)
      .map(({ asset, account }) => ({
        asset,
        available: Number(account.available),
        locked: Number(account.locked),
      }));
  }

  /** Units an offering still has, or undefined when there is no such offering. */
  offeringLeft(id: number): number | undefined {
    return this.offerings.get(id)?.left;
  }

  knownUsers(): number[] {
    return [...this.market.accounts.keys()].sort((left, right) => left - right);
  }

  /** Throws when a balance is negative or conservation fails: the model checks itself. */
  checkInvariants(): void {
    const totals = new Map<string, bigint>();
    for (const [user, byAsset] of this.market.accounts) {
      for (const [asset, account] of byAsset) {
        if (account.available < 0n || account.locked < 0n) {
          throw new Error(`model: negative balance user ${user} asset ${asset}`);
        }
        totals.set(asset, (totals.get(asset) ?? 0n) + account.available + account.locked);
      }
    }
    for (const asset of new Set([...totals.keys(), ...this.supply.keys()])) {
      if ((totals.get(asset) ?? 0n) !== (this.supply.get(asset) ?? 0n)) {
        throw new Error(`model: conservation broken for ${asset}`);
      }
    }
    this.checkReservations();
  }

  /**
   * Every locked amount is exactly what live orders, live OCO pairs and open offerings need:
   * an OCO pair holds `qty * max(price, stopLimitPrice)` (buy) or `qty * lotSize` (sell).
   */
  private checkReservations(): void {
    const needed = new Map<string, bigint>();
    const add = (user: number, asset: string, amount: bigint): void => {
      const key = `${user} ${asset}`;
      needed.set(key, (needed.get(key) ?? 0n) + amount);
    };
    const linked = new Set(this.market.links.flatMap((link) => [link.legA, link.legB]));
    for (const order of [...this.market.orders, ...this.market.pending]) {
      const symbol = this.symbols.get(order.symbol)!;
      if (!linked.has(order.id))
        add(order.user, order.side === 'buy' ? symbol.quote : symbol.base, this.needOf(order));
    }
    for (const link of this.market.links) {
      const legs = [link.legA, link.legB].map((id) => this.findOrder(id)!);
      const symbol = this.symbols.get(link.symbol)!;
      const pair =
        link.side === 'buy'
          ? Math.max(...legs.map((leg) => leg.price)) * legs[0].remaining
          : legs[0].remaining * symbol.lotSize;
      if (legs.some((leg) => leg.remaining !== legs[0].remaining) || big(pair) !== link.reserved) {
        throw new Error(`model: OCO ${link.legA}/${link.legB} holds ${link.reserved}, needs ${pair}`);
      }
      add(link.user, link.side === 'buy' ? symbol.quote : symbol.base, link.reserved);
    }
    for (const offering of this.offerings.values()) {
      add(offering.issuer, offering.asset, big(offering.left) * big(offering.unitSize));
    }
    for (const [user, byAsset] of this.market.accounts) {
      for (const [asset, account] of byAsset) {
        if (account.locked !== (needed.get(`${user} ${asset}`) ?? 0n)) {
          throw new Error(
            `model: user ${user} has ${account.locked} ${asset} locked, orders need ${needed.get(`${user} ${asset}`) ?? 0n}`,
          );
        }
      }
    }
  }

  // ---- symbol, deposit, withdraw ----

  private addSymbol(fields: Record<string, unknown>, index: number): ReplayLine[] {
    const { symbol, base, quote, lotSize, tickSize, makerFeeBps, takerFeeBps } = fields;
    if (isName(symbol) && this.symbols.has(symbol)) return [rejected(index, null, 'DUPLICATE_SYMBOL')];
    const wellFormed =
      isName(symbol) &&
      isName(base) &&
      isName(quote) &&
      base !== quote &&
      isPositiveSafeInteger(lotSize) &&
      isPositiveSafeInteger(tickSize) &&
      isBps(makerFeeBps) &&
      isBps(takerFeeBps);
    if (!wellFormed) return [rejected(index, null, 'INVALID_SYMBOL')];
    const newAssets = [base, quote].filter((asset) => !this.assets.has(asset));
    if (this.symbols.size >= this.limits.symbolsMax) return [rejected(index, null, 'LIMIT_EXCEEDED')];
    if (this.assets.size + newAssets.length > this.limits.assetsMax) {
      return [rejected(index, null, 'LIMIT_EXCEEDED')];
    }
    this.symbols.set(symbol, { symbol, base, quote, lotSize, tickSize, makerFeeBps, takerFeeBps });
    for (const asset of newAssets) this.assets.add(asset);
    return [];
  }

  private deposit(fields: Record<string, unknown>, index: number): ReplayLine[] {
    const { user, asset, amount } = fields;
    if (!isNonNegativeSafeInteger(user) || !isName(asset) || !isPositiveSafeInteger(amount)) {
      return [rejected(index, null, 'INVALID_AMOUNT')];
    }
    const supplyAfter = (this.supply.get(asset) ?? 0n) + big(amount);
    if (supplyAfter > safeMax) return [rejected(index, null, 'LIMIT_EXCEEDED')];
    if (!this.depositors.has(user) && this.depositors.size >= this.limits.usersMax) {
      return [rejected(index, null, 'LIMIT_EXCEEDED')];
    }
    if (!this.assets.has(asset) && this.assets.size >= this.limits.assetsMax) {
      return [rejected(index, null, 'LIMIT_EXCEEDED')];
    }
    this.depositors.add(user);
    this.assets.add(asset);
    this.supply.set(asset, supplyAfter);
    this.account(user, asset).available += big(amount);
    return [];
  }

  private withdraw(fields: Record<string, unknown>, index: number): ReplayLine[] {
    const { user, asset, amount } = fields;
    if (!isNonNegativeSafeInteger(user) || !isName(asset) || !isPositiveSafeInteger(amount)) {
      return [rejected(index, null, 'INVALID_AMOUNT')];
    }
    const account = this.account(user, asset);
    if (account.available < big(amount)) return [rejected(index, null, 'INSUFFICIENT_FUNDS')];
    account.available -= big(amount);
    this.supply.set(asset, (this.supply.get(asset) ?? 0n) - big(amount));
    return [];
  }

  // ---- offerings and coupons (docs/ENGINE.md issue 7) ----

  private createOffering(fields: Record<string, unknown>, index: number): ReplayLine[] {
    const reject = (reason: string): ReplayLine[] => [rejected(index, fields.id ?? null, reason)];
    const { id, issuer, asset, quote, price, unitSize, units, perUserMax, startTs, endTs, coupon } = fields;
    if (isNonNegativeSafeInteger(id) && this.offerings.has(id)) return reject('DUPLICATE_OFFERING');
    const wellFormed =
      isNonNegativeSafeInteger(id) &&
      isNonNegativeSafeInteger(issuer) &&
      isName(asset) &&
      isName(quote) &&
      this.assets.has(asset) &&
      this.assets.has(quote) &&
      asset !== quote &&
      isPositiveSafeInteger(price) &&
      isPositiveSafeInteger(unitSize) &&
      isPositiveSafeInteger(units) &&
      isPositiveSafeInteger(perUserMax) &&
      isNonNegativeSafeInteger(startTs) &&
      isNonNegativeSafeInteger(endTs) &&
      startTs < endTs &&
      (isAbsent(coupon) || isCampaign(coupon));
    if (!wellFormed) return reject('INVALID_OFFERING');
    const offeringsMax = this.limits.offeringsMax ?? defaultEngineLimits.offeringsMax!;
    const amount = big(units) * big(unitSize);
    if (this.offerings.size >= offeringsMax || amount > safeMax || big(units) * big(price) > safeMax) {
      return reject('LIMIT_EXCEEDED');
    }
    const account = this.account(issuer, asset);
    if (account.available < amount) return reject('INSUFFICIENT_FUNDS');
    account.available -= amount;
    account.locked += amount;
    this.offerings.set(id, {
      issuer,
      asset,
      quote,
      price,
      unitSize,
      perUserMax,
      startTs,
      endTs,
      left: units,
      closed: false,
      claimed: new Map(),
      campaign: isAbsent(coupon) ? undefined : (coupon as Campaign),
    });
    return [];
  }

  private claim(fields: Record<string, unknown>, index: number): ReplayLine[] {
    const reject = (reason: string): ReplayLine[] => [rejected(index, fields.offering ?? null, reason)];
    const id = fields.offering;
    const offering = isNonNegativeSafeInteger(id) ? this.offerings.get(id) : undefined;
    if (offering === undefined) return reject('UNKNOWN_OFFERING');
    const { user, units } = fields;
    if (!isNonNegativeSafeInteger(user) || !isPositiveSafeInteger(units)) return reject('INVALID_AMOUNT');
    const ts = isAbsent(fields.ts) ? 0 : (fields.ts as number);
    if (ts < offering.startTs) return reject('OFFERING_NOT_OPEN');
    if (ts >= offering.endTs || offering.closed) return reject('OFFERING_CLOSED');
    const claimedBefore = offering.claimed.get(user) ?? 0;
    if (claimedBefore + units > offering.perUserMax) return reject('PER_USER_LIMIT');
    if (units > offering.left) return reject('SOLD_OUT');
    const paid = big(units) * big(offering.price);
    if (this.account(user, offering.quote).available < paid) return reject('INSUFFICIENT_FUNDS');
    const claimantsMax = this.limits.claimantsPerOfferingMax ?? defaultEngineLimits.claimantsPerOfferingMax!;
    if (!offering.claimed.has(user) && offering.claimed.size >= claimantsMax) return reject('LIMIT_EXCEEDED');
    this.account(user, offering.quote).available -= paid;
    this.account(offering.issuer, offering.quote).available += paid;
    const delivered = big(units) * big(offering.unitSize);
    this.account(offering.issuer, offering.asset).locked -= delivered;
    this.account(user, offering.asset).available += delivered;
    offering.left -= units;
    const firstClaim = !offering.claimed.has(user);
    offering.claimed.set(user, claimedBefore + units);
    const lines: ReplayLine[] = [
      { ev: 'claimed', offering: id, user, units, paid: Number(paid), left: offering.left },
    ];
    const campaign = offering.campaign;
    if (firstClaim && campaign !== undefined) {
      const { makerDiscountPct, takerDiscountPct, expiresTs, uses } = campaign;
      const owned = this.market.coupons.get(user) ?? [];
      owned.push({ makerDiscountPct, takerDiscountPct, expiresTs, usesLeft: uses });
      this.market.coupons.set(user, owned);
      lines.push({
        ev: 'couponIssued',
        offering: id,
        user,
        makerDiscountPct,
        takerDiscountPct,
        expiresTs,
        uses,
      });
    }
    return lines;
  }

  private closeOffering(fields: Record<string, unknown>, index: number): ReplayLine[] {
    const id = fields.offering;
    const offering = isNonNegativeSafeInteger(id) ? this.offerings.get(id) : undefined;
    if (offering === undefined) return [rejected(index, id ?? null, 'UNKNOWN_OFFERING')];
    if (offering.closed) return [rejected(index, id, 'OFFERING_CLOSED')];
    const returned = big(offering.left) * big(offering.unitSize);
    const account = this.account(offering.issuer, offering.asset);
    account.locked -= returned;
    account.available += returned;
    offering.closed = true;
    const returnedUnits = offering.left;
    offering.left = 0;
    return [{ ev: 'offeringClosed', offering: id, returnedUnits }];
  }

  // ---- cancel, amend ----

  /** The resting or pending order `fields.id` if `fields.user` owns it, else undefined. */
  private ownedOrder(fields: Record<string, unknown>): ModelOrder | undefined {
    const { user, id } = fields;
    if (!isNonNegativeSafeInteger(user) || !isNonNegativeSafeInteger(id)) return undefined;
    const order = this.findOrder(id);
    return order !== undefined && order.user === user ? order : undefined;
  }

  private findOrder(id: number): ModelOrder | undefined {
    return (
      this.market.orders.find((resting) => resting.id === id) ??
      this.market.pending.find((pending) => pending.id === id)
    );
  }

  private cancel(fields: Record<string, unknown>, index: number): ReplayLine[] {
    const order = this.ownedOrder(fields);
    if (order === undefined) return [rejected(index, fields.id ?? null, 'UNKNOWN_ORDER')];
    const lines: ReplayLine[] = [];
    const link = this.linkOf(order.id);
    if (link?.legA === order.id) this.stats.ocoUserCancelledA++;
    if (link?.legB === order.id) this.stats.ocoUserCancelledB++;
    this.cancelOrder(order, 'USER', lines);
    return lines;
  }

  private amend(fields: Record<string, unknown>, index: number): ReplayLine[] {
    const order = this.ownedOrder(fields);
    if (order === undefined) return [rejected(index, fields.id ?? null, 'UNKNOWN_ORDER')];
    if (this.linkOf(order.id) !== undefined) return [rejected(index, fields.id ?? null, 'NOT_AMENDABLE')];
    const qty = fields.qty;
    if (!isPositiveSafeInteger(qty) || qty >= order.remaining) {
      return [rejected(index, fields.id ?? null, 'INVALID_QTY')];
    }
    if (this.market.pending.includes(order)) this.stats.amendedPending++;
    else if (order.displayQty !== undefined) this.stats.amendedIceberg++;
    if (this.ocoLegIds.has(order.id)) this.stats.amendedFormerLeg++;
    this.release(order, order.remaining - qty);
    order.remaining = qty;
    order.visible = Math.min(order.visible, qty);
    return [{ ev: 'amended', id: order.id, qty }];
  }

  // ---- place ----

  private place(fields: Record<string, unknown>, index: number): ReplayLine[] {
    const reject = (reason: string): ReplayLine[] => [rejected(index, fields.id ?? null, reason)];
    const symbol = typeof fields.symbol === 'string' ? this.symbols.get(fields.symbol) : undefined;
    if (symbol === undefined) return reject('UNKNOWN_SYMBOL');
    const { user, id, side, type, stp, postOnly, tif, qty, price, displayQty } = fields;
    if (isNonNegativeSafeInteger(id) && this.usedIds.has(id)) return reject('DUPLICATE_ORDER_ID');
    if (
      !isNonNegativeSafeInteger(user) ||
      !isNonNegativeSafeInteger(id) ||
      (side !== 'buy' && side !== 'sell') ||
      (type !== 'limit' && type !== 'market') ||
      !(isAbsent(stp) || stpModes.includes(stp)) ||
      !(isAbsent(postOnly) || typeof postOnly === 'boolean')
    ) {
      return reject('INVALID_ORDER');
    }
    if (!isAbsent(tif) && !tifs.includes(tif)) return reject('INVALID_TIF');
    const effectiveTif = (isAbsent(tif) ? (type === 'limit' ? 'GTC' : 'IOC') : tif) as Tif;
    const restable = type === 'limit' && effectiveTif === 'GTC';
    if (type === 'market' && effectiveTif === 'GTC') return reject('INVALID_TIF');
    if (postOnly === true && !restable) return reject('INVALID_TIF');
    if (!isAbsent(displayQty) && !restable) return reject('INVALID_TIF');
    if (!isPositiveSafeInteger(qty)) return reject('INVALID_QTY');
    if (!isAbsent(displayQty) && !(isPositiveSafeInteger(displayQty) && displayQty < qty)) {
      return reject('INVALID_QTY');
    }
    if (type === 'limit' && !isTickPrice(price, symbol)) return reject('INVALID_PRICE');
    if (type === 'market' && !isAbsent(price)) return reject('INVALID_PRICE');
    const stop = stopOf(fields, symbol);
    if (stop === 'invalid') return reject('INVALID_STOP');
    const limitPrice = type === 'limit' ? (price as number) : 0;
    if (big(qty) * big(symbol.lotSize) > safeMax || big(qty) * big(limitPrice) > safeMax) {
      return reject('LIMIT_EXCEEDED');
    }
    // A stop order is pending, not resting: the book's bounds bind when it activates (see run).
    const restsNow = restable && stop === undefined;
    if (
      this.exceedsBounds({
        user,
        symbol: symbol.symbol,
        restable: restsNow,
        stop: stop !== undefined,
        ids: 1,
      })
    ) {
      return reject('LIMIT_EXCEEDED');
    }
    if (postOnly === true && this.wouldCross(symbol.symbol, side, limitPrice)) {
      return reject('POST_ONLY_WOULD_CROSS');
    }
    if (stop !== undefined && this.wouldTrigger(symbol.symbol, side, stop.trigger, stop.stopPrice)) {
      return reject('STOP_WOULD_TRIGGER');
    }
    const taker: Taker = {
      id,
      user,
      symbol,
      side,
      type,
      tif: effectiveTif,
      price: limitPrice,
      qty,
      remaining: qty,
      stp: (isAbsent(stp) ? 'expireMaker' : stp) as Stp,
      displayQty: isAbsent(displayQty) ? undefined : (displayQty as number),
      acceptedQty: qty,
    };
    const reservation = this.reservationOf(taker);
    if (this.account(user, reservation.asset).available < reservation.amount) {
      return reject('INSUFFICIENT_FUNDS');
    }
    // The fill bound: every fill takes at least one lot, so only a larger qty can pass it.
    if (stop === undefined && qty > this.fillsMax() && this.trialFills(taker, true) > this.fillsMax()) {
      this.stats.fillBoundRejects++;
      return reject('LIMIT_EXCEEDED');
    }
    this.usedIds.add(id);
    this.reserve(user, reservation.asset, reservation.amount);
    if (stop !== undefined) {
      this.market.pending.push({ ...orderOf(taker, 0), stopPrice: stop.stopPrice, trigger: stop.trigger });
      return [];
    }
    const lines: ReplayLine[] = [];
    this.runCommand(taker, lines);
    return lines;
  }

  /**
   * The configurable bounds (docs/ENGINE.md step 8): ids for every order; open orders of the user
   * (resting and pending) for an order that can rest or will be pending; the book's and all
   * books' resting orders for an order that can rest; pending orders for a stop order.
   */
  private exceedsBounds(order: {
    user: number;
    symbol: string;
    restable: boolean;
    stop: boolean;
    ids: number;
    openOrders?: number;
  }): boolean {
    const limits = this.limits;
    if (this.usedIds.size + order.ids > limits.orderIdsMax) return true;
    if (!order.restable && !order.stop) return false;
    const ofUser = (orders: readonly ModelOrder[]): number =>
      orders.filter((other) => other.user === order.user).length;
    const openOrders = ofUser(this.market.orders) + ofUser(this.market.pending);
    if (openOrders + (order.openOrders ?? 1) > limits.openOrdersPerUserMax) return true;
    if (order.restable) {
      const ofBook = this.market.orders.filter((other) => other.symbol === order.symbol).length;
      const restingMax = limits.restingOrdersMax ?? defaultEngineLimits.restingOrdersMax!;
      if (ofBook >= limits.ordersPerBookMax || this.market.orders.length >= restingMax) return true;
    }
    if (order.stop) {
      const pendingOfSymbol = this.market.pending.filter((other) => other.symbol === order.symbol).length;
      const symbolMax = limits.pendingOrdersPerSymbolMax ?? defaultEngineLimits.pendingOrdersPerSymbolMax!;
      const userMax = limits.pendingOrdersPerUserMax ?? defaultEngineLimits.pendingOrdersPerUserMax!;
      if (pendingOfSymbol >= symbolMax || ofUser(this.market.pending) >= userMax) {
        this.stats.pendingBoundRejects++;
        return true;
      }
    }
    return false;
  }

  private wouldCross(symbol: string, side: ModelSide, price: number): boolean {
    const best = this.bestOpposite(symbol, side);
    if (best === undefined) return false;
    return side === 'buy' ? best.price <= price : best.price >= price;
  }

  /** STOP_WOULD_TRIGGER: the symbol has traded and the condition holds at its last price. */
  private wouldTrigger(symbol: string, side: ModelSide, trigger: Trigger, stopPrice: number): boolean {
    const last = this.market.lastPrices.get(symbol);
    return last !== undefined && conditionHolds(side, trigger, stopPrice, last);
  }

  /** What an order locks at acceptance: quote for a limit buy, base for a sell, none for a market buy. */
  private reservationOf(taker: Taker): { asset: string; amount: bigint } {
    if (taker.side === 'sell') {
      return { asset: taker.symbol.base, amount: big(taker.remaining) * big(taker.symbol.lotSize) };
    }
    if (taker.type === 'limit') {
      return { asset: taker.symbol.quote, amount: big(taker.remaining) * big(taker.price) };
    }
    return { asset: taker.symbol.quote, amount: 0n };
  }

  private reserve(user: number, asset: string, amount: bigint): void {
    const account = this.account(user, asset);
    account.available -= amount;
    account.locked += amount;
  }

  // ---- oco ----

  private oco(fields: Record<string, unknown>, index: number): ReplayLine[] {
    const reject = (reason: string): ReplayLine[] => [rejected(index, fields.id ?? null, reason)];
    const symbol = typeof fields.symbol === 'string' ? this.symbols.get(fields.symbol) : undefined;
    if (symbol === undefined) return reject('UNKNOWN_SYMBOL');
    const { user, side, qty, id, price, stopId, stopPrice, stopLimitPrice, stp } = fields;
    const idWellFormed = isNonNegativeSafeInteger(id);
    const stopIdWellFormed = isNonNegativeSafeInteger(stopId);
    if (
      (idWellFormed && this.usedIds.has(id)) ||
      (stopIdWellFormed && this.usedIds.has(stopId)) ||
      (idWellFormed && stopIdWellFormed && id === stopId)
    ) {
      return reject('DUPLICATE_ORDER_ID');
    }
    if (
      !isNonNegativeSafeInteger(user) ||
      (side !== 'buy' && side !== 'sell') ||
      !(isAbsent(stp) || stpModes.includes(stp)) ||
      !idWellFormed ||
      !stopIdWellFormed
    ) {
      return reject('INVALID_ORDER');
    }
    if (!isPositiveSafeInteger(qty)) return reject('INVALID_QTY');
    const stopLimited = !isAbsent(stopLimitPrice);
    if (!isTickPrice(price, symbol) || (stopLimited && !isTickPrice(stopLimitPrice, symbol))) {
      return reject('INVALID_PRICE');
    }
    if (!isTickPrice(stopPrice, symbol) || (side === 'sell' ? price <= stopPrice : price >= stopPrice)) {
      return reject('INVALID_STOP');
    }
    const legBPrice = stopLimited ? (stopLimitPrice as number) : 0;
    // Both legs' quote amounts must be safe for a sell too (they are what it would receive).
    const highestPrice = Math.max(price, legBPrice);
    if (big(qty) * big(symbol.lotSize) > safeMax || big(qty) * big(highestPrice) > safeMax) {
      return reject('LIMIT_EXCEEDED');
    }
    if (
      this.exceedsBounds({ user, symbol: symbol.symbol, restable: true, stop: true, ids: 2, openOrders: 2 })
    ) {
      return reject('LIMIT_EXCEEDED');
    }
    if (this.wouldCross(symbol.symbol, side, price)) return reject('POST_ONLY_WOULD_CROSS');
    if (this.wouldTrigger(symbol.symbol, side, 'stopLoss', stopPrice)) return reject('STOP_WOULD_TRIGGER');
    const asset = side === 'buy' ? symbol.quote : symbol.base;
    const reserved = side === 'buy' ? big(qty) * big(highestPrice) : big(qty) * big(symbol.lotSize);
    if (this.account(user, asset).available < reserved) return reject('INSUFFICIENT_FUNDS');
    this.usedIds.add(id);
    this.usedIds.add(stopId);
    this.ocoLegIds.add(id).add(stopId);
    this.stats.ocoPlaced++;
    this.reserve(user, asset, reserved);
    const mode = (isAbsent(stp) ? 'expireMaker' : stp) as Stp;
    const leg = (legId: number, type: 'limit' | 'market', legPrice: number, tif: Tif): Taker => ({
      id: legId,
      user,
      symbol,
      side,
      type,
      tif,
      price: legPrice,
      qty,
      remaining: qty,
      stp: mode,
      displayQty: undefined,
      acceptedQty: qty,
    });
    this.market.orders.push(orderOf(leg(id, 'limit', price, 'GTC'), this.market.arrivalNext++));
    const legB = stopLimited ? leg(stopId, 'limit', legBPrice, 'GTC') : leg(stopId, 'market', 0, 'IOC');
    this.market.pending.push({ ...orderOf(legB, 0), stopPrice, trigger: 'stopLoss' });
    this.market.links.push({ legA: id, legB: stopId, user, symbol: symbol.symbol, side, reserved });
    return [];
  }

  private linkOf(id: number): OcoLink | undefined {
    return this.market.links.find((link) => link.legA === id || link.legB === id);
  }

  /**
   * Ends a link: the other leg (if still live) leaves with reason OCO, and the shared reservation
   * becomes exactly what `survivor` alone needs (nothing when no leg survives).
   */
  private resolveLink(link: OcoLink, survivor: ModelOrder | undefined, lines: ReplayLine[]): void {
    this.market.links = this.market.links.filter((other) => other !== link);
    for (const legId of [link.legA, link.legB]) {
      const leg = this.findOrder(legId);
      if (leg === undefined || leg === survivor) continue;
      this.removeOrder(leg);
      lines.push({ ev: 'cancelled', id: leg.id, qty: leg.remaining, reason: 'OCO' });
    }
    const symbol = this.symbols.get(link.symbol)!;
    const asset = link.side === 'buy' ? symbol.quote : symbol.base;
    const needed = survivor === undefined ? 0n : this.needOf(survivor);
    const account = this.account(link.user, asset);
    account.locked -= link.reserved - needed;
    account.available += link.reserved - needed;
  }

  /** What an order alone holds locked for its remaining qty. */
  private needOf(order: ModelOrder): bigint {
    const symbol = this.symbols.get(order.symbol)!;
    return big(order.remaining) * big(order.side === 'buy' ? order.price : symbol.lotSize);
  }

  // ---- runs, triggers and the activation queue ----

  /** The placed order's run, its triggers, then the activation queue first in, first out. */
  private runCommand(taker: Taker, lines: ReplayLine[]): void {
    const queue: Array<{ order: ModelOrder; depth: number }> = [];
    this.triggerAfter(taker.symbol.symbol, this.run(taker, lines), 1, queue, lines);
    for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
      const activated = takerOf(next.order, this.symbols.get(next.order.symbol)!);
      // Past the command's fill bound the activated order expires whole, before its run.
      const budget = this.fillsMax() - lines.filter((line) => line.ev === 'trade').length;
      if (activated.remaining > budget && this.trialFills(activated, false) > budget) {
        this.stats.fillBoundExpiries++;
        this.releaseTaker(activated);
        lines.push({ ev: 'expired', id: activated.id, qty: activated.remaining, reason: 'UNFILLED' });
        continue;
      }
      if (activated.tif === 'FOK') this.stats.activatedFok++;
      const prices = this.run(activated, lines);
      if (this.market.orders.some((order) => order.id === activated.id)) this.stats.activatedRested++;
      this.triggerAfter(activated.symbol.symbol, prices, next.depth + 1, queue, lines);
    }
  }

  private fillsMax(): number {
    return this.limits.fillsPerCommandMax ?? defaultEngineLimits.fillsPerCommandMax!;
  }

  /**
   * The trades the taker's sweep would make, counted by running it for real on a copy of the
   * market that is then put back (as the FOK dry run). `reserve`: the taker does not hold its
   * reservation yet (a placed order before acceptance).
   */
  private trialFills(taker: Taker, reserve: boolean): number {
    const before = copyMarket(this.market);
    const statsBefore = { ...this.stats };
    const refills = this.refillsInRun;
    const trial = { ...taker };
    if (reserve) {
      const reservation = this.reservationOf(trial);
      this.reserve(trial.user, reservation.asset, reservation.amount);
    }
    const lines: ReplayLine[] = [];
    this.refillsInRun = new Map();
    this.sweep(trial, lines);
    this.market = before;
    Object.assign(this.stats, statsBefore);
    this.refillsInRun = refills;
    return lines.filter((line) => line.ev === 'trade').length;
  }

  /**
   * Whether the book's bounds leave no room for the taker's remainder. A placed order passed them
   * before matching; an activated stop order meets them only here, and then its remainder
   * expires UNFILLED rather than grow the book past its bound (docs/ENGINE.md).
   */
  private bookFull(taker: Taker): boolean {
    const ofBook = this.market.orders.filter((order) => order.symbol === taker.symbol.symbol).length;
    const restingMax = this.limits.restingOrdersMax ?? defaultEngineLimits.restingOrdersMax!;
    const full = ofBook >= this.limits.ordersPerBookMax || this.market.orders.length >= restingMax;
    if (full) this.stats.activatedIntoFullBook++;
    return full;
  }

  /** Triggers every pending order of `symbol` whose condition holds at the run's low or high. */
  private triggerAfter(
    symbol: string,
    prices: RunPrices | undefined,
    depth: number,
    queue: Array<{ order: ModelOrder; depth: number }>,
    lines: ReplayLine[],
  ): void {
    if (prices === undefined) return;
    const holdsAt = (order: ModelOrder, price: number): boolean =>
      conditionHolds(order.side, order.trigger!, order.stopPrice!, price);
    const triggered = this.market.pending
      .filter(
        (order) => order.symbol === symbol && (holdsAt(order, prices.low) || holdsAt(order, prices.high)),
      )
      .sort((left, right) => left.id - right.id);
    for (const order of triggered) {
      this.market.pending = this.market.pending.filter((pending) => pending !== order);
      lines.push({ ev: 'triggered', id: order.id });
      this.stats.triggered++;
      if (depth >= 2) this.stats.cascadeDepth2++;
      if (depth >= 3) this.stats.cascadeDepth3++;
      if (!holdsAt(order, prices.last)) this.stats.triggeredByExtreme++;
      const link = this.linkOf(order.id);
      if (link !== undefined) {
        this.stats.ocoTriggeredB++;
        this.resolveLink(link, order, lines);
      }
      queue.push({ order, depth });
    }
  }

  /**
   * One run: the spec's steps 4-6 for an order that already holds its reservation. A FOK runs for
   * real on a copy first; a failed FOK restores the copy and releases what the order held.
   * Returns the run's trade prices, or undefined when it traded nothing.
   */
  private run(taker: Taker, lines: ReplayLine[]): RunPrices | undefined {
    const before: Market | undefined = taker.tif === 'FOK' ? copyMarket(this.market) : undefined;
    const statsBefore = { ...this.stats };
    const runLines: ReplayLine[] = [];
    this.refillsInRun = new Map();
    const stopReason = this.sweep(taker, runLines);
    if (before !== undefined && taker.remaining > 0) {
      this.market = before;
      Object.assign(this.stats, statsBefore);
      taker.remaining = taker.qty;
      this.releaseTaker(taker);
      lines.push({ ev: 'expired', id: taker.id, qty: taker.qty, reason: 'FOK' });
      return undefined;
    }
    if ([...this.refillsInRun.values()].some((count) => count >= 2)) this.stats.runsWithTwoRefills++;
    for (const line of runLines) lines.push(line);
    if (taker.remaining > 0) {
      if (stopReason === null && taker.type === 'limit' && taker.tif === 'GTC' && !this.bookFull(taker)) {
        this.market.orders.push(orderOf(taker, this.market.arrivalNext++));
      } else {
        this.releaseTaker(taker);
        lines.push({ ev: 'expired', id: taker.id, qty: taker.remaining, reason: stopReason ?? 'UNFILLED' });
      }
    }
    const prices = runLines.filter((line) => line.ev === 'trade').map((line) => line.price as number);
    if (prices.length === 0) return undefined;
    const low = prices.reduce((lowest, price) => Math.min(lowest, price));
    const high = prices.reduce((highest, price) => Math.max(highest, price));
    return { low, high, last: prices[prices.length - 1] };
  }

  /** The spec's step 5; returns why it stopped early (null when the book ran out or qty did). */
  private sweep(taker: Taker, lines: ReplayLine[]): StopReason {
    while (taker.remaining > 0) {
      const maker = this.bestOpposite(taker.symbol.symbol, taker.side);
      if (maker === undefined) return null;
      if (taker.type === 'limit') {
        const acceptable = taker.side === 'buy' ? maker.price <= taker.price : maker.price >= taker.price;
        if (!acceptable) return null;
      }
      if (maker.user === taker.user && taker.stp !== 'none') {
        if (taker.stp === 'expireMaker' || taker.stp === 'expireBoth') {
          if (this.linkOf(maker.id) !== undefined) this.stats.ocoStpCancelled++;
          this.cancelOrder(maker, 'STP', lines);
        }
        if (taker.stp === 'expireTaker' || taker.stp === 'expireBoth') return 'STP';
        continue;
      }
      let qty = Math.min(taker.remaining, maker.visible);
      if (taker.type === 'market' && taker.side === 'buy') {
        const affordable = this.account(taker.user, taker.symbol.quote).available / big(maker.price);
        if (affordable < big(qty)) qty = Number(affordable);
        if (qty === 0) return 'INSUFFICIENT_FUNDS';
      }
      this.fill(taker, maker, qty, lines);
    }
    return null;
  }

  /** Moves money for `qty` lots at the maker's price, exactly as docs/ENGINE.md lists. */
  private fill(taker: Taker, maker: ModelOrder, qty: number, lines: ReplayLine[]): void {
    const symbol = taker.symbol;
    const baseAmount = big(qty) * big(symbol.lotSize);
    const quoteAmount = big(qty) * big(maker.price);
    const takerBuys = taker.side === 'buy';
    const buyerBps = big(takerBuys ? symbol.takerFeeBps : symbol.makerFeeBps);
    const sellerBps = big(takerBuys ? symbol.makerFeeBps : symbol.takerFeeBps);
    const buyerUser = takerBuys ? taker.user : maker.user;
    const sellerUser = takerBuys ? maker.user : taker.user;
    // Both fees see the coupons as they were when the fill began; a coupon that applied spends
    // one use per fill (docs/ENGINE.md "Coupons").
    const applied = new Set<ModelCoupon>();
    const buyerFee = this.discounted((baseAmount * buyerBps) / bpsDivisor, buyerUser, takerBuys, applied);
    const sellerFee = this.discounted(
      (quoteAmount * sellerBps) / bpsDivisor,
      sellerUser,
      !takerBuys,
      applied,
    );
    for (const coupon of applied) coupon.usesLeft--;

    const buyerQuote = this.account(buyerUser, symbol.quote);
    if (!takerBuys) {
      buyerQuote.locked -= quoteAmount;
    } else if (taker.type === 'limit') {
      buyerQuote.locked -= big(qty) * big(taker.price);
      buyerQuote.available += big(qty) * big(taker.price - maker.price);
    } else {
      buyerQuote.available -= quoteAmount;
    }
    this.account(buyerUser, symbol.base).available += baseAmount - buyerFee;
    this.account(sellerUser, symbol.base).locked -= baseAmount;
    this.account(sellerUser, symbol.quote).available += quoteAmount - sellerFee;
    this.account(feeAccount, symbol.base).available += buyerFee;
    this.account(feeAccount, symbol.quote).available += sellerFee;

    taker.remaining -= qty;
    maker.remaining -= qty;
    maker.visible -= qty;
    this.market.lastPrices.set(symbol.symbol, maker.price);
    if (maker.remaining === 0) this.removeOrder(maker);
    else if (maker.visible === 0) this.refill(maker);
    lines.push({
      ev: 'trade',
      symbol: symbol.symbol,
      taker: taker.id,
      maker: maker.id,
      price: maker.price,
      qty,
      takerFee: Number(takerBuys ? buyerFee : sellerFee),
      makerFee: Number(takerBuys ? sellerFee : buyerFee),
    });
    const link = this.linkOf(maker.id);
    if (link !== undefined) {
      // Leg A's first fill: the fill paid from the shared reservation, leg B goes.
      this.stats.ocoFilledA++;
      link.reserved -= maker.side === 'buy' ? quoteAmount : baseAmount;
      this.resolveLink(link, maker.remaining > 0 ? maker : undefined, lines);
    }
  }

  /** An iceberg's visible part ran out: show the next part, at the back of its level. */
  private refill(maker: ModelOrder): void {
    maker.visible = Math.min(maker.displayQty!, maker.remaining);
    maker.arrival = this.market.arrivalNext++;
    this.stats.refills++;
    this.refillsInRun.set(maker.id, (this.refillsInRun.get(maker.id) ?? 0) + 1);
  }

  /** The fee after the payer's first usable coupon for the role it pays as; records the coupon used. */
  private discounted(fee: bigint, user: number, asTaker: boolean, applied: Set<ModelCoupon>): bigint {
    if (fee === 0n) return fee;
    const coupon = (this.market.coupons.get(user) ?? []).find(
      (owned) =>
        owned.usesLeft > 0 &&
        this.commandTs < owned.expiresTs &&
        (asTaker ? owned.takerDiscountPct : owned.makerDiscountPct) > 0,
    );
    if (coupon === undefined) return fee;
    applied.add(coupon);
    const percent = big(asTaker ? coupon.takerDiscountPct : coupon.makerDiscountPct);
    return fee - (fee * percent) / 100n;
  }

  /** Best order on the side opposite to `takerSide`: best price, then earliest arrival. */
  private bestOpposite(symbol: string, takerSide: ModelSide): ModelOrder | undefined {
    const makerSide: ModelSide = takerSide === 'buy' ? 'sell' : 'buy';
    let best: ModelOrder | undefined;
    for (const order of this.market.orders) {
      if (order.symbol !== symbol || order.side !== makerSide) continue;
      if (best === undefined) {
        best = order;
        continue;
      }
      const better = makerSide === 'sell' ? order.price < best.price : order.price > best.price;
      if (better || (order.price === best.price && order.arrival < best.arrival)) best = order;
    }
    return best;
  }

  /** Cancels a resting or pending order; a live OCO leg takes the other leg with it (reason OCO). */
  private cancelOrder(order: ModelOrder, reason: 'USER' | 'STP', lines: ReplayLine[]): void {
    const link = this.linkOf(order.id);
    this.removeOrder(order);
    lines.push({ ev: 'cancelled', id: order.id, qty: order.remaining, reason });
    if (link !== undefined) {
      this.resolveLink(link, undefined, lines);
      return;
    }
    this.release(order, order.remaining);
  }

  private removeOrder(order: ModelOrder): void {
    this.market.orders = this.market.orders.filter((resting) => resting !== order);
    this.market.pending = this.market.pending.filter((pending) => pending !== order);
  }

  /** Returns `qty` lots' worth of an order's own reservation to available. */
  private release(order: ModelOrder, qty: number): void {
    const symbol = this.symbols.get(order.symbol)!;
    const asset = order.side === 'buy' ? symbol.quote : symbol.base;
    const amount = big(qty) * big(order.side === 'buy' ? order.price : symbol.lotSize);
    const account = this.account(order.user, asset);
    account.locked -= amount;
    account.available += amount;
  }

  /** Releases what an expiring taker still holds (nothing for a market buy). */
  private releaseTaker(taker: Taker): void {
    const reservation = this.reservationOf(taker);
    const account = this.account(taker.user, reservation.asset);
    account.locked -= reservation.amount;
    account.available += reservation.amount;
  }

  private account(user: number, asset: string): Account {
    let byAsset = this.market.accounts.get(user);
    if (byAsset === undefined) {
      byAsset = new Map();
      this.market.accounts.set(user, byAsset);
    }
    let account = byAsset.get(asset);
    if (account === undefined) {
      account = { available: 0n, locked: 0n };
      byAsset.set(asset, account);
    }
    return account;
  }
}

/** A deep copy of everything a sweep can change (faster than structuredClone on nested maps). */
function copyMarket(market: Market): Market {
  const accounts = new Map<number, Map<string, Account>>();
  for (const [user, byAsset] of market.accounts) {
    const copied = new Map<string, Account>();
    for (const [asset, account] of byAsset) copied.set(asset, { ...account });
    accounts.set(user, copied);
  }
  const coupons = new Map<number, ModelCoupon[]>();
  for (const [user, owned] of market.coupons)
    coupons.set(
      user,
      owned.map((coupon) => ({ ...coupon })),
    );
  return {
    accounts,
    coupons,
    orders: market.orders.map((order) => ({ ...order })),
    pending: market.pending.map((order) => ({ ...order })),
    links: market.links.map((link) => ({ ...link })),
    lastPrices: new Map(market.lastPrices),
    arrivalNext: market.arrivalNext,
  };
}

function isTickPrice(value: unknown, symbol: ModelSymbol): value is number {
  return isPositiveSafeInteger(value) && value % symbol.tickSize === 0;
}

/** A place command's stop part: undefined for a plain order, 'invalid' for INVALID_STOP. */
function stopOf(
  fields: Record<string, unknown>,
  symbol: ModelSymbol,
): { stopPrice: number; trigger: Trigger } | undefined | 'invalid' {
  const { stopPrice, trigger, postOnly, displayQty } = fields;
  if (isAbsent(stopPrice) && isAbsent(trigger)) return undefined;
  if (!isTickPrice(stopPrice, symbol) || (trigger !== 'stopLoss' && trigger !== 'takeProfit'))
    return 'invalid';
  if (postOnly === true || !isAbsent(displayQty)) return 'invalid';
  return { stopPrice, trigger };
}

/** The spec's trigger condition of a stop order at price `price`. */
function conditionHolds(side: ModelSide, trigger: Trigger, stopPrice: number, price: number): boolean {
  const rising = (side === 'buy') === (trigger === 'stopLoss');
  return rising ? price >= stopPrice : price <= stopPrice;
}

/** The order a taker becomes when it rests (or is pending), with a fresh visible part. */
function orderOf(taker: Taker, arrival: number): ModelOrder {
  return {
    id: taker.id,
    user: taker.user,
    symbol: taker.symbol.symbol,
    side: taker.side,
    type: taker.type,
    tif: taker.tif,
    stp: taker.stp,
    price: taker.price,
    qty: taker.acceptedQty,
    remaining: taker.remaining,
    displayQty: taker.displayQty,
    visible: taker.displayQty === undefined ? taker.remaining : Math.min(taker.displayQty, taker.remaining),
    arrival,
    stopPrice: undefined,
    trigger: undefined,
  };
}

/** An activated stop order as a taker of its type, for its remaining qty. */
function takerOf(order: ModelOrder, symbol: ModelSymbol): Taker {
  return {
    id: order.id,
    user: order.user,
    symbol,
    side: order.side,
    type: order.type,
    tif: order.tif,
    price: order.price,
    qty: order.remaining,
    remaining: order.remaining,
    stp: order.stp,
    displayQty: undefined,
    acceptedQty: order.qty,
  };
}

function rejected(index: number, id: unknown, reason: string): ReplayLine {
  return { ev: 'rejected', cmd: index, id, reason };
}

/** The spec's replay output for a fresh engine: per-command lines, then the final balances. */
export function runModel(commands: readonly unknown[], limits: EngineLimits): ReplayLine[] {
  const model = new ReferenceModel(limits);
  const lines: ReplayLine[] = [];
  commands.forEach((command, index) => {
    lines.push(...model.apply(command, index));
  });
  lines.push(...model.balanceLines());
  return lines;
}
