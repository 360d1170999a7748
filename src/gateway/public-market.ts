// Public market data over REST (no authentication): server time, order book depth, recent trades,
// 24-hour tickers and best bid/ask, read from market data's in-memory state and converted to the
// one unit clients see everywhere (decimal strings in the market's units, times in ms).
import { type Static, type TSchema, Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { tapeTradesMax } from '../marketdata/trades.js';
import { GatewayError } from './errors.js';
import {
  bookTickerJson,
  depthJson,
  type MarketDataReader,
  publicTradeJson,
  tickerJson,
} from './market-views.js';
import type { Market, MarketRegistry } from './markets.js';
import { replies as withErrors } from './responses.js';
import { symbolName } from './schemas.js';

export interface PublicMarketDependencies {
  markets: MarketRegistry;
  data: MarketDataReader;
  clock: () => number;
}

export const depthLimitDefault = 100;
export const depthLimitMax = 1_000;

const decimal = Type.String({ description: 'decimal string' });
const nullableDecimal = Type.Union([decimal, Type.Null()]);
const level = Type.Tuple([decimal, decimal], { description: '[price, qty]' });
const limitString = (max: number) => Type.String({ pattern: '^[1-9][0-9]{0,3}$', description: `1..${max}` });

const OptionalSymbolQuery = Type.Object(
  { symbol: Type.Optional(symbolName) },
  { additionalProperties: false },
);
const DepthQuery = Type.Object(
  { symbol: symbolName, limit: Type.Optional(limitString(depthLimitMax)) },
  { additionalProperties: false },
);
const TradesQuery = Type.Object(
  { symbol: symbolName, limit: Type.Optional(limitString(tapeTradesMax)) },
  { additionalProperties: false },
);

export const TimeReply = Type.Object({ serverTimeMs: Type.Integer() });
export const DepthReply = Type.Object({
  symbol: Type.String(),
  lastUpdateId: Type.Integer(),
  bids: Type.Array(level),
  asks: Type.Array(level),
});
export const PublicTradeReply = Type.Object({
  tradeId: Type.Integer(),
  price: decimal,
  qty: decimal,
  side: Type.String({ description: "the taker's side" }),
  atMs: Type.Integer(),
});
export const TickerReply = Type.Object({
  symbol: Type.String(),
  open: decimal,
  high: decimal,
  low: decimal,
  last: decimal,
  volume: decimal,
  quoteVolume: decimal,
  change: decimal,
  changePercent: decimal,
  trades: Type.Integer(),
  lastTradeMs: Type.Integer(),
});
export const BookTickerReply = Type.Object({
  symbol: Type.String(),
  updateId: Type.Integer(),
  bidPrice: nullableDecimal,
  bidQty: nullableDecimal,
  askPrice: nullableDecimal,
  askQty: nullableDecimal,
});

function replies(ok: TSchema) {
  return withErrors({ 200: ok });
}

export function marketOrThrow(markets: MarketRegistry, symbol: string): Market {
  const market = markets.market(symbol);
  if (market === undefined) throw new GatewayError('UNKNOWN_SYMBOL', `no market ${symbol}`, 'symbol');
  return market;
}

/** Every market (by name), or the one asked for: `ticker` and `bookTicker` serve both forms. */
function selected(markets: MarketRegistry, symbol: string | undefined): Market[] {
  if (symbol !== undefined) return [marketOrThrow(markets, symbol)];
  return markets
    .all()
    .sort((left, right) => (left.symbol < right.symbol ? -1 : left.symbol > right.symbol ? 1 : 0));
}

/** Market data knows a market from its listing on; an empty view until then (never during normal running). */
function emptyDepth(symbol: string) {
  return { symbol, lastUpdateId: 0, bids: [], asks: [] };
}

export function registerPublicMarketRoutes(app: FastifyInstance, deps: PublicMarketDependencies): void {
  const { markets, data, clock } = deps;
  const tags = ['markets'];
  const config = { auth: 'public' } as const;

  app.get(
    '/api/v1/time',
    { config, schema: { tags, summary: 'Server time', response: replies(TimeReply) } },
    async () => ({
      serverTimeMs: clock(),
    }),
  );

  app.get<{ Querystring: Static<typeof DepthQuery> }>(
    '/api/v1/market/depth',
    {
      config,
      schema: {
        tags,
        querystring: DepthQuery,
        summary: 'Order book: the best `limit` levels per side (default 100, at most 1000)',
        response: replies(DepthReply),
      },
    },
    async (request) => {
      const market = marketOrThrow(markets, request.query.symbol);
      const limit = limitOf(request.query.limit, depthLimitDefault, depthLimitMax);
      const depth = data.depth(market.symbol, limit) ?? emptyDepth(market.symbol);
      return depthJson(depth, market);
    },
  );

  app.get<{ Querystring: Static<typeof TradesQuery> }>(
    '/api/v1/market/trades',
    {
      config,
      schema: {
        tags,
        querystring: TradesQuery,
        summary: `Recent public trades, oldest first (default and at most ${tapeTradesMax})`,
        response: replies(Type.Array(PublicTradeReply)),
      },
    },
    async (request) => {
      const market = marketOrThrow(markets, request.query.symbol);
      const limit = limitOf(request.query.limit, tapeTradesMax, tapeTradesMax);
      const trades = data.recentTrades(market.symbol) ?? [];
      return trades.slice(-limit).map((trade) => publicTradeJson(trade, market));
    },
  );

  app.get<{ Querystring: Static<typeof OptionalSymbolQuery> }>(
    '/api/v1/market/ticker',
    {
      config,
      schema: {
        tags,
        querystring: OptionalSymbolQuery,
        summary: 'Rolling 24-hour ticker: one market (`symbol`) or every market (an array)',
        response: replies(Type.Union([TickerReply, Type.Array(TickerReply)])),
      },
    },
    async (request) => {
      const nowMs = clock();
      const views = selected(markets, request.query.symbol).map((market) => {
        const ticker = data.ticker(market.symbol, nowMs);
        return ticker === undefined ? emptyTicker(market.symbol) : tickerJson(ticker, market);
      });
      return request.query.symbol === undefined ? views : views[0];
    },
  );

  app.get<{ Querystring: Static<typeof OptionalSymbolQuery> }>(
    '/api/v1/market/bookTicker',
    {
      config,
      schema: {
        tags,
        querystring: OptionalSymbolQuery,
        summary: 'Best bid and ask: one market (`symbol`) or every market (an array)',
        response: replies(Type.Union([BookTickerReply, Type.Array(BookTickerReply)])),
      },
    },
    async (request) => {
      const views = selected(markets, request.query.symbol).map((market) =>
        bookTickerJson(data.depth(market.symbol, 1) ?? emptyDepth(market.symbol), market),
      );
      return request.query.symbol === undefined ? views : views[0];
    },
  );
}

/** The query's `limit` (already a positive integer by schema), or the default; above `max` is an error. */
export function limitOf(text: string | undefined, fallback: number, max: number): number {
  if (text === undefined) return fallback;
  const limit = Number(text);
  if (limit > max) throw new GatewayError('VALIDATION_FAILED', `limit must be at most ${max}`, 'limit');
  return limit;
}

function emptyTicker(symbol: string) {
  return {
    symbol,
    open: '0',
    high: '0',
    low: '0',
    last: '0',
    volume: '0',
    quoteVolume: '0',
    change: '0',
    changePercent: '0.00',
    trades: 0,
    lastTradeMs: 0,
  };
}
