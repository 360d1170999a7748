// Session ends across gateways on Redis pub/sub, and the per-user lock of the session cap.
// Pub/sub delivers at most once and only to connected subscribers, so a gateway treats its feed as
// interrupted from the moment its subscriber connection drops: `live` turns false (the session
// cache is bypassed, every request reads the SQL store), and once the subscription is back the
// resync listeners re-check every open socket against the store. No end is missed that way: an end
// published while this gateway was away is already in the store when it looks again.
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import {
  type SessionEndEvent,
  type SessionEndReason,
  type SessionEvents,
  sharedUnavailable,
  type UserLocks,
} from '../gateway/shared-services.js';
import type { TrustedDevices } from '../gateway/trusted-devices.js';

const reasons = new Set<SessionEndReason>(['logout', 'logoutAll', 'revoked', 'expired', 'sessionCap']);
const tokenHashPattern = /^[0-9a-f]{64}$/;
/** A message past this is not ours (logout-all of a user at the session cap is a few kB). */
const messageBytesMax = 256 * 1024;
/** 67 bytes per hash in JSON: 1,000 of them stay far below `messageBytesMax`. */
const hashesPerMessageMax = 1_000;

interface WireEvent {
  /** The publishing gateway, so it ignores its own events. */
  o: string;
  u: number;
  h: string[];
  r: SessionEndReason;
}

function parseEvent(text: string): WireEvent | undefined {
  if (text.length > messageBytesMax) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  const event = value as Partial<WireEvent> | null;
  if (event === null || typeof event !== 'object') return undefined;
  if (typeof event.o !== 'string' || !Number.isSafeInteger(event.u)) return undefined;
  if (
    !Array.isArray(event.h) ||
    !event.h.every((hash) => typeof hash === 'string' && tokenHashPattern.test(hash))
  )
    return undefined;
  if (typeof event.r !== 'string' || !reasons.has(event.r)) return undefined;
  return event as WireEvent;
}

export class RedisSessionEvents implements SessionEvents {
  private readonly channel: string;
  private readonly origin = randomBytes(8).toString('hex');
  private readonly eventListeners: Array<(event: SessionEndEvent) => void> = [];
  private readonly resyncListeners: Array<() => void> = [];
  private subscribed = false;
  /** Whether the subscription was ever lost since it was first made. */
  private interrupted = false;
  private stopped = false;
  private readonly healthCheck: NodeJS.Timeout;

  /**
   * `subscriber` is a connection of its own (a subscribed connection cannot publish). It is pinged
   * every `healthCheckMs`: a connection that stopped answering without closing (a network
   * partition) would otherwise look live while it receives nothing; a failed ping drops it, which
   * turns the feed off until it reconnects and resyncs.
   */
  constructor(
    private readonly publisher: Redis,
    private readonly subscriber: Redis,
    prefix: string,
    private readonly logger: Logger,
    healthCheckMs = 1_000,
  ) {
    this.channel = `${prefix}sessions`;
    subscriber.on('message', (channel: string, message: string) => {
      if (channel === this.channel) this.receive(message);
    });
    subscriber.on('close', () => this.lost());
    subscriber.on('end', () => this.lost());
    subscriber.on('ready', () => void this.subscribe());
    this.healthCheck = setInterval(() => this.check(), healthCheckMs);
    this.healthCheck.unref();
  }

  /** Before the connections close: no more checks, and the close is not an interruption. */
  stop(): void {
    this.stopped = true;
    clearInterval(this.healthCheck);
  }

  private check(): void {
    if (!this.subscribed) return;
    this.subscriber.ping().catch((error: Error) => {
      if (!this.subscribed || this.stopped) return;
      this.logger.warn({ err: error }, 'session events connection stopped answering: reconnecting');
      this.lost();
      this.subscriber.disconnect(true);
    });
  }

  get live(): boolean {
    return this.subscribed;
  }

  /** Subscribes now (the connection is ready); later reconnects subscribe again on their own. */
  async start(): Promise<void> {
    await this.subscribe();
    if (!this.subscribed) throw new Error(`could not subscribe to ${this.channel}`);
  }

  async publish(event: SessionEndEvent): Promise<void> {
    try {
      // In messages well under the receivers' size bound, however many sessions ended at once.
      for (let start = 0; start === 0 || start < event.tokenHashes.length; start += hashesPerMessageMax) {
        const hashes = event.tokenHashes.slice(start, start + hashesPerMessageMax);
        const wire: WireEvent = { o: this.origin, u: event.userId, h: hashes, r: event.reason };
        await this.publisher.publish(this.channel, JSON.stringify(wire));
      }
    } catch (error) {
      this.logger.error({ err: error, userId: event.userId }, 'could not announce ended sessions');
      throw sharedUnavailable('announcing the ended session to the other gateways');
    }
  }

