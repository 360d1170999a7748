// One error shape for every REST and WebSocket reply: `{code, message, field?}`. Codes are stable:
// never reuse or rename one (docs/API.md lists them all). Engine reject codes pass through as is.
import type { RejectCodes } from '../core/types.js';

export const GatewayErrorCodes = [
  'VALIDATION_FAILED',
  'UNAUTHENTICATED',
  'INVALID_CREDENTIALS',
  'USERNAME_TAKEN',
  'FORBIDDEN',
  'NOT_FOUND',
  'RATE_LIMITED',
  'SUSPENDED',
  'BUSY',
  'QUEUE_FULL',
  'UNKNOWN_ASSET',
  'ASSET_DECIMALS_MISMATCH',
  'INTERNAL',
  'INVALID_AMOUNT',
  'INVALID_QTY',
  'INVALID_PRICE',
  'SLOW_CONSUMER',
  'SESSION_ENDED',
  'PAYLOAD_TOO_LARGE',
  'INVALID_CURSOR',
  'INVALID_QUERY',
  'ORIGIN_NOT_ALLOWED',
  'COOKIE_NEEDS_HTTPS',
  'TOO_MANY_CONNECTIONS',
  'TOO_MANY_BAD_FRAMES',
  'CLIENT_ORDER_ID_CONFLICT',
  'CLIENT_CLAIM_ID_CONFLICT',
  'UNSUPPORTED_MEDIA_TYPE',
  // API keys and signed requests (docs/API.md "API keys").
  'API_KEY_LIMIT',
  'INVALID_API_KEY',
  'INVALID_SIGNATURE',
  'REQUEST_EXPIRED',
  'SYMBOL_NAME_COLLISION',
  // Cluster mode: the shared services (Redis) cannot be reached; the request fails closed.
  'SERVICE_UNAVAILABLE',
] as const;

export type GatewayErrorCode = (typeof GatewayErrorCodes)[number];
export type ErrorCode = GatewayErrorCode | (typeof RejectCodes)[number];

/**
 * The one table code → HTTP status, for REST replies and the status a WebSocket error reply would
 * have had: every code has exactly one status (docs/API.md "Errors" lists the same table, checked by
 * test/gateway/error-table.test.ts). `null`: a WebSocket close reason, never an error reply.
 * A new code fails to compile until it has its row here.
 */
export const errorStatus = {
  VALIDATION_FAILED: 400,
  INVALID_QTY: 400,
  INVALID_PRICE: 400,
  INVALID_AMOUNT: 400,
  INVALID_TIF: 400,
  INVALID_STOP: 400,
  UNKNOWN_SYMBOL: 400,
  UNKNOWN_ASSET: 400,
  ASSET_DECIMALS_MISMATCH: 400,
  INVALID_CURSOR: 400,
  INVALID_QUERY: 400,
  COOKIE_NEEDS_HTTPS: 400,
  INVALID_SIGNATURE: 400,
  REQUEST_EXPIRED: 400,
  UNAUTHENTICATED: 401,
  INVALID_API_KEY: 401,
  INVALID_CREDENTIALS: 401,
  FORBIDDEN: 403,
  SUSPENDED: 403,
  ORIGIN_NOT_ALLOWED: 403,
  NOT_FOUND: 404,
  UNKNOWN_ORDER: 404,
  USERNAME_TAKEN: 409,
  CLIENT_ORDER_ID_CONFLICT: 409,
  CLIENT_CLAIM_ID_CONFLICT: 409,
  API_KEY_LIMIT: 409,
  SYMBOL_NAME_COLLISION: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  // Engine rejects: the request was well formed and the engine refused it.
  UNKNOWN_COMMAND: 422,
  DUPLICATE_SYMBOL: 422,
  INVALID_SYMBOL: 422,
  DUPLICATE_ORDER_ID: 422,
  INVALID_ORDER: 422,
  POST_ONLY_WOULD_CROSS: 422,
  INSUFFICIENT_FUNDS: 422,
  LIMIT_EXCEEDED: 422,
  UNKNOWN_OFFERING: 422,
  DUPLICATE_OFFERING: 422,
  INVALID_OFFERING: 422,
  OFFERING_NOT_OPEN: 422,
  OFFERING_CLOSED: 422,
  SOLD_OUT: 422,
  PER_USER_LIMIT: 422,
  STOP_WOULD_TRIGGER: 422,
  NOT_AMENDABLE: 422,
  RATE_LIMITED: 429,
  INTERNAL: 500,
  BUSY: 503,
  QUEUE_FULL: 503,
  TOO_MANY_CONNECTIONS: 503,
  SERVICE_UNAVAILABLE: 503,
  SLOW_CONSUMER: null,
  SESSION_ENDED: null,
  TOO_MANY_BAD_FRAMES: null,
} as const satisfies Record<ErrorCode, number | null>;

