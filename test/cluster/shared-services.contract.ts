// The contract of the gateway's shared-services ports (src/gateway/shared-services.ts), run against
// the in-process adapters and the Redis adapters (shared-services.contract.test.ts). Every member of
// a fixture is one gateway; a fixture with two members over one shared backend also runs the
// cross-gateway cases (an in-process adapter is alone by definition). Time is a manual clock.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Suspension } from '../../src/gateway/abnormal-traffic.js';
import { defaultGatewayConfig } from '../../src/gateway/config.js';
import { GatewayError } from '../../src/gateway/errors.js';
import type { BucketOptions, TakeResult } from '../../src/gateway/rate-limits.js';
import type { SessionEndEvent, SharedServices } from '../../src/gateway/shared-services.js';

export interface SharedFixture {
  /** Gateways sharing one backend: one for an in-process adapter, two for a shared one. */
  members: SharedServices[];
  close(): Promise<void>;
}

export function manualClock(startMs = 1_700_000_000_000) {
  const clock = { nowMs: startMs, read: () => clock.nowMs };
  return clock;
}

const bucket: BucketOptions = { ratePerSecond: 10, burst: 3, bucketsMax: 1_000 };

const abnormalOptions = {
  ...defaultGatewayConfig().abnormal,
  windowMs: 1_000,
  smoothing: 0.5,
  multiple: 3,
  ordersPerWindowFloor: 5,
  rejectsPerWindowFloor: 4,
  suspensionMs: 60_000,
};

/** Two instances a test can tell apart in failure messages. */
let uniqueCounter = 0;
function unique(label: string): string {
  uniqueCounter += 1;
  return `${label}-${uniqueCounter}`;
}

function uniqueUser(): number {
  uniqueCounter += 1;
  return 1_000 + uniqueCounter;
}

async function takeAll(take: () => TakeResult | Promise<TakeResult>, count: number): Promise<boolean[]> {
  const results: boolean[] = [];
  for (let index = 0; index < count; index += 1) results.push((await take()).ok);
  return results;
}

/** A promise and the function that settles it: the test decides when a lock holder finishes. */
function gate(): { opened: Promise<void>; open: () => void } {
  let open = () => {};
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { opened, open };
}

