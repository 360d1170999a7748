// In-memory SessionStore for unit tests of the session manager (the product uses src/store). It
// passes the same contract as the SQL adapter (test/store/ports.contract.ts), so a test that uses
// it sees what the product would do.
import { UNIQUE_VIOLATION } from '../../../src/store/errors.js';
import type { SessionRecord, SessionStore } from '../../../src/store/ports.js';
import { sessionsPerUserListMax } from '../../../src/store/users.js';

function byCreationThenHash(left: SessionRecord, right: SessionRecord): number {
  if (left.createdAtMs !== right.createdAtMs) return left.createdAtMs - right.createdAtMs;
  return left.tokenHash < right.tokenHash ? -1 : left.tokenHash > right.tokenHash ? 1 : 0;
}

export class MemorySessionStore implements SessionStore {
  readonly sessions = new Map<string, SessionRecord>();
  touches = 0;

  /** A token hash is a primary key: a second session under it is refused, as SQL refuses it. */
  async createSession(session: SessionRecord): Promise<void> {
    if (this.sessions.has(session.tokenHash))
      throw Object.assign(new Error('duplicate session token hash'), { code: UNIQUE_VIOLATION });
    this.sessions.set(session.tokenHash, { ...session });
  }

  async findSession(tokenHash: string): Promise<SessionRecord | undefined> {
    const session = this.sessions.get(tokenHash);
    return session === undefined ? undefined : { ...session };
  }

  /** Forward only, so a late, out-of-order touch cannot turn the clock back. */
  async touchSession(tokenHash: string, lastSeenAtMs: number): Promise<void> {
    this.touches += 1;
    const session = this.sessions.get(tokenHash);
    if (session !== undefined && session.lastSeenAtMs < lastSeenAtMs) session.lastSeenAtMs = lastSeenAtMs;
  }

  async deleteSession(tokenHash: string): Promise<void> {
    this.sessions.delete(tokenHash);
  }

  async listSessions(userId: number): Promise<SessionRecord[]> {
    return [...this.sessions.values()]
      .filter((session) => session.userId === userId)
      .sort(byCreationThenHash)
      .slice(0, sessionsPerUserListMax)
      .map((session) => ({ ...session }));
  }

  async deleteSessionsOfUser(userId: number): Promise<string[]> {
    const hashes = [...this.sessions.values()]
      .filter((session) => session.userId === userId)
      .map((session) => session.tokenHash)
      .sort();
    for (const hash of hashes) this.sessions.delete(hash);
    return hashes;
  }
}
