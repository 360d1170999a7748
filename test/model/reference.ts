// The independent reference model of the engine, written only from shared/spec/ENGINE.md and
// docs/ENGINE.md, never from src/core. It is deliberately naive: plain arrays scanned for the
// best order, plain maps for balances, BigInt for every amount so no overflow can hide, and a
// copy of balances and books for the FOK dry run so that the dry run follows the sweep rules exactly.
// Speed does not matter beyond keeping the property test under a minute. Offerings and fee
// coupons (docs/ENGINE.md issue 7) are modelled too.
import { defaultEngineLimits, type EngineLimits } from '../../src/core/types.js';

export type ModelSide = 'buy' | 'sell';
type Tif = 'GTC' | 'IOC' | 'FOK';
type Stp = 'none' | 'expireMaker' | 'expireTaker' | 'expireBoth';

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

export interface ModelOrder {
  id: number;
  user: number;
  symbol: string;
  side: ModelSide;
  price: number;
  /** Quantity at acceptance, before any fill or amend. */
  qty: number;
  remaining: number;
  /** Arrival counter: among equal prices the lower one trades first. */
  arrival: number;
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
  arrivalNext: number;
}

interface Taker {
  id: number;
  user: number;
  symbol: ModelSymbol;
  side: ModelSide;
  type: 'limit' | 'market';
  /** The limit price; 0 for a market order. */
  price: number;
  qty: number;
  remaining: number;
  stp: Stp;
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
  private market: Market = { accounts: new Map(), coupons: new Map(), orders: [], arrivalNext: 0 };
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

  /** The resting order `fields.id` if `fields.user` owns it, else undefined. */
  private ownedRestingOrder(fields: Record<string, unknown>): ModelOrder | undefined {
    const { user, id } = fields;
    if (!isNonNegativeSafeInteger(user) || !isNonNegativeSafeInteger(id)) return undefined;
    const order = this.market.orders.find((resting) => resting.id === id);
    return order !== undefined && order.user === user ? order : undefined;
  }

  private cancel(fields: Record<string, unknown>, index: number): ReplayLine[] {
    const order = this.ownedRestingOrder(fields);
    if (order === undefined) return [rejected(index, fields.id ?? null, 'UNKNOWN_ORDER')];
    const lines: ReplayLine[] = [];
    this.cancelResting(order, 'USER', lines);
    return lines;
  }

  private amend(fields: Record<string, unknown>, index: number): ReplayLine[] {
    const order = this.ownedRestingOrder(fields);
    if (order === undefined) return [rejected(index, fields.id ?? null, 'UNKNOWN_ORDER')];
    const qty = fields.qty;
    if (!isPositiveSafeInteger(qty) || qty >= order.remaining) {
      return [rejected(index, fields.id ?? null, 'INVALID_QTY')];
    }
    this.release(order, order.remaining - qty);
    order.remaining = qty;
    return [{ ev: 'amended', id: order.id, qty }];
  }

  // ---- place ----

