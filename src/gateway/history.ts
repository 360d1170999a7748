// The caller's complete history from the SQL read model, keyset-paginated (`cursor` from the
// previous page's `next`). Only ever the session's own user: there is no user id in the request.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { HistoryReader } from '../store/history-reader.js';
import { principalOf } from './authentication.js';
import { lotsToQty, minorToAmount, minorToPrice } from './decimal.js';
import { GatewayError, notFound } from './errors.js';
import type { Market } from './markets.js';
import {
  CouponUsesReply,
  HistoryCouponsReply,
  HistoryOrdersReply,
  HistoryTradesReply,
  LedgerReply,
  OrderEventsReply,
  replies,
} from './responses.js';
import { HistoryPageQuery, OrderIdParams } from './schemas.js';

const pageSizeDefault = 100;

function pageQuery(query: HistoryPageQuery) {
  return {
    cursor: query.cursor ?? null,
    limit: query.limit === undefined ? pageSizeDefault : Number(query.limit),
  };
}

export const historyRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const context = app.services;
  const tags = ['history'];
  const config = { auth: 'user' } as const;
  const markets = context.state.markets;

  function reader(): HistoryReader {
    if (context.history === undefined) throw new GatewayError('NOT_FOUND', 'no read model configured');
    return context.history;
  }

  function marketOf(symbol: string): Market {
    const market = markets.market(symbol);
    if (market === undefined) throw new GatewayError('INTERNAL', `history names unknown market ${symbol}`);
    return market;
  }

  app.get(
    '/api/v1/history/orders',
    {
      config,
      schema: {
        tags,
        querystring: HistoryPageQuery,
        response: replies({ 200: HistoryOrdersReply }),
        summary: 'All my orders, newest first, paginated',
      },
    },
    async (request) => {
      const session = principalOf(request);
      const page = await reader().ordersOfUser(session.userId, pageQuery(request.query));
      const items = page.items.map((order) => {
        const market = marketOf(order.symbol);
        return {
          orderId: order.orderId,
          symbol: order.symbol,
          side: order.side,
          type: order.type,
          tif: order.tif,
          price: order.type === 'market' ? null : minorToPrice(order.price, market.scale),
          qty: lotsToQty(order.qty, market.scale),
          filledQty: lotsToQty(order.filledQty, market.scale),
          remainingQty: lotsToQty(order.remainingQty, market.scale),
          status: order.status,
          reason: order.reason,
          createdAtMs: order.createdTsMs,
          updatedAtMs: order.updatedTsMs,
          stopPrice: order.stopPrice === null ? undefined : minorToPrice(order.stopPrice, market.scale),
          trigger: order.trigger ?? undefined,
          triggeredAtMs: order.triggeredTsMs ?? undefined,
          displayQty: order.displayQty === null ? undefined : lotsToQty(order.displayQty, market.scale),
          ocoId: order.ocoId ?? undefined,
        };
      });
      return { items, next: page.next };
    },
  );

  app.get(
    '/api/v1/history/orders/:orderId/events',
    {
      config,
      schema: {
        tags,
        params: OrderIdParams,
        querystring: HistoryPageQuery,
        response: replies({ 200: OrderEventsReply }),
        summary:
          "One of my orders' events (accepted, rested, triggered, amended, cancelled, expired), oldest first",
      },
    },
    async (request) => {
      const session = principalOf(request);
      const orderId = Number(request.params.orderId);
      // Another user's order is answered exactly like a missing one.
      const order = await reader().orderOfUser(session.userId, orderId);
      if (order === undefined) throw notFound('order');
      const market = marketOf(order.symbol);
      const page = await reader().eventsOfOrder(session.userId, orderId, pageQuery(request.query));
      const items = page.items.map((event) => ({
        seq: event.seq,
        kind: event.kind,
        price: event.price === 0 ? null : minorToPrice(event.price, market.scale),
        qty: lotsToQty(event.qty, market.scale),
        reason: event.reason,
        atMs: event.tsMs,
      }));
      return { orderId, symbol: order.symbol, items, next: page.next };
    },
  );

  app.get(
    '/api/v1/history/trades',
    {
      config,
      schema: {
        tags,
        querystring: HistoryPageQuery,
        response: replies({ 200: HistoryTradesReply }),
        summary: 'All my trades, newest first, paginated',
      },
    },
    async (request) => {
      const session = principalOf(request);
      const page = await reader().tradesOfUser(session.userId, pageQuery(request.query));
      const items = page.items.map((trade) => {
        const market = marketOf(trade.symbol);
        const feeAsset = trade.side === 'buy' ? market.base : market.quote;
        return {
          tradeId: trade.tradeId,
          orderId: trade.orderId,
          symbol: trade.symbol,
          side: trade.side,
          role: trade.role,
          price: minorToPrice(trade.price, market.scale),
          qty: lotsToQty(trade.qty, market.scale),
          fee: minorToAmount(trade.fee, markets.decimalsOf(feeAsset) ?? 0),
          feeAsset,
          atMs: trade.tsMs,
        };
      });
      return { items, next: page.next };
    },
  );

  app.get(
    '/api/v1/history/ledger',
    {
      config,
      schema: {
        tags,
        querystring: HistoryPageQuery,
        response: replies({ 200: LedgerReply }),
        summary: 'Every change of my balances (deposits, withdrawals, trade legs, fees, claims), paginated',
      },
    },
    async (request) => {
      const session = principalOf(request);
      const page = await reader().ledgerOfUser(session.userId, pageQuery(request.query));
      const items = page.items.map((entry) => ({
        seq: entry.seq,
        asset: entry.asset,
        kind: entry.kind,
        amount: minorToAmount(entry.amount, markets.decimalsOf(entry.asset) ?? 0),
        tradeId: entry.tradeId,
        offeringId: entry.offeringId,
        atMs: entry.tsMs,
      }));
      return { items, next: page.next };
    },
  );

  app.get(
    '/api/v1/history/coupons',
    {
      config,
      schema: {
        tags,
        querystring: HistoryPageQuery,
        response: replies({ 200: HistoryCouponsReply }),
        summary: 'My coupons with their uses left, newest offering first, paginated',
      },
    },
    async (request) => {
      const session = principalOf(request);
      const page = await reader().couponsOfUser(session.userId, pageQuery(request.query));
      const items = page.items.map((coupon) => ({
        offeringId: coupon.offeringId,
        makerDiscountPct: coupon.makerDiscountPct,
        takerDiscountPct: coupon.takerDiscountPct,
        expiresAtMs: coupon.expiresTsMs,
        uses: coupon.uses,
        usesLeft: coupon.usesLeft,
        issuedSeq: coupon.issuedSeq,
        issuedAtMs: coupon.issuedTsMs,
      }));
      return { items, next: page.next };
    },
  );

  app.get(
    '/api/v1/history/coupon-uses',
    {
      config,
      schema: {
        tags,
        querystring: HistoryPageQuery,
        response: replies({ 200: CouponUsesReply }),
        summary: 'The fees my coupons discounted, newest first, paginated',
      },
    },
    async (request) => {
      const session = principalOf(request);
      const page = await reader().couponUsesOfUser(session.userId, pageQuery(request.query));
      const items = page.items.map((use) => {
        const decimals = markets.decimalsOf(use.asset) ?? 0;
        return {
          tradeId: use.tradeId,
          role: use.role,
          offeringId: use.offeringId,
          feeAsset: use.asset,
          fullFee: minorToAmount(use.fullFee, decimals),
          fee: minorToAmount(use.fee, decimals),
          usesLeft: use.usesLeft,
          seq: use.seq,
          atMs: use.tsMs,
        };
      });
      return { items, next: page.next };
    },
  );
};
