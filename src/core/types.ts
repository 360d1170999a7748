// The engine's contract: commands in, events out, stable result codes.
// Shared by the engine, the journal, the gateway, market data and the read model.
// Pure types and constants only: nothing here reads the clock, randomness or I/O.

export type Side = 'buy' | 'sell';
export type OrderType = 'limit' | 'market';
export type TimeInForce = 'GTC' | 'IOC' | 'FOK';
export type SelfTradePrevention = 'none' | 'expireMaker' | 'expireTaker' | 'expireBoth';
/** Which way a stop order's price condition points (docs/ENGINE.md "Stop orders"). */
export type StopTrigger = 'stopLoss' | 'takeProfit';

/** Every command may carry `ts`, milliseconds since the epoch, stamped by the sequencer. */
interface CommandBase {
  ts?: number;
}

export interface SymbolCommand extends CommandBase {
  op: 'symbol';
  symbol: string;
  base: string;
  quote: string;
  lotSize: number;
  tickSize: number;
  makerFeeBps: number;
  takerFeeBps: number;
}

export interface DepositCommand extends CommandBase {
  op: 'deposit';
  user: number;
  asset: string;
  amount: number;
}

export interface WithdrawCommand extends CommandBase {
  op: 'withdraw';
  user: number;
  asset: string;
  amount: number;
}

export interface PlaceCommand extends CommandBase {
  op: 'place';
  user: number;
  id: number;
  symbol: string;
  side: Side;
  type: OrderType;
  qty: number;
  price?: number;
  tif?: TimeInForce;
  postOnly?: boolean;
  stp?: SelfTradePrevention;
  /** With `trigger`: the order waits, pending, until a trade price meets its condition. */
  stopPrice?: number;
  trigger?: StopTrigger;
  /** Iceberg: the part of a resting GTC limit order shown in the book. */
  displayQty?: number;
}

/** Two linked orders: leg A a post-only limit at `price`, leg B a pending stopLoss order. */
export interface OcoCommand extends CommandBase {
  op: 'oco';
  user: number;
  symbol: string;
  side: Side;
  qty: number;
  id: number;
  price: number;
  stopId: number;
  stopPrice: number;
  /** Leg B is a GTC stop-limit at this price when given, else a stop-market (IOC). */
  stopLimitPrice?: number;
  stp?: SelfTradePrevention;
}

export interface CancelCommand extends CommandBase {
  op: 'cancel';
  user: number;
  id: number;
}

export interface AmendCommand extends CommandBase {
  op: 'amend';
  user: number;
  id: number;
  qty: number;
}

/** A fee discount campaign attached to an offering: one coupon per winning user. */
export interface CouponCampaign {
  /** Percent (0-100) taken off maker fees. */
  makerDiscountPct: number;
  /** Percent (0-100) taken off taker fees. */
  takerDiscountPct: number;
  /** The coupon applies to fills while the command's ts is before this. */
  expiresTs: number;
  /** Fills with a nonzero fee it may discount. */
  uses: number;
}

/** A limited offering (docs/ENGINE.md "Offerings and coupons"). */
export interface OfferingCommand extends CommandBase {
  op: 'offering';
  id: number;
  /** The account that supplies the units and receives the proceeds. */
  issuer: number;
  asset: string;
  quote: string;
  /** Quote minor units per unit. */
  price: number;
  /** Asset minor units per unit. */
  unitSize: number;
  units: number;
  perUserMax: number;
  startTs: number;
  endTs: number;
  coupon?: CouponCampaign;
}

export interface ClaimCommand extends CommandBase {
  op: 'claim';
  user: number;
  offering: number;
  units: number;
}

export interface CloseOfferingCommand extends CommandBase {
  op: 'closeOffering';
  offering: number;
}

export type Command =
  | SymbolCommand
  | DepositCommand
  | WithdrawCommand
  | PlaceCommand
  | OcoCommand
  | CancelCommand
  | AmendCommand
  | OfferingCommand
  | ClaimCommand
  | CloseOfferingCommand;

export type CommandOp = Command['op'];

/** Stable result codes. Never reuse or rename one; add new codes at the end of their group. */
export const RejectCodes = [
  // command shape
  'UNKNOWN_COMMAND',
  // symbols
  'UNKNOWN_SYMBOL',
  'DUPLICATE_SYMBOL',
  'INVALID_SYMBOL',
  // order validation
  'DUPLICATE_ORDER_ID',
  'INVALID_ORDER',
  'INVALID_TIF',
  'INVALID_QTY',
  'INVALID_PRICE',
  'POST_ONLY_WOULD_CROSS',
  // funds and accounts
  'INSUFFICIENT_FUNDS',
  'INVALID_AMOUNT',
  // order lifecycle
  'UNKNOWN_ORDER',
  // bounds
  'LIMIT_EXCEEDED',
  // offerings
  'UNKNOWN_OFFERING',
  'DUPLICATE_OFFERING',
  'INVALID_OFFERING',
  'OFFERING_NOT_OPEN',
  'OFFERING_CLOSED',
  'SOLD_OUT',
  'PER_USER_LIMIT',
  // stop and OCO orders
  'INVALID_STOP',
  'STOP_WOULD_TRIGGER',
  'NOT_AMENDABLE',
] as const;
export type RejectCode = (typeof RejectCodes)[number];

