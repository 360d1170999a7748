// Limited offerings and fee coupons (docs/ENGINE.md "Offerings and coupons"). Part of the single
// writer: a claim is checked and settled in one step, so an offering cannot be oversold and a
// coupon cannot be issued twice, whatever the concurrency outside. Pure, like the rest of core.
import { type Account, availableSlot, lockedSlot } from './book.js';
import type { Fnv64 } from './hash.js';
import { floorDivide, isNonNegativeSafeInteger, isPositiveSafeInteger } from './numbers.js';
import type {
  ClaimedEvent,
  CouponCampaign,
  CouponIssuedEvent,
  EngineEvent,
  OfferingClosedEvent,
  OfferingCreatedEvent,
  RejectCode,
} from './types.js';

const PERCENT_MAX = 100;

type Fields = { readonly [key: string]: unknown };

/** What the offerings need from the engine's ledger. */
export interface OfferingLedger {
  assetIndex(name: string): number | undefined;
  /** The user's account, or undefined when the user has none. */
  account(user: number): Account | undefined;
  /** Grows the account's balance array to hold every known asset. */
  ensureAssets(account: Account): void;
  emit(event: EngineEvent): void;
  reject(id: unknown, reason: RejectCode): void;
}

export interface OfferingView {
  id: number;
  issuer: number;
  asset: string;
  quote: string;
  price: number;
  unitSize: number;
  units: number;
  left: number;
  perUserMax: number;
  startTs: number;
  endTs: number;
  closed: boolean;
  claimants: number;
  coupon: CouponCampaign | null;
}

export interface CouponView extends CouponCampaign {
  offering: number;
  user: number;
  usesLeft: number;
}

interface Offering {
  id: number;
  issuer: Account;
  asset: string;
  quote: string;
  assetIndex: number;
  quoteIndex: number;
  price: number;
  unitSize: number;
  units: number;
  sold: number;
  perUserMax: number;
  startTs: number;
  endTs: number;
  closed: boolean;
  coupon: CouponCampaign | null;
  /** Units claimed per user. */
  claims: Map<number, number>;
}

interface Coupon {
  offering: number;
  makerDiscountPct: number;
  takerDiscountPct: number;
  expiresTs: number;
  usesLeft: number;
  /** The fill that last spent a use (transient: fills are numbered by trade id). */
  spentInFill: number;
}

function isPercent(value: unknown): value is number {
  return Number.isInteger(value) && (value as number) >= 0 && (value as number) <= PERCENT_MAX;
}

function parseCampaign(value: unknown): CouponCampaign | null | undefined {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'object') return undefined;
  const fields = value as Fields;
  const { makerDiscountPct, takerDiscountPct, expiresTs, uses } = fields;
  if (!isPercent(makerDiscountPct) || !isPercent(takerDiscountPct)) return undefined;
  if (!isNonNegativeSafeInteger(expiresTs) || !isPositiveSafeInteger(uses)) return undefined;
  return { makerDiscountPct, takerDiscountPct, expiresTs, uses };
}

/** floor(fee * pct / 100) without leaving safe integers. */
function percentOf(fee: number, pct: number): number {
  const whole = floorDivide(fee, PERCENT_MAX);
  return whole * pct + Math.floor(((fee - whole * PERCENT_MAX) * pct) / PERCENT_MAX);
}

export interface OfferingLimits {
  offeringsMax: number;
  claimantsPerOfferingMax: number;
}

export class Offerings {
  private readonly offerings = new Map<number, Offering>();
  /** Coupons per user, in issue order: the first usable one applies. */
  private readonly coupons = new Map<number, Coupon[]>();

  constructor(
    private readonly ledger: OfferingLedger,
    private readonly limits: OfferingLimits,
  ) {}

  get hasCoupons(): boolean {
    return this.coupons.size > 0;
  }

