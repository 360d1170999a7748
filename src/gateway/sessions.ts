// Server-side sessions (never JWT): an opaque 256-bit token goes to the client, only its SHA-256
// is stored. Idle and absolute timeouts; a cap on sessions per user (the OLDEST session ends when a
// new login would pass it, so a user locked out of a lost device can always log in again). Lookups
// are cached in-process and the cache entry is dropped on logout; every end is announced to
// listeners so open WebSockets of that session close at once.
import { createHash, randomBytes } from 'node:crypto';
import type { SessionRecord, SessionStore } from '../store/ports.js';

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

export type SessionEndReason = 'logout' | 'logoutAll' | 'revoked' | 'expired' | 'sessionCap';
export type SessionEndListener = (tokenHash: string, userId: number, reason: SessionEndReason) => void;

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export class SessionManager {
  private readonly cache = new Map<string, SessionRecord>();
  private readonly endListeners: SessionEndListener[] = [];
  /**
   * Last-seen is written at most this often, and it is what the idle timeout measures: at most a
   * quarter of the idle timeout, so a session in use is always touched well before it could expire.
   */
  private readonly touchIntervalMs: number;

  constructor(
    private readonly store: SessionStore,
    private readonly options: SessionOptions,
    private readonly clock: () => number,
  ) {
    this.touchIntervalMs = Math.min(options.touchIntervalMs, Math.floor(options.idleTimeoutMs / 4));
  }

  onEnded(listener: SessionEndListener): void {
    this.endListeners.push(listener);
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
    await this.endOldestOverCap(userId);
    await this.store.createSession(session);
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
    const session = this.cache.get(tokenHash);
    if (session === undefined) return undefined;
    const nowMs = this.clock();
    if (this.expired(session, nowMs) || nowMs - session.lastSeenAtMs >= this.touchIntervalMs)
      return undefined;
    return session;
  }

  /** As `resolve`, for a caller that kept the hash (a WebSocket re-checks it on every request). */
  async resolveHash(tokenHash: string): Promise<SessionRecord | undefined> {
    const session = this.cache.get(tokenHash) ?? (await this.store.findSession(tokenHash));
    if (session === undefined) return undefined;
    const nowMs = this.clock();
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
    const session = this.cache.get(tokenHash) ?? (await this.store.findSession(tokenHash));
    if (session !== undefined && this.expired(session, this.clock())) await this.end(session, 'expired');
  }

  /**
   * When the session will have timed out unless it is used before (ms on this manager's clock), or
   * undefined when it has already ended (ending it now if it just timed out). Not activity.
   */
  async expiresAtMs(tokenHash: string): Promise<number | undefined> {
    const session = this.cache.get(tokenHash) ?? (await this.store.findSession(tokenHash));
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
    return sessions.filter((session) => !this.expired(this.cache.get(session.tokenHash) ?? session, nowMs));
  }

  async end(session: SessionRecord, reason: SessionEndReason): Promise<void> {
    await this.store.deleteSession(session.tokenHash);
    this.forget(session.tokenHash, session.userId, reason);
  }

  async endAll(userId: number): Promise<number> {
    const hashes = await this.store.deleteSessionsOfUser(userId);
    for (const tokenHash of hashes) this.forget(tokenHash, userId, 'logoutAll');
    return hashes.length;
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
