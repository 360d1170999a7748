// Binance-compatible errors: `{code, msg}` with Binance's negative numeric codes. One table maps
// every Hoga error code (gateway and engine) to the Binance code and HTTP status a Binance client
// expects, so a client library (ccxt) raises the exception it would raise against Binance. The
// table is a Record over every Hoga code: a new Hoga code does not compile until it has a row.
import type { FastifyError } from 'fastify';
import { type ErrorCode, fromStoreError, GatewayError } from '../gateway/errors.js';

export interface BinanceErrorBody {
  code: number;
  msg: string;
}

/** Binance's own codes used by this layer (https://developers.binance.com/docs/binance-spot-api-docs/errors). */
export const BinanceCodes = {
  UNKNOWN: -1000,
  DISCONNECTED: -1001,
  UNAUTHORIZED: -1002,
  TOO_MANY_REQUESTS: -1003,
  SERVER_BUSY: -1008,
  TOO_MANY_ORDERS: -1015,
  ILLEGAL_CHARS: -1100,
  TOO_MANY_PARAMETERS: -1101,
  MANDATORY_PARAM_EMPTY_OR_MALFORMED: -1102,
  BAD_PRECISION: -1111,
  INVALID_TIF: -1115,
  BAD_INTERVAL: -1120,
  BAD_SYMBOL: -1121,
  INVALID_LISTEN_KEY: -1125,
  INVALID_PARAMETER: -1130,
  FILTER_FAILURE: -1013,
  NEW_ORDER_REJECTED: -2010,
  NO_SUCH_ORDER: -2013,
  REJECTED_MBX_KEY: -2015,
} as const;

/** An error as a value in Binance's shape; thrown inside Binance routes. */
export class BinanceError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: number,
    message: string,
    /** Seconds, for 429 and 418 replies (`Retry-After`). */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }

  body(): BinanceErrorBody {
    return { code: this.code, msg: this.message };
  }
}

interface Row {
  status: number;
  code: number;
  /** Binance's own text when a client matches on it; otherwise Hoga's message is kept. */
  msg?: string;
}

const row = (status: number, code: number, msg?: string): Row => ({ status, code, msg });
const { UNKNOWN, UNAUTHORIZED, TOO_MANY_REQUESTS, SERVER_BUSY, INVALID_PARAMETER, NEW_ORDER_REJECTED } =
  BinanceCodes;
const invalidKey = 'Invalid API-key, IP, or permissions for action.';
const notTraded = 'Not available on the Binance-compatible API.';

/** Every Hoga error code → Binance status, code and (optionally) message. */
export const binanceErrorTable: Record<ErrorCode, Row> = {
  // gateway codes
  VALIDATION_FAILED: row(400, BinanceCodes.MANDATORY_PARAM_EMPTY_OR_MALFORMED),
  UNAUTHENTICATED: row(401, BinanceCodes.REJECTED_MBX_KEY, invalidKey),
  INVALID_CREDENTIALS: row(401, BinanceCodes.REJECTED_MBX_KEY, invalidKey),
  USERNAME_TAKEN: row(400, UNKNOWN, notTraded),
  FORBIDDEN: row(401, BinanceCodes.REJECTED_MBX_KEY, invalidKey),
  NOT_FOUND: row(400, BinanceCodes.NO_SUCH_ORDER, 'Order does not exist.'),
  RATE_LIMITED: row(429, TOO_MANY_REQUESTS),
  SUSPENDED: row(400, NEW_ORDER_REJECTED, 'This action is disabled on this account.'),
  BUSY: row(
    503,
    SERVER_BUSY,
    'Server is currently overloaded with other requests. Please try again in a few minutes.',
  ),
  QUEUE_FULL: row(
    503,
    SERVER_BUSY,
    'Server is currently overloaded with other requests. Please try again in a few minutes.',
  ),
  UNKNOWN_ASSET: row(400, INVALID_PARAMETER),
  ASSET_DECIMALS_MISMATCH: row(400, INVALID_PARAMETER),
  INTERNAL: row(500, UNKNOWN, 'An unknown error occurred while processing the request.'),
  INVALID_AMOUNT: row(400, BinanceCodes.BAD_PRECISION),
  INVALID_QTY: row(400, BinanceCodes.FILTER_FAILURE, 'Filter failure: LOT_SIZE'),
  INVALID_PRICE: row(400, BinanceCodes.FILTER_FAILURE, 'Filter failure: PRICE_FILTER'),
  SLOW_CONSUMER: row(400, UNKNOWN),
  SESSION_ENDED: row(400, BinanceCodes.INVALID_LISTEN_KEY, 'This listenKey does not exist.'),
  PAYLOAD_TOO_LARGE: row(413, UNKNOWN),
  INVALID_CURSOR: row(400, INVALID_PARAMETER),
  INVALID_QUERY: row(400, INVALID_PARAMETER),
  ORIGIN_NOT_ALLOWED: row(403, UNAUTHORIZED),
  COOKIE_NEEDS_HTTPS: row(400, UNAUTHORIZED),
  TOO_MANY_CONNECTIONS: row(429, TOO_MANY_REQUESTS),
  TOO_MANY_BAD_FRAMES: row(400, UNKNOWN),
  CLIENT_ORDER_ID_CONFLICT: row(400, NEW_ORDER_REJECTED, 'Duplicate order sent.'),
  CLIENT_CLAIM_ID_CONFLICT: row(400, UNKNOWN, notTraded),
  SYMBOL_NAME_COLLISION: row(400, INVALID_PARAMETER),
  UNSUPPORTED_MEDIA_TYPE: row(415, UNKNOWN),
  API_KEY_LIMIT: row(400, UNKNOWN),
  INVALID_API_KEY: row(401, BinanceCodes.REJECTED_MBX_KEY, invalidKey),
  INVALID_SIGNATURE: row(400, -1022, 'Signature for this request is not valid.'),
  SERVICE_UNAVAILABLE: row(
    503,
    BinanceCodes.DISCONNECTED,
    'Internal error; unable to process your request. Please try again.',
  ),
  REQUEST_EXPIRED: row(400, -1021, 'Timestamp for this request is outside of the recvWindow.'),
  // engine reject codes
  UNKNOWN_COMMAND: row(400, UNKNOWN),
  UNKNOWN_SYMBOL: row(400, BinanceCodes.BAD_SYMBOL, 'Invalid symbol.'),
  DUPLICATE_SYMBOL: row(400, INVALID_PARAMETER),
  INVALID_SYMBOL: row(400, BinanceCodes.BAD_SYMBOL, 'Invalid symbol.'),
  DUPLICATE_ORDER_ID: row(400, NEW_ORDER_REJECTED, 'Duplicate order sent.'),
  INVALID_ORDER: row(400, NEW_ORDER_REJECTED),
  INVALID_TIF: row(400, BinanceCodes.INVALID_TIF, 'Invalid timeInForce.'),
  POST_ONLY_WOULD_CROSS: row(400, NEW_ORDER_REJECTED, 'Order would immediately match and take.'),
  INSUFFICIENT_FUNDS: row(400, NEW_ORDER_REJECTED, 'Account has insufficient balance for requested action.'),
  UNKNOWN_ORDER: row(400, BinanceCodes.NO_SUCH_ORDER, 'Order does not exist.'),
  LIMIT_EXCEEDED: row(400, BinanceCodes.FILTER_FAILURE, 'Filter failure: MAX_NUM_ORDERS'),
  UNKNOWN_OFFERING: row(400, UNKNOWN, notTraded),
  DUPLICATE_OFFERING: row(400, UNKNOWN, notTraded),
  INVALID_OFFERING: row(400, UNKNOWN, notTraded),
  OFFERING_NOT_OPEN: row(400, UNKNOWN, notTraded),
  OFFERING_CLOSED: row(400, UNKNOWN, notTraded),
  SOLD_OUT: row(400, UNKNOWN, notTraded),
  PER_USER_LIMIT: row(400, UNKNOWN, notTraded),
  INVALID_STOP: row(400, NEW_ORDER_REJECTED),
  STOP_WOULD_TRIGGER: row(400, NEW_ORDER_REJECTED, 'Stop price would trigger immediately.'),
  NOT_AMENDABLE: row(400, NEW_ORDER_REJECTED),
};

