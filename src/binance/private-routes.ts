// Binance's private spot REST API (docs/BINANCE.md "Private API") over the gateway's services:
// every request is signed with an API key (src/gateway/api-key-auth.ts), orders go through the
// same TradingService as /api/v1/orders (so the per-user order limit and suspension apply whatever
// the key), and the replies are mapped in one place (private-views.ts). Form bodies are kept as
// text in this plugin only, since the signature covers their exact bytes.
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { authenticateApiKey, signedParamsOf } from '../gateway/api-key-auth.js';
import type { GatewayServices } from '../gateway/services.js';
import type { Market } from '../gateway/markets.js';
import { isLive, type TrackedOrder, type TrackedTrade } from '../gateway/order-tracker.js';
import type { PlaceRequest } from '../gateway/trading.js';
import type { ApiKeyPermission } from '../store/ports.js';
import type { OrderRecord } from '../store/history.js';
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

type Params = Map<string, string>;

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

/**
 * The routes in their own encapsulated scope (form bodies as text, Binance's error shape). The
 * gateway's authentication hook treats them as public: they authenticate here, after the body is
 * read, because the signature covers the body.
 */
export const binancePrivateRoutes: FastifyPluginAsync = async (app) => {
  const context = app.services;
  await app.register(async (scope) => {
    scope.addContentTypeParser(
      'application/x-www-form-urlencoded',
      { parseAs: 'string' },
      (_request, body, done) => done(null, body),
    );
    scope.setErrorHandler((thrown, request, reply) => {
      const error = binanceErrorOf(thrown);
      if (error !== undefined) {
        context.metrics.rejects.inc({ code: String(error.code) });
        return reply.code(error.statusCode).send(error.body());
      }
      const status = (thrown as { statusCode?: number }).statusCode;
      if (status !== undefined && status >= 400 && status < 500)
        return reply.code(status).send({ code: -1101, msg: (thrown as Error).message });
      request.log.error({ err: thrown }, 'binance request failed');
      return reply
        .code(500)
        .send({ code: -1000, msg: 'An unknown error occurred while processing the request.' });
    });
    routes(scope, context);
  });
};

