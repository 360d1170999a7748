// One quote per line, as NDJSON or CSV, for file replay and the TCP feed.
//   NDJSON: {"tsNs":"1732456800123456789","symbol":"AAPL","country":"US","timezone":"America/New_York","price":18950,"size":100}
//   CSV:    tsNs,symbol,country,timezone,price,size   (a header line is skipped)
import type { Quote } from '../ingest.js';

export const quoteLineBytesMax = 4_096;

export type QuoteLineError = 'LINE_TOO_LONG' | 'BAD_JSON' | 'BAD_FIELDS' | 'HEADER';

export function parseQuoteLine(line: string): Quote | QuoteLineError {
  if (line.length > quoteLineBytesMax) return 'LINE_TOO_LONG';
  const trimmed = line.trim();
  return trimmed.startsWith('{') ? parseJsonQuote(trimmed) : parseCsvQuote(trimmed);
}

function parseJsonQuote(line: string): Quote | QuoteLineError {
  let value: Record<string, unknown>;
  try {
    value = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return 'BAD_JSON';
  }
  return quoteOf(value.tsNs, value.symbol, value.country, value.timezone, value.price, value.size);
}

function parseCsvQuote(line: string): Quote | QuoteLineError {
  const fields = line.split(',');
  if (fields.length !== 6) return 'BAD_FIELDS';
  if (fields[0] === 'tsNs') return 'HEADER';
  return quoteOf(fields[0], fields[1], fields[2], fields[3], Number(fields[4]), Number(fields[5]));
}

function quoteOf(
  tsNs: unknown,
  symbol: unknown,
  country: unknown,
  timezone: unknown,
  price: unknown,
  size: unknown,
): Quote | QuoteLineError {
  if (typeof tsNs !== 'string' || !/^[0-9]{1,20}$/.test(tsNs)) return 'BAD_FIELDS';
  if (typeof symbol !== 'string' || typeof country !== 'string' || typeof timezone !== 'string')
    return 'BAD_FIELDS';
  if (!Number.isSafeInteger(price) || !Number.isSafeInteger(size)) return 'BAD_FIELDS';
  return { tsNs: BigInt(tsNs), symbol, country, timezone, price: price as number, size: size as number };
}

export function formatQuoteJson(quote: Quote): string {
  return JSON.stringify({ ...quote, tsNs: quote.tsNs.toString() });
}

export function formatQuoteCsv(quote: Quote): string {
  return `${quote.tsNs},${quote.symbol},${quote.country},${quote.timezone},${quote.price},${quote.size}`;
}
