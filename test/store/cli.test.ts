// `hoga db migrate|rebuild|partitions|vacuum` as an operator runs them: a child process against the local
// PostgreSQL (PGlite would spend most of the test starting), on a journal written by the sequencer.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import pg from 'pg';
import type { Command } from '../../src/core/types.js';
import { openSequencer } from '../../src/journal/durable.js';
import { coreEngineFactory } from '../../src/journal/engine-factory.js';
import { maintainedTables } from '../../src/store/maintenance.js';
import { partitionName, partitionStartMs } from '../../src/store/partitions.js';
import { postgresBackend, reachablePostgres, silentLogger, uniqueSchema } from './backends.js';
import { OutcomeStream } from './outcomes.js';

const cliPath = join(import.meta.dirname, '..', '..', 'src', 'cli', 'main.js');
const backend = postgresBackend();
const schema = uniqueSchema('store_cli');
const journalDir = mkdtempSync(join(tmpdir(), 'hoga-db-cli-'));
let skipReason: string | undefined;
let databaseUrl = '';

before(async () => {
  const found = await reachablePostgres();
  if ('url' in found) databaseUrl = found.url;
  else skipReason = found.failure;
  await backend.unavailable();
  if (skipReason !== undefined && process.env.CI === 'true') throw new Error(skipReason);
  if (skipReason !== undefined) process.stderr.write(`\n*** SKIPPING hoga db CLI tests: ${skipReason}\n\n`);
});

after(async () => {
  rmSync(journalDir, { recursive: true, force: true });
  if (skipReason === undefined) await backend.dropSchema(schema);
});

function hoga(args: string[]): Promise<{ code: number | null; lines: unknown[]; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cliPath, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => {
      const lines = stdout
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as unknown);
      resolve({ code, lines, stderr });
    });
  });
}

it('migrates, rebuilds from the journal with progress, lists partitions', {
  timeout: 120_000,
}, async (context) => {
  if (skipReason !== undefined) {
    context.skip(skipReason);
    return;
  }
  const stream = new OutcomeStream({ seed: 21, usersCount: 5, stepMs: 1, startTsMs: 0 });
  const opened = await openSequencer({
    dataDir: journalDir,
    engines: coreEngineFactory(),
    logger: silentLogger,
    fsyncPolicy: 'none',
  });
  let trades = 0;
  let lastTsMs = 0;
  for (let index = 0; index < 400; index += 1) {
    const { ts: _stamped, ...command } = stream.next().command;
    const outcome = await opened.sequencer.submit(command as Command);
    trades += outcome.events.filter((event) => event.ev === 'trade').length;
    lastTsMs = outcome.ts;
  }
  await opened.sequencer.close();
  assert.ok(trades > 0, 'the journal holds trades');

  const common = ['--database-url', databaseUrl, '--schema', schema];
  const migrated = await hoga(['db', 'migrate', ...common]);
  assert.equal(migrated.code, 0, migrated.stderr);
  assert.deepEqual(migrated.lines, [{ applied: [1, 2, 3, 4, 5, 6, 7, 8, 9], version: 9 }]);

  const rebuilt = await hoga(['db', 'rebuild', '--journal-dir', journalDir, ...common]);
  assert.equal(rebuilt.code, 0, rebuilt.stderr);
  assert.match(rebuilt.stderr, /rebuild \[/);
  const summary = rebuilt.lines[0] as { projectedSeq: number; outcomes: number; backend: string };
  assert.equal(summary.projectedSeq, 400);
  assert.equal(summary.outcomes, 400);
  assert.equal(summary.backend, 'postgres');

  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const counted = await client.query(`SELECT count(*)::int AS count FROM ${schema}.trades`);
    assert.equal(counted.rows[0].count, trades);
  } finally {
    await client.end();
  }

  const partitions = await hoga(['db', 'partitions', ...common]);
  assert.equal(partitions.code, 0, partitions.stderr);
  const names = (partitions.lines[0] as { partitions: string[] }).partitions;
  assert.ok(names.includes(partitionName('trades', partitionStartMs(lastTsMs))), names.join(','));

  const vacuumed = await hoga(['db', 'vacuum', ...common]);
  assert.equal(vacuumed.code, 0, vacuumed.stderr);
  const report = vacuumed.lines[0] as { backend: string; tables: Array<{ table: string }> };
  assert.equal(report.backend, 'postgres');
  assert.deepEqual(
    report.tables.map((entry) => entry.table),
    [...maintainedTables],
  );
});
