// Binance-compatible public spot REST under /api/v3: ping, time, exchangeInfo, depth, trades,
// aggTrades, klines, uiKlines and the three tickers. A translation over what the gateway already
// serves (the market registry, market data's in-memory state, the candle store): no second path.
import type { TSchema } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { CandleReader } from '../gateway/candles.js';
import type { MarketDataReader } from '../gateway/market-views.js';
import type { Market, MarketRegistry } from '../gateway/markets.js';
import { intervalLengthMsMax } from '../marketdata/candles.js';
import { tapeTradesMax } from '../marketdata/trades.js';
import {
  AggTradesReply,
  BookTickerReply,
  DepthReply,
  ExchangeInfoReply,
  KlinesReply,
  oneOrMany,
  PingReply,
  PriceReply,
  replies,
  Ticker24hReply,
  TimeReply,
  TradesReply,
} from './schemas.js';
import { binanceSymbol, marketOf, selectedMarkets } from './symbols.js';
import { integerParam, intervalOf, limitParam } from './units.js';
import {
  aggTradeJson,
  bookTicker,
  type Kline,
  kline,
  price,
  qty,
  storedKline,
  symbolInfo,
  ticker24h,
  tradeJson,
} from './views.js';
import { depthWeight, tickerWeight } from './weights.js';

export interface BinanceMarketDependencies {
  markets: MarketRegistry;
  data: MarketDataReader;
  candles: CandleReader;
  /** Resolves once every closed candle has reached the store (see registerCandleRoutes). */
  beforeCandles: () => Promise<void>;
  clock: () => number;
  weightPerMinuteMax: number;
}

type Query = Record<string, unknown>;

export const depthLimitMax = 5_000;
export const klinesLimitDefault = 500;
export const klinesLimitMax = 1_000;

/** One object for `symbol`, an array otherwise (Binance's rule for every ticker route). */
function oneOrAll<T>(query: Query, markets: Market[], view: (market: Market) => T): T | T[] {
  const views = markets.map(view);
  return query.symbol !== undefined ? views[0] : views;
}

/**
 * Klines: with `startTime`, the first `limit` candles from it; otherwise the last `limit` before
 * `endTime` (default now). Stored (closed) candles first, then the one in progress.
 */
async function klines(deps: BinanceMarketDependencies, query: Query): Promise<Kline[]> {
  const market = marketOf(deps.markets, query.symbol);
  const interval = intervalOf(query.interval);
  const limit = limitParam(query.limit, klinesLimitDefault, klinesLimitMax);
  const startTime = integerParam(query.startTime, 'startTime');
  const endTime = integerParam(query.endTime, 'endTime');
  const toMs = endTime === undefined ? Number.MAX_SAFE_INTEGER : endTime + 1;
  const fromMs =
    startTime ?? Math.max(0, (endTime ?? deps.clock()) - (limit + 1) * intervalLengthMsMax(interval));
  await deps.beforeCandles();
  const rows: Kline[] = [];
  let cursor: string | null = null;
  // Bounded: at most limit + 2 candles fit in [fromMs, toMs) when startTime is absent; with it,
  // reading stops once `limit` are in.
  do {
    const page = await deps.candles.candles(
      { symbol: market.symbol, interval, source: 'trades', fromMs, toMs },
      { cursor, limit: 500 },
    );
    for (const record of page.items) rows.push(storedKline(market, record));
    cursor = page.next;
  } while (
    cursor !== null &&
    (startTime === undefined || rows.length < limit) &&
    rows.length <= 2 * klinesLimitMax
  );
  const open = deps.data.candle(market.symbol, interval);
  if (open !== undefined && !open.closed && open.openMs >= fromMs && open.openMs < toMs) {
    if (rows.length === 0 || (rows.at(-1) as Kline)[0] < open.openMs)
      rows.push(kline(market, open, open.volume, open.quoteVolume, open.trades));
  }
  return startTime === undefined ? rows.slice(-limit) : rows.slice(0, limit);
}