  create(fields: Fields): void {
    const id = fields.id;
    if (isNonNegativeSafeInteger(id) && this.offerings.has(id)) {
      this.ledger.reject(id, 'DUPLICATE_OFFERING');
      return;
    }
    const { issuer, asset, quote, price, unitSize, units, perUserMax, startTs, endTs } = fields;
    const coupon = parseCampaign(fields.coupon);
    const assetIndex = typeof asset === 'string' ? this.ledger.assetIndex(asset) : undefined;
    const quoteIndex = typeof quote === 'string' ? this.ledger.assetIndex(quote) : undefined;
    if (
      !isNonNegativeSafeInteger(id) ||
      !isNonNegativeSafeInteger(issuer) ||
      assetIndex === undefined ||
      quoteIndex === undefined ||
      assetIndex === quoteIndex ||
      !isPositiveSafeInteger(price) ||
      !isPositiveSafeInteger(unitSize) ||
      !isPositiveSafeInteger(units) ||
      !isPositiveSafeInteger(perUserMax) ||
      !isNonNegativeSafeInteger(startTs) ||
      !isNonNegativeSafeInteger(endTs) ||
      startTs >= endTs ||
      coupon === undefined
    ) {
      this.ledger.reject(id ?? null, 'INVALID_OFFERING');
      return;
    }
    const supply = units * unitSize;
    if (
      this.offerings.size >= this.limits.offeringsMax ||
      !Number.isSafeInteger(supply) ||
      !Number.isSafeInteger(units * price)
    ) {
      this.ledger.reject(id, 'LIMIT_EXCEEDED');
      return;
    }
    const account = this.ledger.account(issuer);
    if (account === undefined) {
      this.ledger.reject(id, 'INSUFFICIENT_FUNDS');
      return;
    }
    this.ledger.ensureAssets(account);
    if (account.balances[availableSlot(assetIndex)] < supply) {
      this.ledger.reject(id, 'INSUFFICIENT_FUNDS');
      return;
    }
    account.balances[availableSlot(assetIndex)] -= supply;
    account.balances[lockedSlot(assetIndex)] += supply;
    const offering: Offering = {
      id,
      issuer: account,
      asset: asset as string,
      quote: quote as string,
      assetIndex,
      quoteIndex,
      price,
      unitSize,
      units,
      sold: 0,
      perUserMax,
      startTs,
      endTs,
      closed: false,
      coupon,
      claims: new Map(),
    };
    this.offerings.set(id, offering);
    const event: OfferingCreatedEvent = {
      ev: 'offeringCreated',
      offering: id,
      issuer,
      asset: offering.asset,
      quote: offering.quote,
      price,
      unitSize,
      units,
      perUserMax,
      startTs,
      endTs,
    };
    this.ledger.emit(event);
  }

  claim(fields: Fields, nowTs: number): void {
    const offeringId = fields.offering;
    const offering = isNonNegativeSafeInteger(offeringId) ? this.offerings.get(offeringId) : undefined;
    if (offering === undefined) {
      this.ledger.reject(offeringId ?? null, 'UNKNOWN_OFFERING');
      return;
    }
    const user = fields.user;
    const units = fields.units;
    if (!isNonNegativeSafeInteger(user) || !isPositiveSafeInteger(units)) {
      this.ledger.reject(offering.id, 'INVALID_AMOUNT');
      return;
    }
    const reason = this.claimRefusal(offering, user, units, nowTs);
    if (reason !== null) {
      this.ledger.reject(offering.id, reason);
      return;
    }
    const account = this.ledger.account(user)!;
    const paid = units * offering.price;
    const delivered = units * offering.unitSize;
    const issuer = offering.issuer;
    this.ledger.ensureAssets(issuer);
    account.balances[availableSlot(offering.quoteIndex)] -= paid;
    issuer.balances[availableSlot(offering.quoteIndex)] += paid;
    issuer.balances[lockedSlot(offering.assetIndex)] -= delivered;
    account.balances[availableSlot(offering.assetIndex)] += delivered;
    const claimedBefore = offering.claims.get(user) ?? 0;
    offering.claims.set(user, claimedBefore + units);
    offering.sold += units;
    const claimed: ClaimedEvent = {
      ev: 'claimed',
      offering: offering.id,
      user,
      issuer: issuer.user,
      asset: offering.asset,
      quote: offering.quote,
      units,
      paid,
      delivered,
      left: offering.units - offering.sold,
    };
    this.ledger.emit(claimed);
    if (claimedBefore === 0 && offering.coupon !== null) this.issueCoupon(offering, user, offering.coupon);
  }

