// Quote keys: round trip, time order, determinism for replays, and the bounded dedupe window.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  decodeQuoteKey,
  encodeQuoteKey,
  QuoteDeduper,
  QuoteKeyGenerator,
  type QuoteKeyParts,
  SymbolQuoteKeys,
} from '../../src/marketdata/index.js';
import { quoteKeySequenceMax } from '../../src/marketdata/quote-key.js';

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
  const generator = new QuoteKeyGenerator();
  assert.equal(generator.next('A B', 'US', 'UTC', 1n), 'BAD_SYMBOL');
  assert.equal(generator.next('A', 'US', 'UTC', -1n), 'BAD_TIMESTAMP');
});

test('the sequence counts quotes of one symbol in one nanosecond, and replays give the same keys', () => {
  const feed: Array<[string, bigint]> = [
    ['A', 5n],
    ['A', 5n],
    ['B', 5n],
    ['A', 5n],
    ['A', 6n],
  ];
  const keysOf = (): string[] => {
    const generator = new QuoteKeyGenerator();
    return feed.map(([symbol, tsNs]) => generator.next(symbol, 'US', 'America/New_York', tsNs));
  };
  const keys = keysOf();
  assert.deepEqual(
    keys.map((key) => {
      const parts = decodeQuoteKey(key) as QuoteKeyParts;
      return [parts.symbol, parts.tsNs, parts.sequence];
    }),
    [
      ['A', 5n, 0],
      ['A', 5n, 1],
      ['B', 5n, 0],
      ['A', 5n, 2],
      ['A', 6n, 0],
    ],
  );
  assert.equal(new Set(keys).size, keys.length);
  assert.deepEqual(keysOf(), keys);
});

test('the deduper drops repeats inside its window and calls anything it forgot late, never new', () => {
  const deduper = new QuoteDeduper(100, 3);
  const check = (atMs: number, sequence = 0): string =>
    deduper.check(BigInt(atMs) * 1_000_000n, sequence, atMs);
  assert.equal(check(10), 'new');
  assert.equal(check(10), 'duplicate');
  assert.equal(check(10, 1), 'new', 'same nanosecond, next sequence');
  assert.equal(check(30), 'new');
  assert.equal(check(40), 'new', 'the key at 10 ms is forgotten to stay within keysMax');
  assert.equal(check(10), 'late', 'forgotten, so it can no longer be counted');
  assert.equal(check(200), 'new');
  assert.equal(check(99), 'late', 'older than the window');
  assert.equal(check(150), 'new', 'out of order but inside the window');
  assert.equal(check(150), 'duplicate', 'an out-of-order key is remembered too');
  assert.equal(check(160), 'late', 'no room left for out-of-order keys: unknowable');
  assert.equal(check(200), 'duplicate', 'found by binary search among in-order keys');
});

test('property: any interleaving of a feed and its replay counts each quote exactly once', () => {
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: 0, max: 50 }), { minLength: 1, maxLength: 80 }),
      fc.array(fc.boolean(), { maxLength: 200 }),
      (timestampsMs, choices) => {
        const keys = SymbolQuoteKeys.create('S', 'US', 'UTC') as SymbolQuoteKeys;
        const sorted = [...timestampsMs].sort((left, right) => left - right);
        const feed = sorted.map((atMs) => {
          const tsNs = BigInt(atMs) * 1_000_000n;
          const sequence = keys.assign(tsNs) as number;
          return { atMs, tsNs, sequence, key: keys.key(tsNs, sequence) };
        });
        const deduper = new QuoteDeduper(1_000, 1_000);
        const counted = new Map<string, number>();
        let first = 0;
        let second = 0;
        for (const takeFirst of [...choices, ...feed.map(() => true), ...feed.map(() => false)]) {
          const next = takeFirst ? feed[first++] : feed[second++];
          if (next === undefined) continue;
          if (deduper.check(next.tsNs, next.sequence, next.atMs) === 'new')
            counted.set(next.key, (counted.get(next.key) ?? 0) + 1);
        }
        assert.ok([...counted.values()].every((count) => count === 1));
        assert.equal(counted.size, feed.length, 'inside the window nothing is lost either');
      },
    ),
    { numRuns: 300 },
  );
});