  private place(fields: Record<string, unknown>, index: number): ReplayLine[] {
    const reject = (reason: string): ReplayLine[] => [rejected(index, fields.id ?? null, reason)];
    const symbol = typeof fields.symbol === 'string' ? this.symbols.get(fields.symbol) : undefined;
    if (symbol === undefined) return reject('UNKNOWN_SYMBOL');
    const { user, id, side, type, stp, postOnly, tif, qty, price } = fields;
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
    if (type === 'market' && effectiveTif === 'GTC') return reject('INVALID_TIF');
    if (postOnly === true && (type === 'market' || effectiveTif !== 'GTC')) return reject('INVALID_TIF');
    if (!isPositiveSafeInteger(qty)) return reject('INVALID_QTY');
    if (type === 'limit' && !(isPositiveSafeInteger(price) && price % symbol.tickSize === 0)) {
      return reject('INVALID_PRICE');
    }
    if (type === 'market' && !isAbsent(price)) return reject('INVALID_PRICE');
    const limitPrice = type === 'limit' ? (price as number) : 0;
    if (big(qty) * big(symbol.lotSize) > safeMax || big(qty) * big(limitPrice) > safeMax) {
      return reject('LIMIT_EXCEEDED');
    }
    if (this.usedIds.size >= this.limits.orderIdsMax) return reject('LIMIT_EXCEEDED');
    if (type === 'limit' && effectiveTif === 'GTC') {
      const ofUser = this.market.orders.filter((order) => order.user === user).length;
      const ofBook = this.market.orders.filter((order) => order.symbol === symbol.symbol).length;
      const restingMax = this.limits.restingOrdersMax ?? defaultEngineLimits.restingOrdersMax!;
      if (
        ofUser >= this.limits.openOrdersPerUserMax ||
        ofBook >= this.limits.ordersPerBookMax ||
        this.market.orders.length >= restingMax
      ) {
        return reject('LIMIT_EXCEEDED');
      }
    }
    if (postOnly === true && this.wouldCross(symbol.symbol, side, limitPrice)) {
      return reject('POST_ONLY_WOULD_CROSS');
    }
    const taker: Taker = {
      id,
      user,
      symbol,
      side,
      type,
      price: limitPrice,
      qty,
      remaining: qty,
      stp: (isAbsent(stp) ? 'expireMaker' : stp) as Stp,
    };
    const reservation = this.reservationOf(taker);
    if (this.account(user, reservation.asset).available < reservation.amount) {
      return reject('INSUFFICIENT_FUNDS');
    }
    this.usedIds.add(id);
    return this.execute(taker, effectiveTif);
  }

  private wouldCross(symbol: string, side: ModelSide, price: number): boolean {
    const best = this.bestOpposite(symbol, side);
    if (best === undefined) return false;
    return side === 'buy' ? best.price <= price : best.price >= price;
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

  /** Reserve, then (for FOK) run for real on a copy first; a failed FOK restores the copy. */
  private execute(taker: Taker, tif: Tif): ReplayLine[] {
    const before: Market | undefined = tif === 'FOK' ? copyMarket(this.market) : undefined;
    const reservation = this.reservationOf(taker);
    const account = this.account(taker.user, reservation.asset);
    account.available -= reservation.amount;
    account.locked += reservation.amount;
    const lines: ReplayLine[] = [];
    const stopReason = this.sweep(taker, lines);
    if (before !== undefined && taker.remaining > 0) {
      this.market = before;
      return [{ ev: 'expired', id: taker.id, qty: taker.qty, reason: 'FOK' }];
    }
    if (taker.remaining === 0) return lines;
    if (stopReason === null && taker.type === 'limit' && tif === 'GTC') {
      this.market.orders.push({
        id: taker.id,
        user: taker.user,
        symbol: taker.symbol.symbol,
        side: taker.side,
        price: taker.price,
        qty: taker.qty,
        remaining: taker.remaining,
        arrival: this.market.arrivalNext++,
      });
      return lines;
    }
    this.releaseTaker(taker);
    lines.push({ ev: 'expired', id: taker.id, qty: taker.remaining, reason: stopReason ?? 'UNFILLED' });
    return lines;
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
        if (taker.stp === 'expireMaker' || taker.stp === 'expireBoth')
          this.cancelResting(maker, 'STP', lines);
        if (taker.stp === 'expireTaker' || taker.stp === 'expireBoth') return 'STP';
        continue;
      }
      let qty = Math.min(taker.remaining, maker.remaining);
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
    if (maker.remaining === 0) this.removeResting(maker);
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

  private cancelResting(order: ModelOrder, reason: 'USER' | 'STP', lines: ReplayLine[]): void {
    this.release(order, order.remaining);
    this.removeResting(order);
    lines.push({ ev: 'cancelled', id: order.id, qty: order.remaining, reason });
  }

  private removeResting(order: ModelOrder): void {
    this.market.orders = this.market.orders.filter((resting) => resting !== order);
  }

  /** Returns `qty` lots' worth of a resting order's reservation to available. */
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
    arrivalNext: market.arrivalNext,
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
