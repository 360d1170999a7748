// Parsing of the order fields that `place` and `oco` share.
import type { TimeInForce } from './types.js';

export const STP_NONE = 0;
export const STP_EXPIRE_MAKER = 1;
export const STP_EXPIRE_TAKER = 2;
export const STP_EXPIRE_BOTH = 3;
export const STP_INVALID = -1;

/** The self-trade prevention mode's code, defaulting to expireMaker; STP_INVALID when malformed. */
export function parseStp(value: unknown): number {
  switch (value) {
    case undefined:
    case null:
    case 'expireMaker':
      return STP_EXPIRE_MAKER;
    case 'none':
      return STP_NONE;
    case 'expireTaker':
      return STP_EXPIRE_TAKER;
    case 'expireBoth':
      return STP_EXPIRE_BOTH;
    default:
      return STP_INVALID;
  }
}

/** The time in force, defaulted by type; null when malformed. */
export function parseTif(value: unknown, isMarket: boolean): TimeInForce | null {
  if (value === undefined || value === null) return isMarket ? 'IOC' : 'GTC';
  if (value === 'GTC' || value === 'IOC' || value === 'FOK') return value;
  return null;
}

/** "Absent" is a missing key or null. */
export function isAbsent(value: unknown): boolean {
  return value === undefined || value === null;
}
