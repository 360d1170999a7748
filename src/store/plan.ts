// Turns a batch of command outcomes into the rows the projections write. Pure: no I/O, so the
// same outcomes always give the same rows (what makes `hoga db rebuild` equal the live tables).

import { basisPointsOf } from '../core/numbers.js';
import type { CouponIssuedEvent, EngineEvent, Side, TradeEvent } from '../core/types.js';
import type { OutcomeEvents } from '../ports.js';

/** `pending`: a stop order waiting for its trigger price (docs/API.md "Order statuses"). */
export type OrderStatus = 'pending' | 'open' | 'partiallyFilled' | 'filled' | 'cancelled' | 'expired';

export interface OrderRow {
  orderId: number;
  userId: number;
  symbol: string;
  side: Side;
  type: string;
  tif: string;
  price: number;
  /** Quantity at acceptance. */
  qty: number;
  filledQty: number;
  /** Quantity still resting; 0 once the order is done. */
  remainingQty: number;
  status: OrderStatus;
  reason: string | null;
  createdSeq: number;
  createdTsMs: number;
  updatedSeq: number;
  updatedTsMs: number;
  /** Stop orders: trigger price and direction, and when it triggered (null until then). */
  stopPrice: number | null;
  trigger: string | null;
  triggeredTsMs: number | null;
  /** Iceberg orders: the shown part's size. */
  displayQty: number | null;
  /** The other leg of an OCO pair while the link is live. */
  ocoId: number | null;
}

export interface TradeRow {
  tradeId: number;
  seq: number;
  tsMs: number;
  symbol: string;
  takerOrderId: number;
  makerOrderId: number;
  takerUserId: number;
  makerUserId: number;
  takerSide: Side;
  price: number;
  qty: number;
  takerFee: number;
  makerFee: number;
}

export type OrderEventKind = 'accepted' | 'triggered' | 'rested' | 'expired' | 'cancelled' | 'amended';

export interface OrderEventRow {
  seq: number;
  eventIndex: number;
  tsMs: number;
  orderId: number;
  userId: number;
  symbol: string;
  kind: OrderEventKind;
  side: Side;
  price: number;
  qty: number;
  reason: string | null;
}

/**
 * The events one batch gives one order, stored as one row: most orders are accepted, rest and are
 * cancelled or filled within a single batch, and one row instead of one per event is what keeps
 * the projection cheap (docs/OPERATIONS.md, "Read model"). `events` holds the `OrderEventRow`s in
 * order, as `encodeOrderEvents` writes them.
 */
export interface OrderEventGroupRow {
  orderId: number;
  /** Sequence of the group's first and last event. */
  firstSeq: number;
  lastSeq: number;
  /** Time of the first event: the partition the group lives in. */
  tsMs: number;
  userId: number;
  symbol: string;
  side: Side;
  events: string;
}

/** One event inside a group: [seq, eventIndex, tsMs, kind, price, qty, reason]. */
export type EncodedOrderEvent = [number, number, number, OrderEventKind, number, number, string | null];

export function encodeOrderEvents(events: readonly OrderEventRow[]): string {
  return JSON.stringify(
    events.map(
      (event): EncodedOrderEvent => [
        event.seq,
        event.eventIndex,
        event.tsMs,
        event.kind,
        event.price,
        event.qty,
        event.reason,
      ],
    ),
  );
}

/** Groups a batch's events by order, in the order of their first event. */
export function groupOrderEvents(events: readonly OrderEventRow[]): OrderEventGroupRow[] {
  const byOrder = new Map<number, OrderEventRow[]>();
  for (const event of events) {
    const group = byOrder.get(event.orderId);
    if (group === undefined) byOrder.set(event.orderId, [event]);
    else group.push(event);
  }
  const groups: OrderEventGroupRow[] = [];
  for (const [orderId, group] of byOrder) {
    const first = group[0];
    groups.push({
      orderId,
      firstSeq: first.seq,
      lastSeq: group[group.length - 1].seq,
      tsMs: first.tsMs,
      userId: first.userId,
      symbol: first.symbol,
      side: first.side,
      events: encodeOrderEvents(group),
    });
  }
  return groups;
}

