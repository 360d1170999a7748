// The acknowledgement witness: damage that reaches acknowledged commands stops the start and fails
// `journal verify`; --accept-data-loss starts anyway and never reuses a sequence or an order id;
// a torn tail that was never acknowledged is still cut quietly.
import assert from 'node:assert/strict';
import { readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';
import { verifyDataDirectory } from '../../src/cli/journal.js';
import type { Command } from '../../src/core/types.js';
import { openSequencer } from '../../src/journal/durable.js';
import type { JournalError } from '../../src/journal/errors.js';
import { recover } from '../../src/journal/recovery.js';
import { listDataDirectory } from '../../src/journal/segment.js';
import { readWitness, writeWitnessFile } from '../../src/journal/witness.js';
import { journalOutcomes } from '../../src/store/journal-source.js';
import { depositCommand, recordingLogger, temporaryDirectory } from './helpers.js';
import { toyEngines } from './toy-engine.js';

const commandsPerBatch = 5;

function placeWithoutId(index: number): Command {
  return {
    op: 'place',
    user: 1,
    symbol: 'BTC-KRW',
    side: 'buy',
    type: 'limit',
    qty: 1,
    price: 100 + index,
  } as Command;
}

/** A data directory holding `batches` acknowledged batches of places; returns their order ids. */
async function acknowledgedJournal(dataDir: string, batches: number): Promise<number[]> {
  const { sequencer } = await openSequencer({
    dataDir,
    engines: toyEngines,
    logger: recordingLogger().logger,
  });
  const ids: number[] = [];
  for (let batch = 0; batch < batches; batch++) {
    const outcomes = await Promise.all(
      Array.from({ length: commandsPerBatch }, (_, index) =>
        sequencer.submit(placeWithoutId(batch * commandsPerBatch + index)),
      ),
    );
    for (const outcome of outcomes) ids.push((outcome.command as { id: number }).id);
  }
  await sequencer.close();
  return ids;
}

function lastSegmentPath(dataDir: string): string {
  const segments = listDataDirectory(dataDir).segments;
  return segments[segments.length - 1].path;
}

function refusesAcknowledgedLoss(dataDir: string): void {
  assert.throws(
    () => recover(dataDir, { engines: toyEngines, logger: recordingLogger().logger }),
    (error: JournalError) =>
      error.code === 'ACKNOWLEDGED_DATA_LOST' && /--accept-data-loss/.test(error.message),
  );
  const verified = verifyDataDirectory(dataDir);
  assert.equal(verified.ok, false, 'journal verify must fail');
  assert.ok(verified.walk.problems.some((problem) => problem.kind === 'acknowledgedLost'));
}

test('every acknowledged sequence is in the witness before its acknowledgement', async () => {
  const directory = temporaryDirectory('witness-live');
  const { sequencer } = await openSequencer({
    dataDir: directory.path,
    engines: toyEngines,
    logger: recordingLogger().logger,
  });
  for (let index = 0; index < 20; index++) {
    const outcome = await sequencer.submit(depositCommand(index));
    assert.ok(readWitness(directory.path) >= outcome.seq);
  }
  await sequencer.close();
  assert.equal(readWitness(directory.path), 20);
  directory.remove();
});

test('truncating the tail into acknowledged commands stops the start and fails verify, leaving the files alone', async () => {
  const directory = temporaryDirectory('witness-truncate');
  await acknowledgedJournal(directory.path, 8);
  const segment = lastSegmentPath(directory.path);
  const size = statSync(segment).size;
  truncateSync(segment, size - 200);
  refusesAcknowledgedLoss(directory.path);
  assert.equal(statSync(segment).size, size - 200, 'a refused start must not cut anything');
  directory.remove();
});

test('one flipped byte in the last acknowledged record stops the start and fails verify', async () => {
  const directory = temporaryDirectory('witness-flip');
  await acknowledgedJournal(directory.path, 4);
  const segment = lastSegmentPath(directory.path);
  const bytes = readFileSync(segment);
  bytes[bytes.length - 3] ^= 0x01;
  writeFileSync(segment, bytes);
  refusesAcknowledgedLoss(directory.path);
  directory.remove();
});

test('a journal whose last segment was removed is refused too', async () => {
  const directory = temporaryDirectory('witness-removed');
  const { sequencer } = await openSequencer({
    dataDir: directory.path,
    engines: toyEngines,
    logger: recordingLogger().logger,
    segmentBytesMax: 512,
  });
  for (let index = 0; index < 40; index++) await sequencer.submit(depositCommand(index));
  await sequencer.close();
  const segments = listDataDirectory(directory.path).segments;
  assert.ok(segments.length >= 2);
  truncateSync(segments[segments.length - 1].path, 0);
  refusesAcknowledgedLoss(directory.path);
  directory.remove();
});

test('with --accept-data-loss the start continues above every acknowledged sequence, and order ids are never reused', async () => {
  const directory = temporaryDirectory('witness-accept');
  const ids = await acknowledgedJournal(directory.path, 8);
  const highestId = Math.max(...ids);
  const segment = lastSegmentPath(directory.path);
  truncateSync(segment, statSync(segment).size - 200);
  const { logger, lines } = recordingLogger();
  const opened = await openSequencer({
    dataDir: directory.path,
    engines: toyEngines,
    logger,
    acceptDataLoss: true,
  });
  assert.ok(opened.recovered.acceptedLoss !== undefined);
  assert.equal(opened.recovered.acceptedLoss.toSeq, highestId);
  assert.ok(lines.some((line) => line.level === 50 && /--accept-data-loss/.test(line.msg)));
  const next = await opened.sequencer.submit(placeWithoutId(999));
  assert.equal(next.seq, highestId + 1);
  assert.equal((next.command as { id: number }).id, highestId + 1);
  await opened.sequencer.close();
  // The accepted jump is recorded in the journal: later starts and verify accept it without the flag.
  const again = recover(directory.path, { engines: toyEngines, logger: recordingLogger().logger });
  assert.equal(again.lastSeq, highestId + 1);
  assert.equal(again.acceptedLoss, undefined);
  const verified = verifyDataDirectory(directory.path);
  assert.equal(verified.ok, true, JSON.stringify(verified.walk.problems));
  assert.equal(verified.walk.acceptedLosses.length, 1);
  assert.equal(verified.walk.acceptedLosses[0].toSeq, highestId);
  directory.remove();
});

test('the journal source of the read model reads across an accepted loss: every sequence once, none reused', async () => {
  const directory = temporaryDirectory('witness-source');
  const ids = await acknowledgedJournal(directory.path, 4);
  const segment = lastSegmentPath(directory.path);
  truncateSync(segment, statSync(segment).size - 100);
  const logger = recordingLogger().logger;
  const opened = await openSequencer({
    dataDir: directory.path,
    engines: toyEngines,
    logger,
    acceptDataLoss: true,
  });
  const lost = opened.recovered.acceptedLoss;
  assert.ok(lost !== undefined);
  for (let index = 0; index < 3; index++) await opened.sequencer.submit(depositCommand(index));
  await opened.sequencer.close();
  const seqs: number[] = [];
  for await (const outcome of journalOutcomes(directory.path, toyEngines.create())) seqs.push(outcome.seq);
  const highest = Math.max(...ids);
  const expected = [
    ...Array.from({ length: lost.fromSeq - 1 }, (_, index) => index + 1),
    highest + 1,
    highest + 2,
    highest + 3,
  ];
  assert.deepEqual(seqs, expected);
  directory.remove();
});

test('a start under --accept-data-loss that writes nothing still never reuses a sequence', async () => {
  const directory = temporaryDirectory('witness-accept-idle');
  const ids = await acknowledgedJournal(directory.path, 3);
  const segment = lastSegmentPath(directory.path);
  truncateSync(segment, statSync(segment).size - 100);
  const logger = recordingLogger().logger;
  const opened = await openSequencer({
    dataDir: directory.path,
    engines: toyEngines,
    logger,
    acceptDataLoss: true,
  });
  await opened.sequencer.close();
  const reopened = await openSequencer({ dataDir: directory.path, engines: toyEngines, logger });
  assert.equal((await reopened.sequencer.submit(depositCommand(1))).seq, Math.max(...ids) + 1);
  await reopened.sequencer.close();
  directory.remove();
});

test('a torn tail that was never acknowledged is still cut quietly', async () => {
  const directory = temporaryDirectory('witness-torn');
  await acknowledgedJournal(directory.path, 4);
  // What a crash during the last write leaves: that write was never acknowledged.
  writeWitnessFile(directory.path, 3 * commandsPerBatch);
  const segment = lastSegmentPath(directory.path);
  truncateSync(segment, statSync(segment).size - 10);
  const { logger, lines } = recordingLogger();
  const recovered = recover(directory.path, { engines: toyEngines, logger });
  assert.equal(recovered.lastSeq, 4 * commandsPerBatch - 1);
  assert.ok(lines.some((line) => line.msg === 'torn journal tail truncated'));
  assert.equal(verifyDataDirectory(directory.path).ok, true);
  directory.remove();
});
