// Order entry shared by REST and WebSocket: validate and convert the request, check limits and
// suspension, submit to the sequencer (the reply waits until the command is durable and applied),
// and summarise what happened to the order from its events.
import type {
  Command,
  OcoCommand,
  OrderType,
  RejectCode,
  SelfTradePrevention,
  Side,
  StopTrigger,
  TimeInForce,
} from '../core/types.js';
import type { CommandOutcome, CommandSequencer } from '../ports.js';
import { formatUnits, lotsToQty, minorToAmount, minorToPrice, priceToMinor, qtyToLots } from './decimal.js';
import { GatewayError, orQueueFull, type ReplyCode } from './errors.js';
import { IdempotencyConflict, type IdempotencyIndex } from './idempotency.js';
import type { Market, MarketRegistry } from './markets.js';
import {
  type AbnormalTraffic,
  type Admission,
  composedAdmission,
  type MaybePromise,
  type OrderAdmission,
  type RateLimiter,
} from './shared-services.js';

export interface PlaceRequest {
  symbol: string;
  side: Side;
  type: OrderType;
  price?: string;
  qty: string;
  tif?: TimeInForce;
  postOnly?: boolean;
  stp?: SelfTradePrevention;
  /** Stop orders: decimal trigger price, always with `trigger`. */
  stopPrice?: string;
  trigger?: StopTrigger;
  /** Iceberg: the decimal quantity shown in the book. */
  displayQty?: string;
  clientOrderId?: string;
}

/** Two linked orders (docs/API.md "OCO orders"). */
export interface OcoRequest {
  symbol: string;
  side: Side;
  qty: string;
  price: string;
  stopPrice: string;
  stopLimitPrice?: string;
  stp?: SelfTradePrevention;
  clientOrderId?: string;
}

export interface Fill {
  tradeId: number;
  price: string;
  qty: string;
  fee: string;
  feeAsset: string;
}

/** `pending`: a stop order accepted and waiting for its trigger price (not in the book). */
export type PlaceStatus = 'pending' | 'resting' | 'partiallyFilled' | 'filled' | 'expired' | 'rejected';

export interface PlaceResult {
  orderId: number;
  /** An OCO's leg B (the stop order); `orderId` is its leg A (the limit order). */
  stopOrderId?: number;
  clientOrderId?: string;
  symbol: string;
  status: PlaceStatus;
  rejectCode?: RejectCode;
  filledQty: string;
  restingQty: string;
  expiredQty: string;
  expireReason?: string;
  fills: Fill[];
  seq: number;
  ts: number;
}

export interface CancelResult {
  orderId: number;
  cancelledQty: string;
  seq: number;
}

export interface AmendResult {
  orderId: number;
  remainingQty: string;
  seq: number;
}

export const clientOrderIdPattern = '^[A-Za-z0-9_.:-]{1,64}$';
const clientOrderIdRegex = new RegExp(clientOrderIdPattern);

export interface TradingDependencies {
  sequencer: CommandSequencer;
  markets: MarketRegistry;
  idempotency: IdempotencyIndex<PlaceResult>;
  abnormal: AbnormalTraffic;
  orderBuckets: RateLimiter;
  /** The checks over `abnormal` and `orderBuckets` (default: one after another). */
  admission?: OrderAdmission;
  /** Observes the time from submit to durable outcome. */
  observeEngineSeconds: (seconds: number) => void;
  /** The caller's own balance of one asset in minor units, to say what a refused order lacked. */
  balanceOf: (user: number, asset: string) => { available: number };
}

/**
 * The request field an engine reject is about when the caller did not name one. Its status comes
 * from the one table in errors.ts (UNKNOWN_ORDER means "not yours or gone": 404, so no one learns
 * others' ids).
 */
const rejectFields: Partial<Record<RejectCode, string>> = {
  INVALID_QTY: 'qty',
  INVALID_PRICE: 'price',
  INVALID_TIF: 'tif',
  INVALID_STOP: 'stopPrice',
  STOP_WOULD_TRIGGER: 'stopPrice',
  NOT_AMENDABLE: 'orderId',
};

