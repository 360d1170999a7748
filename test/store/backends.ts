// The two backends the contract suite runs against. Each test gets a fresh schema, dropped after.
// PGlite takes seconds to start, so one in-memory instance serves a whole test file; PostgreSQL is
// the server on this machine (user postgres, else root), skipped loudly when absent unless CI.
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { pino } from 'pino';
import { openStore, type Store } from '../../src/store/store.js';

export interface Backend {
  name: string;
  /** Why the backend cannot run here, or undefined when it can. */
  unavailable(): Promise<string | undefined>;
  /** `migrate: false` opens the schema without applying migrations (migration tests). */
  openStore(schema: string, options?: { migrate?: boolean }): Promise<Store>;
  dropSchema(schema: string): Promise<void>;
  close(): Promise<void>;
  /** Where a child process connects (PostgreSQL only). */
  connectionString?: () => string | undefined;
}

export const silentLogger = pino({ level: 'silent' });

let schemaCounter = 0;

export function uniqueSchema(prefix: string): string {
  schemaCounter += 1;
  return `${prefix}_${process.pid}_${Date.now().toString(36)}_${schemaCounter}`;
}

export function pgliteBackend(): Backend {
  let instance: Promise<PGlite> | undefined;
  const shared = () => {
    instance ??= PGlite.create('memory://');
    return instance;
  };
  return {
    name: 'pglite',
    // Starting PGlite here charges its start-up to the suite's before hook, not to the first test.
    unavailable: async () => {
      await shared();
      return undefined;
    },
    openStore: async (schema, options) =>
      openStore({ pglite: await shared(), schema, logger: silentLogger, migrate: options?.migrate }),
    dropSchema: async (schema) => {
      await (await shared()).exec(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    },
    close: async () => {
      if (instance !== undefined) await (await instance).close();
    },
  };
}

const candidateUrls = [
  process.env.HOGA_TEST_DATABASE_URL,
  'postgres://postgres@127.0.0.1:5432/test',
  'postgres://root@127.0.0.1:5432/test',
].filter((url): url is string => url !== undefined && url !== '');

/** The first candidate URL that accepts a connection, or why none did. */
export async function reachablePostgres(): Promise<{ url: string } | { failure: string }> {
  const errors: string[] = [];
  for (const url of candidateUrls) {
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3_000 });
    try {
      await client.connect();
      await client.end();
      return { url };
    } catch (error) {
      errors.push(`${url}: ${String(error)}`);
    }
  }
  return { failure: `PostgreSQL unreachable (${errors.join('; ')})` };
}

export function postgresBackend(): Backend {
  let databaseUrl: string | undefined;
  let failure: string | undefined;
  const admin = () => new pg.Client({ connectionString: databaseUrl });
  return {
    name: 'postgres',
    unavailable: async () => {
      if (databaseUrl !== undefined) return undefined;
      const found = await reachablePostgres();
      if ('url' in found) databaseUrl = found.url;
      else failure = found.failure;
      return failure;
    },
    openStore: async (schema, options) => {
      if (databaseUrl === undefined) throw new Error(failure ?? 'unavailable() not called');
      return openStore({ databaseUrl, schema, logger: silentLogger, migrate: options?.migrate });
    },
    dropSchema: async (schema) => {
      const client = admin();
      await client.connect();
      try {
        await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      } finally {
        await client.end();
      }
    },
    close: async () => undefined,
    connectionString: () => databaseUrl,
  };
}

/**
 * Every projected table as JSON text per row in key order: equal dumps mean equal rows, whatever
 * the backend's JavaScript types for bigint.
 */
export async function dumpProjection(store: Store): Promise<Record<string, string[]>> {
  const tables: Array<[string, string]> = [
    ['symbols', 'symbol'],
    ['trades', 'trade_id'],
    // The view over order_event_groups: one row per event, whatever the batches were.
    ['order_events', 'seq, event_index'],
    ['orders', 'order_id'],
    ['ledger', 'seq, entry_index'],
    ['projection_checkpoints', 'name'],
  ];
  const dump: Record<string, string[]> = {};
  for (const [table, key] of tables) {
    const rows = await store.database.query<{ row: string }>(
      `SELECT row_to_json(t)::text AS row FROM ${table} t ORDER BY ${key}`,
    );
    dump[table] = rows.map((row) => row.row);
  }
  return dump;
}
