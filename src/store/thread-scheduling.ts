// The read-model thread's Linux scheduling policy (docs/OPERATIONS.md "Read-model thread priority").
// Under SCHED_IDLE the thread runs only on a core no other thread wants, and a thread that wakes
// up (the main thread on a new order, a load generator, a GC helper) takes the core at once; with a
// nice value alone the scheduler first lets it finish its slice, which showed up as milliseconds
// on the order acknowledgements' tail. Such a thread can starve on a saturated machine, so the
// main thread moves it back to the normal policy, at its nice value, while it lags, and to
// SCHED_IDLE again once it has been caught up for a while.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { setPriority } from 'node:os';

export type ThreadPolicy = 'idle' | 'normal';

/** Sets one thread of this process to a policy; rejects when the system refuses. */
export type ThreadPolicySetter = (threadId: number, policy: ThreadPolicy) => Promise<void>;

/**
 * `chrt` (util-linux) sets the policy; the nice value is set again after leaving SCHED_IDLE. Task
 * ids are system-wide, so one that is no longer a thread of this process (the worker exited) is
 * refused rather than handed to `chrt`, which could then reach another process's thread.
 */
export function chrtPolicySetter(niceness: number): ThreadPolicySetter {
  return async (threadId, policy) => {
    if (!existsSync(`/proc/self/task/${threadId}`))
      throw new Error(`task ${threadId} is not a thread of this process`);
    const flag = policy === 'idle' ? '--idle' : '--other';
    await new Promise<void>((resolve, reject) => {
      execFile('chrt', [flag, '--pid', '0', String(threadId)], (error) =>
        error ? reject(error) : resolve(),
      );
    });
    if (policy === 'normal') setPriority(threadId, niceness);
  };
}

/** The scheduling policy of one thread of this process, from /proc (field 41 of its stat line). */
export function threadPolicyOf(threadId: number): ThreadPolicy | 'other' {
  const stat = readFileSync(`/proc/self/task/${threadId}/stat`, 'utf8');
  // The command name (field 2) may hold spaces; the fields after its closing parenthesis do not.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const policy = Number(fields[41 - 3]);
  if (policy === sched.idle) return 'idle';
  if (policy === sched.other) return 'normal';
  return 'other';
}

const sched = { other: 0, idle: 5 };
const capSysNiceBit = 23n;

/**
 * Whether a thread of this process that entered SCHED_IDLE may later return to the normal policy
 * at `niceness`: with CAP_SYS_NICE, or an RLIMIT_NICE that allows that nice value (sched(7)).
 * Being root is not enough: a container's root usually lacks CAP_SYS_NICE. Without either,
 * entering SCHED_IDLE could never be undone, so it is not entered at all.
 * `status` and `limits` are the texts of /proc/self/status and /proc/self/limits.
 */
export function mayLeaveIdle(niceness: number, status: string, limits: string): boolean {
  const capabilities = /^CapEff:\s*([0-9a-f]+)$/m.exec(status);
  if (capabilities !== null && (BigInt(`0x${capabilities[1]}`) >> capSysNiceBit) & 1n) return true;
  const nice = /^Max nice priority\s+(\S+)/m.exec(limits);
  if (nice === null) return false;
  if (nice[1] === 'unlimited') return true;
  return Number(nice[1]) >= 20 - niceness;
}

/** Why SCHED_IDLE is not used here, or undefined when it may be. */
export function idleUnavailableReason(niceness: number): string | undefined {
  if (process.platform !== 'linux') return 'not Linux';
  try {
    const status = readFileSync('/proc/self/status', 'utf8');
    const limits = readFileSync('/proc/self/limits', 'utf8');
    if (!mayLeaveIdle(niceness, status, limits))
      return `no CAP_SYS_NICE and RLIMIT_NICE below ${20 - niceness}: the thread could not leave SCHED_IDLE`;
  } catch (error) {
    return `cannot read /proc/self: ${String(error)}`;
  }
  return undefined;
}

export interface PriorityThresholds {
  /** Boost when this many applied commands are not yet projected... */
  boostLagCommands: number;
  /** ...or when a query (login, session, history) has waited this long for the thread. */
  boostCallWaitMs: number;
  /** Back to SCHED_IDLE once lag and waits have stayed at or below these... */
  relaxLagCommands: number;
  relaxCallWaitMs: number;
  /** ...for this long. */
  relaxAfterMs: number;
}

export const defaultPriorityThresholds: PriorityThresholds = {
  boostLagCommands: 50_000,
  boostCallWaitMs: 100,
  relaxLagCommands: 10_000,
  relaxCallWaitMs: 20,
  relaxAfterMs: 1_000,
};

/**
 * Decides the read-model thread's policy from how far it lags. Boosting is immediate (a starving
 * thread must get a core now); going back to SCHED_IDLE waits until it has kept up for
 * `relaxAfterMs`, so the policy changes at most about once a second under a load at the edge.
 */
export class IdlePriorityController {
  private current: ThreadPolicy = 'idle';
  private calmSinceMs: number | undefined;

  constructor(private readonly thresholds: PriorityThresholds = defaultPriorityThresholds) {}

  get policy(): ThreadPolicy {
    return this.current;
  }

  /** The policy to switch to now, or undefined to leave it as it is. */
  decide(nowMs: number, lagCommands: number, oldestCallWaitMs: number): ThreadPolicy | undefined {
    const { thresholds } = this;
    if (this.current === 'idle') {
      if (lagCommands < thresholds.boostLagCommands && oldestCallWaitMs < thresholds.boostCallWaitMs)
        return undefined;
      this.current = 'normal';
      this.calmSinceMs = undefined;
      return 'normal';
    }
    if (lagCommands > thresholds.relaxLagCommands || oldestCallWaitMs > thresholds.relaxCallWaitMs) {
      this.calmSinceMs = undefined;
      return undefined;
    }
    this.calmSinceMs ??= nowMs;
    if (nowMs - this.calmSinceMs < thresholds.relaxAfterMs) return undefined;
    this.current = 'idle';
    this.calmSinceMs = undefined;
    return 'idle';
  }
}
