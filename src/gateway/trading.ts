// Order entry shared by REST and WebSocket: validate and convert the request, check limits and
// suspension, submit to the sequencer (the reply waits until the command is durable and applied),
// and summarise what happened to the order from its events.
import type {
  Command,
  OrderType,
  RejectCode,
  SelfTradePrevention,
  Side,
  TimeInForce,
} from '../core/types.js';
import type { CommandOutcome, CommandSequencer } from '../ports.js';
import type { AbnormalTrafficDetector } from './abnormal-traffic.js';
import { formatUnits, lotsToQty, minorToAmount, minorToPrice, priceToMinor, qtyToLots } from './decimal.js';
import { type ErrorCode, GatewayError } from './errors.js';
import { IdempotencyConflict, type IdempotencyIndex } from './idempotency.js';
import type { Market, MarketRegistry } from './markets.js';
import type { TokenBuckets } from './rate-limits.js';

export interface PlaceRequest {
  symbol: string;
  side: Side;
  type: OrderType;
  price?: string;
  qty: string;
  tif?: TimeInForce;
  postOnly?: boolean;
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

export type PlaceStatus = 'resting' | 'partiallyFilled' | 'filled' | 'expired' | 'rejected';

export interface PlaceResult {
  orderId: number;
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
  abnormal: AbnormalTrafficDetector;
  orderBuckets: TokenBuckets;
  /** Observes the time from submit to durable outcome. */
  observeEngineSeconds: (seconds: number) => void;
  /** The caller's own balance of one asset in minor units, to say what a refused order lacked. */
  balanceOf: (user: number, asset: string) => { available: number };
}

/** Reject codes that mean "not yours or gone": answered as 404 so no one learns others' ids. */
const notFoundRejects = new Set<RejectCode>(['UNKNOWN_ORDER']);

/** The request field an order reject is about, when the caller did not name one. */
const rejectFields: Partial<Record<RejectCode, string>> = {
  INVALID_QTY: 'qty',
  INVALID_PRICE: 'price',
  INVALID_TIF: 'tif',
};

export function rejectError(code: RejectCode, field?: string): GatewayError {
  const status = notFoundRejects.has(code) ? 404 : 422;
  return new GatewayError(
    status,
    code as ErrorCode,
    `the engine rejected the command: ${code}`,
    field ?? rejectFields[code],
  );
}

/** Amend only reduces (the engine keeps the order's queue place); a caller asking for more is told how. */
const amendUpMessage =
  "qty must be less than the order's remaining quantity: amend only reduces an order (it keeps its " +
  'place in the queue); to increase the size, cancel the order and place a new one';

export class TradingService {
  constructor(private readonly deps: TradingDependencies) {}

  async place(user: number, request: PlaceRequest): Promise<PlaceResult> {
    this.admit(user);
    const clientOrderId = request.clientOrderId;
    if (clientOrderId !== undefined && !clientOrderIdRegex.test(clientOrderId)) {
      throw new GatewayError(
        400,
        'VALIDATION_FAILED',
        `clientOrderId must match ${clientOrderIdPattern}`,
        'clientOrderId',
      );
    }
    const command = placeCommand(user, request, this.marketOf(request.symbol));
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
        409,
        'CLIENT_ORDER_ID_CONFLICT',
        `clientOrderId ${clientOrderId} was already used for a different order`,
        'clientOrderId',
      );
    }
  }

  async cancel(user: number, orderId: number): Promise<CancelResult> {
    this.admit(user);
    const outcome = await this.submit(user, { op: 'cancel', user, id: orderId });
    const cancelled = outcome.events.find((event) => event.ev === 'cancelled');
    if (cancelled === undefined || cancelled.ev !== 'cancelled') throw this.rejected(user, outcome);
    const market = this.deps.markets.market(cancelled.symbol);
    const cancelledQty =
      market === undefined ? String(cancelled.qty) : lotsToQty(cancelled.qty, market.scale);
    return { orderId, cancelledQty, seq: outcome.seq };
  }

  async amend(user: number, orderId: number, symbol: string, qty: string): Promise<AmendResult> {
    this.admit(user);
    const market = this.marketOf(symbol);
    const qtyLots = qtyToLots(qty, market.scale);
    if (!qtyLots.ok) throw new GatewayError(400, 'INVALID_QTY', `qty ${qtyLots.message}`, 'qty');
    const outcome = await this.submit(user, { op: 'amend', user, id: orderId, qty: qtyLots.value });
    const amended = outcome.events.find((event) => event.ev === 'amended');
    if (amended === undefined || amended.ev !== 'amended') {
      const error = this.rejected(user, outcome);
      if (error.code !== 'INVALID_QTY') throw error;
      throw new GatewayError(error.statusCode, error.code, amendUpMessage, 'qty');
    }
    return { orderId, remainingQty: lotsToQty(amended.qty, market.scale), seq: outcome.seq };
  }

  marketOf(symbol: string): Market {
    const market = this.deps.markets.market(symbol);
    if (market === undefined) throw new GatewayError(400, 'UNKNOWN_SYMBOL', `no market ${symbol}`, 'symbol');
    return market;
  }

  /** Rate limit and suspension, checked before anything reaches the sequencer. */
  /** Suspension and the per-user order rate: every trading request (orders, claims) passes here. */
  admit(user: number): void {
    const suspendedMs = this.deps.abnormal.suspendedForMs(user);
    if (suspendedMs > 0) {
      const seconds = Math.ceil(suspendedMs / 1000);
      throw new GatewayError(
        403,
        'SUSPENDED',
        'trading suspended after abnormal traffic',
        undefined,
        seconds,
      );
    }
    const taken = this.deps.orderBuckets.take(String(user));
    if (!taken.ok) {
      throw new GatewayError(429, 'RATE_LIMITED', 'order rate limit', undefined, taken.retryAfterSeconds);
    }
    this.deps.abnormal.recordOrder(user);
  }

  private async placeOnce(user: number, command: PlaceCommand): Promise<PlaceResult> {
    const outcome = await this.submit(user, command);
    const result = summarisePlace(outcome, this.deps.markets);
    if (result === undefined)
      throw new GatewayError(500, 'INTERNAL', 'the engine gave no outcome for the order');
    if (result.status === 'rejected') this.deps.abnormal.recordReject(user);
    if (command.clientOrderId !== undefined) {
      this.deps.idempotency.record(
        user,
        command.clientOrderId,
        result,
        outcome.ts,
        placeFingerprint(command),
      );
    }
    return result;
  }

  private async submit(_user: number, command: Command): Promise<CommandOutcome> {
    // A double, not process.hrtime.bigint(): two BigInts per order were a visible share of garbage.
    const startedMs = performance.now();
    try {
      return await this.deps.sequencer.submit(command);
    } catch (error) {
      if ((error as { code?: unknown }).code === 'QUEUE_FULL') {
        throw new GatewayError(503, 'QUEUE_FULL', 'the exchange is busy, retry shortly', undefined, 1);
      }
      throw error;
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
      422,
      'INSUFFICIENT_FUNDS',
      `not enough ${asset}: the order needs ${required} ${asset} and ${available} ${asset} is available`,
      'qty',
      undefined,
      { asset, required, available },
    );
  }

  private rejected(user: number, outcome: CommandOutcome): GatewayError {
    this.deps.abnormal.recordReject(user);
    const rejected = outcome.events.find((event) => event.ev === 'rejected');
    if (rejected === undefined || rejected.ev !== 'rejected') {
      return new GatewayError(500, 'INTERNAL', 'the engine gave no outcome for the command');
    }
    return rejectError(rejected.reason);
  }
}

