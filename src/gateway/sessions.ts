// Server-side sessions (never JWT): an opaque 256-bit token goes to the client, only its SHA-256
// is stored. Idle and absolute timeouts; a cap on sessions per user (the OLDEST session ends when a
// new login would pass it, so a user locked out of a lost device can always log in again). Lookups
// are cached in-process and the cache entry is dropped on logout; every end is announced to
// listeners so open WebSockets of that session close at once, and published to the other gateways
// (SessionEvents), whose caches and sockets follow. A cached session is re-read from the store at
// least every touch interval, and never trusted while the event feed is interrupted.
import { createHash, randomBytes } from 'node:crypto';
import type { SessionRecord, SessionStore } from '../store/ports.js';
import {
  LocalSessionEvents,
  LocalUserLocks,
  type SessionEndEvent,
  type SessionEndReason,
  type SessionEvents,
  type UserLocks,
} from './shared-services.js';

export interface SessionOptions {
  idleTimeoutMs: number;
  absoluteTimeoutMs: number;
  sessionsPerUserMax: number;
  cacheEntriesMax: number;
  /** A session's last-seen time is written to the store at most this often. */
  touchIntervalMs: number;
}

const tokenBytes = 32;
export const deviceLengthMax = 200;

export type { SessionEndReason };
export type SessionEndListener = (tokenHash: string, userId: number, reason: SessionEndReason) => void;

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export class SessionManager {
  private readonly cache = new Map<string, SessionRecord>();
  private readonly endListeners: SessionEndListener[] = [];
  private readonly resyncListeners: Array<() => void> = [];
  private readonly events: SessionEvents;
  private readonly locks: UserLocks;
  /**
   * Last-seen is written at most this often, and it is what the idle timeout measures: at most a
   * quarter of the idle timeout, so a session in use is always touched well before it could expire.
   */
  private readonly touchIntervalMs: number;

  constructor(
    private readonly store: SessionStore,
    private readonly options: SessionOptions,
    private readonly clock: () => number,
    shared: { events?: SessionEvents; locks?: UserLocks } = {},
  ) {
    this.touchIntervalMs = Math.min(options.touchIntervalMs, Math.floor(options.idleTimeoutMs / 4));
    this.events = shared.events ?? new LocalSessionEvents();
    this.locks = shared.locks ?? new LocalUserLocks();
    this.events.onEvent((event) => this.endedElsewhere(event));
    this.events.onResync(() => {
      this.cache.clear();
      for (const listener of this.resyncListeners) listener();
    });
  }

  onEnded(listener: SessionEndListener): void {
    this.endListeners.push(listener);
  }

  /**
   * After an interruption of the cross-gateway feed (ends may have been missed): the cache is
   * already empty; listeners re-check their open sockets against the store.
   */
  onResync(listener: () => void): void {
    this.resyncListeners.push(listener);
  }

  /** A new session with a fresh token (a new token at every login: no session fixation). */
  async create(
    userId: number,
    device: string,
    ip: string,
  ): Promise<{ token: string; session: SessionRecord }> {
    const token = randomBytes(tokenBytes).toString('base64url');
    const nowMs = this.clock();
    const session: SessionRecord = {
      tokenHash: hashToken(token),
      userId,
      device: device.slice(0, deviceLengthMax),
      ip,
      createdAtMs: nowMs,
      lastSeenAtMs: nowMs,
    };
    // Under the user's lock: two logins on two gateways must not both pass the cap.
    await this.locks.withLock(userId, async () => {
      await this.endOldestOverCap(userId);
      await this.store.createSession(session);
    });
    this.remember(session);
    return { token, session };
  }

  /** The live session for a token, or undefined (unknown, ended or timed out). */
  async resolve(token: string): Promise<SessionRecord | undefined> {
    return this.resolveHash(hashToken(token));
  }

  /**
   * The cached session when it needs no store access (cached, not timed out, not due for a touch);
   * undefined otherwise, when the caller must use `resolveHash`. A WebSocket checks its session on
   * every request: this lets an order skip a promise and a trip through the microtask queue.
   */
  liveCached(tokenHash: string): SessionRecord | undefined {
    if (!this.events.live) return undefined;
    const session = this.cache.get(tokenHash);
    if (session === undefined) return undefined;
    const nowMs = this.clock();
    if (this.expired(session, nowMs) || nowMs - session.lastSeenAtMs >= this.touchIntervalMs)
      return undefined;
    return session;
  }

  /** As `resolve`, for a caller that kept the hash (a WebSocket re-checks it on every request). */
  async resolveHash(tokenHash: string): Promise<SessionRecord | undefined> {
    let session = this.cached(tokenHash);
    const nowMs = this.clock();
    // Due for a touch: read the store again, so an end this gateway never heard of (a missed event)
    // is noticed within one touch interval at worst.
    if (session !== undefined && nowMs - session.lastSeenAtMs >= this.touchIntervalMs) session = undefined;
    session ??= await this.store.findSession(tokenHash);
    if (session === undefined) {
      this.cache.delete(tokenHash);
      return undefined;
    }
    if (this.expired(session, nowMs)) {
      await this.end(session, 'expired');
      return undefined;
    }
    if (nowMs - session.lastSeenAtMs >= this.touchIntervalMs) {
      session.lastSeenAtMs = nowMs;
      await this.store.touchSession(tokenHash, nowMs);
    }
    this.remember(session);
    return session;
  }

  /**
   * Ends the session if it timed out, without counting as activity: the WebSocket heartbeat uses it
   * so an idle session's sockets close on time even when no request arrives.
   */
  async expireIfStale(tokenHash: string): Promise<void> {
    const session = this.cached(tokenHash) ?? (await this.store.findSession(tokenHash));
    if (session !== undefined && this.expired(session, this.clock())) await this.end(session, 'expired');
  }

  /**
   * When the session will have timed out unless it is used before (ms on this manager's clock), or
   * undefined when it has already ended (ending it now if it just timed out). Not activity.
   */
  async expiresAtMs(tokenHash: string): Promise<number | undefined> {
    const session = this.cached(tokenHash) ?? (await this.store.findSession(tokenHash));
    if (session === undefined) return undefined;
    if (this.expired(session, this.clock())) {
      await this.end(session, 'expired');
      return undefined;
    }
    return Math.min(
      session.lastSeenAtMs + this.options.idleTimeoutMs,
      session.createdAtMs + this.options.absoluteTimeoutMs,
    );
  }

  async list(userId: number): Promise<SessionRecord[]> {
    const nowMs = this.clock();
    const sessions = await this.store.listSessions(userId);
    return sessions.filter((session) => !this.expired(this.cached(session.tokenHash) ?? session, nowMs));
  }

  /** Rejects with SERVICE_UNAVAILABLE when the session ended but the other gateways were not told. */
  async end(session: SessionRecord, reason: SessionEndReason): Promise<void> {
    await this.store.deleteSession(session.tokenHash);
    this.forget(session.tokenHash, session.userId, reason);
    const published = this.events.publish({
      userId: session.userId,
      tokenHashes: [session.tokenHash],
      reason,
    });
    // A timed-out session is timed out on every gateway's clock too: telling them is a courtesy.
    if (reason === 'expired') await Promise.resolve(published).catch(() => {});
    else await published;
  }

  async endAll(userId: number): Promise<number> {
    const hashes = await this.store.deleteSessionsOfUser(userId);
    for (const tokenHash of hashes) this.forget(tokenHash, userId, 'logoutAll');
    if (hashes.length > 0) await this.events.publish({ userId, tokenHashes: hashes, reason: 'logoutAll' });
    return hashes.length;
  }

  /** Another gateway ended these sessions: drop them here and close their sockets. */
  private endedElsewhere(event: SessionEndEvent): void {
    for (const tokenHash of event.tokenHashes) this.forget(tokenHash, event.userId, event.reason);
  }

  /** The cache entry, unless events may have been missed (then the store decides). */
  private cached(tokenHash: string): SessionRecord | undefined {
    return this.events.live ? this.cache.get(tokenHash) : undefined;
  }

  private expired(session: SessionRecord, nowMs: number): boolean {
    return (
      nowMs - session.lastSeenAtMs > this.options.idleTimeoutMs ||
      nowMs - session.createdAtMs > this.options.absoluteTimeoutMs
    );
  }

  private async endOldestOverCap(userId: number): Promise<void> {
    const sessions = await this.store.listSessions(userId);
    if (sessions.length < this.options.sessionsPerUserMax) return;
    const oldestFirst = [...sessions].sort((left, right) => left.createdAtMs - right.createdAtMs);
    const excess = sessions.length - this.options.sessionsPerUserMax + 1;
    for (const session of oldestFirst.slice(0, excess)) await this.end(session, 'sessionCap');
  }

  private remember(session: SessionRecord): void {
    this.cache.delete(session.tokenHash);
    if (this.cache.size >= this.options.cacheEntriesMax) {
      const oldest = this.cache.keys().next().value;
      if (oldest !== undefined) this.cache.delete(oldest);
    }
    this.cache.set(session.tokenHash, session);
  }

  private forget(tokenHash: string, userId: number, reason: SessionEndReason): void {
    this.cache.delete(tokenHash);
    for (const listener of this.endListeners) listener(tokenHash, userId, reason);
  }
}