  /** The first failing check of docs/ENGINE.md's claim order, after the offering and amounts. */
  private claimRefusal(offering: Offering, user: number, units: number, nowTs: number): RejectCode | null {
    if (nowTs < offering.startTs) return 'OFFERING_NOT_OPEN';
    if (offering.closed || nowTs >= offering.endTs) return 'OFFERING_CLOSED';
    const claimedBefore = offering.claims.get(user) ?? 0;
    if (claimedBefore + units > offering.perUserMax) return 'PER_USER_LIMIT';
    if (units > offering.units - offering.sold) return 'SOLD_OUT';
    const account = this.ledger.account(user);
    if (account === undefined) return 'INSUFFICIENT_FUNDS';
    this.ledger.ensureAssets(account);
    if (account.balances[availableSlot(offering.quoteIndex)] < units * offering.price) {
      return 'INSUFFICIENT_FUNDS';
    }
    if (claimedBefore === 0 && offering.claims.size >= this.limits.claimantsPerOfferingMax) {
      return 'LIMIT_EXCEEDED';
    }
    return null;
  }

  private issueCoupon(offering: Offering, user: number, campaign: CouponCampaign): void {
    const held = this.coupons.get(user) ?? [];
    held.push({
      offering: offering.id,
      makerDiscountPct: campaign.makerDiscountPct,
      takerDiscountPct: campaign.takerDiscountPct,
      expiresTs: campaign.expiresTs,
      usesLeft: campaign.uses,
      spentInFill: 0,
    });
    this.coupons.set(user, held);
    const event: CouponIssuedEvent = { ev: 'couponIssued', offering: offering.id, user, ...campaign };
    this.ledger.emit(event);
  }

  close(fields: Fields): void {
    const offeringId = fields.offering;
    const offering = isNonNegativeSafeInteger(offeringId) ? this.offerings.get(offeringId) : undefined;
    if (offering === undefined) {
      this.ledger.reject(offeringId ?? null, 'UNKNOWN_OFFERING');
      return;
    }
    if (offering.closed) {
      this.ledger.reject(offering.id, 'OFFERING_CLOSED');
      return;
    }
    const returnedUnits = offering.units - offering.sold;
    const returned = returnedUnits * offering.unitSize;
    offering.issuer.balances[lockedSlot(offering.assetIndex)] -= returned;
    offering.issuer.balances[availableSlot(offering.assetIndex)] += returned;
    offering.closed = true;
    const event: OfferingClosedEvent = { ev: 'offeringClosed', offering: offering.id, returnedUnits };
    this.ledger.emit(event);
  }

  /**
   * The fee `user` pays after its first usable coupon: `fee - floor(fee * pct / 100)`. One use is
   * spent per fill (`fillToken` names the fill): a self-trade that charges the holder both fees
   * takes the discount on both for that one use.
   */
  discountedFee(user: number, fee: number, isMaker: boolean, nowTs: number, fillToken: number): number {
    if (fee === 0) return 0;
    const held = this.coupons.get(user);
    if (held === undefined) return fee;
    for (const coupon of held) {
      const pct = isMaker ? coupon.makerDiscountPct : coupon.takerDiscountPct;
      const spentInThisFill = coupon.spentInFill === fillToken;
      if ((coupon.usesLeft === 0 && !spentInThisFill) || nowTs >= coupon.expiresTs || pct === 0) continue;
      if (!spentInThisFill) {
        coupon.usesLeft--;
        coupon.spentInFill = fillToken;
      }
      return fee - percentOf(fee, pct);
    }
    return fee;
  }

