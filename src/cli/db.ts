// `hoga db migrate|rebuild|partitions`: the SQL read model's maintenance commands.
import { SingleBar } from 'cli-progress';
import type { Command } from 'commander';
import { pino } from 'pino';
import { Engine } from '../core/engine.js';
import {
  type DirectoryLock,
  directoryLockedExitCode,
  isDirectoryLocked,
  lockDirectory,
} from '../journal/data-dir-lock.js';
import { journalExtent, journalOutcomes } from '../store/journal-source.js';
import { vacuumAnalyze } from '../store/maintenance.js';
import { migrate } from '../store/migrate.js';
import { dropPartitionsBefore, listPartitions } from '../store/partitions.js';
import {
  defaultDataDir as defaultPgliteDir,
  defaultSchema,
  openStore,
  rebuildProjections,
  type Store,
} from '../store/store.js';

interface DatabaseFlags {
  databaseUrl?: string;
  pgliteDir?: string;
  schema?: string;
}

function withDatabaseOptions(command: Command): Command {
  return command
    .option('--database-url <url>', 'PostgreSQL instead of embedded PGlite (DATABASE_URL)')
    .option('--pglite-dir <dir>', 'embedded database directory (HOGA_PGLITE_DIR, default ./data/pglite)')
    .option('--schema <name>', `schema holding the tables (default ${defaultSchema})`);
}

const logger = pino({ name: 'db', level: process.env.HOGA_LOG_LEVEL ?? 'info' }, pino.destination(2));

/**
 * Opens the store; an embedded PGlite directory is locked first (released with the store), so a
 * command never writes under a running exchange (docs/OPERATIONS.md "Data directory lock").
 */
async function openFromFlags(flags: DatabaseFlags, migrateOnOpen: boolean): Promise<Store> {
  const databaseUrl = flags.databaseUrl ?? process.env.DATABASE_URL;
  const pgliteDir = flags.pgliteDir ?? process.env.HOGA_PGLITE_DIR ?? defaultPgliteDir;
  const embedded = (databaseUrl ?? '') === '' && !pgliteDir.startsWith('memory://');
  const lock = embedded ? await lockOrExit(pgliteDir) : undefined;
  try {
    const store = await openStore({
      databaseUrl,
      dataDir: pgliteDir,
      schema: flags.schema,
      logger,
      migrate: migrateOnOpen,
    });
    return lock === undefined ? store : { ...store, close: () => store.close().finally(lock.release) };
  } catch (error) {
    await lock?.release();
    throw error;
  }
}

async function lockOrExit(pgliteDir: string): Promise<DirectoryLock> {
  try {
    return await lockDirectory(pgliteDir, 'hoga db');
  } catch (error) {
    if (!isDirectoryLocked(error)) throw error;
    process.stderr.write(`hoga db: ${error.message}; stop it first (PostgreSQL has no such limit)\n`);
    process.exit(directoryLockedExitCode);
  }
}

function print(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

/** PGlite has no autovacuum; the running exchange does this hourly (HOGA_PGLITE_VACUUM_EVERY_MS). */
async function runVacuum(flags: DatabaseFlags): Promise<void> {
  const store = await openFromFlags(flags, false);
  try {
    const tables = await vacuumAnalyze(store.database);
    print({
      backend: store.database.backend,
      tables: tables.map((table) => ({ table: table.table, ms: Math.round(table.ms) })),
    });
  } finally {
    await store.close();
  }
}

async function runMigrate(flags: DatabaseFlags): Promise<void> {
  const store = await openFromFlags(flags, false);
  try {
    print(await migrate(store.database, logger));
  } finally {
    await store.close();
  }
}

async function runRebuild(flags: DatabaseFlags & { journalDir: string }): Promise<void> {
  const extent = journalExtent(flags.journalDir);
  const store = await openFromFlags(flags, true);
  const bar = new SingleBar({
    format: 'rebuild [{bar}] {percentage}% | {value}/{total} journal bytes | seq {seq}',
    hideCursor: true,
    // Without a terminal (CI, logs) a line every few seconds instead of a redrawn bar.
    noTTYOutput: true,
    notTTYSchedule: 2_000,
  });
  bar.start(extent.bytesTotal, 0, { seq: 0 });
  const startedMs = performance.now();
  try {
    const outcomes = journalOutcomes(flags.journalDir, new Engine(), (progress) => {
      bar.update(progress.bytesDone, { seq: progress.lastSeq });
    });
    const result = await rebuildProjections(store, outcomes, () => undefined);
    bar.update(extent.bytesTotal, { seq: result.projectedSeq });
    bar.stop();
    const elapsedMs = Math.round(performance.now() - startedMs);
    print({ ...result, elapsedMs, schema: store.database.schema, backend: store.database.backend });
  } finally {
    bar.stop();
    await store.close();
  }
}

async function runPartitions(flags: DatabaseFlags & { dropBefore?: string }): Promise<void> {
  const store = await openFromFlags(flags, true);
  try {
    if (flags.dropBefore !== undefined) {
      const beforeMs = Date.parse(flags.dropBefore);
      if (Number.isNaN(beforeMs)) throw new Error(`--drop-before: not a date: ${flags.dropBefore}`);
      print({ dropped: await dropPartitionsBefore(store.database, beforeMs) });
    }
    print({ partitions: (await listPartitions(store.database)).map((partition) => partition.name) });
  } finally {
    await store.close();
  }
}

export function registerDbCommands(program: Command): void {
  const db = program.command('db').description('SQL read model (PGlite, or PostgreSQL with DATABASE_URL)');
  withDatabaseOptions(db.command('migrate').description('apply pending schema migrations')).action(
    runMigrate,
  );
  withDatabaseOptions(
    db
      .command('rebuild')
      .description('empty the projected tables and replay the whole journal into them')
      .option(
        '--journal-dir <dir>',
        'journal data directory (HOGA_DATA_DIR, default ./data)',
        process.env.HOGA_DATA_DIR ?? './data',
      ),
  ).action(runRebuild);
  withDatabaseOptions(
    db
      .command('partitions')
      .description('list the daily partitions of trades and order_event_groups, optionally dropping old ones')
      .option('--drop-before <date>', 'detach and drop partitions whose whole day is before this ISO date'),
  ).action(runPartitions);
  withDatabaseOptions(
    db
      .command('vacuum')
      .description('VACUUM (ANALYZE) every table (PGlite has no autovacuum; the exchange does it hourly)'),
  ).action(runVacuum);
}
