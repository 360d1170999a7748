// The read-model contract on embedded PGlite (in memory), and PGlite's COPY path.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { maintainedTables, vacuumAnalyze } from '../../src/store/maintenance.js';
import { inMemoryDataDir, openStore, rebuildProjections } from '../../src/store/store.js';
import { copyText } from '../../src/store/write.js';
import { pgliteBackend, silentLogger } from './backends.js';
import { storeContract } from './contract.js';
import { OutcomeStream, streamOf } from './outcomes.js';

storeContract(pgliteBackend());

it('COPY rows keep tabs, newlines, backslashes, nulls and large integers', async () => {
  const store = await openStore({ dataDir: inMemoryDataDir, logger: silentLogger, migrate: false });
  try {
    await store.database.query('CREATE TABLE copy_probe (id bigint NOT NULL, note text)');
    type Probe = { id: number; note: string | null };
    const columns = [
      { name: 'id', type: 'bigint' as const, value: (row: Probe) => row.id },
      { name: 'note', type: 'text' as const, value: (row: Probe) => row.note },
    ];
    const rows: Probe[] = [
      { id: 1, note: 'tab\there' },
      { id: 2, note: 'line\nbreak\r\nand \\N literally' },
      { id: 3, note: null },
      { id: Number.MAX_SAFE_INTEGER, note: '["json", "with \\"quotes\\""]' },
      { id: -4, note: '' },
    ];
    await store.database.transaction(async (executor) => {
      assert.ok(executor.copyRows !== undefined, 'PGlite transactions copy');
      await executor.copyRows('copy_probe', ['id', 'note'], copyText(columns, rows));
    });
    const back = await store.database.query<{ id: number | string; note: string | null }>(
      'SELECT id, note FROM copy_probe ORDER BY id',
    );
    assert.deepEqual(
      back.map((row) => ({ id: Number(row.id), note: row.note })),
      [...rows].sort((left, right) => left.id - right.id),
    );
    assert.throws(() => copyText(columns, [{ id: 1.5, note: null }]), /not an integer/);
  } finally {
    await store.close();
  }
});

it('VACUUM (ANALYZE) reclaims dead order rows and gives the planner statistics', async () => {
  const store = await openStore({ dataDir: inMemoryDataDir, logger: silentLogger });
  try {
    const outcomes = new OutcomeStream({
      seed: 5,
      usersCount: 6,
      stepMs: 1_000,
      startTsMs: Date.UTC(2026, 0, 5),
    }).take(600);
    // Small batches: orders accepted in one batch are filled or cancelled in later ones (updates).
    await rebuildProjections(store, streamOf(outcomes), () => undefined, { batchOutcomesMax: 7 });
    const stats = async () => {
      await store.database.query('SELECT pg_stat_force_next_flush()');
      const rows = await store.database.query<{ dead: number | string; analyzed: unknown }>(
        `SELECT n_dead_tup AS dead, last_analyze AS analyzed FROM pg_stat_user_tables
          WHERE schemaname = current_schema() AND relname = 'orders'`,
      );
      return { dead: Number(rows[0].dead), analyzed: rows[0].analyzed };
    };
    const before = await stats();
    assert.ok(before.dead > 0, 'order updates left dead rows (PGlite never vacuums on its own)');
    assert.equal(before.analyzed, null);
    const reports = await vacuumAnalyze(store.database);
    assert.deepEqual(
      reports.map((report) => report.table),
      [...maintainedTables],
    );
    const after = await stats();
    assert.equal(after.dead, 0);
    assert.notEqual(after.analyzed, null);
  } finally {
    await store.close();
  }
});