function routes(app: FastifyInstance, context: GatewayServices): void {
  const { state, trading } = context;
  const tags = ['binance'];
  const config = { auth: 'public' } as const;

  async function signed(
    request: FastifyRequest,
    permission: ApiKeyPermission,
  ): Promise<{ user: number; params: Params }> {
    const principal = await authenticateApiKey(request, context.apiKeyAuth, { permission });
    return { user: principal.userId, params: signedParamsOf(request) };
  }

  function marketOf(params: Params): Market {
    const market = marketOfBinanceSymbol(state.markets, required(params, 'symbol'));
    if (market === undefined) throw new BinanceError(400, -1121, 'Invalid symbol.');
    return market;
  }

  /** The caller's order by orderId or origClientOrderId, from memory; undefined when not kept. */
  function ownOrder(user: number, params: Params): TrackedOrder | undefined {
    const id = optionalInteger(params, 'orderId');
    if (id !== undefined) return state.tracker.order(user, id);
    const clientId = params.get('origClientOrderId');
    if (clientId === undefined || clientId === '') throw missing('orderId');
    return state.tracker.orders(user).find((order) => (order.clientOrderId ?? String(order.id)) === clientId);
  }

  function view(order: TrackedOrder, trades: readonly TrackedTrade[]) {
    return orderView(order, trading.marketOf(order.symbol), trades);
  }

  app.get('/api/v3/account', { config, schema: { tags, summary: 'Balances (Binance)' } }, async (request) => {
    const { user } = await signed(request, 'read');
    const markets = state.markets;
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
      updateTime: context.clock(),
      accountType: 'SPOT',
      balances: context.engine.balances(user).map((balance) => balanceView(balance, markets)),
      permissions: ['SPOT'],
      uid: user,
    };
  });

  async function place(request: FastifyRequest, reply: FastifyReply, test: boolean) {
    const { user, params } = await signed(request, 'trade');
    const market = marketOf(params);
    const { placeRequest, type, responseType } = placeRequestOf(params, market);
    if (test) return reply.send({});
    const result = await trading.place(user, placeRequest);
    return reply.send(
      placeView({
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
      }),
    );
  }

  app.post('/api/v3/order', { config, schema: { tags, summary: 'New order (Binance)' } }, (request, reply) =>
    place(request, reply, false),
  );
  app.post(
    '/api/v3/order/test',
    { config, schema: { tags, summary: 'Check a new order without placing it' } },
    (request, reply) => place(request, reply, true),
  );

  app.get(
    '/api/v3/order',
    { config, schema: { tags, summary: 'One of my orders (Binance)' } },
    async (request) => {
      const { user, params } = await signed(request, 'read');
      const market = marketOf(params);
      const order = ownOrder(user, params) ?? (await orderFromHistory(context, user, params));
      if (order === undefined || order.symbol !== market.symbol)
        throw new BinanceError(400, -2013, 'Order does not exist.');
      return view(order, state.tracker.trades(user));
    },
  );

  async function cancelOne(user: number, order: TrackedOrder) {
    await trading.cancel(user, order.id);
    const after = state.tracker.order(user, order.id) ?? { ...order, status: 'cancelled' as const };
    const clientOrderId = order.clientOrderId ?? String(order.id);
    return { origClientOrderId: clientOrderId, ...view(after, state.tracker.trades(user)) };
  }

  app.delete(
    '/api/v3/order',
    { config, schema: { tags, summary: 'Cancel an order (Binance)' } },
    async (request) => {
      const { user, params } = await signed(request, 'trade');
      const market = marketOf(params);
      const order = ownOrder(user, params);
      if (order === undefined || order.symbol !== market.symbol || !isLive(order.status))
        throw new BinanceError(400, -2011, 'Unknown order sent.');
      try {
        return await cancelOne(user, order);
      } catch (error) {
        if (binanceErrorOf(error)?.code === -2013) throw new BinanceError(400, -2011, 'Unknown order sent.');
        throw error;
      }
    },
  );

  app.get(
    '/api/v3/openOrders',
    { config, schema: { tags, summary: 'My open orders (Binance)' } },
    async (request) => {
      const { user, params } = await signed(request, 'read');
      const market = params.has('symbol') ? marketOf(params) : undefined;
      const trades = state.tracker.trades(user);
      return state.tracker
        .openOrders(user)
        .filter((order) => market === undefined || order.symbol === market.symbol)
        .reverse()
        .map((order) => view(order, trades));
    },
  );

  app.delete(
    '/api/v3/openOrders',
    { config, schema: { tags, summary: 'Cancel all my orders of a symbol' } },
    async (request) => {
      const { user, params } = await signed(request, 'trade');
      const market = marketOf(params);
      const open = state.tracker.openOrders(user).filter((order) => order.symbol === market.symbol);
      const cancelled = [];
      for (const order of open.reverse()) {
        try {
          cancelled.push(await cancelOne(user, order));
        } catch (error) {
          // Filled or cancelled meanwhile: nothing left to cancel.
          if (binanceErrorOf(error)?.code !== -2013) throw error;
        }
      }
      return cancelled;
    },
  );

  app.get(
    '/api/v3/allOrders',
    { config, schema: { tags, summary: 'My orders of a symbol, oldest first' } },
    async (request) => {
      const { user, params } = await signed(request, 'read');
      const market = marketOf(params);
      const fromId = optionalInteger(params, 'orderId') ?? 0;
      const startTime = optionalInteger(params, 'startTime') ?? 0;
      const endTime = optionalInteger(params, 'endTime') ?? Number.MAX_SAFE_INTEGER;
      const limit = limitOf(params);
      const byId = new Map<number, TrackedOrder>();
      for (const order of await historyOrders(context, user)) byId.set(order.id, order);
      for (const order of state.tracker.orders(user)) byId.set(order.id, order);
      const trades = state.tracker.trades(user);
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
        .map((order) => view(order, trades));
    },
  );

  app.get(
    '/api/v3/myTrades',
    { config, schema: { tags, summary: 'My trades of a symbol, oldest first' } },
    async (request) => {
      const { user, params } = await signed(request, 'read');
      const market = marketOf(params);
      const orderId = optionalInteger(params, 'orderId');
      const fromId = optionalInteger(params, 'fromId') ?? 0;
      const startTime = optionalInteger(params, 'startTime') ?? 0;
      const endTime = optionalInteger(params, 'endTime') ?? Number.MAX_SAFE_INTEGER;
      const limit = limitOf(params);
      return state.tracker
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
    },
  );
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
  context: GatewayServices,
  user: number,
  params: Params,
): Promise<TrackedOrder | undefined> {
  const id = optionalInteger(params, 'orderId');
  if (id === undefined || context.history === undefined) return undefined;
  const record = await context.history.orderOfUser(user, id);
  return record === undefined ? undefined : trackedOf(record);
}

/** The newest page of the caller's orders in the read model (all symbols; the caller filters). */
async function historyOrders(context: GatewayServices, user: number): Promise<TrackedOrder[]> {
  if (context.history === undefined) return [];
  const page = await context.history.ordersOfUser(user, { limit: listLimitMax });
  return page.items.map(trackedOf);
}

function trackedOf(record: OrderRecord): TrackedOrder {
  return {
    id: record.orderId,
    user: record.userId,
    symbol: record.symbol,
    side: record.side,
    type: record.type as TrackedOrder['type'],
    tif: record.tif as TrackedOrder['tif'],
    price: record.price,
    qty: record.qty,
    filled: record.filledQty,
    remaining: record.remainingQty,
    status: record.status === 'partiallyFilled' ? 'open' : (record.status as TrackedOrder['status']),
    createdAtMs: record.createdTsMs,
    updatedAtMs: record.updatedTsMs,
    stopPrice: record.stopPrice ?? undefined,
    trigger: (record.trigger ?? undefined) as TrackedOrder['trigger'],
    triggeredAtMs: record.triggeredTsMs ?? undefined,
    displayQty: record.displayQty ?? undefined,
    ocoId: record.ocoId ?? undefined,
  };
}
