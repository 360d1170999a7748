// Ports for the gateway state that must count across every gateway of a cluster: token buckets,
// abnormal-traffic counters and suspensions, announcements of ended sessions, a per-user lock
// for the session cap, and the signatures of API-key requests already accepted.
// `inProcessServices()` keeps today's single-process behaviour (the classes below, no I/O);
// src/cluster/redis-services.ts implements the same ports on Redis. A port may answer synchronously
// or with a promise: the in-process adapters stay synchronous, so order entry on one process does
// not pay a promise per check (callers branch on `instanceof Promise`).
import { AbnormalTrafficDetector, type AbnormalTrafficOptions, type Suspension } from './abnormal-traffic.js';
import { ReplayGuard, type SignatureReplay } from './api-key-auth.js';
import { GatewayError } from './errors.js';
import { type BucketOptions, type TakeResult, TokenBuckets } from './rate-limits.js';
import { LocalTrustedDevices, type TrustedDeviceOptions, type TrustedDevices } from './trusted-devices.js';

export type MaybePromise<T> = T | Promise<T>;

/** Runs `next` on the value now when there is no promise, else when it resolves. */
export function andThen<T, U>(value: MaybePromise<T>, next: (value: T) => MaybePromise<U>): MaybePromise<U> {
  return value instanceof Promise ? value.then(next) : next(value);
}

/** Token buckets by key (an IP, a user id, a username): `ratePerSecond` refill up to `burst`. */
export interface RateLimiter {
  take(key: string, cost?: number): MaybePromise<TakeResult>;
}

/** Per-user order and reject counters against their normal band; a jump suspends the user. */
export interface AbnormalTraffic {
  /** Milliseconds left on the user's suspension, 0 when free to trade. */
  suspendedForMs(userId: number): MaybePromise<number>;
  recordOrder(userId: number): MaybePromise<void>;
  /** Never rejects: a reject that could not be counted is the adapter's to log. */
  recordReject(userId: number): MaybePromise<void>;
  /** Called on the gateway whose record started the suspension. */
  onSuspended(listener: (suspension: Suspension) => void): void;
}

export type SessionEndReason = 'logout' | 'logoutAll' | 'revoked' | 'expired' | 'sessionCap';

/** Sessions of one user that ended (their rows are already gone from the SQL store). */
export interface SessionEndEvent {
  userId: number;
  tokenHashes: string[];
  reason: SessionEndReason;
}

/**
 * Tells the other gateways which sessions ended, so they drop cached sessions and close sockets.
 * While `live` is false events may be missed: a gateway must then not trust its session cache. When
 * the feed is back after an interruption, `onResync` listeners run (after the subscription is
 * restored) so every cached session and open socket is checked against the SQL store again.
 */
export interface SessionEvents {
  readonly live: boolean;
  /** Rejects (SERVICE_UNAVAILABLE) when the other gateways could not be told. */
  publish(event: SessionEndEvent): MaybePromise<void>;
  /** Events from the other gateways (never this gateway's own). */
  onEvent(listener: (event: SessionEndEvent) => void): void;
  onResync(listener: () => void): void;
}

/** What admitting one order decided: go ahead, suspended (ms left), or over the order rate. */
export type Admission =
  | { ok: true }
  | { ok: false; suspendedMs: number }
  | { ok: false; suspendedMs: 0; retryAfterSeconds: number };

const admitted: Admission = { ok: true };

/**
 * The checks every trading request passes, in order: the user's suspension, the per-user order
 * bucket, then the order counted for abnormal traffic (which may start a suspension). A shared
 * adapter may do all three in one round trip.
 */
export interface OrderAdmission {
  admit(userId: number): MaybePromise<Admission>;
}

/**
 * The three checks one after another over any adapters. Synchronous (and without a closure per
 * order) when the adapters are: the in-process order path allocates nothing here.
 */
class ComposedAdmission implements OrderAdmission {
  constructor(
    private readonly orders: RateLimiter,
    private readonly abnormal: AbnormalTraffic,
  ) {}