export function rejectError(code: RejectCode, field?: string): GatewayError {
  return new GatewayError(code, `the engine rejected the command: ${code}`, field ?? rejectFields[code]);
}

/** Amend only reduces (the engine keeps the order's queue place); a caller asking for more is told how. */
const amendUpMessage =
  "qty must be less than the order's remaining quantity: amend only reduces an order (it keeps its " +
  'place in the queue); to increase the size, cancel the order and place a new one';

export class TradingService {
  private readonly admission: OrderAdmission;

  constructor(private readonly deps: TradingDependencies) {
    this.admission = deps.admission ?? composedAdmission(deps.orderBuckets, deps.abnormal);
  }

  async place(user: number, request: PlaceRequest): Promise<PlaceResult> {
    const admitting = this.admit(user);
    if (admitting !== undefined) await admitting;
    checkClientOrderId(request.clientOrderId);
    const command = placeCommand(user, request, this.marketOf(request.symbol));
    return this.submitOrder(user, request, command);
  }

  /** Places an OCO pair; idempotent by clientOrderId like `place` (docs/API.md "OCO orders"). */
  async placeOco(user: number, request: OcoRequest): Promise<PlaceResult> {
    const admitting = this.admit(user);
    if (admitting !== undefined) await admitting;
    checkClientOrderId(request.clientOrderId);
    const market = this.marketOf(request.symbol);
    const command = ocoCommand(user, request, market);
    const fundsRequest: PlaceRequest = {
      symbol: request.symbol,
      side: request.side,
      type: 'limit',
      qty: request.qty,
      // A buy pair reserves at the higher of its two limit prices.
      price: (command.stopLimitPrice ?? 0) > command.price ? request.stopLimitPrice : request.price,
    };
    return this.submitOrder(user, fundsRequest, command);
  }

  private async submitOrder(
    user: number,
    request: PlaceRequest,
    command: OrderCommand,
  ): Promise<PlaceResult> {
    const clientOrderId = command.clientOrderId;
    if (clientOrderId === undefined)
      return this.acceptedOrThrow(user, request, await this.placeOnce(user, command));
    const fingerprint = placeFingerprint(command);
    try {
      return this.acceptedOrThrow(
        user,
        request,
        await this.deps.idempotency.run(user, clientOrderId, fingerprint, () =>
          this.placeOnce(user, command),
        ),
      );
    } catch (error) {
      if (!(error instanceof IdempotencyConflict)) throw error;
      throw new GatewayError(
        'CLIENT_ORDER_ID_CONFLICT',
        `clientOrderId ${clientOrderId} was already used for a different order`,
        'clientOrderId',
      );
    }
  }

  async cancel(user: number, orderId: number): Promise<CancelResult> {
    const admitting = this.admit(user);
    if (admitting !== undefined) await admitting;
    const outcome = await this.submit(user, { op: 'cancel', user, id: orderId });
    const cancelled = outcome.events.find((event) => event.ev === 'cancelled');
    if (cancelled === undefined || cancelled.ev !== 'cancelled') throw this.rejected(user, outcome);
    const market = this.deps.markets.market(cancelled.symbol);
    const cancelledQty =
      market === undefined ? String(cancelled.qty) : lotsToQty(cancelled.qty, market.scale);
    return { orderId, cancelledQty, seq: outcome.seq };
  }

