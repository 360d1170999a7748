// API keys, written directly by the gateway like users and sessions (not projected from the
// journal). The store never sees a secret in clear: the gateway hands it ciphertext.
import type { ApiKeyPermission, ApiKeyRecord, ApiKeyStore } from './ports.js';
import type { SqlDatabase } from './sql.js';

type Numeric = number | string;

interface ApiKeySqlRow {
  key_id: string;
  user_id: Numeric;
  label: string;
  permissions: string;
  ip_allowlist: string;
  secret_ciphertext: string;
  created_at_ms: Numeric;
}

const columns = 'key_id, user_id, label, permissions, ip_allowlist, secret_ciphertext, created_at_ms';
/** Keys listed per user; the gateway's own cap (apiKeysPerUserMax) is far below. */
export const apiKeysPerUserListMax = 1_000;

export class SqlApiKeyStore implements ApiKeyStore {
  constructor(private readonly database: SqlDatabase) {}

  async createApiKey(record: ApiKeyRecord, perUserMax: number): Promise<boolean> {
    return this.database.transaction(async (executor) => {
      // The user's row lock serialises two creations racing for the last free place.
      const users = await executor.query('SELECT 1 FROM users WHERE id = $1 FOR UPDATE', [record.userId]);
      if (users.length === 0) return false;
      const counted = await executor.query<{ count: Numeric }>(
        'SELECT count(*) AS count FROM api_keys WHERE user_id = $1',
        [record.userId],
      );
      if (Number(counted[0].count) >= perUserMax) return false;
      await executor.query(`INSERT INTO api_keys (${columns}) VALUES ($1, $2, $3, $4, $5, $6, $7)`, [
        record.keyId,
        record.userId,
        record.label,
        record.permissions.join(','),
        record.ipAllowlist.join(','),
        record.secretCiphertext,
        record.createdAtMs,
      ]);
      return true;
    });
  }

  async findApiKey(keyId: string): Promise<ApiKeyRecord | undefined> {
    const rows = await this.database.query<ApiKeySqlRow>(
      `SELECT ${columns} FROM api_keys WHERE key_id = $1`,
      [keyId],
    );
    return rows.length === 0 ? undefined : apiKeyOf(rows[0]);
  }

  async listApiKeys(userId: number): Promise<ApiKeyRecord[]> {
    const rows = await this.database.query<ApiKeySqlRow>(
      `SELECT ${columns} FROM api_keys WHERE user_id = $1 ORDER BY created_at_ms, key_id LIMIT $2`,
      [userId, apiKeysPerUserListMax],
    );
    return rows.map(apiKeyOf);
  }

  async deleteApiKey(userId: number, keyId: string): Promise<boolean> {
    const rows = await this.database.query(
      'DELETE FROM api_keys WHERE user_id = $1 AND key_id = $2 RETURNING key_id',
      [userId, keyId],
    );
    return rows.length > 0;
  }

  async apiKeySecretsAfter(
    afterKeyId: string,
    limit: number,
  ): Promise<Array<{ keyId: string; secretCiphertext: string }>> {
    const rows = await this.database.query<{ key_id: string; secret_ciphertext: string }>(
      'SELECT key_id, secret_ciphertext FROM api_keys WHERE key_id > $1 ORDER BY key_id LIMIT $2',
      [afterKeyId, limit],
    );
    return rows.map((row) => ({ keyId: row.key_id, secretCiphertext: row.secret_ciphertext }));
  }

  async replaceApiKeySecret(keyId: string, from: string, to: string): Promise<boolean> {
    const rows = await this.database.query(
      'UPDATE api_keys SET secret_ciphertext = $3 WHERE key_id = $1 AND secret_ciphertext = $2 RETURNING key_id',
      [keyId, from, to],
    );
    return rows.length > 0;
  }
}

function listOf(text: string): string[] {
  return text === '' ? [] : text.split(',');
}

function apiKeyOf(row: ApiKeySqlRow): ApiKeyRecord {
  return {
    keyId: row.key_id,
    userId: Number(row.user_id),
    label: row.label,
    permissions: listOf(row.permissions) as ApiKeyPermission[],
    ipAllowlist: listOf(row.ip_allowlist),
    secretCiphertext: row.secret_ciphertext,
    createdAtMs: Number(row.created_at_ms),
  };
}