/**
 * What moved a user's total balance (available + locked; reservations move neither and are not
 * entries): `trade` one leg of a fill (what the side paid or received, before its fee), `fee` the
 * fee it paid, `feeCredit` the fee account's income (these three are read from `trades`, never
 * planned), `claim` both sides of a claim for its claimant, `offeringProceeds` the quote the issuer
 * received and `offeringDelivery` the units it delivered.
 */
export type LedgerKind =
  | 'deposit'
  | 'withdrawal'
  | 'trade'
  | 'fee'
  | 'feeCredit'
  | 'claim'
  | 'offeringProceeds'
  | 'offeringDelivery';

export interface LedgerRow {
  seq: number;
  entryIndex: number;
  tsMs: number;
  userId: number;
  asset: string;
  kind: LedgerKind;
  /** Signed: credits positive, debits negative. */
  amount: number;
  tradeId: number | null;
  /** The offering of a claim's entries. */
  offeringId: number | null;
}

export interface CouponRow {
  userId: number;
  offeringId: number;
  issuedSeq: number;
  issuedTsMs: number;
  makerDiscountPct: number;
  takerDiscountPct: number;
  expiresTsMs: number;
  uses: number;
  usesLeft: number;
  updatedSeq: number;
}

export type FeeRole = 'taker' | 'maker';

/** A fee a coupon discounted: one use of it (a self-trade's two fees share one use). */
export interface CouponUseRow {
  tradeId: number;
  role: FeeRole;
  seq: number;
  tsMs: number;
  userId: number;
  offeringId: number;
  asset: string;
  /** The fee before the discount, and the fee charged. */
  fullFee: number;
  fee: number;
  /** The coupon's uses left after this fill. */
  usesLeft: number;
}

/** Coupons with uses left, per user in the order they were issued (the engine's order of use). */
export type UsableCoupons = ReadonlyMap<number, readonly CouponRow[]>;

export interface SymbolRow {
  symbol: string;
  base: string;
  quote: string;
  lotSize: number;
  tickSize: number;
  makerFeeBps: number;
  takerFeeBps: number;
  seq: number;
  tsMs: number;
}

/** What the projection needs of a symbol: its assets, and lot size and fees for trade legs. */
export interface SymbolAssets {
  base: string;
  quote: string;
  lotSize: number;
  makerFeeBps: number;
  takerFeeBps: number;
}

export interface BatchRows {
  symbols: SymbolRow[];
  trades: TradeRow[];
  orderEvents: OrderEventRow[];
  /** `orderEvents` as written: one row per order (see `OrderEventGroupRow`). */
  orderEventGroups: OrderEventGroupRow[];
  ledger: LedgerRow[];
  /** The state, after this batch, of every coupon the batch issued or used. */
  coupons: CouponRow[];
  couponUses: CouponUseRow[];
  /** Fees that neither the symbol's rate nor a coupon explain (0 unless the projection diverged). */
  unexplainedFees: number;
  /** The final state, after this batch, of every order the batch touched. */
  orders: OrderRow[];
  /** Orders of `orders` the batch accepted (inserted; the others exist and are updated). */
  createdOrderIds: Set<number>;
  /** Events naming an order neither in the batch nor in `existingOrders` (left out of `orders`). */
  unknownOrderEvents: number;
  tsMsMin: number;
  tsMsMax: number;
}