export function sharedServicesContract(name: string, openFixture: () => Promise<SharedFixture>): void {
  async function withFixture(run: (fixture: SharedFixture) => Promise<void>): Promise<void> {
    const fixture = await openFixture();
    try {
      await run(fixture);
    } finally {
      await fixture.close();
    }
  }

  describe(`${name}: RateLimiter`, () => {
    it('allows the burst, then refuses with the seconds until the missing token is back', () =>
      withFixture(async ({ members }) => {
        const clock = manualClock();
        const limiter = members[0].rateLimiter(
          unique('burst'),
          { ...bucket, ratePerSecond: 0.5 },
          clock.read,
        );
        assert.deepEqual(await takeAll(() => limiter.take('10.0.0.1'), 4), [true, true, true, false]);
        assert.deepEqual(await limiter.take('10.0.0.1'), { ok: false, retryAfterSeconds: 2 });
      }));

    it('refills at the rate on the injected clock, never past the burst', () =>
      withFixture(async ({ members }) => {
        const clock = manualClock();
        const limiter = members[0].rateLimiter(unique('refill'), bucket, clock.read);
        await takeAll(() => limiter.take('k'), 3);
        assert.equal((await limiter.take('k')).ok, false);
        clock.nowMs += 100;
        assert.deepEqual(await takeAll(() => limiter.take('k'), 2), [true, false], 'one token in 100 ms');
        clock.nowMs += 3_600_000;
        assert.deepEqual(await takeAll(() => limiter.take('k'), 4), [true, true, true, false], 'burst cap');
      }));

    it('keeps keys and bucket families apart, and charges a cost of several tokens', () =>
      withFixture(async ({ members }) => {
        const clock = manualClock();
        const family = unique('family');
        const first = members[0].rateLimiter(family, bucket, clock.read);
        const other = members[0].rateLimiter(unique('other'), bucket, clock.read);
        assert.equal((await first.take('a', 3)).ok, true);
        assert.deepEqual(await first.take('a', 2), { ok: false, retryAfterSeconds: 1 });
        assert.equal((await first.take('b', 3)).ok, true, 'another key has its own bucket');
        assert.equal((await other.take('a', 3)).ok, true, 'another family has its own buckets');
      }));

    it('never refills backwards when a clock goes back', () =>
      withFixture(async ({ members }) => {
        const clock = manualClock();
        const limiter = members[0].rateLimiter(unique('backwards'), bucket, clock.read);
        await takeAll(() => limiter.take('k'), 3);
        clock.nowMs -= 10_000;
        assert.equal((await limiter.take('k')).ok, false);
        clock.nowMs += 10_100;
        assert.deepEqual(await takeAll(() => limiter.take('k'), 2), [true, false]);
      }));

    it('counts across gateways: two members draw from one bucket', {}, () =>
      withFixture(async ({ members }) => {
        if (members.length < 2) return;
        const clock = manualClock();
        const family = unique('shared');
        const [one, two] = members.map((member) => member.rateLimiter(family, bucket, clock.read));
        assert.deepEqual(
          [
            (await one.take('u')).ok,
            (await two.take('u')).ok,
            (await one.take('u')).ok,
            (await two.take('u')).ok,
          ],
          [true, true, true, false],
        );
      }),
    );
  });

  describe(`${name}: AbnormalTraffic`, () => {
    it('suspends a user whose orders pass the floor with no baseline, once, for suspensionMs', () =>
      withFixture(async ({ members }) => {
        const clock = manualClock(1_700_000_000_000);
        const traffic = members[0].abnormalTraffic(abnormalOptions, clock.read);
        const seen: Suspension[] = [];
        traffic.onSuspended((suspension) => seen.push(suspension));
        const user = uniqueUser();
        assert.equal(await traffic.suspendedForMs(user), 0);
        for (let order = 0; order < 5; order += 1) await traffic.recordOrder(user);
        assert.equal(await traffic.suspendedForMs(user), 0, 'at the floor: not yet');
        await traffic.recordOrder(user);
        assert.equal(await traffic.suspendedForMs(user), 60_000);
        await traffic.recordOrder(user);
        assert.equal(seen.length, 1, 'a suspended user is not suspended again');
        assert.deepEqual(seen[0], {
          userId: user,
          untilMs: clock.nowMs + 60_000,
          metric: 'orders',
          count: 6,
          baseline: 0,
        });
        clock.nowMs += 59_999;
        assert.equal(await traffic.suspendedForMs(user), 1);
        clock.nowMs += 1;
        assert.equal(await traffic.suspendedForMs(user), 0, 'the suspension ends on time');
      }));

    it('measures a window against the smoothed baseline of the windows before it', () =>
      withFixture(async ({ members }) => {
        const clock = manualClock(1_700_000_000_000);
        const traffic = members[0].abnormalTraffic(abnormalOptions, clock.read);
        const user = uniqueUser();
        // Windows of 4 (under the floor): the baseline climbs 2, 3, 3.5 (smoothing 0.5).
        for (let window = 0; window < 3; window += 1) {
          for (let order = 0; order < 4; order += 1) await traffic.recordOrder(user);
          clock.nowMs += 1_000;
        }
        // Baseline 3.5 × multiple 3 = 10.5: 10 orders pass the floor but not the band.
        for (let order = 0; order < 10; order += 1) await traffic.recordOrder(user);
        assert.equal(await traffic.suspendedForMs(user), 0);
        await traffic.recordOrder(user);
        assert.equal(await traffic.suspendedForMs(user), 60_000, 'the 11th is past the band');
      }));

    it('counts rejects against their own floor', () =>
      withFixture(async ({ members }) => {
        const clock = manualClock(1_700_000_000_000);
        const traffic = members[0].abnormalTraffic(abnormalOptions, clock.read);
        const seen: Suspension[] = [];
        traffic.onSuspended((suspension) => seen.push(suspension));
        const user = uniqueUser();
        for (let reject = 0; reject < 4; reject += 1) await traffic.recordReject(user);
        assert.equal(await traffic.suspendedForMs(user), 0);
        await traffic.recordReject(user);
        assert.equal(seen[0]?.metric, 'rejects');
        assert.equal(seen[0]?.count, 5);
      }));

    it('counts across gateways, and the suspension holds on every gateway', () =>
      withFixture(async ({ members }) => {
        if (members.length < 2) return;
        const clock = manualClock(1_700_000_000_000);
        const [one, two] = members.map((member) => member.abnormalTraffic(abnormalOptions, clock.read));
        const user = uniqueUser();
        for (let order = 0; order < 3; order += 1) {
          await one.recordOrder(user);
          await two.recordOrder(user);
        }
        assert.equal(await one.suspendedForMs(user), 60_000, 'six orders over two gateways');
        assert.equal(await two.suspendedForMs(user), 60_000);
      }));
  });

  describe(`${name}: OrderAdmission`, () => {
    function admissionOf(member: SharedServices, clock: { read: () => number }, burst: number) {
      const orders = member.rateLimiter(
        unique('orders'),
        { ratePerSecond: 1, burst, bucketsMax: 100 },
        clock.read,
      );
      const traffic = member.abnormalTraffic(abnormalOptions, clock.read);
      return { traffic, admission: member.orderAdmission(orders, traffic) };
    }

    it('counts each admitted order and refuses once the count started a suspension', () =>
      withFixture(async ({ members }) => {
        const clock = manualClock();
        const { traffic, admission } = admissionOf(members[0], clock, 100);
        const seen: Suspension[] = [];
        traffic.onSuspended((suspension) => seen.push(suspension));
        const user = uniqueUser();
        for (let order = 0; order < 6; order += 1)
          assert.deepEqual(await admission.admit(user), { ok: true });
        assert.equal(seen.length, 1, 'the sixth order (past the floor of 5) started it, and was admitted');
        assert.equal(seen[0].count, 6);
        assert.deepEqual(await admission.admit(user), { ok: false, suspendedMs: 60_000 });
        clock.nowMs += 60_000;
        assert.deepEqual(await admission.admit(user), { ok: true }, 'over once the suspension ends');
      }));

    it('refuses past the order bucket, and a refused order is not counted', () =>
      withFixture(async ({ members }) => {
        const clock = manualClock();
        const { traffic, admission } = admissionOf(members[0], clock, 2);
        const user = uniqueUser();
        assert.deepEqual(await admission.admit(user), { ok: true });
        assert.deepEqual(await admission.admit(user), { ok: true });
        for (let order = 0; order < 10; order += 1)
          assert.deepEqual(await admission.admit(user), { ok: false, suspendedMs: 0, retryAfterSeconds: 1 });
        assert.equal(await traffic.suspendedForMs(user), 0, 'twelve attempts, two counted: under the floor');
      }));

    it('shares the bucket and the band across gateways', () =>
      withFixture(async ({ members }) => {
        if (members.length < 2) return;
        const clock = manualClock();
        const family = unique('orders');
        const [one, two] = members.map((member) => {
          const orders = member.rateLimiter(
            family,
            { ratePerSecond: 1, burst: 100, bucketsMax: 100 },
            clock.read,
          );
          return member.orderAdmission(orders, member.abnormalTraffic(abnormalOptions, clock.read));
        });
        const user = uniqueUser();
        for (let order = 0; order < 3; order += 1) {
          assert.equal((await one.admit(user)).ok, true);
          assert.equal((await two.admit(user)).ok, true);
        }
        assert.deepEqual(await two.admit(user), { ok: false, suspendedMs: 60_000 });
        assert.deepEqual(await one.admit(user), { ok: false, suspendedMs: 60_000 });
      }));
  });

  describe(`${name}: TrustedDevices`, () => {
    const deviceOptions = { devicesMax: 100, deviceMaxAgeMs: 60_000 };

    it('knows a remembered device until it is older than deviceMaxAgeMs', () =>
      withFixture(async ({ members }) => {
        const clock = manualClock();
        const devices = members[0].trustedDevices(deviceOptions, clock.read);
        const hash = unique('device').padEnd(64, '0');
        assert.equal(await devices.usernameOf(hash), undefined);
        await devices.remember(hash, 'victim');
        assert.equal(await devices.usernameOf(hash), 'victim');
        clock.nowMs += 60_000;
        assert.equal(await devices.usernameOf(hash), 'victim', 'at the limit');
        clock.nowMs += 1;
        assert.equal(await devices.usernameOf(hash), undefined, 'aged out');
      }));

    it('shares the devices across gateways', () =>
      withFixture(async ({ members }) => {
        if (members.length < 2) return;
        const clock = manualClock();
        const [one, two] = members.map((member) => member.trustedDevices(deviceOptions, clock.read));
        const hash = unique('shared-device').padEnd(64, '0');
        await one.remember(hash, 'alice');
        assert.equal(await two.usernameOf(hash), 'alice');
      }));
  });

  describe(`${name}: SignatureReplay`, () => {
    it('admits a signature once and refuses it again, other signatures unaffected', () =>
      withFixture(async ({ members }) => {
        const clock = manualClock();
        const replay = members[0].signatureReplay(100, clock.read);
        const signature = unique('signature').padEnd(64, 'a');
        assert.equal(await replay.admit(signature), true);
        assert.equal(await replay.admit(signature), false, 'replayed');
        clock.nowMs += 30_000;
        assert.equal(await replay.admit(signature), false, 'still inside the widest window');
        assert.equal(await replay.admit(unique('other').padEnd(64, 'b')), true);
      }));

    it('refuses on every gateway a signature one gateway accepted', () =>
      withFixture(async ({ members }) => {
        if (members.length < 2) return;
        const clock = manualClock();
        const [one, two] = members.map((member) => member.signatureReplay(100, clock.read));
        const signature = unique('shared-signature').padEnd(64, 'c');
        assert.equal(await one.admit(signature), true);
        assert.equal(await two.admit(signature), false);
        assert.equal(await one.admit(signature), false);
      }));
  });

  describe(`${name}: UserLocks`, () => {
    it("runs one holder of a user's lock at a time, others at once; a throw releases it", () =>
      withFixture(async ({ members }) => {
        const locks = members.map((member) => member.userLocks);
        const user = uniqueUser();
        const order: string[] = [];
        const first = gate();
        let held!: () => void;
        const holding = new Promise<void>((resolve) => {
          held = resolve;
        });
        const one = locks[0].withLock(user, async () => {
          order.push('one in');
          held();
          await first.opened;
          order.push('one out');
          throw new Error('holder failed');
        });
        await holding;
        const two = locks[locks.length - 1].withLock(user, async () => {
          order.push('two');
          return 2;
        });
        const otherUser = await locks[0].withLock(uniqueUser(), async () => 'other user');
        assert.equal(otherUser, 'other user', "another user's lock is free");
        first.open();
        await assert.rejects(one, /holder failed/);
        assert.equal(await two, 2);
        assert.deepEqual(order, ['one in', 'one out', 'two']);
      }));
  });

  describe(`${name}: SessionEvents`, () => {
    it('is live, and publishing succeeds', () =>
      withFixture(async ({ members }) => {
        assert.equal(members[0].sessionEvents.live, true);
        await members[0].sessionEvents.publish({
          userId: 1,
          tokenHashes: ['a'.repeat(64)],
          reason: 'logout',
        });
      }));

    it("delivers one gateway's event to the others and not back to itself", () =>
      withFixture(async ({ members }) => {
        if (members.length < 2) return;
        const [one, two] = members.map((member) => member.sessionEvents);
        const toOne: SessionEndEvent[] = [];
        one.onEvent((event) => toOne.push(event));
        const received = new Promise<SessionEndEvent>((resolve) => two.onEvent(resolve));
        const event: SessionEndEvent = {
          userId: uniqueUser(),
          tokenHashes: ['b'.repeat(64), 'c'.repeat(64)],
          reason: 'logoutAll',
        };
        await one.publish(event);
        assert.deepEqual(await received, event);
        // An event of two's afterwards: once one has it, one would have had its own first.
        const back = new Promise<SessionEndEvent>((resolve) => one.onEvent(resolve));
        await two.publish({ ...event, reason: 'revoked' });
        assert.equal((await back).reason, 'revoked');
        assert.deepEqual(
          toOne.map((seen) => seen.reason),
          ['revoked'],
        );
      }));
  });
}

export function isServiceUnavailable(error: unknown): boolean {
  return error instanceof GatewayError && error.code === 'SERVICE_UNAVAILABLE' && error.statusCode === 503;
}
