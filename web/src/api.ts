// The UI's one REST client. Every server shape the UI depends on is named here, so following a
// change in docs/API.md is an edit to this file only. Errors are values, never thrown.

export interface ApiError {
  code: string;
  message: string;
  field?: string;
}

export type Result<T> = { ok: true; value: T } | { ok: false; error: ApiError };

export interface SymbolInfo {
  symbol: string;
  base: string;
  quote: string;
  /** Decimal strings in human units. */
  tickSize: string;
  lotSize: string;
  baseDecimals: number;
  quoteDecimals: number;
}

export interface Balance {
  asset: string;
  available: string;
  locked: string;
}

export type Side = 'buy' | 'sell';
export type OrderType = 'limit' | 'market';
export type TimeInForce = 'GTC' | 'IOC' | 'FOK';
export type StopTrigger = 'stopLoss' | 'takeProfit';

export interface Order {
  orderId: number;
  clientOrderId?: string;
  symbol: string;
  side: Side;
  type: OrderType;
  tif: TimeInForce;
  /** Null for market orders. */
  price: string | null;
  qty: string;
  filledQty: string;
  remainingQty: string;
  status: string;
  /** History only: why it expired or was cancelled. */
  reason?: string;
  createdAtMs: number;
  updatedAtMs: number;
  /** Stop orders: the trigger price and direction; when it triggered. */
  stopPrice?: string;
  trigger?: StopTrigger;
  triggeredAtMs?: number;
  /** Iceberg orders: the shown part's size and what the book shows now. */
  displayQty?: string;
  visibleQty?: string;
  /** The other leg of a live OCO pair. */
  ocoId?: number;
}

export interface Fill {
  tradeId: number;
  orderId: number;
  symbol: string;
  side: Side;
  role: 'maker' | 'taker';
  price: string;
  qty: string;
  fee: string;
  feeAsset: string;
  atMs: number;
}

export interface SessionInfo {
  sessionId: string;
  device: string;
  ip: string;
  createdAtMs: number;
  lastSeenAtMs: number;
  current: boolean;
}

export type ApiKeyPermission = 'read' | 'trade';

/** One of the user's API keys as listed (the secret is never listed). */
export interface ApiKeyInfo {
  keyId: string;
  label: string;
  permissions: ApiKeyPermission[];
  ipAllowlist: string[];
  createdAtMs: number;
}

export interface CreateApiKeyRequest {
  label: string;
  permissions: ApiKeyPermission[];
  ipAllowlist?: string[];
}

/** The create reply: the only time the server shows `secret`. */
export interface CreatedApiKey extends ApiKeyInfo {
  secret: string;
}

export interface Me {
  userId: number;
  username: string;
  isAdmin: boolean;
}

/** Who this browser is logged in as; `user: null` for a visitor (the route never answers 401). */
export interface SessionState {
  user: Me | null;
}

/** What the login page may say: demo mode's shared logins and a new account's starting balance. */
export interface Welcome {
  demo: {
    logins: Array<{ username: string; password: string }>;
    startingBalances: Array<{ asset: string; amount: string }>;
  } | null;
}

/** One page of the complete history (SQL read model), newest first, keyset-paginated. */
export interface Page<T> {
  items: T[];
  /** Opaque cursor of the next (older) page, null at the end. */
  next: string | null;
}

export interface Candle {
  /** Open time, milliseconds since the epoch. */
  timeMs: number;
  open: string;
  high: string;
  low: string;
  close: string;
  volume: string;
  closed: boolean;
}

/** A closed candle from `GET /candles`: prices and volume in human units already. */
export interface HistoryCandle {
  openMs: number;
  closeMs: number;
  open: string;
  high: string;
  low: string;
  close: string;
  volume: string;
}

export interface PublicTrade {
  tradeId: string;
  price: string;
  qty: string;
  takerSide: Side;
  timeMs: number;
}

export interface Ticker {
  symbol: string;
  open: string;
  high: string;
  low: string;
  last: string;
  volume: string;
  quoteVolume: string;
  trades: number;
}

export interface PlaceOrderRequest {
  symbol: string;
  side: Side;
  type: OrderType;
  qty: string;
  price?: string;
  tif?: TimeInForce;
  postOnly?: boolean;
  stopPrice?: string;
  trigger?: StopTrigger;
  displayQty?: string;
  clientOrderId: string;
}

/** Two linked orders: a post-only limit at `price` and a stop-loss at `stopPrice`. */
export interface PlaceOcoRequest {
  symbol: string;
  side: Side;
  qty: string;
  price: string;
  stopPrice: string;
  stopLimitPrice?: string;
  clientOrderId: string;
}

export type PlaceStatus = 'pending' | 'resting' | 'partiallyFilled' | 'filled' | 'expired' | 'rejected';

/** What happened to a placed order, said at once (the reply is sent after it is durable). */
export interface PlaceOrderReply {
  orderId: number;
  /** An OCO's stop leg. */
  stopOrderId?: number;
  symbol: string;
  status: PlaceStatus;
  rejectCode?: string;
  filledQty: string;
  restingQty: string;
  expiredQty: string;
  expireReason?: string;
  fills: Array<{ tradeId: number; price: string; qty: string; fee: string; feeAsset: string }>;
}

/** Coupon terms an offering grants on a buyer's first claim (discounts in whole percent). */
export interface CouponTerms {
  makerDiscountPct: number;
  takerDiscountPct: number;
  /** Milliseconds since the epoch. */
  expiresAt: number;
  uses: number;
}