/** A code that is answered as an error reply (not a WebSocket close reason). */
export type ReplyCode = {
  [Code in ErrorCode]: (typeof errorStatus)[Code] extends number ? Code : never;
}[ErrorCode];

export function statusOf(code: ReplyCode): number {
  return errorStatus[code];
}

export interface ErrorBody {
  code: ErrorCode;
  message: string;
  field?: string;
  /** Facts about the caller's own request, as strings (INSUFFICIENT_FUNDS: asset, required, available). */
  details?: Record<string, string>;
}

/** An error as a value: thrown inside handlers, turned into a reply by the error handler. */
export class GatewayError extends Error {
  /** From the one table: a throw site never chooses a status. */
  readonly statusCode: number;

  constructor(
    readonly code: ReplyCode,
    message: string,
    readonly field?: string,
    /** Seconds, for 429 and 503 replies. */
    readonly retryAfterSeconds?: number,
    readonly details?: Record<string, string>,
  ) {
    super(message);
    this.statusCode = errorStatus[code];
  }

  body(): ErrorBody {
    const body: ErrorBody = { code: this.code, message: this.message };
    if (this.field !== undefined) body.field = this.field;
    if (this.details !== undefined) body.details = this.details;
    return body;
  }
}

export function validationError(field: string, message: string): GatewayError {
  return new GatewayError('VALIDATION_FAILED', `${field} ${message}`, field);
}

export function notFound(what: string): GatewayError {
  return new GatewayError('NOT_FOUND', `${what} not found`);
}

export function unauthenticated(): GatewayError {
  return new GatewayError('UNAUTHENTICATED', 'log in first (session cookie or Bearer token)');
}

/** The sequencer's full intake queue, the same reply wherever a command is submitted. */
export function queueFull(): GatewayError {
  return new GatewayError('QUEUE_FULL', 'the exchange is busy, retry shortly', undefined, 1);
}

/** Submits through `submit`, answering a full sequencer queue with 503 QUEUE_FULL. */
export async function orQueueFull<T>(submit: () => Promise<T>): Promise<T> {
  try {
    return await submit();
  } catch (error) {
    if ((error as { code?: unknown } | null)?.code === 'QUEUE_FULL') throw queueFull();
    throw error;
  }
}

/** The read model's request errors (src/store/errors.ts); the rest are 500. */
const storeReplyCodes = new Set<string>(['USERNAME_TAKEN', 'INVALID_CURSOR', 'INVALID_QUERY', 'BUSY']);
const storeErrorField: Partial<Record<ErrorCode, string>> = {
  USERNAME_TAKEN: 'username',
  INVALID_CURSOR: 'cursor',
};

/** What a caller reads for a store error; the store's own text names internals (or just the name). */
const storeErrorMessage: Partial<Record<ErrorCode, string>> = {
  USERNAME_TAKEN: 'username already taken',
};

/**
 * A store error as a reply, or undefined when it is not one a request can cause. Store errors
 * reach the gateway from the read-model thread as plain errors carrying `code`, with a message
 * that starts with the class name and the code (`StoreError: INVALID_CURSOR: ...`). A
 * GatewayError is already a reply and passes through untouched, whatever its code.
 */
export function fromStoreError(error: unknown): GatewayError | undefined {
  if (error instanceof GatewayError) return undefined;
  const code = (error as { code?: unknown } | null)?.code as ReplyCode;
  if (!storeReplyCodes.has(code)) return undefined;
  const message =
    storeErrorMessage[code] ?? storeErrorDetail(String((error as Error).message ?? error), code);
  const retryAfterSeconds = (error as { retryAfterSeconds?: number }).retryAfterSeconds;
  return new GatewayError(code, message, storeErrorField[code], retryAfterSeconds);
}

/** The text after `CODE: ` in a store error's message, or the whole message when it has no such prefix. */
function storeErrorDetail(message: string, code: ErrorCode): string {
  const prefix = `${code}: `;
  const at = message.indexOf(prefix);
  return at < 0 ? message : message.slice(at + prefix.length);
}

/** JSON schema for the error body, shared by the OpenAPI description of every route. */
export const errorBodySchema = {
  type: 'object',
  required: ['code', 'message'],
  properties: {
    code: { type: 'string' },
    message: { type: 'string' },
    field: { type: 'string' },
    details: { type: 'object', additionalProperties: { type: 'string' } },
  },
} as const;