export type ExpireReason = 'FOK' | 'UNFILLED' | 'STP' | 'INSUFFICIENT_FUNDS';
export type CancelReason = 'USER' | 'STP' | 'OCO';

/**
 * Events. The engine may reuse event objects between calls to `apply`: a consumer that keeps
 * an event past the next `apply` must copy it. Fields beyond the spec's replay output
 * (user, side, price, …) are there for market data, private streams and projections.
 */
export interface SymbolAddedEvent {
  ev: 'symbolAdded';
  symbol: string;
  base: string;
  quote: string;
  lotSize: number;
  tickSize: number;
  makerFeeBps: number;
  takerFeeBps: number;
}

export interface DepositedEvent {
  ev: 'deposited';
  user: number;
  asset: string;
  amount: number;
}

export interface WithdrawnEvent {
  ev: 'withdrawn';
  user: number;
  asset: string;
  amount: number;
}

/** The order passed validation, post-only and funds checks; its id is used for good. */
export interface AcceptedEvent {
  ev: 'accepted';
  id: number;
  user: number;
  symbol: string;
  side: Side;
  type: OrderType;
  tif: TimeInForce;
  /** 0 for market orders. */
  price: number;
  qty: number;
  /** Stop orders: the trigger price and direction (0 and undefined for other orders). */
  stopPrice?: number;
  trigger?: StopTrigger;
  /** Iceberg orders: the shown part's size (0 for other orders). */
  displayQty?: number;
}

/** A pending stop order's condition held: it left the pending set and will run as a taker. */
export interface TriggeredEvent {
  ev: 'triggered';
  id: number;
  user: number;
  symbol: string;
  side: Side;
}

/**
 * An iceberg order's shown part was used up and a new one of `qty` lots is shown at the back of
 * its level. Not a replay line: market data needs it to keep depth equal to the shown parts.
 */
export interface RefilledEvent {
  ev: 'refilled';
  id: number;
  user: number;
  symbol: string;
  side: Side;
  price: number;
  qty: number;
}

export interface TradeEvent {
  ev: 'trade';
  /** Engine-wide trade counter, starting at 1. */
  tradeId: number;
  symbol: string;
  /** Taker and maker order ids. */
  taker: number;
  maker: number;
  takerUser: number;
  makerUser: number;
  /** The taker's side; the maker is on the other side. */
  takerSide: Side;
  price: number;
  qty: number;
  takerFee: number;
  makerFee: number;
}

/** The remainder of an accepted GTC limit order now rests in the book. */
export interface RestedEvent {
  ev: 'rested';
  id: number;
  user: number;
  symbol: string;
  side: Side;
  price: number;
  /** Remaining quantity that rests. */
  qty: number;
  /** The part shown in depth: qty, or an iceberg's visible part. Absent means qty. */
  shownQty?: number;
}

/** A taker's remainder that never rested. */
export interface ExpiredEvent {
  ev: 'expired';
  id: number;
  user: number;
  symbol: string;
  side: Side;
  price: number;
  qty: number;
  reason: ExpireReason;
}

/** An open order (resting or pending) was cancelled: by its owner, self-trade prevention or its OCO link. */
export interface CancelledEvent {
  ev: 'cancelled';
  id: number;
  user: number;
  symbol: string;
  side: Side;
  price: number;
  qty: number;
  reason: CancelReason;
  /** What leaves depth: qty, an iceberg's visible part, 0 for a pending order. Absent means qty. */
  shownQty?: number;
}

export interface AmendedEvent {
  ev: 'amended';
  id: number;
  user: number;
  symbol: string;
  side: Side;
  price: number;
  /** New remaining quantity. */
  qty: number;
  /** Quantity removed from the order by this amend. */
  reducedBy: number;
  /** What leaves depth (less for an iceberg, 0 for a pending order). Absent means reducedBy. */
  shownReducedBy?: number;
}

export interface RejectedEvent {
  ev: 'rejected';
  /** For place/cancel/amend: the command's raw id (null when absent); null for other ops. */
  id: unknown;
  reason: RejectCode;
}

export interface OfferingCreatedEvent {
  ev: 'offeringCreated';
  offering: number;
  issuer: number;
  asset: string;
  quote: string;
  price: number;
  unitSize: number;
  units: number;
  perUserMax: number;
  startTs: number;
  endTs: number;
}

