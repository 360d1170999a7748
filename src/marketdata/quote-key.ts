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

const sequenceZero = '0'.repeat(sequenceDigits);

/**
 * Numbers the quotes of one symbol (country and timezone fixed, checked once). The sequence
 * counts quotes within one nanosecond and restarts whenever the timestamp changes, so the same
 * feed replayed gives the same keys. The key string is built only when asked for: it is fully
 * determined by (timestamp, sequence) and this symbol's fixed parts.
 */
export class SymbolQuoteKeys {
  private readonly suffix: string;
  private lastNs = -1n;
  private sequence = 0;

  private constructor(
    readonly symbol: string,
    readonly country: string,
    readonly timezone: string,
  ) {
    this.suffix = `|${country}|${timezone}|${symbol}`;
  }

  static create(symbol: string, country: string, timezone: string): SymbolQuoteKeys | QuoteKeyError {
    const error = quoteKeyPartsError({ tsNs: 0n, sequence: 0, country, timezone, symbol });
    return error ?? new SymbolQuoteKeys(symbol, country, timezone);
  }

  /** The sequence of the next quote at `tsNs`, or an error code. */
  assign(tsNs: bigint): number | QuoteKeyError {
    if (tsNs < 0n || tsNs >= timestampNsLimit) return 'BAD_TIMESTAMP';
    if (tsNs !== this.lastNs) {
      this.lastNs = tsNs;
      this.sequence = 0;
      return 0;
    }
    if (this.sequence === quoteKeySequenceMax) return 'BAD_SEQUENCE';
    this.sequence += 1;
    return this.sequence;
  }

  key(tsNs: bigint, sequence: number): string {
    const sequenceText =
      sequence === 0 ? sequenceZero : sequence.toString(36).toUpperCase().padStart(sequenceDigits, '0');
    return `${tsNs.toString().padStart(timestampDigits, '0')}${sequenceText}${this.suffix}`;
  }
}

/** Keys for quotes of many symbols: one SymbolQuoteKeys per (symbol, country, timezone). */
export class QuoteKeyGenerator {
  private readonly symbols = new Map<string, SymbolQuoteKeys>();

  next(symbol: string, country: string, timezone: string, tsNs: bigint): string | QuoteKeyError {
    let keys = this.symbols.get(symbol);
    if (keys === undefined || keys.country !== country || keys.timezone !== timezone) {
      const created = SymbolQuoteKeys.create(symbol, country, timezone);
      if (typeof created === 'string') return created;
      if (keys === undefined && this.symbols.size >= keyedSymbolsMax) this.symbols.clear();
      keys = created;
      this.symbols.set(symbol, keys);
    }
    const sequence = keys.assign(tsNs);
    return typeof sequence === 'string' ? sequence : keys.key(tsNs, sequence);
  }
}

export type DedupeVerdict = 'new' | 'duplicate' | 'late';

/** Compact the in-order arrays once this many leading entries are dead. */
const compactAfterEntries = 4_096;

/** -1, 0 or 1: the order of two quote keys of one symbol, by (timestamp, sequence). */
function compareKeys(leftNs: bigint, leftSequence: number, rightNs: bigint, rightSequence: number): number {
  if (leftNs !== rightNs) return leftNs < rightNs ? -1 : 1;
  return Math.sign(leftSequence - rightSequence);
}

/**
 * Drops quotes of one symbol seen before, by key. Within a symbol a key is identified by its
 * (timestamp, sequence), so those are compared instead of strings: no string is built per quote.
 * Keys are remembered within `windowMs` of the newest quote (and at most `keysMax` of them); a
 * quote older than the window, or not newer than a key already forgotten, cannot be checked and
 * is `late`, so a replayed feed is never counted twice. Feeds are nearly always in time order,
 * so a key above the last one is appended to a sorted array (no hashing, no allocation); only
 * out-of-order keys go to a small map, and a repeat is found by binary search.
 */
export class QuoteDeduper {
  private timestamps: bigint[] = [];
  private sequences: number[] = [];
  private times: number[] = [];
  private head = 0;
  private readonly outOfOrder = new Map<string, number>();
  private newestMs = Number.NEGATIVE_INFINITY;
  /** The newest time among keys already forgotten: anything at or before it is unknowable. */
  private forgottenUpToMs = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly windowMs: number,
    private readonly keysMax: number,
    private readonly outOfOrderKeysMax = Math.max(1, keysMax >> 4),
  ) {}

  /** `atMs` is the quote's timestamp in whole milliseconds. */
  check(tsNs: bigint, sequence: number, atMs: number): DedupeVerdict {
    if (atMs <= this.forgottenUpToMs || atMs + this.windowMs < this.newestMs) return 'late';
    const last = this.timestamps.length - 1;
    if (last < this.head || compareKeys(tsNs, sequence, this.timestamps[last], this.sequences[last]) > 0) {
      this.append(tsNs, sequence, atMs);
      return 'new';
    }
    const outOfOrderKey = `${tsNs}:${sequence}`;
    if (this.outOfOrder.has(outOfOrderKey) || this.findInOrder(tsNs, sequence)) return 'duplicate';
    if (this.outOfOrder.size >= this.outOfOrderKeysMax && !this.sweepOutOfOrder()) return 'late';
    this.outOfOrder.set(outOfOrderKey, atMs);
    return 'new';
  }

  private append(tsNs: bigint, sequence: number, atMs: number): void {
    if (atMs > this.newestMs) this.newestMs = atMs;
    const horizonMs = this.newestMs - this.windowMs;
    while (this.head < this.times.length && this.times[this.head] < horizonMs) this.forgetOldest();
    if (this.times.length - this.head >= this.keysMax) this.forgetOldest();
    if (this.head >= compactAfterEntries && this.head * 2 >= this.times.length) {
      this.timestamps = this.timestamps.slice(this.head);
      this.sequences = this.sequences.slice(this.head);
      this.times = this.times.slice(this.head);
      this.head = 0;
    }
    this.timestamps.push(tsNs);
    this.sequences.push(sequence);
    this.times.push(atMs);
  }

  private forgetOldest(): void {
    const forgottenMs = this.times[this.head];
    if (forgottenMs > this.forgottenUpToMs) this.forgottenUpToMs = forgottenMs;
    this.head += 1;
  }

  private findInOrder(tsNs: bigint, sequence: number): boolean {
    let low = this.head;
    let high = this.times.length - 1;
    while (low <= high) {
      const middle = (low + high) >> 1;
      const order = compareKeys(this.timestamps[middle], this.sequences[middle], tsNs, sequence);
      if (order === 0) return true;
      if (order < 0) low = middle + 1;
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
