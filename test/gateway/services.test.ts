// Unit tests of the gateway's services with an injected clock: sessions, token buckets, abnormal
// traffic, idempotency, the password pool.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AbnormalTrafficDetector, type Suspension } from '../../src/gateway/abnormal-traffic.js';
import { GatewayError } from '../../src/gateway/errors.js';
import { IdempotencyConflict, IdempotencyIndex } from '../../src/gateway/idempotency.js';
import { owaspScryptCost, PasswordHasher } from '../../src/gateway/passwords.js';
import { TokenBuckets } from '../../src/gateway/rate-limits.js';
import { hashToken, SessionManager, type SessionOptions } from '../../src/gateway/sessions.js';
import { MemorySessionStore } from './support/memory-store.js';

function manualClock(startMs = 1_000_000) {
  const clock = { nowMs: startMs, read: () => clock.nowMs };
  return clock;
}

const sessionOptions: SessionOptions = {
  idleTimeoutMs: 10_000,
  absoluteTimeoutMs: 100_000,
  sessionsPerUserMax: 2,
  cacheEntriesMax: 3,
  touchIntervalMs: 1_000,
};

describe('SessionManager', () => {
  it('stores only the SHA-256 of a 256-bit token and resolves the token', async () => {
    const store = new MemorySessionStore();
    const sessions = new SessionManager(store, sessionOptions, manualClock().read);
    const { token, session } = await sessions.create(7, 'agent', '10.0.0.1');
    assert.equal(Buffer.from(token, 'base64url').length, 32);
    assert.equal(session.tokenHash, hashToken(token));
    assert.ok(![...store.sessions.keys()].includes(token));
    assert.equal((await sessions.resolve(token))?.userId, 7);
    assert.equal(await sessions.resolve('unknown'), undefined);
  });

  it('expires idle and too-old sessions and announces it', async () => {
    const clock = manualClock();
    const store = new MemorySessionStore();
    const sessions = new SessionManager(store, sessionOptions, clock.read);
    const ended: string[] = [];
    sessions.onEnded((_hash, _user, reason) => ended.push(reason));
    const idle = await sessions.create(1, 'a', 'ip');
    clock.nowMs += sessionOptions.idleTimeoutMs + 1;
    assert.equal(await sessions.resolve(idle.token), undefined);
    const busy = await sessions.create(1, 'a', 'ip');
    for (let step = 0; step < 12; step += 1) {
      clock.nowMs += 8_000;
      assert.ok(await sessions.resolve(busy.token), `active session alive at step ${step}`);
    }
    clock.nowMs += 8_000;
    assert.equal(await sessions.resolve(busy.token), undefined, 'absolute timeout reached');
    assert.deepEqual(ended, ['expired', 'expired']);
    assert.equal(store.sessions.size, 0);
  });

  it('expires a stale session on a heartbeat check without counting the check as activity', async () => {
    const clock = manualClock();
    const sessions = new SessionManager(new MemorySessionStore(), sessionOptions, clock.read);
    const ended: string[] = [];
    sessions.onEnded((_hash, _user, reason) => ended.push(reason));
    const { token, session } = await sessions.create(1, 'a', 'ip');
    for (let beat = 0; beat < 11; beat += 1) {
      clock.nowMs += 1_000;
      await sessions.expireIfStale(session.tokenHash);
    }
    assert.deepEqual(ended, ['expired']);
    assert.equal(await sessions.resolve(token), undefined);
  });

  it('writes last-seen at most once per touch interval', async () => {
    const clock = manualClock();
    const store = new MemorySessionStore();
    const sessions = new SessionManager(store, sessionOptions, clock.read);
    const { token } = await sessions.create(1, 'a', 'ip');
    for (let request = 0; request < 10; request += 1) {
      clock.nowMs += 100;
      await sessions.resolve(token);
    }
    assert.equal(store.touches, 1);
  });

  it('ends the oldest session past the cap, and logout-all ends every one', async () => {
    const clock = manualClock();
    const sessions = new SessionManager(new MemorySessionStore(), sessionOptions, clock.read);
    const ended: Array<[number, string]> = [];
    sessions.onEnded((_hash, user, reason) => ended.push([user, reason]));
    const first = await sessions.create(1, 'a', 'ip');
    clock.nowMs += 1;
    const second = await sessions.create(1, 'b', 'ip');
    clock.nowMs += 1;
    const third = await sessions.create(1, 'c', 'ip');
    assert.equal(await sessions.resolve(first.token), undefined);
    assert.ok(await sessions.resolve(second.token));
    assert.deepEqual(ended, [[1, 'sessionCap']]);
    const other = await sessions.create(2, 'd', 'ip');
    assert.equal(await sessions.endAll(1), 2);
    assert.equal(await sessions.resolve(third.token), undefined);
    assert.ok(await sessions.resolve(other.token), "another user's session survives");
  });
});

