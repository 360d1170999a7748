// Quote keys: round trip, time order, unique keys whatever the arrival order, and the bounded
// dedupe window (by source id or by content).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  decodeQuoteKey,
  encodeQuoteKey,
  QuoteDeduper,
  type QuoteKeyParts,
  SymbolQuoteKeys,
} from '../../src/marketdata/index.js';
import { type QuoteIdentity, quoteKeySequenceMax } from '../../src/marketdata/quote-key.js';

const partsArbitrary: fc.Arbitrary<QuoteKeyParts> = fc.record({
  tsNs: fc.bigInt({ min: 0n, max: 10n ** 20n - 1n }),
  sequence: fc.integer({ min: 0, max: quoteKeySequenceMax }),
  country: fc.stringMatching(/^[A-Z]{2}$/),
  timezone: fc.constantFrom(
    'America/New_York',
    'Europe/London',
    'Asia/Seoul',
    'Etc/GMT+5',
    'America/Argentina/Buenos_Aires',
  ),
  symbol: fc.stringMatching(/^[A-Za-z0-9._\-/:]{1,32}$/),
});

test('property: every key decodes back into its timestamp, sequence, country, timezone and symbol', () => {
  fc.assert(
    fc.property(partsArbitrary, (parts) => {
      assert.deepEqual(decodeQuoteKey(encodeQuoteKey(parts)), { ...parts });
    }),
    { numRuns: 1_000 },
  );
});

test('property: string order of keys is (timestamp, sequence) order', () => {
  fc.assert(
    fc.property(partsArbitrary, partsArbitrary, (left, right) => {
      const byTime =
        left.tsNs === right.tsNs
          ? Math.sign(left.sequence - right.sequence)
          : left.tsNs < right.tsNs
            ? -1
            : 1;
      const leftKey = encodeQuoteKey(left);
      const rightKey = encodeQuoteKey(right);
      if (byTime !== 0) assert.equal(leftKey < rightKey ? -1 : 1, byTime);
    }),
    { numRuns: 1_000 },
  );
});

test('malformed keys and parts are errors with codes, never thrown', () => {
  assert.equal(decodeQuoteKey('nope'), 'BAD_KEY');
  assert.equal(decodeQuoteKey('000000000000000000010000|us|UTC|X'), 'BAD_COUNTRY');
  assert.equal(decodeQuoteKey('000000000000000000010000|US|UTC|a|b'), 'BAD_KEY');
  assert.equal(SymbolQuoteKeys.create('A B', 'US', 'UTC'), 'BAD_SYMBOL');
  assert.equal(SymbolQuoteKeys.create('A', 'usa', 'UTC'), 'BAD_COUNTRY');
});

/** A quote at `atMs` (plus `extraNs`), price and size; no source id unless given. */
function at(atMs: number, price = 100, size = 1, extraNs = 0n, sourceId?: string): [QuoteIdentity, number] {
  return [{ tsNs: BigInt(atMs) * 1_000_000n + extraNs, price, size, sourceId }, atMs];
}

test('a late quote of an earlier nanosecond gets its own key; a quote sent twice is dropped', () => {
  const deduper = new QuoteDeduper(60_000, 1_000);
  const keys = SymbolQuoteKeys.create('AAPL', 'US', 'America/New_York') as SymbolQuoteKeys;
  const first = at(10, 100, 1, 5n);
  const second = at(10, 101, 1, 6n);
  const lateThird = at(10, 102, 1, 5n);
  assert.equal(deduper.admit(...first), 0);
  assert.equal(deduper.admit(...second), 0);
  assert.equal(deduper.admit(...lateThird), 1, 'the second distinct quote of its nanosecond');
  assert.notEqual(keys.key(first[0].tsNs, 0), keys.key(lateThird[0].tsNs, 1));
  assert.equal(deduper.admit(...first), 'duplicate', 'same content, out of order');
  assert.equal(deduper.admit(...second), 'duplicate', 'same content, right after');
  assert.equal(deduper.admit(...lateThird), 'duplicate');
  assert.equal(deduper.admit(...at(10, 103, 1, 6n)), 1, 'another quote in the newest nanosecond');
});

