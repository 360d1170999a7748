import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { openSequencer } from '../../src/journal/durable.js';
import type { JournalError } from '../../src/journal/errors.js';
import { nodeFileSystem } from '../../src/journal/file-system.js';
import { recover } from '../../src/journal/recovery.js';
import { listDataDirectory } from '../../src/journal/segment.js';
import { jsonPieces, readSnapshot, writeSnapshot } from '../../src/journal/snapshot.js';
import {
  depositCommand,
  recordingLogger,
  seededRandom,
  seedFromEnvironment,
  temporaryDirectory,
} from './helpers.js';
import { ToyEngine, toyEngines } from './toy-engine.js';

function randomValue(random: () => number, depth: number): unknown {
  const kind = Math.floor(random() * (depth > 3 ? 4 : 6));
  if (kind === 0) return Math.floor(random() * 1e9) - 5e8;
  if (kind === 1) return random() < 0.5 ? `s${Math.floor(random() * 100)}"\\\n원` : null;
  if (kind === 2) return random() < 0.5;
  if (kind === 3) return undefined;
  const length = depth < 2 && random() < 0.2 ? 200 + Math.floor(random() * 300) : Math.floor(random() * 6);
  if (kind === 4) return Array.from({ length }, () => randomValue(random, depth + 1));
  return Object.fromEntries(
    Array.from({ length }, (_, index) => [`k${index}`, randomValue(random, depth + 1)]),
  );
}

test('the piecewise JSON writer produces exactly JSON.stringify', () => {
  const seed = seedFromEnvironment();
  const random = seededRandom(seed);
  for (let round = 0; round < 60; round++) {
    const value = randomValue(random, 0) ?? null;
    assert.equal([...jsonPieces(value)].join(''), JSON.stringify(value), `seed ${seed} round ${round}`);
  }
});

test('a snapshot round trips and any flipped bit is caught by its checksum', async () => {
  const directory = temporaryDirectory('snapshot');
  const state = {
    orders: Array.from({ length: 500 }, (_, index) => [index, index % 7, 100 + index, 5, 3]),
    name: '호가',
  };
  const written = await writeSnapshot(
    directory.path,
    { lastSeq: 42, lastTs: 1_700_000_000_000, stateHash: 'abc', state },
    nodeFileSystem,
  );
  assert.deepEqual(
    listDataDirectory(directory.path).snapshots.map((file) => file.seq),
    [42],
  );
  const read = readSnapshot(written.path);
  assert.deepEqual(
    { ...read, bytes: 0 },
    { lastSeq: 42, lastTs: 1_700_000_000_000, stateHash: 'abc', state, bytes: 0 },
  );
  const pristine = readFileSync(written.path);
  const seed = seedFromEnvironment();
  const random = seededRandom(seed);
  for (let round = 0; round < 100; round++) {
    const damaged = Buffer.from(pristine);
    const offset = Math.floor(random() * damaged.length);
    damaged[offset] ^= 1 << Math.floor(random() * 8);
    writeFileSync(written.path, damaged);
    assert.throws(
      () => readSnapshot(written.path),
      (error: JournalError) => error.code === 'SNAPSHOT_CORRUPT',
      `seed ${seed} offset ${offset}`,
    );
  }
  writeFileSync(written.path, pristine.subarray(0, pristine.length - 1));
  assert.throws(
    () => readSnapshot(written.path),
    (error: JournalError) => error.code === 'SNAPSHOT_CORRUPT',
  );
  directory.remove();
});

async function runWithSnapshots(
  dataDir: string,
  commands: number,
): Promise<{ hash: string; pauseMsMax: number; taken: number }> {
  const { sequencer, snapshots } = await openSequencer({
    dataDir,
    engines: toyEngines,
    logger: recordingLogger().logger,
    segmentBytesMax: 1_024,
    snapshotEveryCommands: 30,
    snapshotEveryMs: 0,
  });
  for (let index = 0; index < commands; index += 3) {
    await Promise.all([0, 1, 2].map((offset) => sequencer.submit(depositCommand(index + offset))));
    await snapshots.idle();
  }
  const hash = sequencer.engine.stateHash();
  await sequencer.close();
  return { hash, pauseMsMax: snapshots.pauseMsMax, taken: snapshots.snapshotsTaken };
}

test('periodic snapshots keep the newest two and the segments back to the older one; recovery uses the newest', async () => {
  const directory = temporaryDirectory('periodic');
  const run = await runWithSnapshots(directory.path, 300);
  assert.ok(run.taken >= 5, `only ${run.taken} snapshots`);
  const listing = listDataDirectory(directory.path);
  assert.equal(listing.snapshots.length, 2);
  const [previous, newest] = listing.snapshots;
  assert.ok(listing.segments[0].seq > 1, 'old segments were not removed');
  assert.ok(
    listing.segments[0].seq <= previous.seq + 1,
    'a segment needed by the previous snapshot was removed',
  );
  const recovered = recover(directory.path, { engines: toyEngines, logger: recordingLogger().logger });
  assert.equal(recovered.snapshotSeq, newest.seq);
  assert.equal(recovered.lastSeq, 300);
  assert.equal(recovered.replayedCommands, 300 - newest.seq);
  assert.equal(recovered.engine.stateHash(), run.hash);
  directory.remove();
});

