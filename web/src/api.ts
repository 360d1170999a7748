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

export interface Order {
  id: string;
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
  timeMs: number;
}

export interface Fill {
  tradeId: string;
  orderId: string;
  symbol: string;
  side: Side;
  price: string;
  qty: string;
  fee: string;
  feeAsset: string;
  liquidity: 'maker' | 'taker';
  timeMs: number;
}

export interface SessionInfo {
  id: string;
  device: string;
  ip: string;
  createdAtMs: number;
  lastSeenAtMs: number;
  current: boolean;
}

export interface Me {
  id: number;
  username: string;
  isAdmin: boolean;
}

export interface Page<T> {
  items: T[];
  next: string | null;
}

export interface DepthSnapshot {
  symbol: string;
  lastUpdateId: number;
  bids: Array<[string, string]>;
  asks: Array<[string, string]>;
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
  clientOrderId: string;
}

export interface PlaceOrderReply {
  order: Order;
  fills: Fill[];
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
  return { ok: false, error: toApiError(response.status, parsed) };
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

function query(cursor: string | null | undefined, extra: Record<string, string> = {}): string {
  const parameters = new URLSearchParams(extra);
  parameters.set('limit', String(historyPageSize));
  if (cursor) parameters.set('cursor', cursor);
  return `?${parameters.toString()}`;
}

export const api = {
  register: (username: string, password: string) =>
    request<Me>('POST', '/auth/register', { username, password }),
  login: (username: string, password: string) => request<Me>('POST', '/auth/login', { username, password }),
  logout: () => request<unknown>('POST', '/auth/logout'),
  logoutAll: () => request<unknown>('POST', '/auth/logout-all'),
  me: () => request<Me>('GET', '/me'),
  sessions: () => request<SessionInfo[]>('GET', '/sessions'),
  endSession: (id: string) => request<unknown>('DELETE', `/sessions/${encodeURIComponent(id)}`),
  symbols: () => request<SymbolInfo[]>('GET', '/symbols'),
  balances: () => request<Balance[]>('GET', '/balances'),
  openOrders: () => request<Order[]>('GET', '/orders'),
  orderHistory: (cursor?: string | null) => request<Page<Order>>('GET', `/orders/history${query(cursor)}`),
  myTrades: (cursor?: string | null) => request<Page<Fill>>('GET', `/trades${query(cursor)}`),
  placeOrder: (order: PlaceOrderRequest) => request<PlaceOrderReply>('POST', '/orders', order),
  cancelOrder: (id: string) => request<unknown>('DELETE', `/orders/${encodeURIComponent(id)}`),
  amendOrder: (id: string, qty: string) =>
    request<unknown>('PATCH', `/orders/${encodeURIComponent(id)}`, { qty }),
  depth: (symbol: string) =>
    request<DepthSnapshot>('GET', `/depth/${encodeURIComponent(symbol)}?limit=${depthLevelsRequested}`),
  /** Closed candles, oldest first, in the channel's wire form (see channels.ts readCandle). */
  candles: (symbol: string, interval: string) =>
    request<unknown[]>('GET', `/candles/${encodeURIComponent(symbol)}?interval=${interval}`),
  trades: (symbol: string) => request<PublicTrade[]>('GET', `/trades/${encodeURIComponent(symbol)}`),
  tickers: () => request<Ticker[]>('GET', '/tickers'),
};

/** Levels asked for in a depth snapshot; diffs keep the local book beyond that exact. */
export const depthLevelsRequested = 100;
