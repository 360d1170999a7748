// Time partitions of the append-only tables: one per UTC day of the command timestamp. A batch
// creates the partitions its rows need (and the next day's, ahead of time) inside its own
// transaction; old days are detached and dropped (or archived first) by `dropPartitionsBefore`.
import type { SqlDatabase, SqlExecutor } from './sql.js';

export const partitionedTables = ['trades', 'order_event_groups'] as const;
export type PartitionedTable = (typeof partitionedTables)[number];

export const partitionSpanMs = 86_400_000;
/** Days created beyond the newest row, so the next day's first batch finds its partition ready. */
export const partitionsAheadCount = 1;
/** Days one batch may span: a bound on the DDL a single batch can issue. */
export const partitionsPerBatchMax = 64;

export function partitionStartMs(tsMs: number): number {
  return Math.floor(tsMs / partitionSpanMs) * partitionSpanMs;
}

export function partitionName(table: PartitionedTable, startMs: number): string {
  const day = new Date(startMs).toISOString().slice(0, 10).replaceAll('-', '');
  return `${table}_d${day}`;
}

/** The longest prefix of `outcomes` (at least one) whose partitions fit in one batch. */
export function daysWithinBound<Item extends { ts: number }>(outcomes: Item[]): Item[] {
  const spanMax = (partitionsPerBatchMax - 1 - partitionsAheadCount) * partitionSpanMs;
  let lowestMs = partitionStartMs(outcomes[0].ts);
  let highestMs = lowestMs;
  for (let index = 1; index < outcomes.length; index += 1) {
    const startMs = partitionStartMs(outcomes[index].ts);
    lowestMs = Math.min(lowestMs, startMs);
    highestMs = Math.max(highestMs, startMs);
    if (highestMs - lowestMs > spanMax) return outcomes.slice(0, index);
  }
  return outcomes;
}

/** The day starts a batch covering [fromMs, toMs] needs, plus the days ahead. */
export function partitionStartsFor(fromMs: number, toMs: number): number[] {
  const starts: number[] = [];
  const last = partitionStartMs(toMs) + partitionsAheadCount * partitionSpanMs;
  for (let start = partitionStartMs(fromMs); start <= last; start += partitionSpanMs) {
    if (starts.length === partitionsPerBatchMax) throw new Error('a batch spans too many days');
    starts.push(start);
  }
  return starts;
}

/**
 * Remembers the partitions that exist so a batch issues DDL only for a new day. Entries are added
 * by the caller after its transaction committed (the DDL rolls back with it).
 */
export class PartitionCache {
  static readonly entriesMax = 100_000;
  private readonly known = new Set<string>();

  missing(starts: number[]): number[] {
    return starts.filter((start) => !this.known.has(String(start)));
  }

  remember(starts: number[]): void {
    for (const start of starts) {
      if (this.known.size >= PartitionCache.entriesMax) this.known.clear();
      this.known.add(String(start));
    }
  }
}

export async function createPartitions(executor: SqlExecutor, starts: number[]): Promise<void> {
  for (const start of starts) {
    for (const table of partitionedTables) {
      await executor.query(
        `CREATE TABLE IF NOT EXISTS ${partitionName(table, start)} PARTITION OF ${table}
         FOR VALUES FROM (${start}) TO (${start + partitionSpanMs})`,
      );
    }
  }
}

export interface PartitionInfo {
  table: PartitionedTable;
  name: string;
  startMs: number;
}

export async function listPartitions(database: SqlDatabase): Promise<PartitionInfo[]> {
  const rows = await database.query<{ parent: string; child: string }>(
    `SELECT parent.relname AS parent, child.relname AS child
       FROM pg_inherits
       JOIN pg_class parent ON parent.oid = pg_inherits.inhparent
       JOIN pg_class child ON child.oid = pg_inherits.inhrelid
       JOIN pg_namespace ns ON ns.oid = child.relnamespace
      WHERE ns.nspname = $1 AND parent.relname = ANY($2::text[])
      ORDER BY child.relname`,
    [database.schema, [...partitionedTables]],
  );
  return rows.map((row) => ({
    table: row.parent as PartitionedTable,
    name: row.child,
    startMs: startOfName(row.child),
  }));
}

function startOfName(name: string): number {
  const day = name.slice(name.lastIndexOf('_d') + 2);
  return Date.UTC(Number(day.slice(0, 4)), Number(day.slice(4, 6)) - 1, Number(day.slice(6, 8)));
}

/** Drops every partition whose whole day lies before `beforeMs`; returns the dropped names. */
export async function dropPartitionsBefore(database: SqlDatabase, beforeMs: number): Promise<string[]> {
  const dropped: string[] = [];
  for (const partition of await listPartitions(database)) {
    if (partition.startMs + partitionSpanMs > beforeMs) continue;
    await database.transaction(async (executor) => {
      await executor.query(`ALTER TABLE ${partition.table} DETACH PARTITION ${partition.name}`);
      await executor.query(`DROP TABLE ${partition.name}`);
    });
    dropped.push(partition.name);
  }
  return dropped;
}
