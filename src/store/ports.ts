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

/** Permissions an API key can carry (docs/API.md "API keys"). */
export type ApiKeyPermission = 'read' | 'trade';

/**
 * An API key: the public key id is the `X-MBX-APIKEY` value; the secret (needed in clear to check
 * an HMAC) is stored only encrypted by the gateway's server key, as an opaque string.
 */
export interface ApiKeyRecord {
  keyId: string;
  userId: number;
  label: string;
  permissions: ApiKeyPermission[];
  /** Client addresses allowed to use the key; empty: any. */
  ipAllowlist: string[];
  secretCiphertext: string;
  createdAtMs: number;
}

export interface ApiKeyStore {
  /** Inserts the key unless the user already has `perUserMax` keys; false when refused. */
  createApiKey(record: ApiKeyRecord, perUserMax: number): Promise<boolean>;
  findApiKey(keyId: string): Promise<ApiKeyRecord | undefined>;
  listApiKeys(userId: number): Promise<ApiKeyRecord[]>;
  /** Deletes the user's key; false when the user has no such key. */
  deleteApiKey(userId: number, keyId: string): Promise<boolean>;
  /** Every key id with its ciphertext, in key order, after `afterKeyId` (reseal pages through them). */
  apiKeySecretsAfter(
    afterKeyId: string,
    limit: number,
  ): Promise<Array<{ keyId: string; secretCiphertext: string }>>;
  /** Replaces a ciphertext only if it is still `from` (a concurrent reseal or revoke wins). */
  replaceApiKeySecret(keyId: string, from: string, to: string): Promise<boolean>;
}
