// The read model port: users, credentials, sessions (written directly by the gateway) and the
// history projected from engine events. One contract suite runs against PGlite and PostgreSQL.

export interface UserRecord {
  /** Engine user id (> 0; 0 is the fee account). */
  id: number;
  username: string;
  /** scrypt parameters, salt and hash in one encoded string. */
  passwordHash: string;
  isAdmin: boolean;
  createdAtMs: number;
}

export interface SessionRecord {
  /** SHA-256 hex of the opaque token; the token itself is never stored. */
  tokenHash: string;
  userId: number;
  device: string;
  ip: string;
  createdAtMs: number;
  lastSeenAtMs: number;
}

export interface Page<T> {
  items: T[];
  /** Opaque cursor for the next page, or null at the end. */
  next: string | null;
}

export interface HistoryQuery {
  /** Opaque cursor from a previous page. */
  cursor?: string | null;
  /** Bounded by the store (pageSizeMax). */
  limit: number;
}

export interface UserStore {
  createUser(username: string, passwordHash: string, isAdmin: boolean, nowMs: number): Promise<UserRecord>;
  findUserByName(username: string): Promise<UserRecord | undefined>;
  findUserById(id: number): Promise<UserRecord | undefined>;
  countUsers(): Promise<number>;
}

export interface SessionStore {
  createSession(session: SessionRecord): Promise<void>;
  findSession(tokenHash: string): Promise<SessionRecord | undefined>;
  touchSession(tokenHash: string, lastSeenAtMs: number): Promise<void>;
  deleteSession(tokenHash: string): Promise<void>;
  listSessions(userId: number): Promise<SessionRecord[]>;
  /** Returns the hashes it deleted. */
  deleteSessionsOfUser(userId: number): Promise<string[]>;
}
