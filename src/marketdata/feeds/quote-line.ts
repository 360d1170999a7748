// One quote per line, as NDJSON or CSV, for file replay and the TCP feed.
//   NDJSON: {"tsNs":"1732456800123456789","symbol":"AAPL","country":"US","timezone":"America/New_York","price":"189.50","size":100}
//   CSV:    tsNs,symbol,country,timezone,price,size[,sourceId]   (a header line is skipped)
// A price with a decimal point is in major units and becomes minor units exactly, with integers
// (`priceDecimals` places, default 2: "189.50" is 18950); a price without one is in minor units
// already (18950). A decimal with more places than that, unless they are zeros, is refused: it
// has no exact minor-unit value. The optional `sourceId` is the feed's own id of the quote.
import type { Quote } from '../ingest.js';

export const quoteLineBytesMax = 4_096;

export interface QuoteLineOptions {
  /** Minor units per major unit, as a power of ten: 2 means cents. */
  priceDecimals?: number;
}

export const quotePriceDecimalsDefault = 2;

export type QuoteLineError = 'LINE_TOO_LONG' | 'BAD_JSON' | 'BAD_FIELDS' | 'BAD_PRICE' | 'HEADER';

const decimalPattern = /^([0-9]{1,20})(?:\.([0-9]{1,30}))?$/;
/** The raw text of a JSON `"price"` number, which JSON.parse would turn into a float. */
const jsonPricePattern = /"price"\s*:\s*(-?[0-9][0-9.eE+-]*)/g;

export function parseQuoteLine(line: string, options: QuoteLineOptions = {}): Quote | QuoteLineError {
  if (line.length > quoteLineBytesMax) return 'LINE_TOO_LONG';
  const trimmed = line.trim();
  const decimals = options.priceDecimals ?? quotePriceDecimalsDefault;
  return trimmed.startsWith('{') ? parseJsonQuote(trimmed, decimals) : parseCsvQuote(trimmed, decimals);
}

/**
 * A decimal text as integer minor units with `decimals` places, exactly; `undefined` when it is
 * not a non-negative decimal or has no exact value in minor units or passes 2^53.
 */
export function decimalToMinor(text: string, decimals: number): number | undefined {
  const match = decimalPattern.exec(text);
  if (match === null) return undefined;
  const fraction = match[2] ?? '';
  if (fraction.length > decimals && /[1-9]/.test(fraction.slice(decimals))) return undefined;
  const minor = BigInt(match[1] + fraction.slice(0, decimals).padEnd(decimals, '0'));
  return minor <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(minor) : undefined;
}

/** A price field: integer minor units as they are, a decimal converted. */
function priceOf(text: string, decimals: number): number | 'BAD_PRICE' {
  if (!text.includes('.')) {
    const minor = /^[0-9]{1,16}$/.test(text) ? Number(text) : Number.NaN;
    return Number.isSafeInteger(minor) ? minor : 'BAD_PRICE';
  }
  return decimalToMinor(text, decimals) ?? 'BAD_PRICE';
}

function parseJsonQuote(line: string, decimals: number): Quote | QuoteLineError {
  let value: Record<string, unknown>;
  try {
    value = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return 'BAD_JSON';
  }
  let priceText: string | undefined;
  if (typeof value.price === 'string') priceText = value.price;
  else if (typeof value.price === 'number') {
    const raw = [...line.matchAll(jsonPricePattern)];
    // A number's own text, not its float: "189.50" must stay exact.
    priceText = raw.length === 1 ? raw[0][1] : undefined;
  }
  const sourceId = value.sourceId;
  if (sourceId !== undefined && typeof sourceId !== 'string') return 'BAD_FIELDS';
  return quoteOf(
    [value.tsNs, value.symbol, value.country, value.timezone, priceText, value.size, sourceId],
    decimals,
  );
}

function parseCsvQuote(line: string, decimals: number): Quote | QuoteLineError {
  const fields = line.split(',');
  if (fields.length !== 6 && fields.length !== 7) return 'BAD_FIELDS';
  if (fields[0] === 'tsNs') return 'HEADER';
  const sourceId = fields.length === 7 && fields[6] !== '' ? fields[6] : undefined;
  return quoteOf(
    [fields[0], fields[1], fields[2], fields[3], fields[4], Number(fields[5]), sourceId],
    decimals,
  );
}

function quoteOf(fields: unknown[], decimals: number): Quote | QuoteLineError {
  const [tsNs, symbol, country, timezone, priceText, size, sourceId] = fields;
  if (typeof tsNs !== 'string' || !/^[0-9]{1,20}$/.test(tsNs)) return 'BAD_FIELDS';
  if (typeof symbol !== 'string' || typeof country !== 'string' || typeof timezone !== 'string')
    return 'BAD_FIELDS';
  if (typeof priceText !== 'string' || !Number.isSafeInteger(size)) return 'BAD_FIELDS';
  const price = priceOf(priceText, decimals);
  if (price === 'BAD_PRICE') return price;
  const quote: Quote = { tsNs: BigInt(tsNs), symbol, country, timezone, price, size: size as number };
  if (typeof sourceId === 'string') quote.sourceId = sourceId;
  return quote;
}

export function formatQuoteJson(quote: Quote): string {
  return JSON.stringify({ ...quote, tsNs: quote.tsNs.toString() });
}

export function formatQuoteCsv(quote: Quote): string {
  const line = `${quote.tsNs},${quote.symbol},${quote.country},${quote.timezone},${quote.price},${quote.size}`;
  return quote.sourceId === undefined ? line : `${line},${quote.sourceId}`;
}
