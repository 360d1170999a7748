import assert from 'node:assert/strict';
import { readdirSync, readFileSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { after, before, test } from 'node:test';
import { openSequencer } from '../../src/journal/durable.js';
import type { JournalError } from '../../src/journal/errors.js';
import { nodeFileSystem } from '../../src/journal/file-system.js';
import { recover } from '../../src/journal/recovery.js';
import { writeSnapshot } from '../../src/journal/snapshot.js';
import { buildFixture, copyOf, type JournalFixture, lastWriteFirstRecord } from './fixture.js';
import { depositCommand, recordingLogger, seededRandom, seedFromEnvironment } from './helpers.js';
import { ToyEngine, toyEngines } from './toy-engine.js';

let fixture: JournalFixture;

before(async () => {
  // Mixed JSON and compact records: framing, CRC and torn-tail rules do not depend on the payload.
  fixture = await buildFixture(120, 2_048, 'compact');
  assert.ok(fixture.segments.length >= 3, 'the fixture should span several segments');
  const compactRecords = fixture.segments.reduce((sum, segment) => {
    const bytes = readFileSync(segment.path);
    return sum + segment.recordStarts.filter((start) => bytes[start + 16] !== 0x7b).length;
  }, 0);
  assert.equal(compactRecords, 60, 'every place should be written compactly');
});

after(() => fixture.remove());

function recordsBefore(segmentIndex: number): number {
  return fixture.segments
    .slice(0, segmentIndex)
    .reduce((sum, segment) => sum + segment.recordStarts.length, 0);
}

test('a torn tail cut at every byte offset of the last records is truncated to the last whole record', async () => {
  const lastIndex = fixture.segments.length - 1;
  const last = fixture.segments[lastIndex];
  const cutFrom = last.recordStarts[Math.max(0, last.recordStarts.length - 3)];
  for (let cut = cutFrom; cut < last.bytes; cut++) {
    const copy = copyOf(fixture, 'torn');
    const segmentPath = join(copy.path, basename(last.path));
    truncateSync(segmentPath, cut);
    const { logger, lines } = recordingLogger();
    const recovered = recover(copy.path, { engines: toyEngines, logger });
    const whole = last.recordStarts.filter(
      (start, index) => (last.recordStarts[index + 1] ?? last.bytes) <= cut && start < cut,
    ).length;
    const expectedSeq = recordsBefore(lastIndex) + whole;
    assert.equal(recovered.lastSeq, expectedSeq, `cut at ${cut}`);
    assert.equal(recovered.engine.stateHash(), fixture.prefixHashes[expectedSeq], `cut at ${cut}`);
    const boundary = last.recordStarts[whole] ?? last.bytes;
    assert.equal(recovered.truncatedBytes, cut - Math.min(boundary, cut), `cut at ${cut}`);
    assert.equal(
      lines.some((line) => line.msg === 'torn journal tail truncated'),
      recovered.truncatedBytes > 0,
    );
    assert.equal(readFileSync(segmentPath).length, cut - recovered.truncatedBytes);
    if (cut % 16 === 0) {
      // Appending resumes right after the cut and the next recovery is clean.
      const reopened = await openSequencer({ dataDir: copy.path, engines: toyEngines, logger });
      assert.equal((await reopened.sequencer.submit(depositCommand(999))).seq, expectedSeq + 1);
      await reopened.sequencer.close();
      const again = recover(copy.path, { engines: toyEngines, logger });
      assert.equal(again.lastSeq, expectedSeq + 1);
      assert.equal(again.truncatedBytes, 0);
    }
    copy.remove();
  }
});

test('a last segment whose header never became durable is removed; records after a damaged header are corruption', () => {
  const lastIndex = fixture.segments.length - 1;
  const last = fixture.segments[lastIndex];
  for (const cut of [0, 10, 31, 32]) {
    // A crash while the segment was created: nothing in it was acknowledged.
    const copy = copyOf(fixture, 'torn-header', recordsBefore(lastIndex));
    const segmentPath = join(copy.path, basename(last.path));
    truncateSync(segmentPath, cut);
    if (cut < 32) writeFileSync(segmentPath, Buffer.alloc(cut, 0xaa));
    const recovered = recover(copy.path, { engines: toyEngines, logger: recordingLogger().logger });
    assert.equal(recovered.lastSeq, recordsBefore(lastIndex), `cut at ${cut}`);
    copy.remove();
  }
  const copy = copyOf(fixture, 'bad-header');
  const segmentPath = join(copy.path, basename(last.path));
  const bytes = readFileSync(segmentPath);
  bytes[3] ^= 0x10;
  writeFileSync(segmentPath, bytes);
  assert.throws(
    () => recover(copy.path, { engines: toyEngines, logger: recordingLogger().logger }),
    (error: JournalError) => error.code === 'JOURNAL_CORRUPT',
  );
  copy.remove();
});

test('random bit flips are always detected: refused in the middle, cut only in the last write', () => {
  const seed = seedFromEnvironment();
  const random = seededRandom(seed);
  const total = fixture.commands.length;
  const lastIndex = fixture.segments.length - 1;
  const last = fixture.segments[lastIndex];
  const lastWriteStart = last.recordStarts[lastWriteFirstRecord(last)];
  let refused = 0;
  for (let round = 0; round < 250; round++) {
    const segmentIndex = Math.floor(random() * fixture.segments.length);
    const segment = fixture.segments[segmentIndex];
    const offset = Math.floor(random() * segment.bytes);
    const bit = Math.floor(random() * 8);
    const context = `seed ${seed} round ${round}: segment ${segmentIndex} offset ${offset} bit ${bit}`;
    const copy = copyOf(fixture, 'flip');
    const segmentPath = join(copy.path, basename(segment.path));
    const bytes = readFileSync(segmentPath);
    bytes[offset] ^= 1 << bit;
    writeFileSync(segmentPath, bytes);
    const inLastWrite = segmentIndex === lastIndex && offset >= lastWriteStart;
    try {
      const recovered = recover(copy.path, { engines: toyEngines, logger: recordingLogger().logger });
      assert.ok(inLastWrite, `${context}: accepted a damaged journal`);
      const damagedRecord = last.recordStarts.filter((start) => start <= offset).length - 1;
      const expectedSeq = recordsBefore(lastIndex) + damagedRecord;
      assert.equal(recovered.lastSeq, expectedSeq, context);
      assert.equal(recovered.engine.stateHash(), fixture.prefixHashes[expectedSeq], context);
      assert.ok(recovered.lastSeq < total, context);
    } catch (error) {
      if (error instanceof assert.AssertionError) throw error;
      const code = (error as JournalError).code;
      assert.ok(code === 'JOURNAL_CORRUPT' || code === 'JOURNAL_GAP', `${context}: ${String(error)}`);
      assert.ok(!inLastWrite, `${context}: a flip in the last write should be treated as a torn tail`);
      assert.match((error as Error).message, new RegExp(basename(segment.path)), context);
      refused++;
    }
    copy.remove();
  }
  assert.ok(refused > 0);
});

test('a corrupt record in the middle names the file, offset and sequence', () => {
  const copy = copyOf(fixture, 'middle');
  const segment = fixture.segments[1];
  const segmentPath = join(copy.path, basename(segment.path));
  const bytes = readFileSync(segmentPath);
  const offset = segment.recordStarts[2];
  bytes[offset + 20] ^= 0xff;
  writeFileSync(segmentPath, bytes);
  const expectedSeq = recordsBefore(1) + 3;
  assert.throws(
    () => recover(copy.path, { engines: toyEngines, logger: recordingLogger().logger }),
    (error: JournalError) =>
      error.code === 'JOURNAL_CORRUPT' &&
      error.message.includes(`${basename(segment.path)} offset ${offset} sequence ${expectedSeq}`),
  );
  copy.remove();
});

test('a hole inside the last write (pages persisted out of order) is a torn tail; in an earlier write it is corruption', async () => {
  const single = await buildFixture(20, 1 << 20);
  const segment = single.segments[0];
  const firstOfLast = lastWriteFirstRecord(segment);
  assert.ok(segment.recordStarts.length - firstOfLast >= 3, 'the last write should hold several records');
  assert.ok(firstOfLast >= 3, 'there should be earlier writes');
  const punch = (recordIndex: number): { path: string; remove: () => void } => {
    const copy = copyOf(single, 'hole');
    const path = join(copy.path, basename(segment.path));
    const bytes = readFileSync(path);
    bytes.fill(0, segment.recordStarts[recordIndex] + 4, segment.recordStarts[recordIndex] + 24);
    writeFileSync(path, bytes);
    return copy;
  };
  const inLast = punch(firstOfLast + 1);
  const { logger, lines } = recordingLogger();
  const recovered = recover(inLast.path, { engines: toyEngines, logger });
  assert.equal(recovered.lastSeq, firstOfLast + 1);
  assert.equal(recovered.engine.stateHash(), single.prefixHashes[firstOfLast + 1]);
  assert.ok(lines.some((line) => line.msg === 'torn journal tail truncated'));
  inLast.remove();
  const inEarlier = punch(firstOfLast - 2);
  assert.throws(
    () => recover(inEarlier.path, { engines: toyEngines, logger: recordingLogger().logger }),
    (error: JournalError) => error.code === 'JOURNAL_CORRUPT',
  );
  inEarlier.remove();
  single.remove();
});

test('segments wholly covered by the snapshot are not read: damage there does not stop a start from it', async () => {
  const covered = recordsBefore(2);
  const engine = new ToyEngine();
  for (const command of fixture.commands.slice(0, covered)) engine.apply(command);
  const copy = copyOf(fixture, 'covered');
  await writeSnapshot(
    copy.path,
    {
      lastSeq: covered,
      lastTs: fixture.commands[covered - 1].ts ?? 0,
      stateHash: engine.stateHash(),
      state: engine.exportState(),
    },
    nodeFileSystem,
  );
  const firstPath = join(copy.path, basename(fixture.segments[0].path));
  const bytes = readFileSync(firstPath);
  bytes[fixture.segments[0].recordStarts[1] + 20] ^= 0xff;
  writeFileSync(firstPath, bytes);
  const recovered = recover(copy.path, { engines: toyEngines, logger: recordingLogger().logger });
  assert.equal(recovered.snapshotSeq, covered);
  assert.equal(recovered.lastSeq, fixture.commands.length);
  assert.equal(recovered.replayedCommands, fixture.commands.length - covered);
  assert.equal(recovered.engine.stateHash(), fixture.prefixHashes[fixture.commands.length]);
  assert.deepEqual(
    recovered.tail.segmentFirstSeqs,
    fixture.segments.map((segment) => recordsBefore(fixture.segments.indexOf(segment)) + 1),
  );
  // The same damage without the snapshot is refused: the whole journal is read then.
  for (const file of readdirSync(copy.path)) if (file.endsWith('.snap')) unlinkSync(join(copy.path, file));
  assert.throws(
    () => recover(copy.path, { engines: toyEngines, logger: recordingLogger().logger }),
    (error: JournalError) => error.code === 'JOURNAL_CORRUPT',
  );
  copy.remove();
});
