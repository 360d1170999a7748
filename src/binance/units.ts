// Binance's units and words ↔ Hoga's. Prices and quantities are decimal strings in both (Hoga's
// market units are Binance's: quote per one base unit, base units); times are ms in both. What
// differs: interval names, the taker side told as `isBuyerMaker`, and parameters Binance sends as
// text (`limit`, `startTime`), which are checked here with Binance's error codes.
import type { CandleInterval } from '../marketdata/index.js';
import { candleIntervals } from '../marketdata/index.js';
import { badInterval, illegalParam, mandatoryParam } from './errors.js';

/** Binance intervals Hoga keeps candles for (every Hoga interval has the same name on Binance). */
export const binanceIntervals: readonly CandleInterval[] = candleIntervals;

export function intervalOf(text: unknown): CandleInterval {
  if (typeof text !== 'string' || text.length === 0) throw mandatoryParam('interval');
  if (!(binanceIntervals as readonly string[]).includes(text)) throw badInterval();
  return text as CandleInterval;
}

/** Binance's `m`: the buyer was the maker, i.e. the taker sold. */
export function isBuyerMaker(takerSide: string): boolean {
  return takerSide === 'sell';
}

const integerPattern = /^[0-9]{1,16}$/;

/** An optional non-negative integer parameter (`limit`, `startTime`, `fromId`); -1100 when not one. */
export function integerParam(value: unknown, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !integerPattern.test(value) || !Number.isSafeInteger(Number(value)))
    throw illegalParam(name, "legal range is '^[0-9]{1,16}$'");
  return Number(value);
}

/** A `limit` in [1, max] with a default; Binance clamps a too-large limit, so does this. */
export function limitParam(value: unknown, fallback: number, max: number): number {
  const limit = integerParam(value, 'limit');
  if (limit === undefined) return fallback;
  if (limit < 1) throw illegalParam('limit', 'it must be at least 1');
  return Math.min(limit, max);
}

/** Binance's fixed-point text of a Hoga decimal string, unchanged: both are exact decimal strings. */
export function decimalText(value: string | null, empty = '0'): string {
  return value ?? empty;
}
