// What the order form says about a bad price or quantity: one sentence per problem, naming the
// tick or lot size once, in a trader's words (never the API's "decimal string").
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { unitsFor } from '../../web/src/units.js';

const info = {
  symbol: 'ETH-USDT',
  base: 'ETH',
  quote: 'USDT',
  tickSize: '0.05',
  lotSize: '0.001',
  baseDecimals: 8,
  quoteDecimals: 6,
};

function occurrences(text: string, part: string): number {
  return text.split(part).length - 1;
}

it('says each price problem once, with the tick size once', () => {
  const units = unitsFor(info);
  const cases: Array<[string, string]> = [
    ['12.51', 'Price must be a multiple of the tick size 0.05.'],
    ['12.505', 'Price has too many decimal places: it must be a multiple of the tick size 0.05.'],
    ['0', 'Price must be more than zero.'],
    ['-3', 'Price cannot be negative.'],
    ['1e3', 'Price must be a number such as 0.05: digits and at most one decimal point.'],
    ['99999999999999999', 'Price is too large.'],
  ];
  for (const [text, expected] of cases) {
    const problem = units.priceProblem(text) ?? '';
    assert.equal(problem, expected, text);
    assert.ok(occurrences(problem, '0.05') <= 1, problem);
    assert.doesNotMatch(problem, /decimal string|step size/);
  }
  assert.equal(units.priceProblem('12.55'), undefined);
});

it('says each quantity problem with the lot size once', () => {
  const units = unitsFor(info);
  assert.equal(
    units.qtyProblem('0.0015'),
    'Quantity has too many decimal places: it must be a multiple of the lot size 0.001.',
  );
  assert.equal(
    units.qtyProblem('1,5'),
    'Quantity must be a number such as 0.001: digits and at most one decimal point.',
  );
  assert.equal(units.qtyProblem('0.002'), undefined);
});
