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
] as const;

export type GatewayErrorCode = (typeof GatewayErrorCodes)[number];
export type ErrorCode = GatewayErrorCode | (typeof RejectCodes)[number];

export interface ErrorBody {
  code: ErrorCode;
  message: string;
  field?: string;
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
  ) {
    super(message);
  }

  body(): ErrorBody {
    return this.field === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, field: this.field };
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

/** JSON schema for the error body, shared by the OpenAPI description of every route. */
export const errorBodySchema = {
  type: 'object',
  required: ['code', 'message'],
  properties: {
    code: { type: 'string' },
    message: { type: 'string' },
    field: { type: 'string' },
  },
} as const;
