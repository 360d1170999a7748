// Binance's private spot operations, shared by the REST routes (private-routes.ts) and the
// WebSocket API (ws-api.ts): each takes the authenticated user and the request's parameters and
// answers Binance's shape (private-views.ts). Orders go through the gateway's TradingService, so
// the per-user order limit and abnormal-traffic suspension apply whatever the key or transport.
import type { Market } from '../gateway/markets.js';
import { isLive, type TrackedOrder, trackedOf } from '../gateway/order-tracker.js';
import type { GatewayServices } from '../gateway/services.js';
import type { PlaceRequest } from '../gateway/trading.js';
import {
  BinanceError,
  type BinanceOrderType,
  type BinanceResponseType,
  balanceView,
  binanceErrorOf,
  binanceOrderTypes,
  marketOfBinanceSymbol,
  orderView,
  placeView,
  tradeView,
} from './private-views.js';

const listLimitDefault = 500;
const listLimitMax = 1_000;

export type Params = Map<string, string>;

function missing(name: string): BinanceError {
  return new BinanceError(
    400,
    -1102,
    `Mandatory parameter '${name}' was not sent, was empty/null, or malformed.`,
  );
}

function required(params: Params, name: string): string {
  const value = params.get(name);
  if (value === undefined || value === '') throw missing(name);
  return value;
}

function optionalInteger(params: Params, name: string): number | undefined {
  const text = params.get(name);
  if (text === undefined || text === '') return undefined;
  const value = Number(text);
  if (!/^[0-9]{1,16}$/.test(text) || !Number.isSafeInteger(value))
    throw new BinanceError(
      400,
      -1100,
      `Illegal characters found in parameter '${name}'; legal range is '^[0-9]{1,20}$'.`,
    );
  return value;
}

function limitOf(params: Params): number {
  const limit = optionalInteger(params, 'limit') ?? listLimitDefault;
  if (limit < 1 || limit > listLimitMax)
    throw new BinanceError(
      400,
      -1130,
      `Invalid data sent for a parameter: limit must be 1 to ${listLimitMax}.`,
    );
  return limit;
}

export class PrivateOperations {
  constructor(private readonly services: GatewayServices) {}

  marketOf(params: Params): Market {
    const market = marketOfBinanceSymbol(this.services.state.markets, required(params, 'symbol'));
    if (market === undefined) throw new BinanceError(400, -1121, 'Invalid symbol.');
    return market;
  }

  /** The caller's order by orderId or origClientOrderId, from memory; undefined when not kept. */
  private ownOrder(user: number, params: Params): TrackedOrder | undefined {
    const { tracker } = this.services.state;
    const id = optionalInteger(params, 'orderId');
    if (id !== undefined) return tracker.order(user, id);
    const clientId = params.get('origClientOrderId');
    if (clientId === undefined || clientId === '') throw missing('orderId');
    return tracker.orders(user).find((order) => (order.clientOrderId ?? String(order.id)) === clientId);
  }

  private view(user: number, order: TrackedOrder) {
    return orderView(
      order,
      this.services.trading.marketOf(order.symbol),
      this.services.state.tracker.trades(user),
    );
  }

  account(user: number) {
    const { engine, state, clock } = this.services;
    return {
      makerCommission: 0,
      takerCommission: 0,
      buyerCommission: 0,
      sellerCommission: 0,
      commissionRates: { maker: '0', taker: '0', buyer: '0', seller: '0' },
      canTrade: true,
      canWithdraw: false,
      canDeposit: false,
      brokered: false,
      requireSelfTradePrevention: false,
      preventSor: false,
      updateTime: clock(),
      accountType: 'SPOT',
      balances: engine.balances(user).map((balance) => balanceView(balance, state.markets)),
      permissions: ['SPOT'],
      uid: user,
    };
  }

  /** A new order; `test` checks the parameters and places nothing (answers `{}`). */
  async place(user: number, params: Params, test: boolean) {
    const market = this.marketOf(params);
    const { placeRequest, type, responseType } = placeRequestOf(params, market);
    if (test) return {};
    const result = await this.services.trading.place(user, placeRequest);
    return placeView({
      result,
      market,
      type,
      side: placeRequest.side === 'buy' ? 'BUY' : 'SELL',
      timeInForce: placeRequest.tif ?? (placeRequest.type === 'market' ? 'IOC' : 'GTC'),
      price: placeRequest.price ?? '0',
      origQty: placeRequest.qty,
      stopPrice: placeRequest.stopPrice,
      icebergQty: placeRequest.displayQty,
      clientOrderId: result.clientOrderId ?? String(result.orderId),
      responseType,
    });
  }