  async amend(user: number, orderId: number, symbol: string, qty: string): Promise<AmendResult> {
    const admitting = this.admit(user);
    if (admitting !== undefined) await admitting;
    const market = this.marketOf(symbol);
    const qtyLots = qtyToLots(qty, market.scale);
    if (!qtyLots.ok) throw new GatewayError('INVALID_QTY', `qty ${qtyLots.message}`, 'qty');
    const outcome = await this.submit(user, { op: 'amend', user, id: orderId, qty: qtyLots.value });
    const amended = outcome.events.find((event) => event.ev === 'amended');
    if (amended === undefined || amended.ev !== 'amended') {
      const error = this.rejected(user, outcome);
      if (error.code !== 'INVALID_QTY') throw error;
      throw new GatewayError(error.code, amendUpMessage, 'qty');
    }
    return { orderId, remainingQty: lotsToQty(amended.qty, market.scale), seq: outcome.seq };
  }

  marketOf(symbol: string): Market {
    const market = this.deps.markets.market(symbol);
    if (market === undefined) throw new GatewayError('UNKNOWN_SYMBOL', `no market ${symbol}`, 'symbol');
    return market;
  }

  /**
   * Suspension and the per-user order rate: every trading request (orders, claims) passes here,
   * before anything reaches the sequencer. Undefined when the answer was immediate (in-process
   * limits: no promise per order); a promise when the limits are shared (cluster mode).
   */
  admit(user: number): Promise<void> | undefined {
    const verdict = this.admission.admit(user);
    if (!(verdict instanceof Promise)) return refuseUnlessAdmitted(verdict);
    return verdict.then(refuseUnlessAdmitted);
  }

  /** Counts a reject; a shared counter that cannot be reached is the adapter's to log. */
  private recordReject(user: number): void {
    const recorded: MaybePromise<void> = this.deps.abnormal.recordReject(user);
    if (recorded instanceof Promise) recorded.catch(() => {});
  }

  private async placeOnce(user: number, command: OrderCommand): Promise<PlaceResult> {
    // Without ids: the sequencer stamps them (journalText).
    const outcome = await this.submit(user, command as Command);
    const result = this.placeResult(user, command, outcome);
    if (result.status === 'rejected') this.recordReject(user);
    return result;
  }

  /**
   * The order's result, built once: with a clientOrderId the gateway state's onApplied listener
   * (which runs before the submit promise's continuation) has already summarised the outcome and
   * remembered it, so that result is answered; otherwise it is summarised here.
   */
  private placeResult(user: number, command: OrderCommand, outcome: CommandOutcome): PlaceResult {
    const key = command.clientOrderId;
    const recorded = key === undefined ? undefined : this.deps.idempotency.recorded(user, key);
    if (recorded !== undefined && recorded.seq === outcome.seq) return recorded;
    const result = summarisePlace(outcome, this.deps.markets);
    if (result === undefined) throw new GatewayError('INTERNAL', 'the engine gave no outcome for the order');
    if (key !== undefined)
      this.deps.idempotency.record(user, key, result, outcome.ts, placeFingerprint(command));
    return result;
  }

  private async submit(_user: number, command: Command): Promise<CommandOutcome> {
    // A double, not process.hrtime.bigint(): two BigInts per order were a visible share of garbage.
    const startedMs = performance.now();
    try {
      return await orQueueFull(() => this.deps.sequencer.submit(command));
    } finally {
      this.deps.observeEngineSeconds((performance.now() - startedMs) / 1e3);
    }
  }

  /** An engine reject is an error reply (422, its code passed through), the same on every retry. */
  private acceptedOrThrow(user: number, request: PlaceRequest, result: PlaceResult): PlaceResult {
    if (result.status !== 'rejected') return result;
    const code = result.rejectCode ?? 'INVALID_ORDER';
    if (code === 'INSUFFICIENT_FUNDS') throw this.insufficientFunds(user, request);
    throw rejectError(code);
  }