  admit(userId: number): MaybePromise<Admission> {
    const suspendedMs = this.abnormal.suspendedForMs(userId);
    if (suspendedMs instanceof Promise) return suspendedMs.then((ms) => this.unlessSuspended(userId, ms));
    return this.unlessSuspended(userId, suspendedMs);
  }

  private unlessSuspended(userId: number, suspendedMs: number): MaybePromise<Admission> {
    if (suspendedMs > 0) return { ok: false, suspendedMs };
    const taken = this.orders.take(String(userId));
    if (taken instanceof Promise) return taken.then((result) => this.counted(userId, result));
    return this.counted(userId, taken);
  }

  private counted(userId: number, taken: TakeResult): MaybePromise<Admission> {
    if (!taken.ok) return { ok: false, suspendedMs: 0, retryAfterSeconds: taken.retryAfterSeconds };
    const recorded = this.abnormal.recordOrder(userId);
    return recorded instanceof Promise ? recorded.then(() => admitted) : admitted;
  }
}

export function composedAdmission(orders: RateLimiter, abnormal: AbnormalTraffic): OrderAdmission {
  return new ComposedAdmission(orders, abnormal);
}

/** A critical section per user across every gateway (the session cap: count, end the oldest, add). */
export interface UserLocks {
  withLock<T>(userId: number, work: () => Promise<T>): Promise<T>;
}

/** Everything a gateway shares with the other gateways; `buildGateway` takes one (default in-process). */
export interface SharedServices {
  /** `name` separates the bucket families (requests per IP, orders per user, logins...). */
  rateLimiter(name: string, options: BucketOptions, clock: () => number): RateLimiter;
  abnormalTraffic(options: AbnormalTrafficOptions, clock: () => number): AbnormalTraffic;
  /** Admission over two of this bundle's adapters (the per-user order bucket and abnormal traffic). */
  orderAdmission(orders: RateLimiter, abnormal: AbnormalTraffic): OrderAdmission;
  /** The login guard's known devices (device cookies). */
  trustedDevices(options: TrustedDeviceOptions, clock: () => number): TrustedDevices;
  sessionEvents: SessionEvents;
  userLocks: UserLocks;
  /** Signatures of API-key requests already accepted (`entriesMax` bounds the in-process one). */
  signatureReplay(entriesMax: number, clock: () => number): SignatureReplay;
  close(): Promise<void>;
}

/** The reply when a shared service (Redis) cannot answer: limits fail closed. */
export function sharedUnavailable(what: string): GatewayError {
  return new GatewayError('SERVICE_UNAVAILABLE', `${what} is unavailable, retry shortly`, undefined, 1);
}

/** One process: nobody else to tell, and the feed is never interrupted. */
export class LocalSessionEvents implements SessionEvents {
  readonly live = true;
  publish(): void {}
  onEvent(): void {}
  onResync(): void {}
}

/** Per-user promise chains; a user's entry is dropped once its last holder finishes (bounded). */
export class LocalUserLocks implements UserLocks {
  private readonly tails = new Map<number, Promise<unknown>>();

  get size(): number {
    return this.tails.size;
  }

  async withLock<T>(userId: number, work: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(userId) ?? Promise.resolve();
    const run = previous.then(work, work);
    const tail = run.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(userId, tail);
    try {
      return await run;
    } finally {
      if (this.tails.get(userId) === tail) this.tails.delete(userId);
    }
  }
}

/** Today's behaviour: every count lives in this process (one gateway per exchange). */
export function inProcessServices(): SharedServices {
  return {
    rateLimiter: (_name, options, clock) => new TokenBuckets(options, clock),
    abnormalTraffic: (options, clock) => new AbnormalTrafficDetector(options, clock),
    orderAdmission: composedAdmission,
    trustedDevices: (options, clock) => new LocalTrustedDevices(options, clock),
    sessionEvents: new LocalSessionEvents(),
    userLocks: new LocalUserLocks(),
    signatureReplay: (entriesMax, clock) => new ReplayGuard(entriesMax, clock),
    close: async () => {},
  };
}
