// Open-loop pacing for load generators. Sends follow a fixed schedule (slot k at start + k / rate)
// that never waits for replies, and each request's latency is counted from its scheduled moment,
// not from when it was actually sent. A closed loop, or an open loop timed from the actual send,
// hides the queueing a slow reply causes ("coordinated omission"): while the server stalls, the
// requests that should have been sent meanwhile are sent late and then look fast.

/** Time as the schedule sees it; the benchmark passes the real one, tests a fake. */
export interface ScheduleClock {
  nowNs(): number;
  /** Resolves at `targetNs` or later (a real timer may wake late: that lateness is charged too). */
  sleepUntilNs(targetNs: number): Promise<void>;
}

const nanosecondsPerSecond = 1_000_000_000;

export class OpenLoopSchedule {
  /** Sends in the schedule: `rate` per second over `durationNs`. */
  readonly slots: number;

  constructor(
    readonly ratePerSecond: number,
    readonly startNs: number,
    durationNs: number,
  ) {
    if (!(ratePerSecond > 0)) throw new Error(`rate must be positive, got ${ratePerSecond}`);
    this.slots = Math.floor((durationNs * ratePerSecond) / nanosecondsPerSecond);
  }

  /** The moment slot `slot` (0-based) is due. */
  scheduledNs(slot: number): number {
    return this.startNs + Math.round((slot * nanosecondsPerSecond) / this.ratePerSecond);
  }
}

export interface OpenLoopRun {
  schedule: OpenLoopSchedule;
  clock: ScheduleClock;
  /** Requests outstanding at most; past it a due send waits for a reply (and is charged for the wait). */
  inFlightMax: number;
  /** Sends request `slot`; resolves with whether its reply was a success. */
  send(slot: number): Promise<boolean>;
  /**
   * Called once per reply with the latency from the request's scheduled moment, and the service
   * time from its actual send (what a generator blind to coordinated omission would report).
   */
  record(latencyNs: number, ok: boolean, serviceNs: number): void;
}

/** Sends every slot of the schedule when due, without waiting for replies; resolves once all replied. */
export async function runOpenLoop(run: OpenLoopRun): Promise<void> {
  const { schedule, clock } = run;
  let inFlight = 0;
  let wakeOnReply: (() => void) | undefined;
  const outstanding = new Set<Promise<void>>();
  for (let slot = 0; slot < schedule.slots; ) {
    const scheduledNs = schedule.scheduledNs(slot);
    if (clock.nowNs() < scheduledNs) {
      await clock.sleepUntilNs(scheduledNs);
      continue;
    }
    if (inFlight >= run.inFlightMax) {
      await new Promise<void>((resolve) => {
        wakeOnReply = resolve;
      });
      continue;
    }
    inFlight += 1;
    const sentNs = clock.nowNs();
    const reply = run.send(slot).then((ok) => {
      inFlight -= 1;
      const repliedNs = clock.nowNs();
      run.record(repliedNs - scheduledNs, ok, repliedNs - sentNs);
      outstanding.delete(reply);
      const wake = wakeOnReply;
      wakeOnReply = undefined;
      wake?.();
    });
    outstanding.add(reply);
    slot += 1;
  }
  await Promise.all(outstanding);
}

/** The process's monotonic clock; sleeps on timers, so it wakes about every millisecond at most. */
export const realScheduleClock: ScheduleClock = {
  nowNs: () => Number(process.hrtime.bigint()),
  sleepUntilNs(targetNs) {
    const waitMs = Math.max(0, (targetNs - this.nowNs()) / 1e6);
    return new Promise((resolve) => setTimeout(resolve, waitMs));
  },
};
