// Order entry and my orders/trades over REST. Every route that takes an order id looks it up among
// the CALLER's orders only: someone else's order is 404, exactly like a missing one (no BOLA).
import type { FastifyInstance } from 'fastify';
import { authenticate, type GatewayContext } from './context.js';
import { notFound } from './errors.js';
import type { TrackedOrder } from './order-tracker.js';
import { AmendBody, ListQuery, OrderIdParams, PlaceBody } from './schemas.js';
import { balanceJson, orderJson, tradeJson } from './views.js';

const listLimitDefault = 100;
const listLimitMax = 1_000;

function limitOf(text: string | undefined): number {
  if (text === undefined) return listLimitDefault;
  return Math.min(listLimitMax, Math.max(1, Number(text)));
}

export function registerOrderRoutes(app: FastifyInstance, context: GatewayContext): void {
  const tags = ['orders'];
  const { state, trading } = context;

  function ownOrder(user: number, orderIdText: string): TrackedOrder {
    const order = state.tracker.order(user, Number(orderIdText));
    if (order === undefined) throw notFound('order');
    return order;
  }

  function json(order: TrackedOrder) {
    const market = trading.marketOf(order.symbol);
    return orderJson(order, market);
  }

  app.post<{ Body: PlaceBody }>(
    '/api/v1/orders',
    {
      schema: {
        tags,
        body: PlaceBody,
        summary: 'Place an order; the reply says at once what happened (durable before it is sent)',
      },
    },
    async (request) => {
      const { session } = await authenticate(context, request);
      return trading.place(session.userId, request.body);
    },
  );

  app.delete<{ Params: OrderIdParams }>(
    '/api/v1/orders/:orderId',
    { schema: { tags, params: OrderIdParams, summary: 'Cancel a resting order' } },
    async (request) => {
      const { session } = await authenticate(context, request);
      const order = ownOrder(session.userId, request.params.orderId);
      return trading.cancel(session.userId, order.id);
    },
  );

  app.patch<{ Params: OrderIdParams; Body: AmendBody }>(
    '/api/v1/orders/:orderId',
    {
      schema: {
        tags,
        params: OrderIdParams,
        body: AmendBody,
        summary: 'Reduce a resting order, keeping its place',
      },
    },
    async (request) => {
      const { session } = await authenticate(context, request);
      const order = ownOrder(session.userId, request.params.orderId);
      return trading.amend(session.userId, order.id, order.symbol, request.body.qty);
    },
  );

  app.get<{ Params: OrderIdParams }>(
    '/api/v1/orders/:orderId',
    { schema: { tags, params: OrderIdParams, summary: 'One of my orders' } },
    async (request) => {
      const { session } = await authenticate(context, request);
      return json(ownOrder(session.userId, request.params.orderId));
    },
  );

  app.get<{ Querystring: ListQuery }>(
    '/api/v1/orders',
    {
      schema: {
        tags,
        querystring: ListQuery,
        summary: 'My orders, newest first (status=open for open only)',
      },
    },
    async (request) => {
      const { session } = await authenticate(context, request);
      const open = request.query.status === 'open';
      const orders = open ? state.tracker.openOrders(session.userId) : state.tracker.orders(session.userId);
      return orders.slice(0, limitOf(request.query.limit)).map(json);
    },
  );

  app.get<{ Querystring: ListQuery }>(
    '/api/v1/trades',
    { schema: { tags, querystring: ListQuery, summary: 'My trades, newest first' } },
    async (request) => {
      const { session } = await authenticate(context, request);
      const trades = state.tracker.trades(session.userId).slice(0, limitOf(request.query.limit));
      return trades.map((trade) => tradeJson(trade, trading.marketOf(trade.symbol)));
    },
  );

  app.get('/api/v1/balances', { schema: { tags: ['balances'], summary: 'My balances' } }, async (request) => {
    const { session } = await authenticate(context, request);
    return balancesOf(context, session.userId);
  });
}

export function balancesOf(context: GatewayContext, user: number) {
  return context.engine.balances(user).map((balance) => balanceJson(balance, context.state.markets));
}
