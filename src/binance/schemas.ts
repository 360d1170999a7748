// Response schemas of the Binance-compatible REST routes (TypeBox → JSON Schema): they document
// the routes in the OpenAPI description and let Fastify serialise the replies. Field names are
// Binance's; prices and quantities are decimal strings.
import { type TSchema, Type } from '@sinclair/typebox';

const decimal = Type.String({ description: 'decimal string' });
const integer = Type.Integer();
const level = Type.Tuple([decimal, decimal], { description: '[price, qty]' });

export const BinanceErrorReply = Type.Object({ code: integer, msg: Type.String() });

/** 200 with `ok`, and Binance's error body for every error status (400, 418, 429, 503...). */
export function replies(ok: TSchema) {
  return { 200: ok, '4xx': BinanceErrorReply, '5xx': BinanceErrorReply };
}

/** One object for `symbol`, an array otherwise. */
export function oneOrMany(item: TSchema) {
  return Type.Union([item, Type.Array(item)]);
}

export const PingReply = Type.Object({});
export const TimeReply = Type.Object({ serverTime: integer });

const Filter = Type.Object({ filterType: Type.String() }, { additionalProperties: true });
const SymbolInfo = Type.Object({
  symbol: Type.String(),
  status: Type.String(),
  baseAsset: Type.String(),
  baseAssetPrecision: integer,
  quoteAsset: Type.String(),
  quotePrecision: integer,
  quoteAssetPrecision: integer,
  baseCommissionPrecision: integer,
  quoteCommissionPrecision: integer,
  orderTypes: Type.Array(Type.String()),
  icebergAllowed: Type.Boolean(),
  ocoAllowed: Type.Boolean(),
  otoAllowed: Type.Boolean(),
  quoteOrderQtyMarketAllowed: Type.Boolean(),
  allowTrailingStop: Type.Boolean(),
  cancelReplaceAllowed: Type.Boolean(),
  amendAllowed: Type.Boolean(),
  isSpotTradingAllowed: Type.Boolean(),
  isMarginTradingAllowed: Type.Boolean(),
  filters: Type.Array(Filter),
  permissions: Type.Array(Type.String()),
  permissionSets: Type.Array(Type.Array(Type.String())),
  defaultSelfTradePreventionMode: Type.String(),
  allowedSelfTradePreventionModes: Type.Array(Type.String()),
  hogaSymbol: Type.String(),
  makerFeeBps: integer,
  takerFeeBps: integer,
});
export const ExchangeInfoReply = Type.Object({
  timezone: Type.String(),
  serverTime: integer,
  rateLimits: Type.Array(
    Type.Object({
      rateLimitType: Type.String(),
      interval: Type.String(),
      intervalNum: integer,
      limit: integer,
    }),
  ),
  exchangeFilters: Type.Array(Filter),
  symbols: Type.Array(SymbolInfo),
});

export const DepthReply = Type.Object({
  lastUpdateId: integer,
  bids: Type.Array(level),
  asks: Type.Array(level),
});

export const TradesReply = Type.Array(
  Type.Object({
    id: integer,
    price: decimal,
    qty: decimal,
    quoteQty: decimal,
    time: integer,
    isBuyerMaker: Type.Boolean(),
    isBestMatch: Type.Boolean(),
  }),
);

export const AggTradesReply = Type.Array(
  Type.Object({
    a: integer,
    p: decimal,
    q: decimal,
    f: integer,
    l: integer,
    T: integer,
    m: Type.Boolean(),
    M: Type.Boolean(),
  }),
);

export const KlinesReply = Type.Array(
  Type.Tuple([
    integer,
    decimal,
    decimal,
    decimal,
    decimal,
    decimal,
    integer,
    decimal,
    integer,
    decimal,
    decimal,
    decimal,
  ]),
);

/** `type=MINI` leaves out the fields marked optional. */
export const Ticker24hReply = Type.Object({
  symbol: Type.String(),
  priceChange: Type.Optional(decimal),
  priceChangePercent: Type.Optional(decimal),
  weightedAvgPrice: Type.Optional(decimal),
  prevClosePrice: Type.Optional(decimal),
  lastPrice: decimal,
  lastQty: Type.Optional(decimal),
  bidPrice: Type.Optional(decimal),
  bidQty: Type.Optional(decimal),
  askPrice: Type.Optional(decimal),
  askQty: Type.Optional(decimal),
  openPrice: decimal,
  highPrice: decimal,
  lowPrice: decimal,
  volume: decimal,
  quoteVolume: decimal,
  openTime: integer,
  closeTime: integer,
  firstId: integer,
  lastId: integer,
  count: integer,
});

export const PriceReply = Type.Object({ symbol: Type.String(), price: decimal });

export const BookTickerReply = Type.Object({
  symbol: Type.String(),
  bidPrice: decimal,
  bidQty: decimal,
  askPrice: decimal,
  askQty: decimal,
});
