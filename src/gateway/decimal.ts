// Exact conversion between human decimal strings and the engine's integers. BigInt and string
// arithmetic only: a float never touches a price, a quantity or an amount. No Node built-ins, so
// the web UI can import this file as is.
//
// Units (see docs/API.md "Numbers"):
// - an asset amount is a decimal string with at most the asset's `decimals` places; the engine
//   counts it in minor units (amount * 10^decimals);
// - a quantity is in base units and must be a multiple of the symbol's lot size; the engine
//   counts lots;
// - a price is in quote units per ONE base unit and must be a multiple of the tick size; the
//   engine counts quote minor units per lot (price * lotSize * 10^quoteDecimals).

/** Longest decimal string accepted: far beyond any safe integer, short enough to parse cheaply. */
export const decimalTextLengthMax = 48;
/** Asset decimals accepted (18 covers every token in use). */
export const assetDecimalsMax = 18;

const maxSafe = BigInt(Number.MAX_SAFE_INTEGER);
const decimalPattern = /^(0|[1-9][0-9]*)(?:\.([0-9]+))?$/;

/** `units / 10^scale`, both exact. */
export interface Decimal {
  units: bigint;
  scale: number;
}

export type DecimalProblem =
  | 'MALFORMED'
  | 'NEGATIVE'
  | 'ZERO'
  | 'TOO_MANY_DECIMALS'
  | 'OFF_STEP'
  | 'OUT_OF_RANGE';

export type Converted<T> = { ok: true; value: T } | { ok: false; problem: DecimalProblem; message: string };

const problemMessages: Record<DecimalProblem, string> = {
  MALFORMED:
    'must be a number such as "12.5", written as text: digits and at most one decimal point (no sign, exponent or thousands separators)',
  NEGATIVE: 'must not be negative',
  ZERO: 'must be greater than zero',
  TOO_MANY_DECIMALS: 'has more decimal places than allowed',
  OFF_STEP: 'is not a multiple of the step size',
  OUT_OF_RANGE: 'is too large',
};

function fail<T>(problem: DecimalProblem, detail?: string): Converted<T> {
  const message = detail === undefined ? problemMessages[problem] : `${problemMessages[problem]} (${detail})`;
  return { ok: false, problem, message };
}

function succeed<T>(value: T): Converted<T> {
  return { ok: true, value };
}

function powerOfTen(exponent: number): bigint {
  return 10n ** BigInt(exponent);
}

/** Parses a non-negative decimal string; trailing zeros count toward the scale only if significant. */
export function parseDecimal(text: unknown): Converted<Decimal> {
  if (typeof text !== 'string' || text.length === 0 || text.length > decimalTextLengthMax) {
    return fail('MALFORMED');
  }
  if (text.startsWith('-')) return fail('NEGATIVE');
  const match = decimalPattern.exec(text);
  if (match === null) return fail('MALFORMED');
  const fraction = (match[2] ?? '').replace(/0+$/, '');
  const units = BigInt(match[1] + fraction);
  return succeed({ units, scale: fraction.length });
}

/** Brings a decimal to a larger scale without changing its value. */
function rescale(value: Decimal, scale: number): bigint {
  return value.units * powerOfTen(scale - value.scale);
}

/** `units` at `scale` as a decimal string with exactly `scale` places ("1.50" for 150n, 2). */
export function formatUnits(units: bigint, scale: number): string {
  const negative = units < 0n;
  const digits = (negative ? -units : units).toString().padStart(scale + 1, '0');
  const sign = negative ? '-' : '';
  if (scale === 0) return sign + digits;
  return `${sign}${digits.slice(0, digits.length - scale)}.${digits.slice(digits.length - scale)}`;
}

function toSafeNumber(value: bigint): Converted<number> {
  if (value > maxSafe) return fail('OUT_OF_RANGE');
  return succeed(Number(value));
}

/** A positive amount of an asset in minor units: at most `decimals` places, a safe integer. */
export function amountToMinor(text: unknown, decimals: number): Converted<number> {
  const parsed = parseDecimal(text);
  if (!parsed.ok) return parsed;
  if (parsed.value.units === 0n) return fail('ZERO');
  if (parsed.value.scale > decimals) return fail('TOO_MANY_DECIMALS', `at most ${decimals}`);
  return toSafeNumber(rescale(parsed.value, decimals));
}

export function minorToAmount(minor: number, decimals: number): string {
  return formatUnits(BigInt(minor), decimals);
}

/** What an admin gives for a new market, in human units. */
export interface MarketSpec {
  baseDecimals: number;
  quoteDecimals: number;
  /** Base units per lot, e.g. "0.001". */
  lotSize: string;
  /** Quote units per base unit, e.g. "0.01". */
  tickSize: string;
}

/** A market's scales, derived once from its spec; every conversion of that market goes through it. */
export interface MarketScale {
  spec: MarketSpec;
  lot: Decimal;
  tick: Decimal;
  /** Engine `lotSize`: base minor units per lot. */
  lotSizeMinor: number;
  /** Engine `tickSize`: quote minor units per lot for one tick. */
  tickSizeMinor: number;
}