/** A limited offering; `price` is per unit in the quote asset, `unitSize` in the asset. */
export interface Offering {
  id: number;
  asset: string;
  quote: string;
  price: string;
  unitSize: string;
  units: number;
  left: number;
  perUserMax: number;
  /** Milliseconds since the epoch. */
  startTime: number;
  endTime: number;
  closed: boolean;
  claimants: number;
  coupon: CouponTerms | null;
}

export interface ClaimRequest {
  units: number;
  clientClaimId: string;
}

export interface ClaimReply {
  offeringId: number;
  units: number;
  paid: string;
  left: number;
  couponIssued: boolean;
}

export interface MyClaim {
  offeringId: number;
  units: number;
}

export interface Coupon {
  offeringId: number;
  makerDiscountPct: number;
  takerDiscountPct: number;
  expiresAt: number;
  uses: number;
  usesLeft: number;
}

export const apiBase = '/api/v1';

/** Page size asked of the history endpoints. */
export const historyPageSize = 50;

async function request<T>(method: string, path: string, body?: unknown): Promise<Result<T>> {
  let response: Response;
  try {
    response = await fetch(`${apiBase}${path}`, {
      method,
      credentials: 'same-origin',
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    return { ok: false, error: { code: 'NETWORK', message: 'The exchange cannot be reached.' } };
  }
  const text = await response.text();
  const parsed: unknown = text.length > 0 ? safeJson(text) : null;
  if (response.ok) return { ok: true, value: parsed as T };
  const error = toApiError(response.status, parsed);
  if (error.code === 'UNAUTHENTICATED') sessionLost();
  return { ok: false, error };
}

let sessionLost: () => void = () => undefined;

/** Called whenever the server says the session is gone (expired, ended elsewhere). */
export function onSessionLost(handler: () => void): void {
  sessionLost = handler;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

function toApiError(status: number, body: unknown): ApiError {
  if (body && typeof body === 'object' && 'code' in body) {
    const shaped = body as Partial<ApiError>;
    return {
      code: String(shaped.code),
      message: String(shaped.message ?? shaped.code),
      field: shaped.field === undefined ? undefined : String(shaped.field),
    };
  }
  return { code: `HTTP_${status}`, message: `The exchange answered ${status}.` };
}

/** The server's bound on one list of open orders. */
export const openOrdersMax = 1_000;

function pageQuery(cursor: string | null): string {
  const parameters = new URLSearchParams({ limit: String(historyPageSize) });
  if (cursor !== null) parameters.set('cursor', cursor);
  return `?${parameters.toString()}`;
}

export const api = {
  register: (username: string, password: string) =>
    request<{ userId: number; username: string }>('POST', '/auth/register', { username, password }),
  login: (username: string, password: string) => request<Me>('POST', '/auth/login', { username, password }),
  logout: () => request<unknown>('POST', '/auth/logout'),
  logoutAll: () => request<{ ended: number }>('POST', '/auth/logout-all'),
  me: () => request<Me>('GET', '/me'),
  /** Boot-time "am I logged in": 200 for visitors too, so loading the page never logs a 401. */
  session: () => request<SessionState>('GET', '/session'),
  welcome: () => request<Welcome>('GET', '/welcome'),
  sessions: () => request<SessionInfo[]>('GET', '/sessions'),
  endSession: (sessionId: string) => request<unknown>('DELETE', `/sessions/${encodeURIComponent(sessionId)}`),
  apiKeys: () => request<ApiKeyInfo[]>('GET', '/api-keys'),
  createApiKey: (key: CreateApiKeyRequest) => request<CreatedApiKey>('POST', '/api-keys', key),
  revokeApiKey: (keyId: string) =>
    request<{ revoked: number }>('DELETE', `/api-keys/${encodeURIComponent(keyId)}`),
  symbols: () => request<SymbolInfo[]>('GET', '/symbols'),
  /** Closed trade candles opened at or after `fromMs`, oldest first. */
  candles: (symbol: string, interval: string, fromMs: number, limit: number) =>
    request<Page<HistoryCandle>>(
      'GET',
      `/candles?symbol=${encodeURIComponent(symbol)}&interval=${interval}&source=trades&from=${fromMs}&limit=${limit}`,
    ),
  balances: () => request<Balance[]>('GET', '/balances'),
  openOrders: () => request<Order[]>('GET', `/orders?status=open&limit=${openOrdersMax}`),
  orderHistory: (cursor: string | null) => request<Page<Order>>('GET', `/history/orders${pageQuery(cursor)}`),
  myTrades: (cursor: string | null) => request<Page<Fill>>('GET', `/history/trades${pageQuery(cursor)}`),
  placeOrder: (order: PlaceOrderRequest) => request<PlaceOrderReply>('POST', '/orders', order),
  placeOco: (order: PlaceOcoRequest) => request<PlaceOrderReply>('POST', '/orders/oco', order),
  cancelOrder: (orderId: number) => request<unknown>('DELETE', `/orders/${orderId}`),
  amendOrder: (orderId: number, qty: string) => request<unknown>('PATCH', `/orders/${orderId}`, { qty }),
  offerings: () => request<Offering[]>('GET', '/offerings'),
  claim: (offeringId: number, claim: ClaimRequest) =>
    request<ClaimReply>('POST', `/offerings/${offeringId}/claims`, claim),
  myClaims: () => request<MyClaim[]>('GET', '/claims'),
  myCoupons: () => request<Coupon[]>('GET', '/coupons'),
};
