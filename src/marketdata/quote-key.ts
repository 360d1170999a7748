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

interface SymbolKeyState {
  tsNs: bigint;
  sequence: number;
  country: string;
  timezone: string;
  /** `|CC|timezone|symbol`, checked once and reused for every quote of the symbol. */
  suffix: string;
}

const sequenceZero = '0'.repeat(sequenceDigits);

/**
 * Gives each quote its key. The sequence counts quotes of one symbol within one nanosecond and
 * restarts whenever the timestamp changes, so the same feed replayed gives the same keys.
 */
export class QuoteKeyGenerator {
  private readonly last = new Map<string, SymbolKeyState>();

  next(symbol: string, country: string, timezone: string, tsNs: bigint): string | QuoteKeyError {
    if (tsNs < 0n || tsNs >= timestampNsLimit) return 'BAD_TIMESTAMP';
    let state = this.last.get(symbol);
    if (state === undefined || state.country !== country || state.timezone !== timezone) {
      const error = quoteKeyPartsError({ tsNs, sequence: 0, country, timezone, symbol });
      if (error !== undefined) return error;
      if (state === undefined && this.last.size >= keyedSymbolsMax) this.last.clear();
      state = { tsNs: -1n, sequence: 0, country, timezone, suffix: `|${country}|${timezone}|${symbol}` };
      this.last.set(symbol, state);
    }
    if (state.tsNs === tsNs) {
      state.sequence += 1;
      if (state.sequence > quoteKeySequenceMax) return 'BAD_SEQUENCE';
    } else {
      state.tsNs = tsNs;
      state.sequence = 0;
    }
    const sequence =
      state.sequence === 0
        ? sequenceZero
        : state.sequence.toString(36).toUpperCase().padStart(sequenceDigits, '0');
    return `${tsNs.toString().padStart(timestampDigits, '0')}${sequence}${state.suffix}`;
  }
}

export type DedupeVerdict = 'new' | 'duplicate' | 'late';

/** Compact the in-order arrays once this many leading entries are dead. */
const compactAfterEntries = 4_096;

/**
 * Drops quotes of one symbol seen before. Keys are remembered within `windowMs` of the newest
 * quote (and at most `keysMax` of them); a quote older than the window, or not newer than a key
 * already forgotten, cannot be checked and is `late`, so a replayed feed is never counted twice.
 * Feeds are nearly always in time order, so keys above the last one go into a sorted array (an
 * append, no hashing); only out-of-order keys use a map, and a repeat is found by binary search.
 * Times are whole milliseconds: plain numbers keep the hot path free of BigInt allocations.
 */
export class QuoteDeduper {
  private keys: string[] = [];
  private times: number[] = [];
  private head = 0;
  private readonly outOfOrder = new Map<string, number>();
  private newestMs = Number.NEGATIVE_INFINITY;
  /** The newest timestamp among keys already forgotten: anything at or before it is unknowable. */
  private forgottenUpToMs = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly windowMs: number,
    private readonly keysMax: number,
    private readonly outOfOrderKeysMax = Math.max(1, keysMax >> 4),
  ) {}

  check(key: string, atMs: number): DedupeVerdict {
    if (atMs <= this.forgottenUpToMs || atMs + this.windowMs < this.newestMs) return 'late';
    const count = this.keys.length - this.head;
    if (count === 0 || key > this.keys[this.keys.length - 1]) {
      this.append(key, atMs);
      return 'new';
    }
    if (this.outOfOrder.has(key) || this.findInOrder(key)) return 'duplicate';
    if (this.outOfOrder.size >= this.outOfOrderKeysMax && !this.sweepOutOfOrder()) return 'late';
    this.outOfOrder.set(key, atMs);
    return 'new';
  }

  private append(key: string, atMs: number): void {
    if (atMs > this.newestMs) this.newestMs = atMs;
    const horizonMs = this.newestMs - this.windowMs;
    while (this.head < this.keys.length && this.times[this.head] < horizonMs) this.forgetOldest();
    if (this.keys.length - this.head >= this.keysMax) this.forgetOldest();
    if (this.head >= compactAfterEntries && this.head * 2 >= this.keys.length) {
      this.keys = this.keys.slice(this.head);
      this.times = this.times.slice(this.head);
      this.head = 0;
    }
    this.keys.push(key);
    this.times.push(atMs);
  }

  private forgetOldest(): void {
    const forgottenMs = this.times[this.head];
    if (forgottenMs > this.forgottenUpToMs) this.forgottenUpToMs = forgottenMs;
    this.head += 1;
  }

  private findInOrder(key: string): boolean {
    let low = this.head;
    let high = this.keys.length - 1;
    while (low <= high) {
      const middle = (low + high) >> 1;
      const candidate = this.keys[middle];
      if (candidate === key) return true;
      if (candidate < key) low = middle + 1;
      else high = middle - 1;
    }
    return false;
  }

  /** Forgets out-of-order keys that left the window; true when there is room again. */
  private sweepOutOfOrder(): boolean {
    const horizonMs = this.newestMs - this.windowMs;
    for (const [key, atMs] of this.outOfOrder) {
      if (atMs >= horizonMs) continue;
      this.outOfOrder.delete(key);
      if (atMs > this.forgottenUpToMs) this.forgottenUpToMs = atMs;
    }
    return this.outOfOrder.size < this.outOfOrderKeysMax;
  }
}
