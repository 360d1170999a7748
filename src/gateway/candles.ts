// Closed candles from the SQL read model (written by market data's candle writer through the
// read-model thread), oldest first and keyset-paginated. Public, like the candles channel.
// `source` picks the series: the exchange's trades (default) or the external quote feed's prices
// for the same symbol (the demo's reference quotes); the two are never mixed.

import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { type Static, Type } from '@sinclair/typebox';
import { candleIntervals, candleSources } from '../marketdata/candles.js';
import type { CandleRange, CandleRecord } from '../store/candles.js';
import type { HistoryQuery, Page } from '../store/ports.js';
import { GatewayError } from './errors.js';
import { type CandleItemJson, candleItemJson, type MarketDataReader } from './market-views.js';
import type { MarketRegistry } from './markets.js';
import { CandlesReply, replies } from './responses.js';

const pageSizeDefault = 100;
const millisecondsString = Type.String({ pattern: '^[0-9]{1,15}$', description: 'Unix time in ms' });

export const CandlesQuery = Type.Object(
  {
    symbol: Type.String({ minLength: 1, maxLength: 32 }),
    interval: Type.Union(candleIntervals.map((interval) => Type.Literal(interval))),
    source: Type.Optional(Type.Union(candleSources.map((source) => Type.Literal(source)))),
    from: Type.Optional(millisecondsString),
    to: Type.Optional(millisecondsString),
    cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    limit: Type.Optional(Type.String({ pattern: '^[1-9][0-9]{0,2}$' })),
    /** `true`: the last page ends with the candle in progress (`closed: false`) when it is in range. */
    includeOpen: Type.Optional(Type.Union([Type.Literal('true'), Type.Literal('false')])),
  },
  { additionalProperties: false },
);
export type CandlesQuery = Static<typeof CandlesQuery>;

export interface CandleReader {
  candles(range: CandleRange, query: HistoryQuery): Promise<Page<CandleRecord>>;
}

/**
 * `beforeRead` resolves once every candle closed so far has reached the store (the candle writer
 * batches them), so a client that subscribed to the live channel and then loads history sees no
 * gap between the two.
 */
export interface CandleRouteOptions {
  markets: MarketRegistry;
  reader: CandleReader;
  beforeRead?: () => Promise<void>;
  /** The candle in progress, for `includeOpen=true` (trades candles only). */
  openCandles?: Pick<MarketDataReader, 'candle'>;
}

export const candleRoutes: FastifyPluginAsyncTypebox<CandleRouteOptions> = async (app, options) => {
  const { markets, reader, openCandles } = options;
  const beforeRead = options.beforeRead ?? (async () => undefined);
  app.get(
    '/api/v1/candles',
    {
      config: { auth: 'public' },
      schema: {
        tags: ['markets'],
        querystring: CandlesQuery,
        response: replies({ 200: CandlesReply }),
        summary:
          'Closed candles with open time in [from, to), oldest first, paginated; `includeOpen=true` adds the open one',
      },
    },
    async (request) => {
      const query = request.query;
      const market = markets.market(query.symbol);
      if (market === undefined) {
        throw new GatewayError('UNKNOWN_SYMBOL', `no market ${query.symbol}`, 'symbol');
      }
      const range: CandleRange = {
        symbol: query.symbol,
        interval: query.interval,
        source: query.source ?? 'trades',
        fromMs: query.from === undefined ? 0 : Number(query.from),
        toMs: query.to === undefined ? Number.MAX_SAFE_INTEGER : Number(query.to),
      };
      const limit = query.limit === undefined ? pageSizeDefault : Number(query.limit);
      await beforeRead();
      const page = await reader.candles(range, { cursor: query.cursor ?? null, limit });
      if (range.source === 'quotes') return { items: page.items.map(feedUnitsCandle), next: page.next };
      const items: Array<CandleItemJson & { closed: boolean }> = page.items.map((candle) => ({
        ...candleItemJson(
          {
            ...candle,
            openMs: candle.openTimeMs,
            closeMs: candle.closeTimeMs,
            volume: candle.volumeQty,
            trades: candle.tradeCount,
          },
          market,
        ),
        closed: true,
      }));
      // Only after the last closed candle: the open one is newer than every stored one.
      if (query.includeOpen === 'true' && page.next === null) {
        const open = openCandles?.candle(market.symbol, query.interval);
        if (open !== undefined && !open.closed && open.openMs >= range.fromMs && open.openMs < range.toMs) {
          items.push({ ...candleItemJson(open, market), closed: false });
        }
      }
      return { items, next: page.next };
    },
  );
};

/**
 * A quote-feed candle in the feed's own integer units (prices in its minor units, volume the sum
 * of sizes), as decimal strings: a feed's prices follow its own scale, not the market's tick grid.
 */
function feedUnitsCandle(candle: CandleRecord) {
  return {
    closed: true,
    openMs: candle.openTimeMs,
    closeMs: candle.closeTimeMs,
    open: String(candle.open),
    high: String(candle.high),
    low: String(candle.low),
    close: String(candle.close),
    volume: String(candle.volumeQty),
    quoteVolume: candle.quoteVolume,
    trades: candle.tradeCount,
  };
}