  /**
   * INSUFFICIENT_FUNDS with what the order needs and what the caller has available, in the asset's
   * decimals. Only the caller's own balance is read; the amount needed follows from the request
   * (a buy reserves price × quantity of the quote asset, a sell the quantity of the base asset).
   * Available is the balance when the reply is sent (the caller's own later commands may move it).
   */
  private insufficientFunds(user: number, request: PlaceRequest): GatewayError {
    const market = this.marketOf(request.symbol);
    const lots = qtyToLots(request.qty, market.scale);
    const price = request.price === undefined ? undefined : priceToMinor(request.price, market.scale);
    const buying = request.side === 'buy';
    if (!lots.ok || (buying && (price === undefined || !price.ok)))
      return rejectError('INSUFFICIENT_FUNDS', 'qty');
    const asset = buying ? market.quote : market.base;
    const decimals = buying ? market.scale.spec.quoteDecimals : market.scale.spec.baseDecimals;
    const perLotMinor = buying && price?.ok ? price.value : market.scale.lotSizeMinor;
    const required = formatUnits(BigInt(lots.value) * BigInt(perLotMinor), decimals);
    const available = formatUnits(BigInt(this.deps.balanceOf(user, asset).available), decimals);
    return new GatewayError(
      'INSUFFICIENT_FUNDS',
      `not enough ${asset}: the order needs ${required} ${asset} and ${available} ${asset} is available`,
      'qty',
      undefined,
      { asset, required, available },
    );
  }

  private rejected(user: number, outcome: CommandOutcome): GatewayError {
    this.recordReject(user);
    const rejected = outcome.events.find((event) => event.ev === 'rejected');
    if (rejected === undefined || rejected.ev !== 'rejected') {
      return new GatewayError('INTERNAL', 'the engine gave no outcome for the command');
    }
    return rejectError(rejected.reason);
  }
}

function refuseUnlessAdmitted(admission: Admission): undefined {
  if (admission.ok) return undefined;
  if (admission.suspendedMs > 0) {
    const seconds = Math.ceil(admission.suspendedMs / 1000);
    throw new GatewayError('SUSPENDED', 'trading suspended after abnormal traffic', undefined, seconds);
  }
  const retryAfterSeconds = 'retryAfterSeconds' in admission ? admission.retryAfterSeconds : 1;
  throw new GatewayError('RATE_LIMITED', 'order rate limit', undefined, retryAfterSeconds);
}

/** The journaled place command: the engine's fields and the request's clientOrderId. */
type PlaceCommand = Command & { op: 'place'; clientOrderId?: string };
/** The journaled oco command; the sequencer assigns both ids. */
type OcoOrderCommand = Omit<OcoCommand, 'id' | 'stopId'> & { clientOrderId?: string };
type OrderCommand = PlaceCommand | OcoOrderCommand;

function checkClientOrderId(clientOrderId: string | undefined): void {
  if (clientOrderId !== undefined && !clientOrderIdRegex.test(clientOrderId)) {
    throw new GatewayError(
      'VALIDATION_FAILED',
      `clientOrderId must match ${clientOrderIdPattern}`,
      'clientOrderId',
    );
  }
}

/**
 * What makes two requests with one clientOrderId the same order: every order field of the command,
 * in engine units (so "0.10" and "0.1" agree) and with the engine's defaults filled in (an absent
 * tif is GTC for a limit and IOC for a market order, postOnly false, stp expireMaker). Computed
 * from the journaled command, so replay after a restart gives the same fingerprint.
 */
export function placeFingerprint(command: {
  op?: unknown;
  symbol?: unknown;
  side?: unknown;
  type?: unknown;
  qty?: unknown;
  price?: unknown;
  tif?: unknown;
  postOnly?: unknown;
  stp?: unknown;
  stopPrice?: unknown;
  trigger?: unknown;
  displayQty?: unknown;
  stopLimitPrice?: unknown;
}): string {
  if (command.op === 'oco') {
    return JSON.stringify([
      'oco',
      command.symbol,
      command.side,
      command.qty,
      command.price,
      command.stopPrice,
      command.stopLimitPrice ?? null,
      command.stp ?? 'expireMaker',
    ]);
  }
  const defaultTif = command.type === 'market' ? 'IOC' : 'GTC';
  const fields = [
    command.symbol,
    command.side,
    command.type,
    command.qty,
    command.price ?? null,
    command.tif ?? defaultTif,
    command.postOnly ?? false,
    command.stp ?? 'expireMaker',
  ];
  // Only orders of the new kinds get the extra fields: plain orders keep the fingerprints that
  // snapshots written before stop and iceberg orders already hold.
  if (command.stopPrice !== undefined || command.trigger !== undefined || command.displayQty !== undefined)
    fields.push(command.stopPrice ?? null, command.trigger ?? null, command.displayQty ?? null);
  return JSON.stringify(fields);
}