  /** Every coupon's uses left, to put back after a dry run that spent some. */
  saveUses(): number[] {
    const saved: number[] = [];
    for (const held of this.coupons.values()) for (const coupon of held) saved.push(coupon.usesLeft);
    return saved;
  }

  restoreUses(saved: number[]): void {
    let index = 0;
    for (const held of this.coupons.values()) for (const coupon of held) coupon.usesLeft = saved[index++];
  }

  // ---------------------------------------------------------------- queries

  list(): OfferingView[] {
    return [...this.offerings.values()].sort((a, b) => a.id - b.id).map((offering) => this.view(offering));
  }

  get(id: number): OfferingView | undefined {
    const offering = this.offerings.get(id);
    return offering === undefined ? undefined : this.view(offering);
  }

  private view(offering: Offering): OfferingView {
    return {
      id: offering.id,
      issuer: offering.issuer.user,
      asset: offering.asset,
      quote: offering.quote,
      price: offering.price,
      unitSize: offering.unitSize,
      units: offering.units,
      left: offering.closed ? 0 : offering.units - offering.sold,
      perUserMax: offering.perUserMax,
      startTs: offering.startTs,
      endTs: offering.endTs,
      closed: offering.closed,
      claimants: offering.claims.size,
      coupon: offering.coupon === null ? null : { ...offering.coupon },
    };
  }

  /** Units claimed per user, sorted by user. */
  allocations(id: number): Array<{ user: number; units: number }> | undefined {
    const offering = this.offerings.get(id);
    if (offering === undefined) return undefined;
    return [...offering.claims.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([user, units]) => ({ user, units }));
  }

  claimsOf(user: number): Array<{ offering: number; units: number }> {
    const claims: Array<{ offering: number; units: number }> = [];
    for (const offering of [...this.offerings.values()].sort((a, b) => a.id - b.id)) {
      const units = offering.claims.get(user);
      if (units !== undefined) claims.push({ offering: offering.id, units });
    }
    return claims;
  }

  couponsOf(user: number): CouponView[] {
    return (this.coupons.get(user) ?? []).map((coupon) => ({
      offering: coupon.offering,
      user,
      makerDiscountPct: coupon.makerDiscountPct,
      takerDiscountPct: coupon.takerDiscountPct,
      expiresTs: coupon.expiresTs,
      uses: this.offerings.get(coupon.offering)?.coupon?.uses ?? 0,
      usesLeft: coupon.usesLeft,
    }));
  }

  // ---------------------------------------------------------------- integrity, hash, snapshots

  /** Adds each open offering's unsold units to what its issuer must hold locked. */
  addExpectedLocks(expected: (account: Account, asset: number, amount: number) => void): void {
    for (const offering of this.offerings.values()) {
      let claimed = 0;
      for (const units of offering.claims.values()) {
        if (units <= 0 || units > offering.perUserMax) {
          throw new Error(`engine invariant broken: offering ${offering.id} claim of ${units} units`);
        }
        claimed += units;
      }
      if (claimed !== offering.sold || offering.sold > offering.units) {
        throw new Error(
          `engine invariant broken: offering ${offering.id} sold ${offering.sold} of ${offering.units}, claims sum to ${claimed}`,
        );
      }
      if (!offering.closed) {
        expected(offering.issuer, offering.assetIndex, (offering.units - offering.sold) * offering.unitSize);
      }
    }
  }