describe('TokenBuckets', () => {
  it('allows a burst, refills at the rate and says when to retry', () => {
    const clock = manualClock();
    const buckets = new TokenBuckets({ ratePerSecond: 2, burst: 3, bucketsMax: 10 }, clock.read);
    assert.deepEqual(
      [1, 2, 3].map(() => buckets.take('k').ok),
      [true, true, true],
    );
    assert.deepEqual(buckets.take('k'), { ok: false, retryAfterSeconds: 1 });
    assert.equal(buckets.take('other').ok, true, 'keys are independent');
    clock.nowMs += 500;
    assert.equal(buckets.take('k').ok, true);
    assert.equal(buckets.take('k').ok, false);
  });

  it('never holds more than bucketsMax buckets', () => {
    const buckets = new TokenBuckets({ ratePerSecond: 1, burst: 1, bucketsMax: 100 }, manualClock().read);
    for (let key = 0; key < 1_000; key += 1) buckets.take(String(key));
    assert.equal(buckets.size, 100);
  });
});

describe('AbnormalTrafficDetector', () => {
  const options = {
    windowMs: 1_000,
    smoothing: 0.2,
    multiple: 5,
    ordersPerWindowFloor: 20,
    rejectsPerWindowFloor: 5,
    suspensionMs: 30_000,
    usersTrackedMax: 10,
  };

  it('learns a normal band and suspends a jump far above it', () => {
    const clock = manualClock();
    const detector = new AbnormalTrafficDetector(options, clock.read);
    const suspensions: Suspension[] = [];
    detector.onSuspended((suspension) => suspensions.push(suspension));
    // Ramping up from under the floor to 30 orders a second makes that this user's normal.
    for (let second = 0; second < 60; second += 1) {
      const orders = second < 20 ? 15 : 30;
      for (let order = 0; order < orders; order += 1) detector.recordOrder(1);
      clock.nowMs += 1_000;
    }
    assert.equal(suspensions.length, 0, 'steady traffic above the floor is normal for this user');
    // A new user doing the same is flagged: its baseline is zero.
    for (let order = 0; order < 30; order += 1) detector.recordOrder(2);
    assert.equal(suspensions.length, 1);
    assert.equal(suspensions[0].userId, 2);
    // User 1 jumps to 10x its band.
    for (let order = 0; order < 300; order += 1) detector.recordOrder(1);
    assert.equal(suspensions.length, 2);
    assert.equal(suspensions[1].userId, 1);
    assert.equal(suspensions[1].metric, 'orders');
    assert.equal(detector.suspendedForMs(1), 30_000);
    clock.nowMs += 30_000;
    assert.equal(detector.suspendedForMs(1), 0);
  });

  it('suspends on a burst of rejects', () => {
    const detector = new AbnormalTrafficDetector(options, manualClock().read);
    for (let reject = 0; reject < 5; reject += 1) detector.recordReject(3);
    assert.equal(detector.suspendedForMs(3), 0);
    detector.recordReject(3);
    assert.equal(detector.suspendedForMs(3), 30_000);
  });
});