export type MarketProblemField = 'baseDecimals' | 'quoteDecimals' | 'lotSize' | 'tickSize';

export type MarketConverted =
  | { ok: true; value: MarketScale }
  | { ok: false; field: MarketProblemField; problem: DecimalProblem; message: string };

function validDecimals(decimals: unknown): boolean {
  return Number.isInteger(decimals) && (decimals as number) >= 0 && (decimals as number) <= assetDecimalsMax;
}

/**
 * Derives the engine's integer lot and tick sizes. The lot must be a whole number of base minor
 * units, and one tick on one lot a whole number of quote minor units; otherwise no exact engine
 * price exists and the market is refused, naming the field to change.
 */
export function marketScale(spec: MarketSpec): MarketConverted {
  if (!validDecimals(spec.baseDecimals)) {
    return {
      ok: false,
      field: 'baseDecimals',
      problem: 'OUT_OF_RANGE',
      message: `must be 0..${assetDecimalsMax}`,
    };
  }
  if (!validDecimals(spec.quoteDecimals)) {
    return {
      ok: false,
      field: 'quoteDecimals',
      problem: 'OUT_OF_RANGE',
      message: `must be 0..${assetDecimalsMax}`,
    };
  }
  const lot = amountToMinor(spec.lotSize, spec.baseDecimals);
  if (!lot.ok) return { ok: false, field: 'lotSize', problem: lot.problem, message: lot.message };
  const tick = parseDecimal(spec.tickSize);
  if (!tick.ok) return { ok: false, field: 'tickSize', problem: tick.problem, message: tick.message };
  if (tick.value.units === 0n) {
    return { ok: false, field: 'tickSize', problem: 'ZERO', message: problemMessages.ZERO };
  }
  const lotDecimal = (parseDecimal(spec.lotSize) as { ok: true; value: Decimal }).value;
  // tick * lot * 10^quoteDecimals, exact: units multiply, scales add.
  const tickTimesLotUnits = tick.value.units * lotDecimal.units * powerOfTen(spec.quoteDecimals);
  const divisor = powerOfTen(tick.value.scale + lotDecimal.scale);
  if (tickTimesLotUnits % divisor !== 0n) {
    return {
      ok: false,
      field: 'tickSize',
      problem: 'OFF_STEP',
      message: 'one tick on one lot must be a whole number of quote minor units',
    };
  }
  const tickMinor = toSafeNumber(tickTimesLotUnits / divisor);
  if (!tickMinor.ok)
    return { ok: false, field: 'tickSize', problem: 'OUT_OF_RANGE', message: tickMinor.message };
  return {
    ok: true,
    value: {
      spec,
      lot: lotDecimal,
      tick: tick.value,
      lotSizeMinor: lot.value,
      tickSizeMinor: tickMinor.value,
    },
  };
}

/** Splits `value` into a whole number of `step`s, or reports the problem. */
function stepsOf(value: Decimal, step: Decimal): Converted<bigint> {
  if (value.units === 0n) return fail('ZERO');
  const scale = Math.max(value.scale, step.scale);
  const valueUnits = rescale(value, scale);
  const stepUnits = rescale(step, scale);
  if (valueUnits % stepUnits !== 0n) return fail('OFF_STEP', `step ${formatUnits(step.units, step.scale)}`);
  return succeed(valueUnits / stepUnits);
}

/** A quantity in base units → lots. */
export function qtyToLots(text: unknown, market: MarketScale): Converted<number> {
  const parsed = parseDecimal(text);
  if (!parsed.ok) return parsed;
  if (parsed.value.scale > market.lot.scale) return fail('TOO_MANY_DECIMALS', `at most ${market.lot.scale}`);
  const lots = stepsOf(parsed.value, market.lot);
  if (!lots.ok) return lots;
  return toSafeNumber(lots.value);
}

/** A price in quote units per base unit → quote minor units per lot. */
export function priceToMinor(text: unknown, market: MarketScale): Converted<number> {
  const parsed = parseDecimal(text);
  if (!parsed.ok) return parsed;
  if (parsed.value.scale > market.tick.scale)
    return fail('TOO_MANY_DECIMALS', `at most ${market.tick.scale}`);
  const ticks = stepsOf(parsed.value, market.tick);
  if (!ticks.ok) return ticks;
  return toSafeNumber(ticks.value * BigInt(market.tickSizeMinor));
}

export function lotsToQty(lots: number, market: MarketScale): string {
  return formatUnits(BigInt(lots) * market.lot.units, market.lot.scale);
}

/**
 * Engine price → decimal string. Every engine price is a whole number of ticks (the engine checks
 * it), so the result is exact; anything else is a broken invariant.
 */
export function minorToPrice(priceMinor: number, market: MarketScale): string {
  const price = BigInt(priceMinor);
  const tickMinor = BigInt(market.tickSizeMinor);
  if (price % tickMinor !== 0n) throw new Error(`price ${priceMinor} is not a multiple of tick ${tickMinor}`);
  return formatUnits((price / tickMinor) * market.tick.units, market.tick.scale);
}
