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

const sequenceZero = '0'.repeat(sequenceDigits);

/**
 * The fixed parts of one symbol's keys (country and timezone, checked once). A key is fully
 * determined by (timestamp, sequence) and these parts, so the string is built only when asked
 * for; the sequence comes from the symbol's `QuoteDeduper`.
 */
export class SymbolQuoteKeys {
  private readonly suffix: string;

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

  key(tsNs: bigint, sequence: number): string {
    const sequenceText =
      sequence === 0 ? sequenceZero : sequence.toString(36).toUpperCase().padStart(sequenceDigits, '0');
    return `${tsNs.toString().padStart(timestampDigits, '0')}${sequenceText}${this.suffix}`;
  }
}

export function isQuoteTimestamp(tsNs: bigint): boolean {
  return tsNs >= 0n && tsNs < timestampNsLimit;
}

/** A source id longer than this is refused: it is kept in memory for the dedupe window. */
export const quoteSourceIdLengthMax = 64;

/** What identifies a quote of one symbol: its time, content and the feed's own id, if any. */
export interface QuoteIdentity {
  tsNs: bigint;
  price: number;
  size: number;
  sourceId?: string | undefined;
}

/** One remembered quote, in the form a snapshot keeps (tsNs as a decimal string). */
export interface RememberedQuote {
  tsNs: string;
  price: number;
  size: number;
  sourceId?: string;
}

export interface QuoteDeduperState {
  newestMs: number;
  forgottenUpToMs: number;
  /** The quotes of the newest millisecond, so quotes in it stay checkable across a restart. */
  newest: RememberedQuote[];
}

/** `duplicate`: seen before. `late`: too old to be checked, so never counted (it may be a repeat). */
export type DedupeVerdict = 'duplicate' | 'late' | 'BAD_SEQUENCE';

/** Compact the in-order arrays once this many leading entries are dead. */
const compactAfterEntries = 4_096;

interface OutOfOrderQuote {
  sequence: number;
  price: number;
  size: number;
  sourceId: string | undefined;
  atMs: number;
}

/**
 * Dedupes and numbers the quotes of one symbol. A quote's identity is the feed's source id when
 * it has one, else its content (nanosecond, price, size): a repeat of either is a `duplicate`,
 * whatever else arrived in between. A new quote gets the next sequence of its nanosecond (how
 * many distinct quotes of that nanosecond came before it), so keys are unique whatever the
 * arrival order, and a feed replayed in the same order gets the same keys.
 *
 * Quotes are remembered within `windowMs` of the newest one and at most `keysMax` of them (plus
 * `keysMax / 16` out of order); a quote older than the window, or in a millisecond some of whose
 * quotes were already forgotten, cannot be checked and is `late`: dropped, never counted twice.
 * Feeds are nearly always in time order, so an in-order quote is appended to parallel arrays (no
 * hashing); an older one is found by binary search, and kept in a small map.
 */