  /**
   * `POST /api/v3/orderList/oco` as Hoga's OCO (a post-only limit leg and a stop leg): a SELL's
   * above leg is the LIMIT_MAKER and its below leg the STOP_LOSS(_LIMIT); a BUY the other way round.
   */
  async placeOco(user: number, params: Params) {
    const market = this.marketOf(params);
    const side = sides[required(params, 'side')];
    if (side === undefined) throw new BinanceError(400, -1117, 'Invalid side.');
    const [limitLeg, stopLeg] = side === 'sell' ? ['above', 'below'] : ['below', 'above'];
    if (params.get(`${limitLeg}Type`) !== 'LIMIT_MAKER')
      throw new BinanceError(
        400,
        -1106,
        `Parameter '${limitLeg}Type' must be LIMIT_MAKER for a ${side} OCO.`,
      );
    const stopType = required(params, `${stopLeg}Type`);
    if (stopType !== 'STOP_LOSS' && stopType !== 'STOP_LOSS_LIMIT')
      throw new BinanceError(400, -1106, `Parameter '${stopLeg}Type' must be STOP_LOSS or STOP_LOSS_LIMIT.`);
    const result = await this.services.trading.placeOco(user, {
      symbol: market.symbol,
      side,
      qty: required(params, 'quantity'),
      price: required(params, `${limitLeg}Price`),
      stopPrice: required(params, `${stopLeg}StopPrice`),
      stopLimitPrice: stopType === 'STOP_LOSS_LIMIT' ? required(params, `${stopLeg}Price`) : undefined,
      clientOrderId: params.get('listClientOrderId'),
    });
    const symbol = market.base + market.quote;
    const legs = [result.orderId, result.stopOrderId ?? result.orderId];
    return {
      orderListId: result.orderId,
      contingencyType: 'OCO',
      listStatusType: 'EXEC_STARTED',
      listOrderStatus: 'EXECUTING',
      listClientOrderId: result.clientOrderId ?? String(result.orderId),
      transactionTime: result.ts,
      symbol,
      orders: legs.map((orderId) => ({ symbol, orderId, clientOrderId: String(orderId) })),
      orderReports: legs
        .map((orderId) => this.services.state.tracker.order(user, orderId))
        .filter((order): order is TrackedOrder => order !== undefined)
        .map((order) => this.view(user, order)),
    };
  }

  async order(user: number, params: Params) {
    const market = this.marketOf(params);
    const order = this.ownOrder(user, params) ?? (await orderFromHistory(this.services, user, params));
    if (order === undefined || order.symbol !== market.symbol)
      throw new BinanceError(400, -2013, 'Order does not exist.');
    return this.view(user, order);
  }

  private async cancelOne(user: number, order: TrackedOrder) {
    await this.services.trading.cancel(user, order.id);
    const after = this.services.state.tracker.order(user, order.id) ?? {
      ...order,
      status: 'cancelled' as const,
    };
    return { origClientOrderId: order.clientOrderId ?? String(order.id), ...this.view(user, after) };
  }

  async cancel(user: number, params: Params) {
    const market = this.marketOf(params);
    const order = this.ownOrder(user, params);
    if (order === undefined || order.symbol !== market.symbol || !isLive(order.status))
      throw new BinanceError(400, -2011, 'Unknown order sent.');
    try {
      return await this.cancelOne(user, order);
    } catch (error) {
      if (binanceErrorOf(error)?.code === -2013) throw new BinanceError(400, -2011, 'Unknown order sent.');
      throw error;
    }
  }

  openOrders(user: number, params: Params) {
    const market = params.has('symbol') ? this.marketOf(params) : undefined;
    return this.services.state.tracker
      .openOrders(user)
      .filter((order) => market === undefined || order.symbol === market.symbol)
      .reverse()
      .map((order) => this.view(user, order));
  }

  async cancelAll(user: number, params: Params) {
    const market = this.marketOf(params);
    const open = this.services.state.tracker
      .openOrders(user)
      .filter((order) => order.symbol === market.symbol);
    const cancelled = [];
    for (const order of open.reverse()) {
      try {
        cancelled.push(await this.cancelOne(user, order));
      } catch (error) {
        // Filled or cancelled meanwhile: nothing left to cancel.
        if (binanceErrorOf(error)?.code !== -2013) throw error;
      }
    }
    return cancelled;
  }

  /** Oldest first: the read model's newest page merged with the tracker's (which wins: it has client ids). */
  async allOrders(user: number, params: Params) {
    const market = this.marketOf(params);
    const fromId = optionalInteger(params, 'orderId') ?? 0;
    const startTime = optionalInteger(params, 'startTime') ?? 0;
    const endTime = optionalInteger(params, 'endTime') ?? Number.MAX_SAFE_INTEGER;
    const limit = limitOf(params);
    const byId = new Map<number, TrackedOrder>();
    for (const order of await historyOrders(this.services, user)) byId.set(order.id, order);
    for (const order of this.services.state.tracker.orders(user)) byId.set(order.id, order);
    return [...byId.values()]
      .filter(
        (order) =>
          order.symbol === market.symbol &&
          order.id >= fromId &&
          order.createdAtMs >= startTime &&
          order.createdAtMs <= endTime,
      )
      .sort((left, right) => left.id - right.id)
      .slice(0, limit)
      .map((order) => this.view(user, order));
  }

