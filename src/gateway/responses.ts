// Response schemas (TypeBox → JSON Schema) for every REST route: published in the OpenAPI document
// and compiled by fast-json-stringify into each route's serializer. A field missing here is
// dropped from the reply, so each schema lists every field its view (views.ts, the route files)
// can send; numbers stay `number` (an `integer` schema would round a fraction instead of sending
// it), and strings are only fields that are always strings.
import { type TSchema, Type } from '@sinclair/typebox';

const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);
const decimal = Type.String({ description: 'decimal string' });
const optionalDecimal = Type.Optional(decimal);

export const ErrorReply = Type.Object({
  code: Type.String(),
  message: Type.String(),
  field: Type.Optional(Type.String()),
  details: Type.Optional(Type.Record(Type.String(), Type.String())),
});

/** Every route's error replies, REST's one shape (docs/API.md "Errors"). */
const errorReplies = { '4xx': ErrorReply, '5xx': ErrorReply };

/** `{status: schema}` plus the error replies: what a route's `schema.response` holds. */
export function replies<T extends Record<number, TSchema>>(success: T) {
  return { ...success, ...errorReplies };
}

// Accounts and sessions.
export const RegisteredReply = Type.Object({ userId: Type.Number(), username: Type.String() });
export const LoginReply = Type.Object({
  token: Type.String(),
  userId: Type.Number(),
  username: Type.String(),
  isAdmin: Type.Boolean(),
  sessionId: Type.String(),
});
export const EndedReply = Type.Object({ ended: Type.Number() });
export const MeReply = Type.Object({
  userId: Type.Number(),
  username: Type.String(),
  isAdmin: Type.Boolean(),
  createdAtMs: Type.Number(),
});
export const SessionsReply = Type.Array(
  Type.Object({
    sessionId: Type.String(),
    device: Type.String(),
    ip: Type.String(),
    createdAtMs: Type.Number(),
    lastSeenAtMs: Type.Number(),
    current: Type.Boolean(),
  }),
);
export const SessionReply = Type.Object({
  user: Nullable(Type.Object({ userId: Type.Number(), username: Type.String(), isAdmin: Type.Boolean() })),
});
export const WelcomeReply = Type.Object({
  demo: Nullable(
    Type.Object({
      logins: Type.Array(Type.Object({ username: Type.String(), password: Type.String() })),
      startingBalances: Type.Array(Type.Object({ asset: Type.String(), amount: decimal })),
    }),
  ),
});

// Operations.
export const LivenessReply = Type.Object({ status: Type.String() });
export const ReadinessReply = Type.Object({
  status: Type.String(),
  lastSeq: Type.Number(),
  queueDepth: Type.Number(),
  readModelLag: Nullable(Type.Number()),
  /** False while the shared services (Redis, cluster mode) cannot be reached. */
  sharedLive: Type.Boolean(),
});
export const SnapshotReply = Type.Object({
  lastSeq: Type.Number(),
  bytes: Type.Number(),
  pauseMs: Type.Number(),
  participantsPauseMs: Type.Number(),
  writeMs: Type.Number(),
  segmentsRemoved: Type.Number(),
});

// Markets and funds.
export const MarketReply = Type.Object({
  symbol: Type.String(),
  base: Type.String(),
  quote: Type.String(),
  baseDecimals: Type.Number(),
  quoteDecimals: Type.Number(),
  lotSize: decimal,
  tickSize: decimal,
  makerFeeBps: Type.Number(),
  takerFeeBps: Type.Number(),
});
export const FundsReply = Type.Object({
  seq: Type.Number(),
  userId: Type.Number(),
  asset: Type.String(),
  amount: decimal,
  available: decimal,
  locked: decimal,
});
export const BalancesReply = Type.Array(
  Type.Object({ asset: Type.String(), available: decimal, locked: decimal }),
);

// Orders (views.ts and trading.ts).
export const PlaceReply = Type.Object({
  orderId: Type.Number(),
  stopOrderId: Type.Optional(Type.Number()),
  clientOrderId: Type.Optional(Type.String()),
  symbol: Type.String(),
  status: Type.String(),
  rejectCode: Type.Optional(Type.String()),
  filledQty: decimal,
  restingQty: decimal,
  expiredQty: decimal,
  expireReason: Type.Optional(Type.String()),
  fills: Type.Array(
    Type.Object({
      tradeId: Type.Number(),
      price: decimal,
      qty: decimal,
      fee: decimal,
      feeAsset: Type.String(),
    }),
  ),
  seq: Type.Number(),
  ts: Type.Number(),
});
export const CancelReply = Type.Object({ orderId: Type.Number(), cancelledQty: decimal, seq: Type.Number() });
export const AmendReply = Type.Object({ orderId: Type.Number(), remainingQty: decimal, seq: Type.Number() });
export const OrderReply = Type.Object({
  orderId: Type.Number(),
  clientOrderId: Type.Optional(Type.String()),
  symbol: Type.String(),
  side: Type.String(),
  type: Type.String(),
  tif: Type.String(),
  price: Nullable(decimal),
  qty: decimal,
  filledQty: decimal,
  remainingQty: decimal,
  status: Type.String(),
  createdAtMs: Type.Number(),
  updatedAtMs: Type.Number(),
  stopPrice: optionalDecimal,
  trigger: Type.Optional(Type.String()),
  triggeredAtMs: Type.Optional(Type.Number()),
  displayQty: optionalDecimal,
  visibleQty: optionalDecimal,
  ocoId: Type.Optional(Type.Number()),
});
export const OrdersReply = Type.Array(OrderReply);
const TradeItem = Type.Object({
  tradeId: Type.Number(),
  orderId: Type.Number(),
  symbol: Type.String(),
  side: Type.String(),
  role: Type.String(),
  price: decimal,
  qty: decimal,
  fee: decimal,
  feeAsset: Type.String(),
  atMs: Type.Number(),
});
export const TradesReply = Type.Array(TradeItem);

