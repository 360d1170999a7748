// One place that opens the read model: the backend (PGlite by default, PostgreSQL when a
// DATABASE_URL is given), the migrations, and the stores the gateway and market data use.
import type { PGlite } from '@electric-sql/pglite';
import type { Logger } from 'pino';
import type { CommandOutcome } from '../ports.js';
import { SqlApiKeyStore } from './api-keys.js';
import { SqlCandles } from './candles.js';
import { HistoryQueries } from './history.js';
import { migrate } from './migrate.js';
import { Projector, type ProjectorOptions } from './projector.js';
import { projectedTables } from './schema.js';
import { openPglite, openPostgres, type SqlDatabase, usePglite } from './sql.js';
import { SqlSessionStore, SqlUserStore } from './users.js';

export const defaultDataDir = './data/pglite';
/** PGlite's in-memory data directory: nothing touches the disk (tests). */
export const inMemoryDataDir = 'memory://';
export const defaultSchema = 'hoga';

export interface StoreConfig {
  /** When set, PostgreSQL through a pool; otherwise embedded PGlite in `dataDir`. */
  databaseUrl?: string;
  dataDir?: string;
  /** An open PGlite instance to use instead of `dataDir` (the caller closes it). */
  pglite?: PGlite;
  /** All tables live in this schema (created if missing). */
  schema?: string;
  logger: Logger;
  /** Apply pending migrations on open (default true; `hoga db migrate` does it explicitly). */
  migrate?: boolean;
}

export interface Store {
  readonly database: SqlDatabase;
  readonly users: SqlUserStore;
  readonly sessions: SqlSessionStore;
  readonly apiKeys: SqlApiKeyStore;
  readonly history: HistoryQueries;
  readonly candles: SqlCandles;
  openProjector(options?: Partial<ProjectorOptions>): Promise<Projector>;
  close(): Promise<void>;
}

export async function openStore(config: StoreConfig): Promise<Store> {
  const schema = config.schema ?? defaultSchema;
  const database = await openDatabase(config, schema);
  // The caller's logger names the component (e.g. `read-model`); a second `component` key would
  // put the key twice in every line.
  const logger = config.logger.child({ backend: database.backend, schema });
  try {
    if (config.migrate !== false) await migrate(database, logger);
  } catch (error) {
    await database.close();
    throw error;
  }
  return {
    database,
    users: new SqlUserStore(database),
    sessions: new SqlSessionStore(database),
    apiKeys: new SqlApiKeyStore(database),
    history: new HistoryQueries(database),
    candles: new SqlCandles(database),
    openProjector: (options) => Projector.open(database, logger, options),
    close: () => database.close(),
  };
}

function openDatabase(config: StoreConfig, schema: string): Promise<SqlDatabase> {
  if (config.databaseUrl !== undefined && config.databaseUrl !== '')
    return openPostgres(config.databaseUrl, schema);
  if (config.pglite !== undefined) return usePglite(config.pglite, schema, false);
  return openPglite(config.dataDir ?? defaultDataDir, schema);
}

export interface RebuildProgress {
  projectedSeq: number;
  outcomes: number;
}

/**
 * Empties the projected tables and their checkpoints, then projects `source` (the whole journal)
 * into them. Users, sessions and candles are not from the journal and stay as they are.
 */
export async function rebuildProjections(
  store: Store,
  source: AsyncIterable<CommandOutcome>,
  onProgress: (progress: RebuildProgress) => void,
  options: Partial<ProjectorOptions> = {},
): Promise<RebuildProgress> {
  await store.database.transaction(async (executor) => {
    await executor.query(`TRUNCATE ${projectedTables.join(', ')}`);
    await executor.query('DELETE FROM projection_checkpoints');
  });
  const projector = await store.openProjector(options);
  let outcomes = 0;
  const counted = countOutcomes(source, () => {
    outcomes += 1;
  });
  await projector.project(counted, (projectedSeq) => onProgress({ projectedSeq, outcomes }));
  await projector.close();
  return { projectedSeq: projector.projectedSeq, outcomes };
}

async function* countOutcomes(source: AsyncIterable<CommandOutcome>, count: () => void) {
  for await (const outcome of source) {
    count();
    yield outcome;
  }
}
