// VACUUM (ANALYZE) for the embedded backend. PGlite runs PostgreSQL in single-user mode: there is
// no autovacuum launcher (`SHOW autovacuum` says on, but nothing runs), so without this dead rows
// from updates are never reclaimed, the planner never has statistics, and transaction ids are
// never frozen (after about 2^31 transactions PostgreSQL refuses writes until a VACUUM). PostgreSQL
// proper has autovacuum and needs none of it.
import type { SqlDatabase } from './sql.js';

/** Every table of the schema, parents of partitions included (their VACUUM covers the partitions). */
export const maintainedTables = [
  'users',
  'sessions',
  'projection_checkpoints',
  'symbols',
  'trades',
  'order_event_groups',
  'orders',
  'ledger',
  'coupons',
  'coupon_uses',
  'candles',
  'schema_migrations',
] as const;

export interface VacuumReport {
  table: string;
  ms: number;
}

/**
 * `VACUUM (ANALYZE)` of each table in turn, outside any transaction (PGlite runs it between the
 * projector's transactions, which wait meanwhile). Returns how long each took.
 */
export async function vacuumAnalyze(
  database: SqlDatabase,
  now: () => number = () => performance.now(),
): Promise<VacuumReport[]> {
  const reports: VacuumReport[] = [];
  for (const table of maintainedTables) {
    const startMs = now();
    await database.execScript(`VACUUM (ANALYZE) ${table}`);
    reports.push({ table, ms: now() - startMs });
  }
  return reports;
}
