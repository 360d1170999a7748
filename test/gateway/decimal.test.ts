import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  amountToMinor,
  formatUnits,
  lotsToQty,
  type MarketScale,
  marketScale,
  minorToAmount,
  minorToPrice,
  parseDecimal,
  priceToMinor,
  qtyToLots,
} from '../../src/gateway/decimal.js';

function market(lotSize: string, tickSize: string, baseDecimals = 8, quoteDecimals = 6): MarketScale {
  const result = marketScale({ baseDecimals, quoteDecimals, lotSize, tickSize });
  if (!result.ok) assert.fail(`${result.field}: ${result.message}`);
  return result.value;
}

function problemOf(result: { ok: boolean; problem?: string }): string | undefined {
  return result.ok ? undefined : result.problem;
}

describe('parseDecimal', () => {
  it('parses plain decimals and drops insignificant zeros', () => {
    assert.deepEqual(parseDecimal('12.50'), { ok: true, value: { units: 1250n / 10n, scale: 1 } });
    assert.deepEqual(parseDecimal('0'), { ok: true, value: { units: 0n, scale: 0 } });
    assert.deepEqual(parseDecimal('0.000001'), { ok: true, value: { units: 1n, scale: 6 } });
  });

  it('refuses everything that is not a plain non-negative decimal', () => {
    for (const text of ['', '.5', '5.', '1e3', '+1', ' 1', '1 ', '01', '1.2.3', '0x10', 'NaN', 'Infinity']) {
      assert.equal(problemOf(parseDecimal(text)), 'MALFORMED', text);
    }
    for (const value of [1, null, undefined, {}, [], true]) {
      assert.equal(problemOf(parseDecimal(value)), 'MALFORMED', String(value));
    }
    assert.equal(problemOf(parseDecimal('-1')), 'NEGATIVE');
    assert.equal(problemOf(parseDecimal('1'.repeat(49))), 'MALFORMED');
  });
});

describe('amounts', () => {
  it('converts to minor units exactly and back', () => {
    assert.deepEqual(amountToMinor('1.5', 8), { ok: true, value: 150_000_000 });
    assert.deepEqual(amountToMinor('0.1', 1), { ok: true, value: 1 });
    assert.equal(minorToAmount(150_000_000, 8), '1.50000000');
    assert.equal(minorToAmount(5, 0), '5');
    assert.equal(minorToAmount(5, 3), '0.005');
  });

  it('names each problem', () => {
    assert.equal(problemOf(amountToMinor('0.001', 2)), 'TOO_MANY_DECIMALS');
    assert.equal(problemOf(amountToMinor('0.000', 2)), 'ZERO');
    assert.equal(problemOf(amountToMinor('-3', 2)), 'NEGATIVE');
    assert.equal(problemOf(amountToMinor('90071992547409.92', 2)), 'OUT_OF_RANGE');
    assert.deepEqual(amountToMinor('90071992547409.91', 2), { ok: true, value: Number.MAX_SAFE_INTEGER });
  });

  it('round-trips every safe minor amount (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
        fc.integer({ min: 0, max: 18 }),
        (minor, decimals) => {
          assert.deepEqual(amountToMinor(minorToAmount(minor, decimals), decimals), {
            ok: true,
            value: minor,
          });
        },
      ),
    );
  });
});

describe('markets', () => {
  it('derives integer lot and tick sizes', () => {
    const btc = market('0.001', '0.01');
    assert.equal(btc.lotSizeMinor, 100_000);
    // 0.01 quote per base unit on 0.001 base = 0.00001 quote = 10 micro-units
    assert.equal(btc.tickSizeMinor, 10);
  });

  it('refuses a tick that has no exact engine price, naming the field', () => {
    const result = marketScale({ baseDecimals: 8, quoteDecimals: 2, lotSize: '0.001', tickSize: '0.01' });
    assert.equal(result.ok, false);
    assert.equal(result.ok ? undefined : result.field, 'tickSize');
    const lot = marketScale({ baseDecimals: 2, quoteDecimals: 2, lotSize: '0.001', tickSize: '1' });
    assert.equal(lot.ok ? undefined : lot.field, 'lotSize');
    const decimals = marketScale({ baseDecimals: 19, quoteDecimals: 2, lotSize: '1', tickSize: '1' });
    assert.equal(decimals.ok ? undefined : decimals.field, 'baseDecimals');
    const zeroTick = marketScale({ baseDecimals: 2, quoteDecimals: 2, lotSize: '1', tickSize: '0' });
    assert.equal(zeroTick.ok ? undefined : zeroTick.problem, 'ZERO');
  });
});

describe('orders', () => {
  const btc = market('0.001', '0.01');

  it('converts quantities to lots and prices to minor units per lot', () => {
    assert.deepEqual(qtyToLots('1.5', btc), { ok: true, value: 1500 });
    assert.deepEqual(qtyToLots('0.001', btc), { ok: true, value: 1 });
    assert.deepEqual(priceToMinor('50000.25', btc), { ok: true, value: 5_000_025 * 10 });
    assert.equal(lotsToQty(1500, btc), '1.500');
    assert.equal(minorToPrice(50_000_250, btc), '50000.25');
  });

  it('rejects off-lot, off-tick, zero, negative, too precise and too large values', () => {
    assert.equal(problemOf(qtyToLots('0.0015', btc)), 'TOO_MANY_DECIMALS');
    assert.equal(problemOf(qtyToLots('0', btc)), 'ZERO');
    assert.equal(problemOf(qtyToLots('-1', btc)), 'NEGATIVE');
    assert.equal(problemOf(qtyToLots('99999999999999999', btc)), 'OUT_OF_RANGE');
    assert.equal(problemOf(priceToMinor('1.005', btc)), 'TOO_MANY_DECIMALS');
    assert.equal(problemOf(priceToMinor('0.00', btc)), 'ZERO');
    assert.equal(problemOf(priceToMinor('1e5', btc)), 'MALFORMED');
    const coarse = market('0.5', '0.25', 2, 3);
    assert.equal(problemOf(qtyToLots('0.7', coarse)), 'OFF_STEP');
    assert.equal(problemOf(priceToMinor('1.1', coarse)), 'OFF_STEP');
    assert.deepEqual(priceToMinor('1.25', coarse), { ok: true, value: 5 * coarse.tickSizeMinor });
  });

  it('round-trips lots and prices exactly (property)', () => {
    const lotArbitrary = fc.constantFrom('1', '0.5', '0.001', '0.25', '10');
    const tickArbitrary = fc.constantFrom('1', '0.01', '0.05', '0.5', '100');
    fc.assert(
      fc.property(
        lotArbitrary,
        tickArbitrary,
        fc.integer({ min: 1, max: 1_000_000_000 }),
        (lot, tick, steps) => {
          const scale = marketScale({ baseDecimals: 8, quoteDecimals: 8, lotSize: lot, tickSize: tick });
          assert.ok(scale.ok);
          const qty = lotsToQty(steps, scale.value);
          assert.deepEqual(qtyToLots(qty, scale.value), { ok: true, value: steps });
          const priceMinor = steps * scale.value.tickSizeMinor;
          if (!Number.isSafeInteger(priceMinor)) return;
          assert.deepEqual(priceToMinor(minorToPrice(priceMinor, scale.value), scale.value), {
            ok: true,
            value: priceMinor,
          });
        },
      ),
    );
  });

  it('formats negative and zero units', () => {
    assert.equal(formatUnits(-150n, 2), '-1.50');
    assert.equal(formatUnits(0n, 3), '0.000');
  });
});
