// One small adapter over the two SQL engines, so every query and every migration is written once.
// PGlite (PostgreSQL compiled to WASM, one connection, in-process) is the embedded default;
// node-postgres (a Pool) is used when a DATABASE_URL is configured.
import { PGlite, type Transaction } from '@electric-sql/pglite';
import pg from 'pg';

export type SqlBackend = 'pglite' | 'postgres';

/** Anything that runs a parameterised statement: the database itself or an open transaction. */
export interface SqlExecutor {
  query<Row extends object>(text: string, params?: unknown[]): Promise<Row[]>;
  /**
   * `COPY table (columns) FROM` rows in COPY's text format, where the backend takes it without
   * another package (PGlite transactions: from its `/dev/blob` device); absent otherwise.
   */
  copyRows?(table: string, columns: readonly string[], text: string): Promise<void>;
}

export interface SqlDatabase extends SqlExecutor {
  readonly backend: SqlBackend;
  /** The schema every statement runs in (search_path). */
  readonly schema: string;
  /** Runs a script of several statements without parameters (migrations). */
  execScript(script: string, executor?: SqlExecutor): Promise<void>;
  /** Runs `work` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(work: (executor: SqlExecutor) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** Connections per process to PostgreSQL: the projector and the gateway's queries share them. */
export const poolConnectionsMax = 8;

const schemaNamePattern = /^[a-z_][a-z0-9_]{0,62}$/;

/** Schema names go into SQL text (search_path cannot be a parameter), so only plain names pass. */
export function assertSchemaName(schema: string): void {
  if (!schemaNamePattern.test(schema)) throw new Error(`invalid schema name: ${schema}`);
}

export async function openPglite(dataDir: string, schema: string): Promise<SqlDatabase> {
  return usePglite(await PGlite.create(dataDir), schema, true);
}

/**
 * Works in `schema` of an instance that is already open (starting PGlite takes seconds, so tests
 * share one). PGlite has one connection: only one such view may be in use at a time.
 */
export async function usePglite(
  database: PGlite,
  schema: string,
  ownsInstance: boolean,
): Promise<SqlDatabase> {
  assertSchemaName(schema);
  await database.exec(`CREATE SCHEMA IF NOT EXISTS ${schema}; SET search_path TO ${schema};`);
  return new PgliteDatabase(database, schema, ownsInstance);
}

class PgliteDatabase implements SqlDatabase {
  readonly backend = 'pglite';

  constructor(
    private readonly database: PGlite,
    readonly schema: string,
    private readonly ownsInstance: boolean,
  ) {}

  async query<Row extends object>(text: string, params?: unknown[]): Promise<Row[]> {
    const result = await this.database.query<Row>(text, params);
    return result.rows;
  }

  async execScript(script: string, executor?: SqlExecutor): Promise<void> {
    if (executor instanceof PgliteTransaction) await executor.transaction.exec(script);
    else await this.database.exec(script);
  }

  transaction<T>(work: (executor: SqlExecutor) => Promise<T>): Promise<T> {
    return this.database.transaction((transaction) => work(new PgliteTransaction(transaction)));
  }

  async close(): Promise<void> {
    if (this.ownsInstance) await this.database.close();
  }
}

class PgliteTransaction implements SqlExecutor {
  constructor(readonly transaction: Transaction) {}

  async query<Row extends object>(text: string, params?: unknown[]): Promise<Row[]> {
    const result = await this.transaction.query<Row>(text, params);
    return result.rows;
  }

  async copyRows(table: string, columns: readonly string[], text: string): Promise<void> {
    await this.transaction.query(copyStatement(table, columns), [], { blob: new Blob([text]) });
  }
}

/** Table and column names come from this package's code, never from input. */
function copyStatement(table: string, columns: readonly string[]): string {
  return `COPY ${table} (${columns.join(', ')}) FROM '/dev/blob'`;
}

export async function openPostgres(databaseUrl: string, schema: string): Promise<SqlDatabase> {
  assertSchemaName(schema);
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max: poolConnectionsMax,
    options: `-c search_path=${schema}`,
  });
  // A broken idle connection must not crash the process; the next query reports the failure.
  pool.on('error', () => undefined);
  // Under an advisory lock: concurrent CREATE SCHEMA IF NOT EXISTS can fail with a unique violation.
  const database = new PostgresDatabase(pool, schema);
  await database.transaction(async (executor) => {
    await executor.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`hoga.schema.${schema}`]);
    await executor.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
  });
  return database;
}

class PostgresDatabase implements SqlDatabase {
  readonly backend = 'postgres';

  constructor(
    private readonly pool: pg.Pool,
    readonly schema: string,
  ) {}

  async query<Row extends object>(text: string, params?: unknown[]): Promise<Row[]> {
    const result = await this.pool.query(text, params);
    return result.rows as Row[];
  }

  async execScript(script: string, executor?: SqlExecutor): Promise<void> {
    // Without parameters node-postgres uses the simple protocol, which takes several statements.
    if (executor instanceof PostgresTransaction) await executor.client.query(script);
    else await this.pool.query(script);
  }

  async transaction<T>(work: (executor: SqlExecutor) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let clientBroken = false;
    try {
      await client.query('BEGIN');
      const result = await work(new PostgresTransaction(client));
      await client.query('COMMIT');
      return result;
    } catch (error) {
      try {
        await client.query('ROLLBACK');
      } catch {
        clientBroken = true;
      }
      throw error;
    } finally {
      client.release(clientBroken);
    }
  }

  close(): Promise<void> {
    return this.pool.end();
  }
}

class PostgresTransaction implements SqlExecutor {
  constructor(readonly client: pg.PoolClient) {}

  async query<Row extends object>(text: string, params?: unknown[]): Promise<Row[]> {
    const result = await this.client.query(text, params);
    return result.rows as Row[];
  }
}