test('with a source id, the id is the identity: a resend is a duplicate, equal content is not', () => {
  const deduper = new QuoteDeduper(60_000, 1_000);
  assert.equal(deduper.admit(...at(10, 100, 1, 0n, 'a')), 0);
  assert.equal(deduper.admit(...at(10, 100, 1, 0n, 'b')), 1, 'two trades with one price and size');
  assert.equal(deduper.admit(...at(10, 100, 1, 0n, 'a')), 'duplicate');
  assert.equal(deduper.admit(...at(12, 100, 1, 0n, 'a')), 'duplicate', 'a resend with a new time');
  assert.equal(deduper.admit(...at(11, 100, 1, 0n, 'b')), 'duplicate', 'out of order too');
});

test('the window is bounded: what it forgot is late, never counted again', () => {
  const deduper = new QuoteDeduper(100, 3);
  assert.equal(deduper.admit(...at(10)), 0);
  assert.equal(deduper.admit(...at(10)), 'duplicate');
  assert.equal(deduper.admit(...at(10, 101)), 1, 'same nanosecond, other content');
  assert.equal(deduper.admit(...at(30)), 0);
  assert.equal(deduper.admit(...at(40)), 0, 'the first quote at 10 ms is forgotten to stay within keysMax');
  assert.equal(deduper.admit(...at(10, 102)), 'late', 'its millisecond can no longer be checked');
  assert.equal(deduper.admit(...at(200)), 0);
  assert.equal(deduper.admit(...at(99)), 'late', 'older than the window');
  assert.equal(deduper.admit(...at(150)), 0, 'out of order but inside the window');
  assert.equal(deduper.admit(...at(150)), 'duplicate', 'an out-of-order quote is remembered too');
  assert.equal(deduper.admit(...at(160)), 'late', 'no room left for out-of-order quotes: unknowable');
  assert.equal(deduper.admit(...at(200)), 'duplicate', 'found by binary search among in-order quotes');
});

test('the snapshot form keeps the newest millisecond checkable and everything before it late', () => {
  const deduper = new QuoteDeduper(60_000, 1_000);
  deduper.admit(...at(10));
  deduper.admit(...at(20, 100, 1, 7n, 'x'));
  deduper.admit(...at(20, 100, 2, 7n));
  const restored = new QuoteDeduper(60_000, 1_000);
  restored.restoreState(JSON.parse(JSON.stringify(deduper.exportState())));
  assert.equal(restored.admit(...at(20, 100, 2, 7n)), 'duplicate');
  assert.equal(restored.admit(...at(20, 100, 1, 7n, 'x')), 'duplicate');
  assert.equal(restored.admit(...at(20, 105, 1, 7n)), 2, 'the next sequence of that nanosecond');
  assert.equal(restored.admit(...at(15)), 'late', 'before the newest millisecond: not remembered');
  assert.equal(restored.admit(...at(21)), 0);
});

test('property: any arrival order of a feed and its repeats counts each distinct quote once, under a unique key', () => {
  fc.assert(
    fc.property(
      fc.array(
        fc.record({
          atMs: fc.integer({ min: 0, max: 20 }),
          extraNs: fc.bigInt({ min: 0n, max: 2n }),
          price: fc.integer({ min: 1, max: 3 }),
        }),
        { minLength: 1, maxLength: 60 },
      ),
      fc.array(fc.nat(), { maxLength: 200 }),
      (distinctish, picks) => {
        const distinct = new Map<string, (typeof distinctish)[number]>();
        for (const quote of distinctish) distinct.set(`${quote.atMs}:${quote.extraNs}:${quote.price}`, quote);
        // Every quote twice, in an order the picks shuffle.
        const arrivals = [...distinct.values(), ...distinct.values()];
        for (const [index, pick] of picks.entries()) {
          const from = index % arrivals.length;
          const to = pick % arrivals.length;
          [arrivals[from], arrivals[to]] = [arrivals[to], arrivals[from]];
        }
        const deduper = new QuoteDeduper(1_000, 1_000);
        const keys = new Set<string>();
        let counted = 0;
        for (const quote of arrivals) {
          const tsNs = BigInt(quote.atMs) * 1_000_000n + quote.extraNs;
          const sequence = deduper.admit({ tsNs, price: quote.price, size: 1 }, quote.atMs);
          if (typeof sequence !== 'number') {
            assert.equal(sequence, 'duplicate');
            continue;
          }
          counted += 1;
          keys.add(`${tsNs}:${sequence}`);
        }
        assert.equal(counted, distinct.size, 'each distinct quote once');
        assert.equal(keys.size, distinct.size, 'keys unique');
      },
    ),
    { numRuns: 300 },
  );
});