/** The journaled place command: the engine's fields and the request's clientOrderId. */
type PlaceCommand = Command & { op: 'place'; clientOrderId?: string };

/**
 * What makes two requests with one clientOrderId the same order: every order field of the command,
 * in engine units (so "0.10" and "0.1" agree) and with the engine's defaults filled in (an absent
 * tif is GTC for a limit and IOC for a market order, postOnly false, stp expireMaker). Computed
 * from the journaled command, so replay after a restart gives the same fingerprint.
 */
export function placeFingerprint(command: {
  symbol?: unknown;
  side?: unknown;
  type?: unknown;
  qty?: unknown;
  price?: unknown;
  tif?: unknown;
  postOnly?: unknown;
  stp?: unknown;
}): string {
  const defaultTif = command.type === 'market' ? 'IOC' : 'GTC';
  return JSON.stringify([
    command.symbol,
    command.side,
    command.type,
    command.qty,
    command.price ?? null,
    command.tif ?? defaultTif,
    command.postOnly ?? false,
    command.stp ?? 'expireMaker',
  ]);
}

/** The engine command for a validated request; decimal problems are 400s naming the field. */
function placeCommand(user: number, request: PlaceRequest, market: Market): PlaceCommand {
  const qty = qtyToLots(request.qty, market.scale);
  if (!qty.ok) throw new GatewayError(400, 'INVALID_QTY', `qty ${qty.message}`, 'qty');
  const command: Record<string, unknown> = {
    op: 'place',
    user,
    symbol: market.symbol,
    side: request.side,
    type: request.type,
    qty: qty.value,
  };
  if (request.type === 'limit') {
    if (request.price === undefined)
      throw new GatewayError(400, 'INVALID_PRICE', 'price is required', 'price');
    const price = priceToMinor(request.price, market.scale);
    if (!price.ok) throw new GatewayError(400, 'INVALID_PRICE', `price ${price.message}`, 'price');
    command.price = price.value;
  } else if (request.price !== undefined) {
    throw new GatewayError(400, 'INVALID_PRICE', 'a market order takes no price', 'price');
  }
  if (request.tif !== undefined) command.tif = request.tif;
  if (request.postOnly !== undefined) command.postOnly = request.postOnly;
  if (request.stp !== undefined) command.stp = request.stp;
  if (request.clientOrderId !== undefined) command.clientOrderId = request.clientOrderId;
  // No id: the sequencer assigns id = seq, unique for ever and the same on replay.
  return command as unknown as PlaceCommand;
}

/** What happened to a placed order, from its command's events; undefined for other commands. */
export function summarisePlace(outcome: CommandOutcome, markets: MarketRegistry): PlaceResult | undefined {
  const command = outcome.command as Command & { clientOrderId?: unknown };
  if (command.op !== 'place') return undefined;
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
  for (const event of outcome.events) {
    if (event.ev === 'rejected') result.rejectCode = event.reason;
    else if (event.ev === 'accepted' && event.id === result.orderId) accepted = true;
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
  result.status = placeStatus(filledLots, restingLots, expiredLots);
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