/** Orders the batch changes but does not create: their current rows must be read first. */
export function referencedOrderIds(outcomes: readonly OutcomeEvents[]): number[] {
  const created = new Set<number>();
  const referenced = new Set<number>();
  for (const outcome of outcomes) {
    for (const event of outcome.events) {
      if (event.ev === 'accepted') created.add(event.id);
      else if (event.ev === 'trade') {
        if (!created.has(event.maker)) referenced.add(event.maker);
        if (!created.has(event.taker)) referenced.add(event.taker);
      } else if (
        event.ev === 'rested' ||
        event.ev === 'triggered' ||
        event.ev === 'expired' ||
        event.ev === 'cancelled' ||
        event.ev === 'amended'
      ) {
        if (!created.has(event.id)) referenced.add(event.id);
      }
    }
  }
  return [...referenced].sort((left, right) => left - right);
}

/** Symbols traded in the batch that neither `symbols` nor the batch itself lists. */
export function unknownSymbols(
  outcomes: readonly OutcomeEvents[],
  symbols: ReadonlyMap<string, SymbolAssets>,
): string[] {
  const added = new Set<string>();
  const unknown = new Set<string>();
  for (const outcome of outcomes) {
    for (const event of outcome.events) {
      if (event.ev === 'symbolAdded') added.add(event.symbol);
      else if (event.ev === 'trade' && !symbols.has(event.symbol) && !added.has(event.symbol))
        unknown.add(event.symbol);
    }
  }
  return [...unknown];
}

/**
 * Plans the rows of one batch. `existingOrders` holds the current rows of `referencedOrderIds`;
 * `symbols` maps each listed symbol to its assets and learns the symbols this batch adds.
 */
export function planBatch(
  outcomes: readonly OutcomeEvents[],
  existingOrders: ReadonlyMap<number, OrderRow>,
  symbols: Map<string, SymbolAssets>,
  usableCoupons: UsableCoupons = new Map(),
): BatchRows {
  const planner = new BatchPlanner(existingOrders, symbols, usableCoupons);
  for (const outcome of outcomes) planner.addOutcome(outcome);
  return planner.rows();
}

class BatchPlanner {
  private readonly touched = new Map<number, OrderRow>();
  private readonly result: BatchRows = {
    symbols: [],
    trades: [],
    orderEvents: [],
    orderEventGroups: [],
    ledger: [],
    coupons: [],
    couponUses: [],
    unexplainedFees: 0,
    orders: [],
    createdOrderIds: new Set(),
    unknownOrderEvents: 0,
    tsMsMin: Number.POSITIVE_INFINITY,
    tsMsMax: Number.NEGATIVE_INFINITY,
  };
  private seq = 0;
  private tsMs = 0;
  private eventIndex = 0;
  private entryIndex = 0;
  private events: OutcomeEvents['events'] = [];
  /** Coupons this batch issued or may use, copied from `usableCoupons` when first needed. */
  private readonly coupons = new Map<number, PlannedCoupon[]>();
  private readonly touchedCoupons = new Set<PlannedCoupon>();

  constructor(
    private readonly existingOrders: ReadonlyMap<number, OrderRow>,
    private readonly symbols: Map<string, SymbolAssets>,
    private readonly usableCoupons: UsableCoupons,
  ) {}

  addOutcome(outcome: OutcomeEvents): void {
    this.events = outcome.events;
    this.seq = outcome.seq;
    this.tsMs = outcome.ts;
    this.entryIndex = 0;
    this.result.tsMsMin = Math.min(this.result.tsMsMin, outcome.ts);
    this.result.tsMsMax = Math.max(this.result.tsMsMax, outcome.ts);
    outcome.events.forEach((event, index) => {
      this.eventIndex = index;
      this.addEvent(event);
    });
  }

  rows(): BatchRows {
    this.result.orders = [...this.touched.values()].sort((left, right) => left.orderId - right.orderId);
    this.result.orderEventGroups = groupOrderEvents(this.result.orderEvents);
    for (const coupon of this.touchedCoupons) this.result.coupons.push(coupon.row);
    return this.result;
  }

