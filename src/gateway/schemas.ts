// Request schemas (TypeBox → JSON Schema): checked by the TypeBox compiler on REST and on WebSocket
// messages alike (src/gateway/validation.ts), and published in the OpenAPI document. Numbers a client sends for prices,
// quantities and amounts are decimal STRINGS: the gateway converts them exactly.
import { type Static, Type } from '@sinclair/typebox';
import { clientOrderIdPattern } from './trading.js';

export const decimalString = Type.String({
  minLength: 1,
  maxLength: 48,
  description: 'decimal string, e.g. "12.5"',
});
/** Up to 16 digits: an OCO's stop leg has an id above 2^52 (docs/API.md "OCO orders"). */
export const idString = Type.String({ pattern: '^[0-9]{1,16}$', description: 'numeric id' });
export const symbolName = Type.String({ minLength: 1, maxLength: 32, pattern: '^[A-Za-z0-9_.:/-]+$' });
export const assetName = Type.String({ minLength: 1, maxLength: 32, pattern: '^[A-Za-z0-9_.-]+$' });

export const Credentials = Type.Object(
  {
    username: Type.String({ minLength: 3, maxLength: 64, pattern: '^[A-Za-z0-9_.-]+$' }),
    password: Type.String({ minLength: 8, maxLength: 256 }),
  },
  { additionalProperties: false },
);
export type Credentials = Static<typeof Credentials>;

const sideField = Type.Union([Type.Literal('buy'), Type.Literal('sell')]);
const stpField = Type.Union([
  Type.Literal('none'),
  Type.Literal('expireMaker'),
  Type.Literal('expireTaker'),
  Type.Literal('expireBoth'),
]);
const clientOrderIdField = Type.String({ pattern: clientOrderIdPattern });

export const PlaceBody = Type.Object(
  {
    symbol: symbolName,
    side: sideField,
    type: Type.Union([Type.Literal('limit'), Type.Literal('market')]),
    price: Type.Optional(decimalString),
    qty: decimalString,
    tif: Type.Optional(Type.Union([Type.Literal('GTC'), Type.Literal('IOC'), Type.Literal('FOK')])),
    postOnly: Type.Optional(Type.Boolean()),
    stp: Type.Optional(stpField),
    /** Stop orders: the trade price that makes the order run, always with `trigger`. */
    stopPrice: Type.Optional(decimalString),
    trigger: Type.Optional(Type.Union([Type.Literal('stopLoss'), Type.Literal('takeProfit')])),
    /** Iceberg: the quantity shown in the book (a GTC limit order's visible part). */
    displayQty: Type.Optional(decimalString),
    clientOrderId: Type.Optional(clientOrderIdField),
  },
  { additionalProperties: false },
);
export type PlaceBody = Static<typeof PlaceBody>;

/** One-cancels-the-other: a post-only limit at `price` and a stop-loss at `stopPrice`, linked. */
export const OcoBody = Type.Object(
  {
    symbol: symbolName,
    side: sideField,
    qty: decimalString,
    price: decimalString,
    stopPrice: decimalString,
    /** Leg B's limit price; absent makes leg B a stop-market order. */
    stopLimitPrice: Type.Optional(decimalString),
    stp: Type.Optional(stpField),
    clientOrderId: Type.Optional(clientOrderIdField),
  },
  { additionalProperties: false },
);
export type OcoBody = Static<typeof OcoBody>;

export const AmendBody = Type.Object({ qty: decimalString }, { additionalProperties: false });
export type AmendBody = Static<typeof AmendBody>;

export const OrderIdParams = Type.Object({ orderId: idString });
export type OrderIdParams = Static<typeof OrderIdParams>;

export const SymbolBody = Type.Object(
  {
    symbol: symbolName,
    base: assetName,
    quote: assetName,
    baseDecimals: Type.Integer({ minimum: 0, maximum: 18 }),
    quoteDecimals: Type.Integer({ minimum: 0, maximum: 18 }),
    lotSize: decimalString,
    tickSize: decimalString,
    makerFeeBps: Type.Integer({ minimum: 0, maximum: 10_000 }),
    takerFeeBps: Type.Integer({ minimum: 0, maximum: 10_000 }),
    /** IANA timezone of the market (default UTC): daily and weekly candles close at its midnight. */
    timezone: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  },
  { additionalProperties: false },
);
export type SymbolBody = Static<typeof SymbolBody>;

export const FundsBody = Type.Object(
  {
    userId: Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }),
    asset: assetName,
    amount: decimalString,
  },
  { additionalProperties: false },
);
export type FundsBody = Static<typeof FundsBody>;

export const ListQuery = Type.Object(
  {
    status: Type.Optional(Type.Union([Type.Literal('open'), Type.Literal('all')])),
    limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,4}$' })),
  },
  { additionalProperties: false },
);
export type ListQuery = Static<typeof ListQuery>;

export const SessionIdParams = Type.Object({ sessionId: Type.String({ pattern: '^[0-9a-f]{32}$' }) });
export type SessionIdParams = Static<typeof SessionIdParams>;

export const HistoryPageQuery = Type.Object(
  {
    cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    limit: Type.Optional(Type.String({ pattern: '^[1-9][0-9]{0,2}$' })),
  },
  { additionalProperties: false },
);
export type HistoryPageQuery = Static<typeof HistoryPageQuery>;