  myTrades(user: number, params: Params) {
    const market = this.marketOf(params);
    const orderId = optionalInteger(params, 'orderId');
    const fromId = optionalInteger(params, 'fromId') ?? 0;
    const startTime = optionalInteger(params, 'startTime') ?? 0;
    const endTime = optionalInteger(params, 'endTime') ?? Number.MAX_SAFE_INTEGER;
    const limit = limitOf(params);
    return this.services.state.tracker
      .trades(user)
      .filter(
        (trade) =>
          trade.symbol === market.symbol &&
          (orderId === undefined || trade.orderId === orderId) &&
          trade.tradeId >= fromId &&
          trade.atMs >= startTime &&
          trade.atMs <= endTime,
      )
      .reverse()
      .slice(0, limit)
      .map((trade) => tradeView(trade, market));
  }
}

const sides: Record<string, PlaceRequest['side']> = { BUY: 'buy', SELL: 'sell' };
const stpModes: Record<string, PlaceRequest['stp']> = {
  NONE: 'none',
  EXPIRE_MAKER: 'expireMaker',
  EXPIRE_TAKER: 'expireTaker',
  EXPIRE_BOTH: 'expireBoth',
};

/** Binance's new-order parameters as the gateway's place request. */
export function placeRequestOf(
  params: Params,
  market: Market,
): { placeRequest: PlaceRequest; type: BinanceOrderType; responseType: BinanceResponseType } {
  const side = sides[required(params, 'side')];
  if (side === undefined) throw new BinanceError(400, -1117, 'Invalid side.');
  const type = required(params, 'type') as BinanceOrderType;
  if (!binanceOrderTypes.includes(type)) throw new BinanceError(400, -1116, 'Invalid orderType.');
  if (params.has('quoteOrderQty'))
    throw new BinanceError(400, -1106, "Parameter 'quoteOrderQty' sent when not required: send quantity.");
  const limitPriced = type === 'LIMIT' || type === 'LIMIT_MAKER' || type.endsWith('_LIMIT');
  const stop = type.startsWith('STOP_LOSS') || type.startsWith('TAKE_PROFIT');
  const tifText = params.get('timeInForce');
  if (tifText !== undefined && tifText !== 'GTC' && tifText !== 'IOC' && tifText !== 'FOK')
    throw new BinanceError(400, -1115, 'Invalid timeInForce.');
  if (tifText !== undefined && !limitPriced)
    throw new BinanceError(400, -1106, "Parameter 'timeInForce' sent when not required.");
  const stpText = params.get('selfTradePreventionMode');
  const stp = stpText === undefined ? undefined : stpModes[stpText];
  if (stpText !== undefined && stp === undefined)
    throw new BinanceError(400, -1100, "Illegal characters found in parameter 'selfTradePreventionMode'.");
  const responseText = params.get('newOrderRespType');
  if (
    responseText !== undefined &&
    responseText !== 'ACK' &&
    responseText !== 'RESULT' &&
    responseText !== 'FULL'
  )
    throw new BinanceError(400, -1100, "Illegal characters found in parameter 'newOrderRespType'.");
  const placeRequest: PlaceRequest = {
    symbol: market.symbol,
    side,
    type: limitPriced ? 'limit' : 'market',
    qty: required(params, 'quantity'),
    price: limitPriced ? required(params, 'price') : undefined,
    tif: limitPriced && type !== 'LIMIT_MAKER' ? ((tifText ?? 'GTC') as PlaceRequest['tif']) : undefined,
    postOnly: type === 'LIMIT_MAKER' ? true : undefined,
    stp,
    stopPrice: stop ? required(params, 'stopPrice') : undefined,
    trigger: stop ? (type.startsWith('TAKE_PROFIT') ? 'takeProfit' : 'stopLoss') : undefined,
    displayQty: params.get('icebergQty'),
    clientOrderId: params.get('newClientOrderId'),
  };
  if (!limitPriced && params.has('price'))
    throw new BinanceError(400, -1106, "Parameter 'price' sent when not required.");
  const defaultResponse: BinanceResponseType = type === 'LIMIT' || type === 'MARKET' ? 'FULL' : 'ACK';
  return {
    placeRequest,
    type,
    responseType: (responseText as BinanceResponseType | undefined) ?? defaultResponse,
  };
}

/** An order no longer in memory, from the read model (it keeps no clientOrderId). */
async function orderFromHistory(
  services: GatewayServices,
  user: number,
  params: Params,
): Promise<TrackedOrder | undefined> {
  const id = optionalInteger(params, 'orderId');
  if (id === undefined || services.history === undefined) return undefined;
  const record = await services.history.orderOfUser(user, id);
  return record === undefined ? undefined : trackedOf(record);
}

/** The newest page of the caller's orders in the read model (all symbols; the caller filters). */
async function historyOrders(services: GatewayServices, user: number): Promise<TrackedOrder[]> {
  if (services.history === undefined) return [];
  const page = await services.history.ordersOfUser(user, { limit: listLimitMax });
  return page.items.map(trackedOf);
}