/**
 * The engine command for a validated request; decimal problems are 400s naming the field. Every
 * optional field is set (undefined when absent), so every place command has one object shape.
 */
function placeCommand(user: number, request: PlaceRequest, market: Market): PlaceCommand {
  const qty = lotsOf(request.qty, 'qty', market);
  if (request.type === 'market' && request.price !== undefined)
    throw new GatewayError('INVALID_PRICE', 'a market order takes no price', 'price');
  if (request.type === 'limit' && request.price === undefined)
    throw new GatewayError('INVALID_PRICE', 'price is required', 'price');
  const price =
    request.price === undefined ? undefined : priceOf(request.price, 'price', 'INVALID_PRICE', market);
  checkStopFields(request);
  const displayQty =
    request.displayQty === undefined ? undefined : lotsOf(request.displayQty, 'displayQty', market);
  checkDisplayQty(request, qty, displayQty);
  // No id: the sequencer assigns id = seq, unique for ever and the same on replay.
  return {
    op: 'place',
    user,
    symbol: market.symbol,
    side: request.side,
    type: request.type,
    qty,
    price,
    tif: request.tif,
    postOnly: request.postOnly,
    stp: request.stp,
    stopPrice:
      request.stopPrice === undefined
        ? undefined
        : priceOf(request.stopPrice, 'stopPrice', 'INVALID_STOP', market),
    trigger: request.trigger,
    displayQty,
    clientOrderId: request.clientOrderId,
  } as PlaceCommand;
}

/** The oco command without ids (the sequencer stamps both: docs/API.md "OCO orders"). */
function ocoCommand(user: number, request: OcoRequest, market: Market): OcoOrderCommand {
  const stopLimitPrice = request.stopLimitPrice;
  return {
    op: 'oco',
    user,
    symbol: market.symbol,
    side: request.side,
    qty: lotsOf(request.qty, 'qty', market),
    price: priceOf(request.price, 'price', 'INVALID_PRICE', market),
    stopPrice: priceOf(request.stopPrice, 'stopPrice', 'INVALID_STOP', market),
    stopLimitPrice:
      stopLimitPrice === undefined
        ? undefined
        : priceOf(stopLimitPrice, 'stopLimitPrice', 'INVALID_PRICE', market),
    stp: request.stp,
    clientOrderId: request.clientOrderId,
  };
}

function lotsOf(text: string, field: string, market: Market): number {
  const lots = qtyToLots(text, market.scale);
  if (!lots.ok) throw new GatewayError('INVALID_QTY', `${field} ${lots.message}`, field);
  return lots.value;
}

function priceOf(text: string, field: string, code: ReplyCode, market: Market): number {
  const price = priceToMinor(text, market.scale);
  if (!price.ok) throw new GatewayError(code, `${field} ${price.message}`, field);
  return price.value;
}

/** A stop order names both its price and its trigger, and is neither post-only nor an iceberg. */
function checkStopFields(request: PlaceRequest): void {
  const { stopPrice, trigger } = request;
  if (stopPrice === undefined && trigger === undefined) return;
  if (stopPrice === undefined)
    throw new GatewayError('INVALID_STOP', 'stopPrice is required with trigger', 'stopPrice');
  if (trigger === undefined)
    throw new GatewayError('INVALID_STOP', 'trigger is required with stopPrice', 'trigger');
  if (request.postOnly === true)
    throw new GatewayError('INVALID_STOP', 'a stop order cannot be post-only', 'postOnly');
  if (request.displayQty !== undefined)
    throw new GatewayError('INVALID_STOP', 'a stop order cannot be an iceberg', 'displayQty');
}