  onEvent(listener: (event: SessionEndEvent) => void): void {
    this.eventListeners.push(listener);
  }

  onResync(listener: () => void): void {
    this.resyncListeners.push(listener);
  }

  private lost(): void {
    if (!this.subscribed || this.stopped) return;
    this.subscribed = false;
    this.interrupted = true;
    this.logger.warn('session events interrupted: the session cache is off until Redis is back');
  }

  private async subscribe(): Promise<void> {
    if (this.subscribed) return;
    try {
      await this.subscriber.subscribe(this.channel);
    } catch (error) {
      this.logger.warn({ err: error }, 'could not subscribe to session events');
      return;
    }
    if (this.subscribed) return;
    this.subscribed = true;
    if (!this.interrupted) return;
    this.logger.info('session events back: re-checking open sessions against the store');
    for (const listener of this.resyncListeners) listener();
  }

  private receive(message: string): void {
    const event = parseEvent(message);
    if (event === undefined) {
      this.logger.warn({ bytes: message.length }, 'ignored a malformed session event');
      return;
    }
    if (event.o === this.origin) return;
    const ended: SessionEndEvent = { userId: event.u, tokenHashes: event.h, reason: event.r };
    for (const listener of this.eventListeners) listener(ended);
  }
}

/** Deletes the lock only when it is still ours (it may have expired and been taken by another). */
const releaseScript = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`;

interface LockCommands {
  hogaRelease(key: string, token: string): Promise<number>;
}

/** Retry delays while another gateway holds the lock: short at first, then capped. */
const retryDelayMsMin = 2;
const retryDelayMsMax = 50;

/**
 * SET NX PX with a random token; released by compare-and-delete. The TTL bounds a lock whose holder
 * died; a holder that outlives it could overlap with the next one (the session cap is then off by
 * one, which the next login corrects), so the TTL is long against the few queries it guards.
 */
export class RedisUserLocks implements UserLocks {
  private readonly keyPrefix: string;

  constructor(
    private readonly redis: Redis,
    prefix: string,
    private readonly ttlMs: number,
    private readonly waitMs: number,
    private readonly clock: () => number = Date.now,
  ) {
    this.keyPrefix = `${prefix}lock:user:`;
    redis.defineCommand('hogaRelease', { numberOfKeys: 1, lua: releaseScript });
  }

  async withLock<T>(userId: number, work: () => Promise<T>): Promise<T> {
    const key = this.keyPrefix + userId;
    const token = randomBytes(16).toString('hex');
    await this.acquire(key, token);
    try {
      return await work();
    } finally {
      await (this.redis as unknown as LockCommands).hogaRelease(key, token).catch(() => {});
    }
  }

  private async acquire(key: string, token: string): Promise<void> {
    const deadline = this.clock() + this.waitMs;
    let delayMs = retryDelayMsMin;
    for (;;) {
      let reply: string | null;
      try {
        reply = await this.redis.set(key, token, 'PX', this.ttlMs, 'NX');
      } catch {
        throw sharedUnavailable('the shared user lock');
      }
      if (reply === 'OK') return;
      if (this.clock() >= deadline) throw sharedUnavailable('the user lock (held by another login)');
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      delayMs = Math.min(retryDelayMsMax, delayMs * 2);
    }
  }
}

/**
 * Known login devices: `<prefix>dev:<SHA-256 of the device token>` holds `<issued ms>:<username>`.
 * The age is measured on the gateway's clock from the issue, as in memory (so the same injected
 * clock drives both); the key's TTL of `deviceMaxAgeMs` only removes it. Bounded by the TTL
 * instead of a count.
 */
export class RedisTrustedDevices implements TrustedDevices {
  private readonly keyPrefix: string;

  constructor(
    private readonly redis: Redis,
    prefix: string,
    private readonly deviceMaxAgeMs: number,
    private readonly clock: () => number,
  ) {
    this.keyPrefix = `${prefix}dev:`;
  }

  async usernameOf(deviceHash: string): Promise<string | undefined> {
    let value: string | null;
    try {
      value = await this.redis.get(this.keyPrefix + deviceHash);
    } catch {
      throw sharedUnavailable('the shared device list');
    }
    if (value === null) return undefined;
    const separator = value.indexOf(':');
    const issuedAtMs = Number(value.slice(0, separator));
    if (separator < 0 || !Number.isSafeInteger(issuedAtMs)) return undefined;
    if (this.clock() - issuedAtMs > this.deviceMaxAgeMs) return undefined;
    return value.slice(separator + 1);
  }

  async remember(deviceHash: string, username: string): Promise<void> {
    try {
      await this.redis.set(
        this.keyPrefix + deviceHash,
        `${this.clock()}:${username}`,
        'PX',
        this.deviceMaxAgeMs,
      );
    } catch {
      throw sharedUnavailable('the shared device list');
    }
  }
}
