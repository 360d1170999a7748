// One decimal rule for the UI and the gateway: web/src/decimal.ts parses with src/gateway/decimal.ts,
// so both accept and refuse exactly the same texts (a value the form accepts is never refused by
// the server for its spelling) and read the same value from each accepted one.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import fc from 'fast-check';
import { parseDecimal as parseGateway } from '../../src/gateway/decimal.js';
import { parseDecimal as parseWeb } from '../../web/src/decimal.js';

const seed = Number(process.env.HOGA_SEED ?? 191_919);

function assertSameRule(text: string): void {
  const gateway = parseGateway(text);
  const web = parseWeb(text);
  assert.equal(
    web !== undefined,
    gateway.ok,
    `${JSON.stringify(text)}: web ${web !== undefined}, gateway ${gateway.ok}`,
  );
  if (web === undefined || !gateway.ok) return;
  const scale = Math.max(web.scale, gateway.value.scale);
  const webUnits = web.units * 10n ** BigInt(scale - web.scale);
  const gatewayUnits = gateway.value.units * 10n ** BigInt(scale - gateway.value.scale);
  assert.equal(webUnits, gatewayUnits, JSON.stringify(text));
}

it('accepts and refuses the same spellings', () => {
  const accepted = ['0', '7', '12.5', '12.50', '0.000001', '100', `1.${'0'.repeat(30)}1`];
  const refused = ['', ' 1', '1 ', '01', '00.5', '.5', '5.', '1e5', '-1', '+1', '1,000', '1.2.3', '١', 'NaN'];
  for (const text of accepted) assert.ok(parseWeb(text), text);
  for (const text of refused) assert.equal(parseWeb(text), undefined, JSON.stringify(text));
  for (const text of [...accepted, ...refused, '9'.repeat(48), '9'.repeat(49)]) assertSameRule(text);
});

it('agrees with the gateway on random texts of digits, points and other characters', () => {
  const character = fc.constantFrom('0', '1', '5', '9', '.', '-', '+', 'e', ' ', ',');
  fc.assert(
    fc.property(fc.array(character, { maxLength: 52 }), (characters) => assertSameRule(characters.join(''))),
    { seed, numRuns: 3_000 },
  );
});
