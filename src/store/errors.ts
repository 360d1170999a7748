// Errors of the read model are values with stable codes. Never reuse or rename a code.

export const StoreErrorCodes = [
  'USERNAME_TAKEN',
  'INVALID_CURSOR',
  'INVALID_QUERY',
  'MIGRATION_FAILED',
  'JOURNAL_INCOMPLETE',
  'SEQUENCE_GAP',
  /** The read model is busy, closed or unavailable: the gateway answers 503 BUSY. */
  'BUSY',
] as const;
export type StoreErrorCode = (typeof StoreErrorCodes)[number];

export class StoreError extends Error {
  readonly code: StoreErrorCode;

  constructor(
    code: StoreErrorCode,
    message: string,
    /** Seconds a caller should wait before retrying (BUSY). */
    readonly retryAfterSeconds?: number,
  ) {
    super(`${code}: ${message}`);
    this.name = 'StoreError';
    this.code = code;
  }
}

/** PostgreSQL's SQLSTATE for unique_violation, the same on PGlite and PostgreSQL. */
export const UNIQUE_VIOLATION = '23505';

export function sqlStateOf(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}
