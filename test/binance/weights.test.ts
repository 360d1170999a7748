// Request weights on an injected clock: the per-minute budget, 429 with the seconds to the next
// minute, the ban after too many 429s (418, doubling per ban, capped) and the bound on tracked IPs.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { depthWeight, RequestWeights, tickerWeight } from '../../src/binance/weights.js';

const minute = 60_000;

it('spends up to the limit per minute, then refuses with the seconds left in the minute', () => {
  let nowMs = 100 * minute + 15_500;
  const weights = new RequestWeights({ weightPerMinuteMax: 10 }, () => nowMs);
  assert.deepEqual(weights.charge('a', 6), { ok: true, used: 6 });
  assert.deepEqual(weights.charge('a', 4), { ok: true, used: 10 });
  const refused = weights.charge('a', 1);
  assert.equal(refused.ok, false);
  if (refused.ok) return;
  assert.deepEqual([refused.used, refused.error.statusCode, refused.error.code], [10, 429, -1003]);
  assert.equal(refused.error.retryAfterSeconds, 45);
  assert.deepEqual(weights.charge('b', 10), { ok: true, used: 10 }, 'each IP has its own budget');
  nowMs += 45_000;
  assert.deepEqual(weights.charge('a', 1), { ok: true, used: 1 }, 'a new minute starts from zero');
});

it('bans an IP refused more than strikesBeforeBan times in a minute; each ban doubles, capped', () => {
  let nowMs = 10 * minute;
  const weights = new RequestWeights(
    { weightPerMinuteMax: 1, strikesBeforeBan: 2, banMs: 1_000, banMsMax: 3_000 },
    () => nowMs,
  );
  const status = () => {
    const charged = weights.charge('a', 1);
    return charged.ok ? 200 : charged.error.statusCode;
  };
  assert.deepEqual([status(), status(), status(), status()], [200, 429, 429, 418]);
  const banned = weights.charge('a', 1);
  assert.ok(!banned.ok && banned.error.retryAfterSeconds === 1);
  nowMs += minute;
  assert.equal(status(), 200, 'the ban ended and a new minute began');
  assert.deepEqual([status(), status()], [429, 429]);
  nowMs += minute;
  assert.deepEqual([status(), status(), status(), status()], [200, 429, 429, 418]);
  const second = weights.charge('a', 1);
  assert.ok(!second.ok && second.error.retryAfterSeconds === 2, 'the second ban lasts twice as long');
  nowMs += minute;
  assert.deepEqual([status(), status(), status(), status()], [200, 429, 429, 418]);
  const third = weights.charge('a', 1);
  assert.ok(!third.ok && third.error.retryAfterSeconds === 3, 'capped at banMsMax');
});

it('tracks at most ipsMax IPs', () => {
  const weights = new RequestWeights({ ipsMax: 3 }, () => 0);
  for (const ip of ['a', 'b', 'c', 'd', 'e']) weights.charge(ip, 1);
  assert.equal(weights.trackedIps, 3);
});

it("Binance's weights by parameters", () => {
  assert.deepEqual([100, 101, 500, 1_000, 5_000].map(depthWeight), [5, 25, 25, 50, 250]);
  assert.equal(tickerWeight({ symbol: 'BTCUSDT' }, 2, 80), 2);
  assert.equal(tickerWeight({}, 2, 80), 80);
});