/** A Hoga GatewayError in Binance's shape (status, code, message, Retry-After kept). */
export function fromGatewayError(error: GatewayError): BinanceError {
  // A signed-request refusal (src/gateway/api-key-auth.ts) carries Binance's exact code and message.
  const own = (error as { binance?: BinanceErrorBody }).binance;
  if (own !== undefined)
    return new BinanceError(error.statusCode, own.code, own.msg, error.retryAfterSeconds);
  const mapped = binanceErrorTable[error.code] ?? row(500, UNKNOWN);
  return new BinanceError(mapped.status, mapped.code, mapped.msg ?? error.message, error.retryAfterSeconds);
}

/** Fastify's own errors: schema validation, bad JSON, body size. */
function fromFastifyError(error: FastifyError): BinanceError {
  if (error.validation !== undefined && error.validation.length > 0) {
    const first = error.validation[0];
    const params = (first.params as { missingProperty?: string } | undefined) ?? {};
    const field = params.missingProperty ?? first.instancePath.replace(/^\//, '');
    return mandatoryParam(field);
  }
  if (error.statusCode === 413) return new BinanceError(413, UNKNOWN, error.message);
  if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500)
    return new BinanceError(error.statusCode, UNKNOWN, error.message);
  return new BinanceError(500, UNKNOWN, 'An unknown error occurred while processing the request.');
}

/** Whatever a Binance route threw, as the reply to send. */
export function toBinanceError(thrown: unknown): BinanceError {
  if (thrown instanceof BinanceError) return thrown;
  const error = fromStoreError(thrown) ?? thrown;
  if (error instanceof GatewayError) return fromGatewayError(error);
  return fromFastifyError(error as FastifyError);
}

export function mandatoryParam(name: string): BinanceError {
  return new BinanceError(
    400,
    BinanceCodes.MANDATORY_PARAM_EMPTY_OR_MALFORMED,
    `Mandatory parameter '${name}' was not sent, was empty/null, or malformed.`,
  );
}

export function illegalParam(name: string, detail: string): BinanceError {
  return new BinanceError(
    400,
    BinanceCodes.ILLEGAL_CHARS,
    `Illegal characters found in parameter '${name}'; ${detail}.`,
  );
}

export function invalidParam(message: string): BinanceError {
  return new BinanceError(400, INVALID_PARAMETER, message);
}

export function badSymbol(): BinanceError {
  return new BinanceError(400, BinanceCodes.BAD_SYMBOL, 'Invalid symbol.');
}

export function badInterval(): BinanceError {
  return new BinanceError(400, BinanceCodes.BAD_INTERVAL, 'Invalid interval.');
}
