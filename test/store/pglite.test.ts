// The read-model contract on embedded PGlite (in memory), and PGlite's COPY path.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { inMemoryDataDir, openStore } from '../../src/store/store.js';
import { copyText } from '../../src/store/write.js';
import { pgliteBackend, silentLogger } from './backends.js';
import { storeContract } from './contract.js';

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