/** Registers the routes on a scope that already has the Binance error handler and weights. */
export function registerBinanceMarketRoutes(scope: FastifyInstance, deps: BinanceMarketDependencies): void {
  const { markets, data, clock } = deps;
  // Public routes: the gateway's authentication hook lets them through (`auth: 'public'`).
  const weight = (binanceWeight: number | ((query: Query) => number)) => ({
    config: { auth: 'public' as const, binanceWeight },
  });
  const schema = (summary: string, response: TSchema) => ({
    schema: { tags: ['binance'], summary, response: replies(response) },
  });

  scope.get('/api/v3/ping', { ...weight(1), ...schema('Connectivity', PingReply) }, async () => ({}));
  scope.get('/api/v3/time', { ...weight(1), ...schema('Server time', TimeReply) }, async () => ({
    serverTime: clock(),
  }));

  scope.get<{ Querystring: Query }>(
    '/api/v3/exchangeInfo',
    { ...weight(20), ...schema('Markets, their filters and order types; the rate limit', ExchangeInfoReply) },
    async (request) => ({
      timezone: 'UTC',
      serverTime: clock(),
      rateLimits: [
        {
          rateLimitType: 'REQUEST_WEIGHT',
          interval: 'MINUTE',
          intervalNum: 1,
          limit: deps.weightPerMinuteMax,
        },
      ],
      exchangeFilters: [],
      symbols: selectedMarkets(markets, request.query).map(symbolInfo),
    }),
  );

  scope.get<{ Querystring: Query }>(
    '/api/v3/depth',
    {
      ...weight((query) => depthWeight(limitParamOrDefault(query.limit, 100))),
      ...schema('Order book', DepthReply),
    },
    async (request) => {
      const market = marketOf(markets, request.query.symbol);
      const limit = limitParam(request.query.limit, 100, depthLimitMax);
      const depth = data.depth(market.symbol, limit);
      return {
        lastUpdateId: depth?.lastUpdateId ?? 0,
        bids: (depth?.bids ?? []).map(([p, q]) => [price(market, p), qty(market, q)]),
        asks: (depth?.asks ?? []).map(([p, q]) => [price(market, p), qty(market, q)]),
      };
    },
  );

  scope.get<{ Querystring: Query }>(
    '/api/v3/trades',
    {
      ...weight(25),
      ...schema(`Recent trades, oldest first (the last ${tapeTradesMax} are kept)`, TradesReply),
    },
    async (request) => {
      const market = marketOf(markets, request.query.symbol);
      const limit = limitParam(request.query.limit, 500, 1_000);
      return (data.recentTrades(market.symbol) ?? []).slice(-limit).map((trade) => tradeJson(market, trade));
    },
  );

  scope.get<{ Querystring: Query }>(
    '/api/v3/aggTrades',
    { ...weight(4), ...schema('Recent trades as aggregates (one trade each)', AggTradesReply) },
    async (request) => {
      const { query } = request;
      const market = marketOf(markets, query.symbol);
      const limit = limitParam(query.limit, 500, 1_000);
      const fromId = integerParam(query.fromId, 'fromId');
      const startTime = integerParam(query.startTime, 'startTime');
      const endTime = integerParam(query.endTime, 'endTime');
      const trades = (data.recentTrades(market.symbol) ?? []).filter(
        (trade) =>
          (fromId === undefined || trade.id >= fromId) &&
          (startTime === undefined || trade.ts >= startTime) &&
          (endTime === undefined || trade.ts <= endTime),
      );
      const chosen =
        fromId !== undefined || startTime !== undefined ? trades.slice(0, limit) : trades.slice(-limit);
      return chosen.map((trade) => aggTradeJson(market, trade));
    },
  );

  for (const path of ['/api/v3/klines', '/api/v3/uiKlines']) {
    scope.get<{ Querystring: Query }>(
      path,
      { ...weight(2), ...schema('Candles, the open one last', KlinesReply) },
      (request) => klines(deps, request.query),
    );
  }

  scope.get<{ Querystring: Query }>(
    '/api/v3/ticker/24hr',
    {
      ...weight((query) => tickerWeight(query, 2, 80)),
      ...schema('Rolling 24-hour ticker', oneOrMany(Ticker24hReply)),
    },
    async (request) => {
      const nowMs = clock();
      const mini = request.query.type === 'MINI';
      return oneOrAll(request.query, selectedMarkets(markets, request.query), (market) =>
        ticker24h(data, market, nowMs, mini),
      );
    },
  );

  scope.get<{ Querystring: Query }>(
    '/api/v3/ticker/price',
    { ...weight((query) => tickerWeight(query, 2, 4)), ...schema('Last price', oneOrMany(PriceReply)) },
    async (request) => {
      const nowMs = clock();
      return oneOrAll(request.query, selectedMarkets(markets, request.query), (market) => ({
        symbol: binanceSymbol(market),
        price: price(market, data.ticker(market.symbol, nowMs)?.last ?? 0),
      }));
    },
  );

  scope.get<{ Querystring: Query }>(
    '/api/v3/ticker/bookTicker',
    {
      ...weight((query) => tickerWeight(query, 2, 4)),
      ...schema('Best bid and ask', oneOrMany(BookTickerReply)),
    },
    async (request) =>
      oneOrAll(request.query, selectedMarkets(markets, request.query), (market) => bookTicker(data, market)),
  );
}

/** For weights only: a malformed limit costs the default weight (the route then refuses it). */
function limitParamOrDefault(value: unknown, fallback: number): number {
  const limit = typeof value === 'string' ? Number(value) : Number.NaN;
  return Number.isSafeInteger(limit) && limit > 0 ? limit : fallback;
}