/** An iceberg is a GTC limit order showing less than its whole quantity. */
function checkDisplayQty(request: PlaceRequest, qtyLots: number, displayLots: number | undefined): void {
  if (displayLots === undefined) return;
  if (request.type !== 'limit' || (request.tif !== undefined && request.tif !== 'GTC'))
    throw new GatewayError('INVALID_TIF', 'displayQty needs a GTC limit order', 'displayQty');
  if (displayLots >= qtyLots)
    throw new GatewayError('INVALID_QTY', 'displayQty must be less than qty', 'displayQty');
}

/** What happened to a placed order, from its command's events; undefined for other commands. */
export function summarisePlace(outcome: CommandOutcome, markets: MarketRegistry): PlaceResult | undefined {
  const command = outcome.command as Command & { clientOrderId?: unknown };
  if (command.op !== 'place' && command.op !== 'oco') return undefined;
  const market = markets.market(command.symbol);
  const orderId = command.id;
  const base: PlaceResult = {
    orderId,
    symbol: command.symbol,
    status: 'rejected',
    filledQty: '0',
    restingQty: '0',
    expiredQty: '0',
    fills: [],
    seq: outcome.seq,
    ts: outcome.ts,
  };
  if (command.op === 'oco') base.stopOrderId = command.stopId;
  if (typeof command.clientOrderId === 'string') base.clientOrderId = command.clientOrderId;
  if (market === undefined) {
    const rejected = outcome.events.find((event) => event.ev === 'rejected');
    if (rejected?.ev === 'rejected') base.rejectCode = rejected.reason;
    return base;
  }
  return summariseWithMarket(base, outcome, market);
}

function summariseWithMarket(result: PlaceResult, outcome: CommandOutcome, market: Market): PlaceResult {
  const scale = market.scale;
  let filledLots = 0;
  let restingLots = 0;
  let expiredLots = 0;
  let accepted = false;
  let pending = false;
  for (const event of outcome.events) {
    if (event.ev === 'rejected') result.rejectCode = event.reason;
    else if (event.ev === 'accepted' && event.id === result.orderId) {
      accepted = true;
      pending = (event.stopPrice ?? 0) > 0;
    } else if (event.ev === 'triggered' && event.id === result.orderId) pending = false;
    else if (event.ev === 'trade' && event.taker === result.orderId) {
      filledLots += event.qty;
      const feeAsset = event.takerSide === 'buy' ? market.base : market.quote;
      result.fills.push({
        tradeId: event.tradeId,
        price: minorToPrice(event.price, scale),
        qty: lotsToQty(event.qty, scale),
        fee: minorToAmount(event.takerFee, feeDecimals(market, event.takerSide)),
        feeAsset,
      });
    } else if (event.ev === 'rested' && event.id === result.orderId) restingLots = event.qty;
    else if (event.ev === 'expired' && event.id === result.orderId) {
      expiredLots = event.qty;
      result.expireReason = event.reason;
    }
  }
  if (!accepted) return result;
  result.filledQty = lotsToQty(filledLots, scale);
  result.restingQty = lotsToQty(restingLots, scale);
  result.expiredQty = lotsToQty(expiredLots, scale);
  result.status = pending ? 'pending' : placeStatus(filledLots, restingLots, expiredLots);
  return result;
}

function placeStatus(filledLots: number, restingLots: number, expiredLots: number): PlaceStatus {
  if (restingLots > 0) return filledLots > 0 ? 'partiallyFilled' : 'resting';
  if (expiredLots > 0) return 'expired';
  return 'filled';
}

/** The buyer receives (and pays fees in) base; the seller quote. */
function feeDecimals(market: Market, side: Side): number {
  return side === 'buy' ? market.scale.spec.baseDecimals : market.scale.spec.quoteDecimals;
}