  private addEvent(event: EngineEvent): void {
    switch (event.ev) {
      case 'symbolAdded':
        this.symbols.set(event.symbol, {
          base: event.base,
          quote: event.quote,
          lotSize: event.lotSize,
          makerFeeBps: event.makerFeeBps,
          takerFeeBps: event.takerFeeBps,
        });
        this.result.symbols.push({ ...withoutEv(event), seq: this.seq, tsMs: this.tsMs });
        return;
      case 'deposited':
        this.ledgerEntry(event.user, event.asset, 'deposit', event.amount, null, null);
        return;
      case 'withdrawn':
        this.ledgerEntry(event.user, event.asset, 'withdrawal', -event.amount, null, null);
        return;
      case 'accepted':
        this.accept(event);
        this.orderEvent(
          event.id,
          event.user,
          event.symbol,
          'accepted',
          event.side,
          event.price,
          event.qty,
          null,
        );
        return;
      case 'trade':
        this.trade(event);
        return;
      case 'rested':
        this.changeOrder(event.id, (order) => {
          order.remainingQty = event.qty;
          order.status = order.filledQty > 0 ? 'partiallyFilled' : 'open';
        });
        this.orderEvent(
          event.id,
          event.user,
          event.symbol,
          'rested',
          event.side,
          event.price,
          event.qty,
          null,
        );
        return;
      case 'triggered':
        this.changeOrder(event.id, (order) => {
          order.status = order.filledQty > 0 ? 'partiallyFilled' : 'open';
          order.triggeredTsMs = this.tsMs;
        });
        this.orderEvent(event.id, event.user, event.symbol, 'triggered', event.side, 0, 0, null);
        return;
      case 'expired':
      case 'cancelled':
        this.changeOrder(event.id, (order) => {
          order.remainingQty = 0;
          order.status = event.ev;
          order.reason = event.reason;
          if (order.ocoId !== null)
            this.changeOrder(order.ocoId, (partner) => {
              partner.ocoId = null;
            });
          order.ocoId = null;
        });
        this.orderEvent(
          event.id,
          event.user,
          event.symbol,
          event.ev,
          event.side,
          event.price,
          event.qty,
          event.reason,
        );
        return;
      case 'amended':
        this.changeOrder(event.id, (order) => {
          order.remainingQty = event.qty;
        });
        this.orderEvent(
          event.id,
          event.user,
          event.symbol,
          'amended',
          event.side,
          event.price,
          event.qty,
          null,
        );
        return;
      case 'claimed': {
        // A claim settles at once: the user pays quote and receives the asset, the issuer is paid
        // and delivers the units it has held locked since the offering was created.
        const offering = event.offering;
        this.ledgerEntry(event.user, event.quote, 'claim', -event.paid, null, offering);
        this.ledgerEntry(event.user, event.asset, 'claim', event.delivered, null, offering);
        this.ledgerEntry(event.issuer, event.quote, 'offeringProceeds', event.paid, null, offering);
        this.ledgerEntry(event.issuer, event.asset, 'offeringDelivery', -event.delivered, null, offering);
        return;
      }
      case 'couponIssued':
        this.issueCoupon(event);
        return;
      case 'rejected':
      case 'offeringCreated':
      case 'offeringClosed':
        // Creating and closing an offering lock and release the issuer's units: no total changes.
        return;
    }
  }

  private accept(event: Extract<EngineEvent, { ev: 'accepted' }>): void {
    this.result.createdOrderIds.add(event.id);
    this.touched.set(event.id, {
      orderId: event.id,
      userId: event.user,
      symbol: event.symbol,
      side: event.side,
      type: event.type,
      tif: event.tif,
      price: event.price,
      qty: event.qty,
      filledQty: 0,
      remainingQty: event.qty,
      status: (event.stopPrice ?? 0) > 0 ? 'pending' : 'open',
      reason: null,
      createdSeq: this.seq,
      createdTsMs: this.tsMs,
      updatedSeq: this.seq,
      updatedTsMs: this.tsMs,
      stopPrice: (event.stopPrice ?? 0) > 0 ? (event.stopPrice as number) : null,
      trigger: event.trigger ?? null,
      triggeredTsMs: null,
      displayQty: (event.displayQty ?? 0) > 0 ? (event.displayQty as number) : null,
      ocoId: this.ocoPartner(event.id),
    });
  }

