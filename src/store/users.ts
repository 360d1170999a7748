// Users and sessions, written directly by the gateway (not projected from the journal).
import { StoreError, sqlStateOf, UNIQUE_VIOLATION } from './errors.js';
import type { SessionRecord, SessionStore, UserRecord, UserStore } from './ports.js';
import type { SqlExecutor } from './sql.js';

type Numeric = number | string;

interface UserSqlRow {
  id: Numeric;
  username: string;
  password_hash: string;
  is_admin: boolean;
  created_at_ms: Numeric;
}

interface SessionSqlRow {
  token_hash: string;
  user_id: Numeric;
  device: string;
  ip: string;
  created_at_ms: Numeric;
  last_seen_at_ms: Numeric;
}

const userColumns = 'id, username, password_hash, is_admin, created_at_ms';
const sessionColumns = 'token_hash, user_id, device, ip, created_at_ms, last_seen_at_ms';
/** Sessions listed per user: a user with more is abnormal and the gateway limits logins anyway. */
export const sessionsPerUserListMax = 1_000;

export class SqlUserStore implements UserStore {
  constructor(private readonly executor: SqlExecutor) {}

  /** Throws StoreError USERNAME_TAKEN when the name exists in any letter case. */
  async createUser(
    username: string,
    passwordHash: string,
    isAdmin: boolean,
    nowMs: number,
  ): Promise<UserRecord> {
    try {
      const rows = await this.executor.query<UserSqlRow>(
        `INSERT INTO users (username, password_hash, is_admin, created_at_ms) VALUES ($1, $2, $3, $4)
         RETURNING ${userColumns}`,
        [username, passwordHash, isAdmin, nowMs],
      );
      return userOf(rows[0]);
    } catch (error) {
      if (sqlStateOf(error) === UNIQUE_VIOLATION) throw new StoreError('USERNAME_TAKEN', username);
      throw error;
    }
  }

  async findUserByName(username: string): Promise<UserRecord | undefined> {
    const rows = await this.executor.query<UserSqlRow>(
      `SELECT ${userColumns} FROM users WHERE lower(username) = lower($1)`,
      [username],
    );
    return rows.length === 0 ? undefined : userOf(rows[0]);
  }

  async findUserById(id: number): Promise<UserRecord | undefined> {
    const rows = await this.executor.query<UserSqlRow>(`SELECT ${userColumns} FROM users WHERE id = $1`, [
      id,
    ]);
    return rows.length === 0 ? undefined : userOf(rows[0]);
  }

  async countUsers(): Promise<number> {
    const rows = await this.executor.query<{ count: Numeric }>('SELECT count(*) AS count FROM users');
    return Number(rows[0].count);
  }
}

export class SqlSessionStore implements SessionStore {
  constructor(private readonly executor: SqlExecutor) {}

  async createSession(session: SessionRecord): Promise<void> {
    await this.executor.query(`INSERT INTO sessions (${sessionColumns}) VALUES ($1, $2, $3, $4, $5, $6)`, [
      session.tokenHash,
      session.userId,
      session.device,
      session.ip,
      session.createdAtMs,
      session.lastSeenAtMs,
    ]);
  }

  async findSession(tokenHash: string): Promise<SessionRecord | undefined> {
    const rows = await this.executor.query<SessionSqlRow>(
      `SELECT ${sessionColumns} FROM sessions WHERE token_hash = $1`,
      [tokenHash],
    );
    return rows.length === 0 ? undefined : sessionOf(rows[0]);
  }

  /** Only moves forward, so a late, out-of-order touch cannot turn the clock back. */
  async touchSession(tokenHash: string, lastSeenAtMs: number): Promise<void> {
    await this.executor.query(
      'UPDATE sessions SET last_seen_at_ms = $2 WHERE token_hash = $1 AND last_seen_at_ms < $2',
      [tokenHash, lastSeenAtMs],
    );
  }

  async deleteSession(tokenHash: string): Promise<void> {
    await this.executor.query('DELETE FROM sessions WHERE token_hash = $1', [tokenHash]);
  }

  async listSessions(userId: number): Promise<SessionRecord[]> {
    const rows = await this.executor.query<SessionSqlRow>(
      `SELECT ${sessionColumns} FROM sessions WHERE user_id = $1 ORDER BY created_at_ms, token_hash LIMIT $2`,
      [userId, sessionsPerUserListMax],
    );
    return rows.map(sessionOf);
  }

  async deleteSessionsOfUser(userId: number): Promise<string[]> {
    const rows = await this.executor.query<{ token_hash: string }>(
      'DELETE FROM sessions WHERE user_id = $1 RETURNING token_hash',
      [userId],
    );
    return rows.map((row) => row.token_hash).sort();
  }
}

function userOf(row: UserSqlRow): UserRecord {
  return {
    id: Number(row.id),
    username: row.username,
    passwordHash: row.password_hash,
    isAdmin: row.is_admin,
    createdAtMs: Number(row.created_at_ms),
  };
}

function sessionOf(row: SessionSqlRow): SessionRecord {
  return {
    tokenHash: row.token_hash,
    userId: Number(row.user_id),
    device: row.device,
    ip: row.ip,
    createdAtMs: Number(row.created_at_ms),
    lastSeenAtMs: Number(row.last_seen_at_ms),
  };
}
