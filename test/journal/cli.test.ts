import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { exportJournal, journalStats, verifyDataDirectory } from '../../src/cli/journal.js';
import type { JournalError } from '../../src/journal/errors.js';
import { buildFixture, copyOf, type JournalFixture } from './fixture.js';

const cliPath = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
let fixture: JournalFixture;

before(async () => {
  fixture = await buildFixture(60, 1_024);
});

after(() => fixture.remove());

test('verify passes a clean journal, tolerates a torn tail and fails on corruption in the middle', () => {
  const clean = verifyDataDirectory(fixture.directory);
  assert.equal(clean.ok, true);
  assert.equal(clean.walk.records, 60);
  assert.deepEqual(clean.walk.problems, []);

  const torn = copyOf(fixture, 'verify-torn');
  const last = fixture.segments.at(-1) as JournalFixture['segments'][number];
  truncateSync(join(torn.path, basename(last.path)), last.bytes - 3);
  const tornResult = verifyDataDirectory(torn.path);
  assert.equal(tornResult.ok, true);
  assert.equal(tornResult.walk.problems[0]?.kind, 'tornTail');
  assert.equal(tornResult.walk.lastSeq, 59);
  torn.remove();

  const corrupt = copyOf(fixture, 'verify-corrupt');
  const middle = fixture.segments[0];
  const path = join(corrupt.path, basename(middle.path));
  const bytes = readFileSync(path);
  bytes[middle.recordStarts[1] + 18] ^= 0x01;
  writeFileSync(path, bytes);
  const corruptResult = verifyDataDirectory(corrupt.path);
  assert.equal(corruptResult.ok, false);
  assert.deepEqual(
    corruptResult.walk.problems.map((problem) => [problem.kind, problem.offset, problem.seq]),
    [['corrupt', middle.recordStarts[1], 2]],
  );
  const cli = spawnSync(process.execPath, [cliPath, 'journal', 'verify', '--data-dir', corrupt.path], {
    encoding: 'utf8',
  });
  assert.equal(cli.status, 1, cli.stderr);
  assert.equal((JSON.parse(cli.stdout) as { ok: boolean }).ok, false);
  assert.throws(
    () => exportJournal(corrupt.path, join(corrupt.path, 'out.ndjson')),
    (error: JournalError) => error.code === 'JOURNAL_CORRUPT',
  );
  corrupt.remove();
});

test('export writes every journaled command in sequence order, ts included', () => {
  const copy = copyOf(fixture, 'export');
  const out = join(copy.path, 'commands.ndjson');
  const result = exportJournal(copy.path, out);
  assert.deepEqual(result, { commands: 60, lastSeq: 60 });
  const lines = readFileSync(out, 'utf8').trimEnd().split('\n');
  assert.deepEqual(
    lines.map((line) => JSON.parse(line)),
    fixture.commands,
  );
  copy.remove();
});

test('export refuses when older segments were removed after a snapshot', () => {
  const copy = copyOf(fixture, 'export-pruned');
  unlinkSync(join(copy.path, basename(fixture.segments[0].path)));
  assert.throws(
    () => exportJournal(copy.path, join(copy.path, 'out.ndjson')),
    (error: JournalError) => error.code === 'HISTORY_INCOMPLETE',
  );
  copy.remove();
});

test('stats counts segments, records, bytes and sequences', () => {
  const stats = journalStats(fixture.directory) as {
    segments: number;
    records: number;
    bytes: number;
    firstSeq: number;
    lastSeq: number;
  };
  assert.equal(stats.segments, fixture.segments.length);
  assert.equal(stats.records, 60);
  assert.equal(stats.firstSeq, 1);
  assert.equal(stats.lastSeq, 60);
  assert.equal(
    stats.bytes,
    fixture.segments.reduce((sum, segment) => sum + segment.bytes, 0),
  );
});
