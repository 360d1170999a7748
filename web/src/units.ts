// Engine integers → decimal strings for one symbol, with the gateway's own exact conversion
// (src/gateway/decimal.ts is pure and shared on purpose). Market-data channels carry decimal
// strings by default, which pass through unchanged; the engine's integers (price in quote minor
// units per lot, quantity in lots: a `"units":"engine"` subscription) are converted.

import {
  type DecimalProblem,
  formatUnits,
  lotsToQty,
  type MarketScale,
  marketScale,
  minorToPrice,
  priceToMinor,
  qtyToLots,
} from '../../src/gateway/decimal.js';
import type { SymbolInfo } from './api.js';

export interface SymbolUnits {
  price(value: unknown): string;
  qty(value: unknown): string;
  /** A quote-asset amount in minor units (e.g. quote volume). */
  quoteAmount(value: unknown): string;
  /** Why `text` is not a valid price for this symbol, or undefined when it is. */
  priceProblem(text: string): string | undefined;
  qtyProblem(text: string): string | undefined;
}

const cache = new WeakMap<SymbolInfo, SymbolUnits>();

export function unitsFor(info: SymbolInfo): SymbolUnits {
  let units = cache.get(info);
  if (!units) {
    units = buildUnits(info);
    cache.set(info, units);
  }
  return units;
}

function buildUnits(info: SymbolInfo): SymbolUnits {
  const converted = marketScale({
    baseDecimals: info.baseDecimals,
    quoteDecimals: info.quoteDecimals,
    lotSize: info.lotSize,
    tickSize: info.tickSize,
  });
  const scale: MarketScale | undefined = converted.ok ? converted.value : undefined;
  const integer = (value: unknown): number | undefined =>
    typeof value === 'number' && Number.isSafeInteger(value) ? value : undefined;
  return {
    price(value) {
      const minor = integer(value);
      if (minor === undefined || !scale) return String(value ?? '0');
      return minorToPrice(minor, scale);
    },
    qty(value) {
      const lots = integer(value);
      if (lots === undefined || !scale) return String(value ?? '0');
      return lotsToQty(lots, scale);
    },
    quoteAmount(value) {
      if (typeof value !== 'number' && typeof value !== 'string') return '0';
      if (!/^\d+$/.test(String(value))) return String(value);
      return formatUnits(BigInt(value), info.quoteDecimals);
    },
    priceProblem(text) {
      if (!scale) return undefined;
      const checked = priceToMinor(text.trim(), scale);
      return checked.ok ? undefined : fieldProblem('Price', checked.problem, 'tick size', info.tickSize);
    },
    qtyProblem(text) {
      if (!scale) return undefined;
      const checked = qtyToLots(text.trim(), scale);
      return checked.ok ? undefined : fieldProblem('Quantity', checked.problem, 'lot size', info.lotSize);
    },
  };
}

/**
 * One sentence per problem, saying the step once, as a trader would read it ("Price must be a
 * multiple of the tick size 0.01."), not the gateway's wording for API callers.
 */
export function fieldProblem(field: string, problem: DecimalProblem, stepName: string, step: string): string {
  switch (problem) {
    case 'MALFORMED':
      return `${field} must be a number such as ${step}: digits and at most one decimal point.`;
    case 'NEGATIVE':
      return `${field} cannot be negative.`;
    case 'ZERO':
      return `${field} must be more than zero.`;
    case 'TOO_MANY_DECIMALS':
      return `${field} has too many decimal places: it must be a multiple of the ${stepName} ${step}.`;
    case 'OFF_STEP':
      return `${field} must be a multiple of the ${stepName} ${step}.`;
    case 'OUT_OF_RANGE':
      return `${field} is too large.`;
  }
}
