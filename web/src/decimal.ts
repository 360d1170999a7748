// Exact decimal arithmetic on strings for the UI. Prices and quantities arrive from the server as
// decimal strings and are shown, compared and validated here with BigInt: never a float, so the
// UI never shows 0.30000000000000004 or lets an off-tick price through. What counts as a decimal
// is the gateway's rule (src/gateway/decimal.ts, shared by both), so the UI never accepts a value
// the server refuses, nor the other way round: digits, at most one point, no sign, exponent,
// spaces, separators or leading zeros, at most 48 characters.

import { parseDecimal as parseExactDecimal } from '../../src/gateway/decimal.js';

export interface ScaledDecimal {
  /** The value times 10^scale. */
  units: bigint;
  scale: number;
}

/**
 * Parses a non-negative decimal string such as "12.50" by the gateway's rules; undefined when it is
 * not one. The scale is the number of digits written ("12.50" has 2), so sums and products keep
 * the places the user and the server wrote.
 */
export function parseDecimal(text: string): ScaledDecimal | undefined {
  const parsed = parseExactDecimal(text);
  if (!parsed.ok) return undefined;
  const dot = text.indexOf('.');
  const written = dot < 0 ? 0 : text.length - dot - 1;
  return { units: parsed.value.units * 10n ** BigInt(written - parsed.value.scale), scale: written };
}

/** Digits after the decimal point of a step such as a tick size: "0.01" has 2. */
export function fractionDigits(step: string): number {
  const dot = step.indexOf('.');
  if (dot < 0) return 0;
  return step.replace(/0+$/, '').length - dot - 1;
}

function rescale(value: ScaledDecimal, scale: number): bigint {
  return value.units * 10n ** BigInt(scale - value.scale);
}

/** Renders units / 10^scale as a plain decimal string with exactly `scale` fraction digits. */
export function unitsToString(units: bigint, scale: number): string {
  const negative = units < 0n;
  const digits = (negative ? -units : units).toString().padStart(scale + 1, '0');
  const whole = digits.slice(0, digits.length - scale);
  const fraction = digits.slice(digits.length - scale);
  const sign = negative ? '-' : '';
  return scale === 0 ? `${sign}${whole}` : `${sign}${whole}.${fraction}`;
}

/** Shows a decimal string with exactly `places` fraction digits (pads, or cuts extra digits). */
export function formatDecimal(text: string, places: number): string {
  const negative = text.startsWith('-');
  const parsed = parseDecimal(negative ? text.slice(1) : text);
  if (!parsed) return text;
  const units =
    parsed.scale > places ? parsed.units / 10n ** BigInt(parsed.scale - places) : rescale(parsed, places);
  return withThousands(unitsToString(negative ? -units : units, places));
}

function withThousands(text: string): string {
  const [whole, fraction] = text.split('.');
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return fraction === undefined ? grouped : `${grouped}.${fraction}`;
}

export function compareDecimal(left: string, right: string): number {
  const a = parseDecimal(left);
  const b = parseDecimal(right);
  if (!a || !b) return 0;
  const scale = Math.max(a.scale, b.scale);
  const difference = rescale(a, scale) - rescale(b, scale);
  return difference > 0n ? 1 : difference < 0n ? -1 : 0;
}

export function isZero(text: string): boolean {
  const parsed = parseDecimal(text);
  return parsed !== undefined && parsed.units === 0n;
}

/** True when `value` is a positive whole multiple of `step` (tick or lot size). */
export function isMultipleOf(value: string, step: string): boolean {
  const a = parseDecimal(value);
  const b = parseDecimal(step);
  if (!a || !b || b.units === 0n || a.units === 0n) return false;
  const scale = Math.max(a.scale, b.scale);
  return rescale(a, scale) % rescale(b, scale) === 0n;
}

export function multiplyDecimal(left: string, right: string): string | undefined {
  const a = parseDecimal(left);
  const b = parseDecimal(right);
  if (!a || !b) return undefined;
  return unitsToString(a.units * b.units, a.scale + b.scale);
}

export function subtractDecimal(left: string, right: string): string | undefined {
  const a = parseDecimal(left);
  const b = parseDecimal(right);
  if (!a || !b) return undefined;
  const scale = Math.max(a.scale, b.scale);
  return unitsToString(rescale(a, scale) - rescale(b, scale), scale);
}

export function addDecimal(left: string, right: string): string | undefined {
  const a = parseDecimal(left);
  const b = parseDecimal(right);
  if (!a || !b) return undefined;
  const scale = Math.max(a.scale, b.scale);
  return unitsToString(rescale(a, scale) + rescale(b, scale), scale);
}

/** (last - open) / open as a signed percentage string with two decimals, e.g. "-1.25". */
export function percentChange(open: string, last: string): string | undefined {
  const a = parseDecimal(open);
  const b = parseDecimal(last);
  if (!a || !b || a.units === 0n) return undefined;
  const scale = Math.max(a.scale, b.scale);
  const openUnits = rescale(a, scale);
  const basisPointsTimesHundred = ((rescale(b, scale) - openUnits) * 10_000n) / openUnits;
  return unitsToString(basisPointsTimesHundred, 2);
}

/** Integer percentage 0..100 of `part` over `whole`, for size bars. */
export function sharePercent(part: string, whole: string): number {
  const a = parseDecimal(part);
  const b = parseDecimal(whole);
  if (!a || !b || b.units === 0n) return 0;
  const scale = Math.max(a.scale, b.scale);
  const share = (rescale(a, scale) * 100n) / rescale(b, scale);
  return Number(share > 100n ? 100n : share);
}

/** The larger of two decimal strings. */
export function maxDecimal(left: string, right: string): string {
  return compareDecimal(left, right) >= 0 ? left : right;
}