export interface ClaimedEvent {
  ev: 'claimed';
  offering: number;
  user: number;
  issuer: number;
  asset: string;
  quote: string;
  units: number;
  /** Quote paid by the user to the issuer: units * price. */
  paid: number;
  /** Asset minor units delivered to the user: units * unitSize. */
  delivered: number;
  /** Units left in the offering after this claim. */
  left: number;
}

export interface CouponIssuedEvent {
  ev: 'couponIssued';
  offering: number;
  user: number;
  makerDiscountPct: number;
  takerDiscountPct: number;
  expiresTs: number;
  uses: number;
}

export interface OfferingClosedEvent {
  ev: 'offeringClosed';
  offering: number;
  /** Unsold units released back to the issuer. */
  returnedUnits: number;
}

export type EngineEvent =
  | SymbolAddedEvent
  | DepositedEvent
  | WithdrawnEvent
  | AcceptedEvent
  | TriggeredEvent
  | RefilledEvent
  | TradeEvent
  | RestedEvent
  | ExpiredEvent
  | CancelledEvent
  | AmendedEvent
  | RejectedEvent
  | OfferingCreatedEvent
  | ClaimedEvent
  | CouponIssuedEvent
  | OfferingClosedEvent;

/** Bounds on every structure. Hitting one rejects with LIMIT_EXCEEDED. */
export interface EngineLimits {
  symbolsMax: number;
  /** Distinct assets named by symbols and deposits. */
  assetsMax: number;
  /** Distinct users that have made an accepted deposit. */
  usersMax: number;
  openOrdersPerUserMax: number;
  ordersPerBookMax: number;
  /** Order ids remembered for DUPLICATE_ORDER_ID (every accepted id, ever). */
  orderIdsMax: number;
  /**
   * Resting orders over all books (bounds the engine's order index; at most 30,000,000).
   * Optional so that existing full limit objects stay valid; absent means the default.
   */
  restingOrdersMax?: number;
  /** Offerings ever created (each also bounds a user's coupons). */
  offeringsMax?: number;
  /** Distinct users that may claim from one offering. */
  claimantsPerOfferingMax?: number;
  /** Pending stop orders (OCO leg B included) in one symbol. */
  pendingOrdersPerSymbolMax?: number;
  /** Pending stop orders of one user over all symbols. */
  pendingOrdersPerUserMax?: number;
  /**
   * Trades one command may produce: a placed order whose sweep would make more is rejected whole
   * (LIMIT_EXCEEDED); an activated stop order that would take the command past it expires whole
   * (UNFILLED). Bounds a command's events and its time.
   */
  fillsPerCommandMax?: number;
}

export const defaultEngineLimits: EngineLimits = {
  symbolsMax: 1_000,
  assetsMax: 2_000,
  usersMax: 10_000_000,
  openOrdersPerUserMax: 100_000,
  ordersPerBookMax: 2_000_000,
  orderIdsMax: 100_000_000,
  restingOrdersMax: 16_000_000,
  offeringsMax: 1_000,
  claimantsPerOfferingMax: 1_000_000,
  pendingOrdersPerSymbolMax: 100_000,
  pendingOrdersPerUserMax: 1_000,
  fillsPerCommandMax: 1_000_000,
};

export interface BalanceView {
  asset: string;
  available: number;
  locked: number;
}

export interface OrderView {
  id: number;
  user: number;
  symbol: string;
  side: Side;
  price: number;
  /** Original quantity at acceptance. */
  qty: number;
  /** Quantity still resting (or still pending). */
  remaining: number;
  /** Pending stop orders: trigger price and direction. */
  stopPrice?: number;
  trigger?: StopTrigger;
  /** Iceberg orders: shown part size and what is shown now. */
  displayQty?: number;
  visibleQty?: number;
  /** The other leg while an OCO link is live. */
  ocoId?: number;
}

export interface DepthView {
  symbol: string;
  /** [price, total qty] per level, best first. */
  bids: Array<[number, number]>;
  asks: Array<[number, number]>;
}

export interface SymbolView {
  symbol: string;
  base: string;
  quote: string;
  lotSize: number;
  tickSize: number;
  makerFeeBps: number;
  takerFeeBps: number;
}

/**
 * The engine's surface. `apply` runs one command to completion and returns its events; the
 * returned array and its objects are owned by the engine and valid until the next `apply`.
 */
export interface MatchingEngine {
  apply(command: unknown): readonly EngineEvent[];
  balance(user: number, asset: string): BalanceView;
  balances(user: number): BalanceView[];
  openOrders(user: number): OrderView[];
  /** An open order (resting or pending), or undefined. */
  order(id: number): OrderView | undefined;
  depth(symbol: string, levelsMax: number): DepthView | undefined;
  symbols(): SymbolView[];
  /** Hex digest over the full state in a canonical order. */
  stateHash(): string;
  /** Throws an Error naming the first broken invariant. */
  validateInternalState(): void;
  /** A JSON-serialisable copy of the full state, for snapshots. */
  exportState(): unknown;
}