export class QuoteDeduper {
  private timestamps: bigint[] = [];
  private times: number[] = [];
  private prices: number[] = [];
  private sizes: number[] = [];
  /** Made when the first quote with a source id comes: most feeds have none. */
  private sourceIds: Array<string | undefined> | undefined;
  private head = 0;
  /** Out-of-order quotes by decimal nanosecond. */
  private readonly outOfOrder = new Map<string, OutOfOrderQuote[]>();
  private outOfOrderCount = 0;
  /** Source ids in the window, to their millisecond. */
  private readonly knownSourceIds = new Map<string, number>();
  private newestMs = Number.NEGATIVE_INFINITY;
  /** The newest millisecond with a forgotten quote: anything at or before it is unknowable. */
  private forgottenUpToMs = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly windowMs: number,
    private readonly keysMax: number,
    private readonly outOfOrderKeysMax = Math.max(1, keysMax >> 4),
  ) {}

  /**
   * The new quote's sequence within its nanosecond, or why it is not new. `atMs` is its
   * timestamp in whole milliseconds.
   */
  admit(quote: QuoteIdentity, atMs: number): number | DedupeVerdict {
    if (atMs <= this.forgottenUpToMs || atMs + this.windowMs < this.newestMs) return 'late';
    const sourceId = quote.sourceId;
    if (sourceId !== undefined && this.knownSourceIds.has(sourceId)) return 'duplicate';
    const last = this.timestamps.length - 1;
    if (last < this.head || quote.tsNs > this.timestamps[last]) {
      this.append(quote, atMs);
      return 0;
    }
    const sequence = quote.tsNs === this.timestamps[last] ? this.matchAtEnd(quote) : this.matchEarlier(quote);
    if (sequence === 'duplicate' || sequence === 'BAD_SEQUENCE') return sequence;
    if (quote.tsNs === this.timestamps[last]) this.append(quote, atMs);
    else if (!this.remember(quote, sequence, atMs)) return 'late';
    return sequence;
  }

  exportState(): QuoteDeduperState {
    const newest: RememberedQuote[] = [];
    // The arrays are in time order: the newest millisecond is their tail, so the snapshot pause
    // costs the quotes of one millisecond, not the whole window.
    let first = this.times.length;
    while (first > this.head && this.times[first - 1] === this.newestMs) first -= 1;
    for (let index = first; index < this.times.length; index += 1) {
      const remembered: RememberedQuote = {
        tsNs: this.timestamps[index].toString(),
        price: this.prices[index],
        size: this.sizes[index],
      };
      const sourceId = this.sourceIds?.[index];
      if (sourceId !== undefined) remembered.sourceId = sourceId;
      newest.push(remembered);
    }
    // Out-of-order quotes of the newest millisecond are forgotten: the restored window starts
    // right after the millisecond before it.
    const forgottenUpToMs = Math.max(this.forgottenUpToMs, this.newestMs - 1);
    return { newestMs: this.newestMs, forgottenUpToMs, newest };
  }

  /** Starts from a snapshot's state, on a fresh deduper. */
  restoreState(state: QuoteDeduperState): void {
    if (!Array.isArray(state?.newest)) throw new Error('dedupe state: newest quotes expected');
    for (const remembered of state.newest) {
      const quote = {
        tsNs: BigInt(remembered.tsNs),
        price: remembered.price,
        size: remembered.size,
        sourceId: remembered.sourceId,
      };
      this.append(quote, state.newestMs);
    }
    this.newestMs = state.newestMs ?? Number.NEGATIVE_INFINITY;
    this.forgottenUpToMs = state.forgottenUpToMs ?? Number.NEGATIVE_INFINITY;
  }

  /** Same nanosecond as the newest quote: its quotes are the last entries of the arrays. */
  private matchAtEnd(quote: QuoteIdentity): number | 'duplicate' | 'BAD_SEQUENCE' {
    let count = 0;
    for (let index = this.timestamps.length - 1; index >= this.head; index -= 1) {
      if (this.timestamps[index] !== quote.tsNs) break;
      if (this.sameQuote(quote, this.prices[index], this.sizes[index])) return 'duplicate';
      count += 1;
    }
    return count > quoteKeySequenceMax ? 'BAD_SEQUENCE' : count;
  }

  /** An older nanosecond: binary search among in-order quotes, then the out-of-order ones. */
  private matchEarlier(quote: QuoteIdentity): number | 'duplicate' | 'BAD_SEQUENCE' {
    let count = 0;
    for (let index = this.firstAtOrAfter(quote.tsNs); index < this.timestamps.length; index += 1) {
      if (this.timestamps[index] !== quote.tsNs) break;
      if (this.sameQuote(quote, this.prices[index], this.sizes[index])) return 'duplicate';
      count += 1;
    }
    for (const earlier of this.outOfOrder.get(quote.tsNs.toString()) ?? []) {
      if (this.sameQuote(quote, earlier.price, earlier.size)) return 'duplicate';
      count += 1;
    }
    return count > quoteKeySequenceMax ? 'BAD_SEQUENCE' : count;
  }

  /** Without a source id the content is the identity; with one, the id (checked already). */
  private sameQuote(quote: QuoteIdentity, price: number, size: number): boolean {
    return quote.sourceId === undefined && quote.price === price && quote.size === size;
  }

  private firstAtOrAfter(tsNs: bigint): number {
    let low = this.head;
    let high = this.timestamps.length;
    while (low < high) {
      const middle = (low + high) >> 1;
      if (this.timestamps[middle] < tsNs) low = middle + 1;
      else high = middle;
    }
    return low;
  }

  /**
   * Appends a quote newer than (or in the nanosecond of) the last one. Its sequence is not stored:
   * it is the number of quotes of its nanosecond before it, which the arrays hold in order.
   */
  private append(quote: QuoteIdentity, atMs: number): void {
    if (atMs > this.newestMs) this.newestMs = atMs;
    const horizonMs = this.newestMs - this.windowMs;
    while (this.head < this.times.length && this.times[this.head] < horizonMs) this.forgetOldest();
    if (this.times.length - this.head >= this.keysMax) this.forgetOldest();
    if (this.head >= compactAfterEntries && this.head * 2 >= this.times.length) this.compact();
    if (quote.sourceId !== undefined) {
      this.sourceIds ??= new Array<string | undefined>(this.timestamps.length).fill(undefined);
      this.knownSourceIds.set(quote.sourceId, atMs);
    }
    this.timestamps.push(quote.tsNs);
    this.times.push(atMs);
    this.prices.push(quote.price);
    this.sizes.push(quote.size);
    this.sourceIds?.push(quote.sourceId);
  }

  private compact(): void {
    this.timestamps = this.timestamps.slice(this.head);
    this.times = this.times.slice(this.head);
    this.prices = this.prices.slice(this.head);
    this.sizes = this.sizes.slice(this.head);
    this.sourceIds = this.sourceIds?.slice(this.head);
    this.head = 0;
  }

  private forgetOldest(): void {
    const forgottenMs = this.times[this.head];
    if (forgottenMs > this.forgottenUpToMs) this.forgottenUpToMs = forgottenMs;
    if (this.sourceIds !== undefined) {
      const sourceId = this.sourceIds[this.head];
      if (sourceId !== undefined) this.knownSourceIds.delete(sourceId);
      this.sourceIds[this.head] = undefined;
    }
    this.head += 1;
  }

  /** Keeps an out-of-order quote; false when there is no room even after a sweep. */
  private remember(quote: QuoteIdentity, sequence: number, atMs: number): boolean {
    if (this.outOfOrderCount >= this.outOfOrderKeysMax && !this.sweepOutOfOrder()) return false;
    const key = quote.tsNs.toString();
    const entry = { sequence, price: quote.price, size: quote.size, sourceId: quote.sourceId, atMs };
    const existing = this.outOfOrder.get(key);
    if (existing === undefined) this.outOfOrder.set(key, [entry]);
    else existing.push(entry);
    this.outOfOrderCount += 1;
    if (quote.sourceId !== undefined) this.knownSourceIds.set(quote.sourceId, atMs);
    return true;
  }

  /** Forgets out-of-order quotes that left the window; true when there is room again. */
  private sweepOutOfOrder(): boolean {
    const horizonMs = this.newestMs - this.windowMs;
    for (const [key, entries] of this.outOfOrder) {
      const atMs = entries[0].atMs;
      if (atMs >= horizonMs) continue;
      this.outOfOrder.delete(key);
      this.outOfOrderCount -= entries.length;
      for (const entry of entries)
        if (entry.sourceId !== undefined) this.knownSourceIds.delete(entry.sourceId);
      if (atMs > this.forgottenUpToMs) this.forgottenUpToMs = atMs;
    }
    return this.outOfOrderCount < this.outOfOrderKeysMax;
  }
}
