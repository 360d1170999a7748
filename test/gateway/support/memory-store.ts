// In-memory SessionStore for unit tests of the session manager (the product uses src/store).
import type { SessionRecord, SessionStore } from '../../../src/store/ports.js';

export class MemorySessionStore implements SessionStore {
  readonly sessions = new Map<string, SessionRecord>();
  touches = 0;

  async createSession(session: SessionRecord): Promise<void> {
    this.sessions.set(session.tokenHash, { ...session });
  }

  async findSession(tokenHash: string): Promise<SessionRecord | undefined> {
    const session = this.sessions.get(tokenHash);
    return session === undefined ? undefined : { ...session };
  }

  async touchSession(tokenHash: string, lastSeenAtMs: number): Promise<void> {
    this.touches += 1;
    const session = this.sessions.get(tokenHash);
    if (session !== undefined) session.lastSeenAtMs = lastSeenAtMs;
  }

  async deleteSession(tokenHash: string): Promise<void> {
    this.sessions.delete(tokenHash);
  }

  async listSessions(userId: number): Promise<SessionRecord[]> {
    return [...this.sessions.values()]
      .filter((session) => session.userId === userId)
      .map((session) => ({ ...session }));
  }

  async deleteSessionsOfUser(userId: number): Promise<string[]> {
    const hashes = [...this.sessions.values()]
      .filter((session) => session.userId === userId)
      .map((session) => session.tokenHash);
    for (const hash of hashes) this.sessions.delete(hash);
    return hashes;
  }
}
