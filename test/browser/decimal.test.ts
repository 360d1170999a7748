// The UI's exact decimal arithmetic (web/src/decimal.ts) against BigInt on scaled integers, with
// fast-check (seed printed on failure), plus the formatting the screens rely on.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  addDecimal,
  compareDecimal,
  formatDecimal,
  fractionDigits,
  isMultipleOf,
  multiplyDecimal,
  parseDecimal,
  percentChange,
  sharePercent,
  subtractDecimal,
  unitsToString,
} from '../../web/src/decimal.js';

const seed = Number(process.env.HOGA_SEED ?? 424_242);
/** A decimal string with 0..8 fraction digits, and its value as units / 10^scale. */
const decimal = fc
  .tuple(fc.bigInt({ min: 0n, max: 10n ** 15n }), fc.integer({ min: 0, max: 8 }))
  .map(([units, scale]) => ({ text: unitsToString(units, scale), units, scale }));

function scaled(value: { units: bigint; scale: number }, scale: number): bigint {
  return value.units * 10n ** BigInt(scale - value.scale);
}

describe('web decimal arithmetic', () => {
  it('parses what it prints, and compares, adds, subtracts and multiplies exactly', () => {
    fc.assert(
      fc.property(decimal, decimal, (a, b) => {
        const parsed = parseDecimal(a.text);
        assert.ok(parsed);
        assert.equal(scaled(parsed, 8), scaled(a, 8));
        const scale = Math.max(a.scale, b.scale);
        const difference = scaled(a, scale) - scaled(b, scale);
        assert.equal(compareDecimal(a.text, b.text), difference > 0n ? 1 : difference < 0n ? -1 : 0);
        assert.equal(addDecimal(a.text, b.text), unitsToString(scaled(a, scale) + scaled(b, scale), scale));
        assert.equal(subtractDecimal(a.text, b.text), unitsToString(difference, scale));
        assert.equal(multiplyDecimal(a.text, b.text), unitsToString(a.units * b.units, a.scale + b.scale));
      }),
      { seed, numRuns: 500 },
    );
  });

  it('accepts a value only when it is a positive whole multiple of the step', () => {
    fc.assert(
      fc.property(
        decimal,
        fc.bigInt({ min: 1n, max: 10n ** 6n }),
        fc.integer({ min: 0, max: 6 }),
        (value, stepUnits, stepScale) => {
          const step = unitsToString(stepUnits, stepScale);
          const scale = Math.max(value.scale, stepScale);
          const stepScaled = stepUnits * 10n ** BigInt(scale - stepScale);
          const expected = value.units > 0n && scaled(value, scale) % stepScaled === 0n;
          assert.equal(isMultipleOf(value.text, step), expected, `${value.text} on step ${step}`);
        },
      ),
      { seed, numRuns: 500 },
    );
  });

  it('formats with the tick decimals, thousands grouped, no float rounding', () => {
    assert.equal(formatDecimal('64250.1', 2), '64,250.10');
    assert.equal(formatDecimal('0.30000000000000004', 2), '0.30');
    assert.equal(formatDecimal('1234567', 0), '1,234,567');
    assert.equal(formatDecimal('-1.5', 2), '-1.50');
    assert.equal(fractionDigits('0.0100'), 2);
    assert.equal(fractionDigits('10'), 0);
    assert.equal(percentChange('200', '201.5'), '0.75');
    assert.equal(percentChange('200', '199'), '-0.50');
    assert.equal(sharePercent('1', '3'), 33);
    assert.equal(parseDecimal('1e5'), undefined);
    assert.equal(parseDecimal('-1'), undefined);
  });
});