  private trade(event: TradeEvent): void {
    this.result.trades.push({
      tradeId: event.tradeId,
      seq: this.seq,
      tsMs: this.tsMs,
      symbol: event.symbol,
      takerOrderId: event.taker,
      makerOrderId: event.maker,
      takerUserId: event.takerUser,
      makerUserId: event.makerUser,
      takerSide: event.takerSide,
      price: event.price,
      qty: event.qty,
      takerFee: event.takerFee,
      makerFee: event.makerFee,
    });
    const fill = (order: OrderRow) => {
      order.filledQty += event.qty;
      order.remainingQty = Math.max(0, order.remainingQty - event.qty);
      order.status = order.remainingQty === 0 ? 'filled' : 'partiallyFilled';
    };
    this.changeOrder(event.maker, fill);
    this.changeOrder(event.taker, fill);
    this.tradeCoupons(event);
  }

  /**
   * A fill's ledger entries (each side's legs, fees, the fee account's credits) are read from
   * `trades` (the view `trade_legs`), so nothing more is written for them; what the planner needs
   * here is which coupon, if any, discounted each fee. Taker before maker: the order in which the
   * engine charges fees and spends coupon uses.
   */
  private tradeCoupons(event: TradeEvent): void {
    const assets = this.symbols.get(event.symbol);
    if (assets === undefined) return;
    const baseAmount = event.qty * assets.lotSize;
    const quoteAmount = event.qty * event.price;
    const takerBuys = event.takerSide === 'buy';
    const takerAsset = takerBuys ? assets.base : assets.quote;
    const makerAsset = takerBuys ? assets.quote : assets.base;
    const takerFullFee = basisPointsOf(takerBuys ? baseAmount : quoteAmount, assets.takerFeeBps);
    const makerFullFee = basisPointsOf(takerBuys ? quoteAmount : baseAmount, assets.makerFeeBps);
    this.feeCoupon(event, 'taker', takerAsset, takerFullFee, event.takerFee);
    this.feeCoupon(event, 'maker', makerAsset, makerFullFee, event.makerFee);
  }

  /** The coupon use that discounted a fee, when one did. */
  private feeCoupon(event: TradeEvent, role: FeeRole, asset: string, fullFee: number, fee: number): void {
    const user = role === 'taker' ? event.takerUser : event.makerUser;
    const coupon = this.spendCoupon(user, role, fullFee, event.tradeId);
    if (coupon === undefined) {
      if (fee !== fullFee) this.result.unexplainedFees += 1;
      return;
    }
    this.result.couponUses.push({
      tradeId: event.tradeId,
      role,
      seq: this.seq,
      tsMs: this.tsMs,
      userId: user,
      offeringId: coupon.row.offeringId,
      asset,
      fullFee,
      fee,
      usesLeft: coupon.row.usesLeft,
    });
  }

  private issueCoupon(event: CouponIssuedEvent): void {
    const coupon: PlannedCoupon = {
      row: {
        userId: event.user,
        offeringId: event.offering,
        issuedSeq: this.seq,
        issuedTsMs: this.tsMs,
        makerDiscountPct: event.makerDiscountPct,
        takerDiscountPct: event.takerDiscountPct,
        expiresTsMs: event.expiresTs,
        uses: event.uses,
        usesLeft: event.uses,
        updatedSeq: this.seq,
      },
      spentInTradeId: 0,
    };
    this.couponsOf(event.user).push(coupon);
    this.touchedCoupons.add(coupon);
  }

