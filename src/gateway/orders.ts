// Order entry and my orders/trades over REST. Every route that takes an order id looks it up among
// the CALLER's orders only: someone else's order is 404, exactly like a missing one (no BOLA).
// "One of my orders" answers from the order tracker, and for a finished order the tracker no
// longer keeps (it keeps the last finishedOrdersPerUserMax per user) from the SQL read model.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { encodeCursor } from '../store/cursor.js';
import { principalOf } from './authentication.js';
import { notFound } from './errors.js';
import { type TrackedOrder, trackedOf } from './order-tracker.js';
import {
  AmendReply,
  BalancesReply,
  CancelReply,
  OrderReply,
  OrdersReply,
  PlaceReply,
  replies,
  TradesReply,
} from './responses.js';
import { AmendBody, ListQuery, OcoBody, OrderIdParams, PlaceBody } from './schemas.js';
import type { GatewayServices } from './services.js';
import { balanceJson, orderJson, tradeJson } from './views.js';

const listLimitDefault = 100;
const listLimitMax = 1_000;

function limitOf(text: string | undefined): number {
  if (text === undefined) return listLimitDefault;
  return Math.min(listLimitMax, Math.max(1, Number(text)));
}

export const orderRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const context = app.services;
  const tags = ['orders'];
  const config = { auth: 'user' } as const;
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

  /** The caller's order from memory, else from the read model (older finished orders), else 404. */
  async function anyOwnOrder(user: number, orderIdText: string): Promise<TrackedOrder> {
    const id = Number(orderIdText);
    const kept = state.tracker.order(user, id);
    if (kept !== undefined) return kept;
    const history = context.history;
    if (history === undefined || !Number.isSafeInteger(id + 1)) throw notFound('order');
    // The history pages newest first below a cursor's order id: the first row below id + 1 is the
    // order itself when the user owns it (the query is by the caller's user id: no one else's).
    const page = await history.ordersOfUser(user, { cursor: encodeCursor([id + 1]), limit: 1 });
    const record = page.items[0];
    if (record === undefined || record.orderId !== id) throw notFound('order');
    return trackedOf(record);
  }

  app.post(
    '/api/v1/orders',
    {
      config,
      schema: {
        tags,
        body: PlaceBody,
        response: replies({ 200: PlaceReply }),
        summary: 'Place an order; the reply says at once what happened (durable before it is sent)',
      },
    },
    async (request) => {
      const session = principalOf(request);
      return trading.place(session.userId, request.body);
    },
  );

  app.post(
    '/api/v1/orders/oco',
    {
      config,
      schema: {
        tags,
        body: OcoBody,
        response: replies({ 200: PlaceReply }),
        summary:
          'Place two linked orders (a limit and a stop-loss); when one fills or triggers the other is cancelled',
      },
    },
    async (request) => {
      const session = principalOf(request);
      return trading.placeOco(session.userId, request.body);
    },
  );

  app.delete(
    '/api/v1/orders/:orderId',
    {
      config,
      schema: {
        tags,
        params: OrderIdParams,
        response: replies({ 200: CancelReply }),
        summary: 'Cancel a resting order',
      },
    },
    async (request) => {
      const session = principalOf(request);
      const order = ownOrder(session.userId, request.params.orderId);
      return trading.cancel(session.userId, order.id);
    },
  );

  app.patch(
    '/api/v1/orders/:orderId',
    {
      config,
      schema: {
        tags,
        params: OrderIdParams,
        body: AmendBody,
        response: replies({ 200: AmendReply }),
        summary: 'Reduce a resting order, keeping its place',
      },
    },
    async (request) => {
      const session = principalOf(request);
      const order = ownOrder(session.userId, request.params.orderId);
      return trading.amend(session.userId, order.id, order.symbol, request.body.qty);
    },
  );

  app.get(
    '/api/v1/orders/:orderId',
    {
      config,
      schema: {
        tags,
        params: OrderIdParams,
        response: replies({ 200: OrderReply }),
        summary: 'One of my orders',
      },
    },
    async (request) => {
      const session = principalOf(request);
      return json(await anyOwnOrder(session.userId, request.params.orderId));
    },
  );

  app.get(
    '/api/v1/orders',
    {
      config,
      schema: {
        tags,
        querystring: ListQuery,
        response: replies({ 200: OrdersReply }),
        summary: 'My orders, newest first (status=open for open only)',
      },
    },
    async (request) => {
      const session = principalOf(request);
      const open = request.query.status === 'open';
      const orders = open ? state.tracker.openOrders(session.userId) : state.tracker.orders(session.userId);
      return orders.slice(0, limitOf(request.query.limit)).map(json);
    },
  );

  app.get(
    '/api/v1/trades',
    {
      config,
      schema: {
        tags,
        querystring: ListQuery,
        response: replies({ 200: TradesReply }),
        summary: 'My trades, newest first',
      },
    },
    async (request) => {
      const session = principalOf(request);
      const trades = state.tracker.trades(session.userId).slice(0, limitOf(request.query.limit));
      return trades.map((trade) => tradeJson(trade, trading.marketOf(trade.symbol)));
    },
  );

  app.get(
    '/api/v1/balances',
    {
      config,
      schema: { tags: ['balances'], response: replies({ 200: BalancesReply }), summary: 'My balances' },
    },
    async (request) => balancesOf(context, principalOf(request).userId),
  );
};

export function balancesOf(context: GatewayServices, user: number) {
  return context.engine.balances(user).map((balance) => balanceJson(balance, context.state.markets));
}
