// Applies the migrations in schema.ts that the database has not seen, each in its own
// transaction together with its schema_migrations row, so a failed migration leaves no trace.
import type { Logger } from 'pino';
import { StoreError } from './errors.js';
import { type Migration, migrations } from './schema.js';
import type { SqlDatabase } from './sql.js';

export interface MigrationReport {
  applied: number[];
  version: number;
}

export async function migrate(
  database: SqlDatabase,
  logger: Logger,
  wanted: readonly Migration[] = migrations,
): Promise<MigrationReport> {
  const createTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
       version integer PRIMARY KEY,
       name text NOT NULL,
       applied_at_ms bigint NOT NULL
     )`;
  if (database.backend === 'postgres') {
    // Two processes starting at once (cluster gateways, the projector) would race on CREATE TABLE
    // IF NOT EXISTS (a unique violation in pg_type): a transaction-scoped advisory lock per schema
    // serialises them; the migrations below then lock the table itself.
    await database.transaction(async (executor) => {
      await executor.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`hoga.migrate.${database.schema}`]);
      await database.execScript(createTable, executor);
    });
  } else {
    await database.execScript(createTable);
  }
  const applied: number[] = [];
  for (const migration of wanted) {
    if (await applyOne(database, migration)) {
      applied.push(migration.version);
      logger.info({ version: migration.version, migration: migration.name }, 'migration applied');
    }
  }
  return { applied, version: await schemaVersion(database) };
}

async function applyOne(database: SqlDatabase, migration: Migration): Promise<boolean> {
  try {
    return await database.transaction(async (executor) => {
      // The lock serialises processes migrating the same database at the same time.
      await executor.query('LOCK TABLE schema_migrations IN EXCLUSIVE MODE');
      const seen = await executor.query('SELECT 1 FROM schema_migrations WHERE version = $1', [
        migration.version,
      ]);
      if (seen.length > 0) return false;
      await database.execScript(migration.sql, executor);
      await executor.query(
        'INSERT INTO schema_migrations (version, name, applied_at_ms) VALUES ($1, $2, $3)',
        [migration.version, migration.name, Date.now()],
      );
      return true;
    });
  } catch (error) {
    throw new StoreError(
      'MIGRATION_FAILED',
      `migration ${migration.version} (${migration.name}): ${String(error)}`,
    );
  }
}

export async function schemaVersion(database: SqlDatabase): Promise<number> {
  const rows = await database.query<{ version: number | string | null }>(
    'SELECT max(version) AS version FROM schema_migrations',
  );
  return Number(rows[0]?.version ?? 0);
}