describe('IdempotencyIndex', () => {
  it('shares one run between concurrent duplicates and remembers the result', async () => {
    const index = new IdempotencyIndex<number>({ keysPerUserMax: 10, keyAgeMaxMs: 1_000 });
    let runs = 0;
    let release: (value: number) => void = () => {};
    const place = () => {
      runs += 1;
      return new Promise<number>((resolve) => {
        release = resolve;
      });
    };
    const first = index.run(1, 'a', 'f', place);
    const second = index.run(1, 'a', 'f', place);
    const otherUser = index.run(2, 'a', 'f', () => Promise.resolve(99));
    release(42);
    assert.deepEqual(await Promise.all([first, second, otherUser]), [42, 42, 99]);
    assert.equal(runs, 1);
    index.record(1, 'a', 42, 0, 'f');
    assert.equal(index.lookup(1, 'a', 'f'), 42);
    index.record(1, 'a', 43, 1, 'f');
    assert.equal(index.lookup(1, 'a', 'f'), 42, 'the first result wins');
  });

  it('refuses a known key with another request, also while the first is in flight', async () => {
    const index = new IdempotencyIndex<number>({ keysPerUserMax: 10, keyAgeMaxMs: 1_000 });
    let release: (value: number) => void = () => {};
    const first = index.run(1, 'a', 'buy 1', () => new Promise<number>((resolve) => (release = resolve)));
    assert.throws(() => index.run(1, 'a', 'buy 2', () => Promise.resolve(0)), IdempotencyConflict);
    release(42);
    assert.equal(await first, 42);
    index.record(1, 'a', 42, 0, 'buy 1');
    assert.throws(() => index.lookup(1, 'a', 'buy 2'), IdempotencyConflict);
    assert.equal(await index.run(1, 'a', 'buy 1', () => Promise.resolve(0)), 42, 'the same request');
    assert.equal(await index.run(2, 'a', 'buy 2', () => Promise.resolve(7)), 7, 'keys are per user');
  });

  it('is bounded per user and by age', () => {
    const index = new IdempotencyIndex<number>({ keysPerUserMax: 3, keyAgeMaxMs: 1_000 });
    for (let key = 0; key < 5; key += 1) index.record(1, `k${key}`, key, 0, 'f');
    assert.equal(index.lookup(1, 'k0', 'f'), undefined);
    assert.equal(index.lookup(1, 'k4', 'f'), 4);
    index.record(1, 'late', 5, 5_000, 'f');
    assert.equal(index.lookup(1, 'k4', 'f'), undefined, 'older than keyAgeMaxMs');
    assert.equal(index.lookup(1, 'late', 'f'), 5);
  });
});

describe('PasswordHasher', () => {
  it('uses the OWASP scrypt parameters by default', () => {
    assert.deepEqual(owaspScryptCost, { costLog2: 17, blockSize: 8, parallelism: 1 });
  });

  it('verifies the right password only, with the cost stored in the hash', async () => {
    const hasher = new PasswordHasher({
      cost: { costLog2: 10, blockSize: 8, parallelism: 1 },
      concurrentHashesMax: 1,
      waitingHashesMax: 4,
    });
    const encoded = await hasher.hash('correct horse');
    assert.match(encoded, /^scrypt\$10\$8\$1\$/);
    assert.equal(await hasher.verify('correct horse', encoded), true);
    assert.equal(await hasher.verify('wrong horse', encoded), false);
    assert.equal(await hasher.verify('correct horse', 'garbage'), false);
  });

  it('runs one hash at a time and refuses past the waiting bound with 503 BUSY', async () => {
    const hasher = new PasswordHasher({
      cost: { costLog2: 12, blockSize: 8, parallelism: 1 },
      concurrentHashesMax: 1,
      waitingHashesMax: 2,
    });
    const accepted = [hasher.hash('a'), hasher.hash('b'), hasher.hash('c')];
    assert.equal(hasher.queueDepth, 2);
    await assert.rejects(hasher.hash('d'), (error: unknown) => {
      assert.ok(error instanceof GatewayError);
      assert.equal(error.statusCode, 503);
      assert.equal(error.code, 'BUSY');
      return true;
    });
    assert.equal((await Promise.all(accepted)).length, 3);
    assert.equal(hasher.queueDepth, 0);
  });
});
