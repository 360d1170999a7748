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
  'SERVICE_UNAVAILABLE',
] as const;

export type GatewayErrorCode = (typeof GatewayErrorCodes)[number];
export type ErrorCode = GatewayErrorCode | (typeof RejectCodes)[number];

export interface ErrorBody {
  code: ErrorCode;
  message: string;
  field?: string;
  /** Facts about the caller's own request, as strings (INSUFFICIENT_FUNDS: asset, required, available). */
  details?: Record<string, string>;
}

/** An error as a value: thrown inside handlers, turned into a reply by the error handler. */
export class GatewayError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: ErrorCode,
    message: string,
    readonly field?: string,
    /** Seconds, for 429 and 503 replies. */
    readonly retryAfterSeconds?: number,
    readonly details?: Record<string, string>,
  ) {
    super(message);
  }

  body(): ErrorBody {
    const body: ErrorBody = { code: this.code, message: this.message };
    if (this.field !== undefined) body.field = this.field;
    if (this.details !== undefined) body.details = this.details;
    return body;
  }
}

export function validationError(field: string, message: string): GatewayError {
  return new GatewayError(400, 'VALIDATION_FAILED', `${field} ${message}`, field);
}

export function notFound(what: string): GatewayError {
  return new GatewayError(404, 'NOT_FOUND', `${what} not found`);
}

export function unauthenticated(): GatewayError {
  return new GatewayError(401, 'UNAUTHENTICATED', 'log in first (session cookie or Bearer token)');
}

/** The read model's request errors (src/store/errors.ts) and their HTTP status; the rest are 500. */
const storeErrorStatus: Partial<Record<ErrorCode, number>> = {
  USERNAME_TAKEN: 409,
  INVALID_CURSOR: 400,
  INVALID_QUERY: 400,
};
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
  const code = (error as { code?: unknown } | null)?.code as ErrorCode;
  const statusCode = storeErrorStatus[code];
  if (statusCode === undefined) return undefined;
  const message =
    storeErrorMessage[code] ?? storeErrorDetail(String((error as Error).message ?? error), code);
  return new GatewayError(statusCode, code, message, storeErrorField[code]);
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
