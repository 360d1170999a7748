// Integer helpers for the engine: every amount is a safe integer and stays one.

export function isNonNegativeSafeInteger(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}

export function isPositiveSafeInteger(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) > 0;
}

/**
 * floor(dividend / divisor) for non-negative safe integers. The float quotient is rounded to
 * nearest and can land on the next integer up when the true quotient sits just below it, so the
 * result is corrected by one multiplication.
 */
export function floorDivide(dividend: number, divisor: number): number {
  const quotient = Math.floor(dividend / divisor);
  return quotient * divisor > dividend ? quotient - 1 : quotient;
}

const BPS_DENOMINATOR = 10_000;

/** floor(amount * bps / 10000) without leaving safe integers (bps is 0..10000). */
export function basisPointsOf(amount: number, bps: number): number {
  const whole = floorDivide(amount, BPS_DENOMINATOR);
  const rest = amount - whole * BPS_DENOMINATOR;
  return whole * bps + Math.floor((rest * bps) / BPS_DENOMINATOR);
}