  /**
   * The engine's rule (src/core/offerings.ts `discountedFee`): a nonzero fee takes the payer's first
   * coupon, in issue order, that has uses left (or spent one on this same fill), has not expired
   * and discounts this role; that spends one use per fill.
   */
  private spendCoupon(
    user: number,
    role: FeeRole,
    fullFee: number,
    tradeId: number,
  ): PlannedCoupon | undefined {
    if (fullFee === 0 || (this.usableCoupons.size === 0 && this.coupons.size === 0)) return undefined;
    if (!this.coupons.has(user) && !this.usableCoupons.has(user)) return undefined;
    for (const coupon of this.couponsOf(user)) {
      const row = coupon.row;
      const pct = role === 'maker' ? row.makerDiscountPct : row.takerDiscountPct;
      const spentInThisFill = coupon.spentInTradeId === tradeId;
      if ((row.usesLeft === 0 && !spentInThisFill) || this.tsMs >= row.expiresTsMs || pct === 0) continue;
      if (!spentInThisFill) {
        row.usesLeft -= 1;
        row.updatedSeq = this.seq;
        coupon.spentInTradeId = tradeId;
        this.touchedCoupons.add(coupon);
      }
      return coupon;
    }
    return undefined;
  }

  /** The user's coupons for this batch: copies, so a batch that fails to commit changes nothing. */
  private couponsOf(user: number): PlannedCoupon[] {
    let held = this.coupons.get(user);
    if (held === undefined) {
      held = (this.usableCoupons.get(user) ?? []).map((row) => ({ row: { ...row }, spentInTradeId: 0 }));
      this.coupons.set(user, held);
    }
    return held;
  }

  /**
   * The other leg when the order was accepted by an `oco` command: the only command whose outcome
   * accepts two orders (leg A, then leg B; an activated stop order is never accepted again).
   */
  private ocoPartner(orderId: number): number | null {
    let partner: number | null = null;
    let accepted = 0;
    for (const event of this.events) {
      if (event.ev !== 'accepted') continue;
      accepted += 1;
      if (event.id !== orderId) partner = event.id;
    }
    return accepted === 2 ? partner : null;
  }

  private changeOrder(orderId: number, change: (order: OrderRow) => void): void {
    let order = this.touched.get(orderId);
    if (order === undefined) {
      const existing = this.existingOrders.get(orderId);
      if (existing === undefined) {
        this.result.unknownOrderEvents += 1;
        return;
      }
      order = { ...existing };
      this.touched.set(orderId, order);
    }
    change(order);
    order.updatedSeq = this.seq;
    order.updatedTsMs = this.tsMs;
  }

  private orderEvent(
    orderId: number,
    userId: number,
    symbol: string,
    kind: OrderEventKind,
    side: Side,
    price: number,
    qty: number,
    reason: string | null,
  ): void {
    this.result.orderEvents.push({
      seq: this.seq,
      eventIndex: this.eventIndex,
      tsMs: this.tsMs,
      orderId,
      userId,
      symbol,
      kind,
      side,
      price,
      qty,
      reason,
    });
  }

  private ledgerEntry(
    userId: number,
    asset: string,
    kind: LedgerKind,
    amount: number,
    tradeId: number | null,
    offeringId: number | null,
  ): void {
    this.result.ledger.push({
      seq: this.seq,
      entryIndex: this.entryIndex,
      tsMs: this.tsMs,
      userId,
      asset,
      kind,
      amount,
      tradeId,
      offeringId,
    });
    this.entryIndex += 1;
  }
}

interface PlannedCoupon {
  row: CouponRow;
  /** The fill that last spent a use of it in this batch (a self-trade's second fee spends none). */
  spentInTradeId: number;
}

function withoutEv(event: Extract<EngineEvent, { ev: 'symbolAdded' }>): Omit<SymbolRow, 'seq' | 'tsMs'> {
  return {
    symbol: event.symbol,
    base: event.base,
    quote: event.quote,
    lotSize: event.lotSize,
    tickSize: event.tickSize,
    makerFeeBps: event.makerFeeBps,
    takerFeeBps: event.takerFeeBps,
  };
}
