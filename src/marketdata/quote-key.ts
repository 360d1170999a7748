// Quote keys: unique per quote, sorting by exchange time, and decomposable back into their parts.
//
// Layout (a string; the first 24 characters are fixed width, so plain string order is time order):
//   TTTTTTTTTTTTTTTTTTTT SSSS | CC | timezone | symbol
//   20 decimal digits: exchange timestamp in nanoseconds since the epoch, zero padded
//   4 base-36 digits (0-9A-Z): sequence among quotes of one symbol in the same nanosecond
//   ISO 3166-1 alpha-2 country code, IANA timezone, symbol; separated by '|'
// Example: 01732456800123456789 0001|US|America/New_York|AAPL (without the spaces).

export interface QuoteKeyParts {
  tsNs: bigint;
  sequence: number;
  country: string;
  timezone: string;
  symbol: string;
}

const timestampDigits = 20;
const sequenceDigits = 4;
export const quoteKeySequenceMax = 36 ** sequenceDigits - 1;
const timestampNsLimit = 10n ** BigInt(timestampDigits);
const countryPattern = /^[A-Z]{2}$/;
const timezonePattern = /^[A-Za-z0-9_+\-/]{1,64}$/;
const symbolPattern = /^[A-Za-z0-9._\-/:]{1,32}$/;
const sequencePattern = /^[0-9A-Z]{4}$/;
const timestampPattern = /^[0-9]{20}$/;

export const QuoteKeyErrors = [
  'BAD_TIMESTAMP',
  'BAD_SEQUENCE',
  'BAD_COUNTRY',
  'BAD_TIMEZONE',
  'BAD_SYMBOL',
  'BAD_KEY',
] as const;
export type QuoteKeyError = (typeof QuoteKeyErrors)[number];

export function isQuoteKeyError(value: string): value is QuoteKeyError {
  return (QuoteKeyErrors as readonly string[]).includes(value);
}

export function quoteKeyPartsError(parts: QuoteKeyParts): QuoteKeyError | undefined {
  if (parts.tsNs < 0n || parts.tsNs >= timestampNsLimit) return 'BAD_TIMESTAMP';
  if (!Number.isSafeInteger(parts.sequence) || parts.sequence < 0 || parts.sequence > quoteKeySequenceMax) {
    return 'BAD_SEQUENCE';
  }
  if (!countryPattern.test(parts.country)) return 'BAD_COUNTRY';
  if (!timezonePattern.test(parts.timezone)) return 'BAD_TIMEZONE';
  if (!symbolPattern.test(parts.symbol)) return 'BAD_SYMBOL';
  return undefined;
}

/** Encodes parts already checked by `quoteKeyPartsError`. */
export function encodeQuoteKey(parts: QuoteKeyParts): string {
  const timestamp = parts.tsNs.toString().padStart(timestampDigits, '0');
  const sequence = parts.sequence.toString(36).toUpperCase().padStart(sequenceDigits, '0');
  return `${timestamp}${sequence}|${parts.country}|${parts.timezone}|${parts.symbol}`;
}

export function decodeQuoteKey(key: string): QuoteKeyParts | QuoteKeyError {
  const fields = key.slice(timestampDigits + sequenceDigits).split('|');
  const timestamp = key.slice(0, timestampDigits);
  const sequence = key.slice(timestampDigits, timestampDigits + sequenceDigits);
  if (
    fields.length !== 4 ||
    fields[0] !== '' ||
    !timestampPattern.test(timestamp) ||
    !sequencePattern.test(sequence)
  ) {
    return 'BAD_KEY';
  }
  const parts: QuoteKeyParts = {
    tsNs: BigInt(timestamp),
    sequence: Number.parseInt(sequence, 36),
    country: fields[1],
    timezone: fields[2],
    symbol: fields[3],
  };
  return quoteKeyPartsError(parts) ?? parts;
}

export const keyedSymbolsMax = 100_000;

/**
 * Gives each quote its key. The sequence counts quotes of one symbol within one nanosecond and
 * restarts whenever the timestamp changes, so the same feed replayed gives the same keys.
 */
export class QuoteKeyGenerator {
  private readonly last = new Map<string, { tsNs: bigint; sequence: number }>();

  next(symbol: string, country: string, timezone: string, tsNs: bigint): string | QuoteKeyError {
    let state = this.last.get(symbol);
    if (state === undefined) {
      if (this.last.size >= keyedSymbolsMax) this.last.clear();
      state = { tsNs, sequence: -1 };
      this.last.set(symbol, state);
    }
    if (state.tsNs === tsNs) state.sequence += 1;
    else {
      state.tsNs = tsNs;
      state.sequence = 0;
    }
    const parts: QuoteKeyParts = { tsNs, sequence: state.sequence, country, timezone, symbol };
    return quoteKeyPartsError(parts) ?? encodeQuoteKey(parts);
  }
}

export type DedupeVerdict = 'new' | 'duplicate' | 'late';

/**
 * Drops quotes seen before. Remembers keys within `windowNs` of the newest timestamp seen (and
 * at most `keysMax` of them); a quote older than the window, or not newer than a key already
 * forgotten, cannot be checked and is `late`, so a replayed feed is never counted twice.
 */
export class QuoteDeduper {
  private readonly seen = new Set<string>();
  private readonly ringKeys: string[];
  private readonly ringTimestamps: bigint[];
  private head = 0;
  private size = 0;
  private newestNs = -1n;
  /** The newest timestamp among keys already forgotten: anything at or before it is unknowable. */
  private forgottenUpToNs = -1n;

  constructor(
    private readonly windowNs: bigint,
    private readonly keysMax: number,
  ) {
    this.ringKeys = new Array(keysMax);
    this.ringTimestamps = new Array(keysMax);
  }

  check(key: string, tsNs: bigint): DedupeVerdict {
    if (tsNs <= this.forgottenUpToNs || tsNs + this.windowNs < this.newestNs) return 'late';
    if (this.seen.has(key)) return 'duplicate';
    if (tsNs > this.newestNs) this.newestNs = tsNs;
    this.evict();
    if (this.size === this.keysMax) this.dropOldest();
    const slot = (this.head + this.size) % this.keysMax;
    this.ringKeys[slot] = key;
    this.ringTimestamps[slot] = tsNs;
    this.size += 1;
    this.seen.add(key);
    return 'new';
  }

  private evict(): void {
    while (this.size > 0 && this.ringTimestamps[this.head] + this.windowNs < this.newestNs) this.dropOldest();
  }

  private dropOldest(): void {
    const forgottenNs = this.ringTimestamps[this.head];
    if (forgottenNs > this.forgottenUpToNs) this.forgottenUpToNs = forgottenNs;
    this.seen.delete(this.ringKeys[this.head]);
    this.head = (this.head + 1) % this.keysMax;
    this.size -= 1;
  }
}