  hashInto(hash: Fnv64): void {
    const offerings = [...this.offerings.values()].sort((a, b) => a.id - b.id);
    hash.integer(offerings.length);
    for (const offering of offerings) {
      for (const value of [
        offering.id,
        offering.issuer.user,
        offering.price,
        offering.unitSize,
        offering.units,
        offering.sold,
        offering.perUserMax,
        offering.startTs,
        offering.endTs,
        offering.closed ? 1 : 0,
      ]) {
        hash.integer(value);
      }
      hash.text(offering.asset);
      hash.text(offering.quote);
      const coupon = offering.coupon;
      hash.integer(coupon === null ? 0 : 1);
      if (coupon !== null) {
        hash.integer(coupon.makerDiscountPct);
        hash.integer(coupon.takerDiscountPct);
        hash.integer(coupon.expiresTs);
        hash.integer(coupon.uses);
      }
      const claims = [...offering.claims.entries()].sort((a, b) => a[0] - b[0]);
      hash.integer(claims.length);
      for (const [user, units] of claims) {
        hash.integer(user);
        hash.integer(units);
      }
    }
    const holders = [...this.coupons.keys()].sort((a, b) => a - b);
    hash.integer(holders.length);
    for (const user of holders) {
      const held = this.coupons.get(user)!;
      hash.integer(user);
      hash.integer(held.length);
      for (const coupon of held) {
        hash.integer(coupon.offering);
        hash.integer(coupon.usesLeft);
      }
    }
  }

  exportState(): unknown {
    return {
      offerings: [...this.offerings.values()].map((offering) => ({
        id: offering.id,
        issuer: offering.issuer.user,
        asset: offering.asset,
        quote: offering.quote,
        price: offering.price,
        unitSize: offering.unitSize,
        units: offering.units,
        sold: offering.sold,
        perUserMax: offering.perUserMax,
        startTs: offering.startTs,
        endTs: offering.endTs,
        closed: offering.closed,
        coupon: offering.coupon,
        claims: [...offering.claims.entries()],
      })),
      coupons: [...this.coupons.entries()].map(([user, held]) => [
        user,
        held.map((coupon) => [coupon.offering, coupon.usesLeft]),
      ]),
    };
  }

  load(state: unknown): void {
    if (state === undefined) return;
    const root = state as { offerings?: unknown; coupons?: unknown };
    if (!Array.isArray(root.offerings) || !Array.isArray(root.coupons)) {
      throw new Error('engine invariant broken: state: offerings malformed');
    }
    for (const entry of root.offerings as Fields[]) this.loadOffering(entry);
    for (const [user, held] of root.coupons as Array<[number, Array<[number, number]>]>) {
      this.coupons.set(
        user,
        held.map(([offeringId, usesLeft]) => {
          const campaign = this.offerings.get(offeringId)?.coupon;
          if (campaign === undefined || campaign === null || !isNonNegativeSafeInteger(usesLeft)) {
            throw new Error(`engine invariant broken: state: coupon of user ${user} is malformed`);
          }
          return { offering: offeringId, ...campaign, usesLeft, spentInFill: 0 };
        }),
      );
    }
  }

  private loadOffering(entry: Fields): void {
    const assetIndex = this.ledger.assetIndex(entry.asset as string);
    const quoteIndex = this.ledger.assetIndex(entry.quote as string);
    const issuer = this.ledger.account(entry.issuer as number);
    const coupon = parseCampaign(entry.coupon);
    const integers = [entry.id, entry.price, entry.unitSize, entry.units, entry.sold, entry.perUserMax];
    if (
      assetIndex === undefined ||
      quoteIndex === undefined ||
      issuer === undefined ||
      coupon === undefined ||
      !integers.every(isNonNegativeSafeInteger) ||
      !isNonNegativeSafeInteger(entry.startTs) ||
      !isNonNegativeSafeInteger(entry.endTs) ||
      typeof entry.closed !== 'boolean' ||
      !Array.isArray(entry.claims)
    ) {
      throw new Error('engine invariant broken: state: offering malformed');
    }
    const id = entry.id as number;
    this.offerings.set(id, {
      id,
      issuer,
      asset: entry.asset as string,
      quote: entry.quote as string,
      assetIndex,
      quoteIndex,
      price: entry.price as number,
      unitSize: entry.unitSize as number,
      units: entry.units as number,
      sold: entry.sold as number,
      perUserMax: entry.perUserMax as number,
      startTs: entry.startTs,
      endTs: entry.endTs,
      closed: entry.closed,
      coupon,
      claims: new Map(entry.claims as Array<[number, number]>),
    });
  }
}
