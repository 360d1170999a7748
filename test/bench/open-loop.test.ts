// The gateway benchmark's pacing: sends follow the schedule whatever the replies do, and each
// latency counts from the request's scheduled moment (no coordinated omission). A fake clock stands
// in for time, so a late wake-up and a slow reply are exact.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OpenLoopSchedule, runOpenLoop, type ScheduleClock } from '../../bench/lib/open-loop.js';

const millisecondNs = 1_000_000;

/** A clock that jumps to each sleep's target plus `lateNs[n]` for the n-th sleep. */
function fakeClock(lateNs: number[] = []): ScheduleClock & { now: number } {
  let sleeps = 0;
  return {
    now: 0,
    nowNs() {
      return this.now;
    },
    async sleepUntilNs(targetNs) {
      this.now = Math.max(this.now, targetNs + (lateNs[sleeps] ?? 0));
      sleeps += 1;
    },
  };
}

/** Sends whose replies the test releases; `sends(n)` resolves once n sends were made. */
function manualServer() {
  const replies: Array<(ok: boolean) => void> = [];
  const sentAt: number[] = [];
  const waiters: Array<{ count: number; resolve: () => void }> = [];
  return {
    replies,
    sentAt,
    sends(count: number): Promise<void> {
      if (replies.length >= count) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ count, resolve }));
    },
    send(clock: ScheduleClock) {
      return (_slot: number) =>
        new Promise<boolean>((resolve) => {
          replies.push(resolve);
          sentAt.push(clock.nowNs());
          for (const waiter of waiters) if (replies.length === waiter.count) waiter.resolve();
        });
    },
  };
}

describe('open-loop schedule', () => {
  it('spaces slots by the rate over the duration', () => {
    const schedule = new OpenLoopSchedule(4_000, 10, 1_000 * millisecondNs);
    assert.equal(schedule.slots, 4_000);
    assert.equal(schedule.scheduledNs(0), 10);
    assert.equal(schedule.scheduledNs(3), 10 + 750_000);
  });

  it('charges a send that went out late from its scheduled moment', async () => {
    // Slots at 0, 1 and 2 ms; the sender oversleeps by 5 ms before slot 1, so slots 1 and 2 go
    // out at 6 ms. All three replies arrive at 7 ms.
    const clock = fakeClock([5 * millisecondNs]);
    const server = manualServer();
    const latencies: number[] = [];
    const serviceTimes: number[] = [];
    const run = runOpenLoop({
      schedule: new OpenLoopSchedule(1_000, 0, 3 * millisecondNs),
      clock,
      inFlightMax: 100,
      send: server.send(clock),
      record: (latencyNs, _ok, serviceNs) => {
        latencies.push(latencyNs);
        serviceTimes.push(serviceNs);
      },
    });
    await server.sends(3);
    assert.deepEqual(server.sentAt, [0, 6 * millisecondNs, 6 * millisecondNs]);
    clock.now = 7 * millisecondNs;
    for (const reply of server.replies) reply(true);
    await run;
    assert.deepEqual(latencies, [7 * millisecondNs, 6 * millisecondNs, 5 * millisecondNs]);
    // Timed from the actual send, the two late requests would look fast.
    assert.deepEqual(serviceTimes, [7 * millisecondNs, millisecondNs, millisecondNs]);
  });

  it('keeps sending on schedule while no reply has come back', async () => {
    const clock = fakeClock();
    const server = manualServer();
    const run = runOpenLoop({
      schedule: new OpenLoopSchedule(1_000, 0, 5 * millisecondNs),
      clock,
      inFlightMax: 100,
      send: server.send(clock),
      record: () => {},
    });
    await server.sends(5);
    assert.deepEqual(
      server.sentAt,
      [0, 1, 2, 3, 4].map((slot) => slot * millisecondNs),
    );
    for (const reply of server.replies) reply(true);
    await run;
  });

  it('past the in-flight bound, waits for a reply and still charges from the schedule', async () => {
    const clock = fakeClock();
    const server = manualServer();
    const latencies: Array<[number, boolean]> = [];
    const run = runOpenLoop({
      schedule: new OpenLoopSchedule(1_000, 0, 2 * millisecondNs),
      clock,
      inFlightMax: 1,
      send: server.send(clock),
      record: (latencyNs, ok) => latencies.push([latencyNs, ok]),
    });
    await server.sends(1);
    clock.now = 4 * millisecondNs;
    server.replies[0](false);
    // Slot 1 (due at 1 ms) goes out only now, at 4 ms; its reply comes at 4.5 ms.
    await server.sends(2);
    assert.deepEqual(server.sentAt, [0, 4 * millisecondNs]);
    clock.now = 4.5 * millisecondNs;
    server.replies[1](true);
    await run;
    assert.deepEqual(latencies, [
      [4 * millisecondNs, false],
      [3.5 * millisecondNs, true],
    ]);
  });
});