test('a corrupt newest snapshot falls back to the previous one and the older segments', async () => {
  const directory = temporaryDirectory('fallback');
  const run = await runWithSnapshots(directory.path, 210);
  const [previous, newest] = listDataDirectory(directory.path).snapshots;
  const bytes = readFileSync(newest.path);
  bytes[Math.floor(bytes.length / 2)] ^= 0x04;
  writeFileSync(newest.path, bytes);
  const { logger, lines } = recordingLogger();
  const recovered = recover(directory.path, { engines: toyEngines, logger });
  assert.equal(recovered.snapshotSeq, previous.seq);
  assert.equal(recovered.lastSeq, 210);
  assert.equal(recovered.engine.stateHash(), run.hash);
  assert.ok(lines.some((line) => line.level === 40 && /snapshot unusable/.test(line.msg)));
  directory.remove();
});

test('a crash during a snapshot leaves a temporary file that recovery ignores and removes', async () => {
  const directory = temporaryDirectory('snapshot-crash');
  const run = await runWithSnapshots(directory.path, 90);
  const newest = listDataDirectory(directory.path).snapshots.at(-1);
  assert.ok(newest);
  // A later snapshot cut off half way, as a kill during writeSnapshot leaves it.
  const half = readFileSync(newest.path).subarray(0, 40);
  const leftover = join(directory.path, 'snapshot-0000000000000089.snap.tmp');
  writeFileSync(leftover, half);
  const { logger, lines } = recordingLogger();
  const recovered = recover(directory.path, { engines: toyEngines, logger });
  assert.equal(recovered.snapshotSeq, newest.seq);
  assert.equal(recovered.lastSeq, 90);
  assert.equal(recovered.engine.stateHash(), run.hash);
  assert.deepEqual(listDataDirectory(directory.path).temporaries, []);
  assert.ok(lines.some((line) => /unfinished snapshot/.test(line.msg)));
  directory.remove();
});

test('an on-demand snapshot captures the state after every applied command, and reports its pause', async () => {
  const directory = temporaryDirectory('on-demand');
  const { sequencer } = await openSequencer({
    dataDir: directory.path,
    engines: toyEngines,
    logger: recordingLogger().logger,
    snapshotEveryMs: 0,
    snapshotStateHash: true,
  });
  const outcomes = await Promise.all(
    Array.from({ length: 10 }, (_, index) => sequencer.submit(depositCommand(index))),
  );
  const pending = sequencer.submit(depositCommand(10));
  const taken = await sequencer.snapshot();
  await pending;
  assert.equal(taken.lastSeq, 10);
  assert.ok(taken.pauseMs >= 0);
  const content = readSnapshot(taken.path);
  const expected = new ToyEngine();
  for (const outcome of outcomes) expected.apply(outcome.command);
  assert.equal(content.stateHash, expected.stateHash());
  await sequencer.close();
  const recovered = recover(directory.path, { engines: toyEngines, logger: recordingLogger().logger });
  assert.equal(recovered.snapshotSeq, 10);
  assert.equal(recovered.lastSeq, 11);
  directory.remove();
});

test('snapshots requested while one is being written capture a state that matches their sequence', async () => {
  const directory = temporaryDirectory('overlap');
  const { sequencer } = await openSequencer({
    dataDir: directory.path,
    engines: toyEngines,
    logger: recordingLogger().logger,
    snapshotEveryMs: 0,
    snapshotStateHash: true,
  });
  const submitted = Array.from({ length: 5 }, (_, index) => sequencer.submit(depositCommand(index)));
  await Promise.all(submitted);
  const first = sequencer.snapshot();
  const later = Array.from({ length: 7 }, (_, index) => sequencer.submit(depositCommand(index + 5)));
  const second = sequencer.snapshot();
  const outcomes = await Promise.all([...submitted, ...later]);
  const taken = await Promise.all([first, second]);
  await sequencer.close();
  assert.equal(taken[0].lastSeq, 5);
  for (const snapshot of taken) {
    const expected = new ToyEngine();
    for (const outcome of outcomes.slice(0, snapshot.lastSeq)) expected.apply(outcome.command);
    assert.equal(
      readSnapshot(snapshot.path).stateHash,
      expected.stateHash(),
      `snapshot at ${snapshot.lastSeq}`,
    );
  }
  directory.remove();
});
