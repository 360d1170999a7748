// A market's configuration, checked in one place: the `symbol` command (engine.ts) and snapshot
// loading (engine-snapshots.ts) accept exactly the same symbols.
import { isPositiveSafeInteger } from './numbers.js';
import type { SymbolCommand } from './types.js';

export const NAME_LENGTH_MAX = 32;
export const BPS_MAX = 10_000;

export function isName(value: unknown): value is string {
  return typeof value === 'string' && value.length >= 1 && value.length <= NAME_LENGTH_MAX;
}

export function isBps(value: unknown): value is number {
  return Number.isInteger(value) && (value as number) >= 0 && (value as number) <= BPS_MAX;
}

/** What a symbol is: names, lot and tick sizes, fees (a `symbol` command's own fields). */
export type SymbolConfig = Omit<SymbolCommand, 'op' | 'ts'>;

/**
 * The fields of a `symbol` command (or a snapshot's symbol entry) as a configuration, or null when
 * any is malformed: names not 1-32 character strings, `base === quote`, lot or tick size not a
 * positive safe integer, a fee not an integer in 0..10000. Whether the symbol or its assets already
 * exist is the caller's question.
 */
export function parseSymbolConfig(fields: { readonly [key: string]: unknown }): SymbolConfig | null {
  const { symbol, base, quote, lotSize, tickSize, makerFeeBps, takerFeeBps } = fields;
  if (
    !isName(symbol) ||
    !isName(base) ||
    !isName(quote) ||
    base === quote ||
    !isPositiveSafeInteger(lotSize) ||
    !isPositiveSafeInteger(tickSize) ||
    !isBps(makerFeeBps) ||
    !isBps(takerFeeBps)
  ) {
    return null;
  }
  return { symbol, base, quote, lotSize, tickSize, makerFeeBps, takerFeeBps };
}