// History pages (history.ts): `next` is the cursor of the following page, null on the last.
function page<T extends TSchema>(item: T) {
  return Type.Object({ items: Type.Array(item), next: Nullable(Type.String()) });
}
export const HistoryOrdersReply = page(
  Type.Object({
    orderId: Type.Number(),
    symbol: Type.String(),
    side: Type.String(),
    type: Type.String(),
    tif: Type.String(),
    price: Nullable(decimal),
    qty: decimal,
    filledQty: decimal,
    remainingQty: decimal,
    status: Type.String(),
    reason: Nullable(Type.String()),
    createdAtMs: Type.Number(),
    updatedAtMs: Type.Number(),
    stopPrice: optionalDecimal,
    trigger: Type.Optional(Type.String()),
    triggeredAtMs: Type.Optional(Type.Number()),
    displayQty: optionalDecimal,
    ocoId: Type.Optional(Type.Number()),
  }),
);
export const OrderEventsReply = Type.Object({
  orderId: Type.Number(),
  symbol: Type.String(),
  items: Type.Array(
    Type.Object({
      seq: Type.Number(),
      kind: Type.String(),
      price: Nullable(decimal),
      qty: decimal,
      reason: Nullable(Type.String()),
      atMs: Type.Number(),
    }),
  ),
  next: Nullable(Type.String()),
});
export const HistoryTradesReply = page(TradeItem);
export const LedgerReply = page(
  Type.Object({
    seq: Type.Number(),
    asset: Type.String(),
    kind: Type.String(),
    amount: decimal,
    tradeId: Nullable(Type.Number()),
    offeringId: Nullable(Type.Number()),
    atMs: Type.Number(),
  }),
);
export const HistoryCouponsReply = page(
  Type.Object({
    offeringId: Type.Number(),
    makerDiscountPct: Type.Number(),
    takerDiscountPct: Type.Number(),
    expiresAtMs: Type.Number(),
    uses: Type.Number(),
    usesLeft: Type.Number(),
    issuedSeq: Type.Number(),
    issuedAtMs: Type.Number(),
  }),
);
export const CouponUsesReply = page(
  Type.Object({
    tradeId: Type.Number(),
    role: Type.String(),
    offeringId: Type.Number(),
    feeAsset: Type.String(),
    fullFee: decimal,
    fee: decimal,
    usesLeft: Type.Number(),
    seq: Type.Number(),
    atMs: Type.Number(),
  }),
);
export const CandlesReply = page(
  Type.Object({
    openMs: Type.Number(),
    closeMs: Type.Number(),
    open: decimal,
    high: decimal,
    low: decimal,
    close: decimal,
    volume: decimal,
    quoteVolume: decimal,
    trades: Type.Number(),
    closed: Type.Boolean(),
  }),
);

// Offerings (offerings.ts, offerings-state.ts).
export const OfferingReply = Type.Object({
  id: Type.Number(),
  asset: Type.String(),
  quote: Type.String(),
  price: decimal,
  unitSize: decimal,
  units: Type.Number(),
  left: Type.Number(),
  perUserMax: Type.Number(),
  startTime: Type.Number(),
  endTime: Type.Number(),
  closed: Type.Boolean(),
  claimants: Type.Number(),
  coupon: Nullable(
    Type.Object({
      makerDiscountPct: Type.Number(),
      takerDiscountPct: Type.Number(),
      expiresAt: Type.Number(),
      uses: Type.Number(),
    }),
  ),
});
export const OfferingsReply = Type.Array(OfferingReply);
export const ClaimReply = Type.Object({
  seq: Type.Number(),
  offeringId: Type.Number(),
  units: Type.Number(),
  paid: decimal,
  left: Type.Number(),
  couponIssued: Type.Boolean(),
  clientClaimId: Type.Optional(Type.String()),
});
export const ClaimsReply = Type.Array(Type.Object({ offeringId: Type.Number(), units: Type.Number() }));
export const CouponsReply = Type.Array(
  Type.Object({
    offeringId: Type.Number(),
    makerDiscountPct: Type.Number(),
    takerDiscountPct: Type.Number(),
    expiresAt: Type.Number(),
    uses: Type.Number(),
    usesLeft: Type.Number(),
  }),
);
export const AllocationsReply = Type.Array(Type.Object({ userId: Type.Number(), units: Type.Number() }));
