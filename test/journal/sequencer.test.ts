import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Command } from '../../src/core/types.js';
import { openSequencer } from '../../src/journal/durable.js';
import type { JournalError } from '../../src/journal/errors.js';
import { type JournalFileSystem, nodeFileSystem } from '../../src/journal/file-system.js';
import { SyncPlacement } from '../../src/journal/journal-writer.js';
import { journalText, ocoStopIdOffset } from '../../src/journal/sequencer.js';
import type { CommandOutcome } from '../../src/ports.js';
import { countingFileSystem, depositCommand, recordingLogger, temporaryDirectory } from './helpers.js';
import { type ToyEngine, toyEngines } from './toy-engine.js';

const quietLogger = () => recordingLogger().logger;

test('stamps sequence and a never-decreasing timestamp, and gives a place without id its sequence', async () => {
  const directory = temporaryDirectory('stamp');
  let nowMs = 5_000;
  const { sequencer } = await openSequencer({
    dataDir: directory.path,
    engines: toyEngines,
    logger: quietLogger(),
    clock: () => nowMs,
    snapshotEveryMs: 0,
  });
  const first = await sequencer.submit(depositCommand(0));
  nowMs = 4_000; // the wall clock stepped back
  const place = await sequencer.submit({
    op: 'place',
    user: 1,
    symbol: 'X',
    side: 'buy',
    type: 'limit',
    qty: 1,
    price: 1,
  } as unknown as Command);
  const withId = await sequencer.submit({
    op: 'place',
    user: 1,
    id: 77,
    symbol: 'X',
    side: 'buy',
    type: 'limit',
    qty: 1,
    price: 1,
  });
  assert.deepEqual([first.seq, place.seq, withId.seq], [1, 2, 3]);
  assert.deepEqual([first.ts, place.ts, withId.ts], [5_000, 5_000, 5_000]);
  assert.equal(first.command.ts, 5_000);
  assert.equal((place.command as { id: number }).id, 2);
  assert.equal((withId.command as { id: number }).id, 77);
  assert.deepEqual((sequencer.engine as ToyEngine).placedOrderIds(), [2, 77]);
  assert.equal(sequencer.lastSeq, 3);
  await sequencer.close();
  directory.remove();
});

test('a full inbound queue rejects at once with QUEUE_FULL and the queued commands still complete', async () => {
  const directory = temporaryDirectory('queue');
  const { sequencer } = await openSequencer({
    dataDir: directory.path,
    engines: toyEngines,
    logger: quietLogger(),
    inboundQueueMax: 4,
  });
  const accepted = [0, 1, 2, 3].map((index) => sequencer.submit(depositCommand(index)));
  assert.equal(sequencer.queueDepth, 4);
  await assert.rejects(
    sequencer.submit(depositCommand(4)),
    (error: Error & { code?: string }) => error.code === 'QUEUE_FULL',
  );
  const outcomes = await Promise.all(accepted);
  assert.deepEqual(
    outcomes.map((outcome) => outcome.seq),
    [1, 2, 3, 4],
  );
  await sequencer.close();
  directory.remove();
});

test('nothing is acknowledged or published before the batch fdatasync completes', async () => {
  const directory = temporaryDirectory('durable-first');
  let releaseSync: () => void = () => undefined;
  let syncStarted: () => void = () => undefined;
  const started = new Promise<void>((resolve) => {
    syncStarted = resolve;
  });
  let gate = false;
  const gated: JournalFileSystem = {
    ...nodeFileSystem,
    // Only the pool path can be held open from here.
    datasyncInline: undefined,
    datasync: async (fd) => {
      if (gate) {
        syncStarted();
        await new Promise<void>((resolve) => {
          releaseSync = resolve;
        });
      }
      return nodeFileSystem.datasync(fd);
    },
  };
  const { sequencer } = await openSequencer({
    dataDir: directory.path,
    engines: toyEngines,
    logger: quietLogger(),
    fileSystem: gated,
  });
  const published: number[] = [];
  sequencer.onApplied((outcome) => published.push(outcome.seq));
  gate = true;
  let acknowledged = false;
  const submitted = sequencer.submit(depositCommand(1)).then((outcome) => {
    acknowledged = true;
    return outcome;
  });
  await started;
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(acknowledged, false);
  assert.deepEqual(published, []);
  assert.equal((sequencer.engine as ToyEngine).applied, 0, 'applied before durable');
  gate = false;
  releaseSync();
  const outcome = await submitted;
  assert.equal(outcome.seq, 1);
  assert.deepEqual(published, [1]);
  assert.deepEqual(outcome.events, [{ ev: 'deposited', user: 2, asset: 'BTC', amount: 2 }]);
  await sequencer.close();
  directory.remove();
});

test('group commit: concurrent submitters share fdatasyncs', async () => {
  const directory = temporaryDirectory('group');
  const fileSystem = countingFileSystem();
  const { sequencer, journal } = await openSequencer({
    dataDir: directory.path,
    engines: toyEngines,
    logger: quietLogger(),
    fileSystem,
  });
  const submitters = 50;
  const commandsEach = 40;
  const seen: number[] = [];
  sequencer.onApplied((outcome) => seen.push(outcome.seq));
  const syncsBefore = fileSystem.datasyncCalls;
  await Promise.all(
    Array.from({ length: submitters }, async (_, submitter) => {
      for (let index = 0; index < commandsEach; index++)
        await sequencer.submit(depositCommand(submitter * commandsEach + index));
    }),
  );
  const commands = submitters * commandsEach;
  const syncs = fileSystem.datasyncCalls - syncsBefore;
  assert.deepEqual(
    seen,
    Array.from({ length: commands }, (_, index) => index + 1),
  );
  assert.equal(syncs, sequencer.batchesWritten, 'one fdatasync per batch under the always policy');
  assert.equal(journal.datasyncCount, syncs);
  assert.ok(
    syncs <= commands / 10,
    `${syncs} fdatasyncs for ${commands} commands: group commit did not batch`,
  );
  await sequencer.close();
  directory.remove();
});

test('fdatasync runs inline while it is fast, and only on the libuv pool when told to', async () => {
  for (const [inlineSyncUsMax, expectInline] of [
    [60_000_000, true],
    [0, false],
  ] as const) {
    const directory = temporaryDirectory(`inline-${inlineSyncUsMax}`);
    const fileSystem = countingFileSystem();
    const { sequencer, journal } = await openSequencer({
      dataDir: directory.path,
      engines: toyEngines,
      logger: quietLogger(),
      fileSystem,
      inlineSyncUsMax,
    });
    for (let index = 0; index < 5; index++) await sequencer.submit(depositCommand(index));
    assert.equal(journal.datasyncCount, 5, 'one fdatasync per batch');
    assert.equal(journal.inlineDatasyncCount, expectInline ? 5 : 0);
    await sequencer.close();
    directory.remove();
  }
});

test('SyncPlacement: a slow inline fdatasync sends the next ones to the pool, then measures again', () => {
  const placement = new SyncPlacement(1_000, 3);
  assert.equal(placement.inline(), true);
  placement.observeInline(400);
  assert.equal(placement.inline(), true);
  placement.observeInline(25_000);
  assert.deepEqual(
    [placement.inline(), placement.inline(), placement.inline(), placement.inline()],
    [false, false, false, true],
  );
  placement.observeInline(900);
  assert.equal(placement.inline(), true);
  const never = new SyncPlacement(0, 3);
  assert.deepEqual([never.inline(), never.inline()], [false, false]);
});

test('a failed fdatasync stops the sequencer: no ack, no retry, fatal reported once', async () => {
  const directory = temporaryDirectory('fsync-fail');
  // Call 1 makes the new segment's header durable, call 2 is the first batch, call 3 fails.
  const fileSystem = countingFileSystem(3);
  const fatal: JournalError[] = [];
  const { logger, lines } = recordingLogger();
  const { sequencer } = await openSequencer({
    dataDir: directory.path,
    engines: toyEngines,
    logger,
    fileSystem,
    onFatal: (error) => fatal.push(error),
  });
  const published: CommandOutcome[] = [];
  sequencer.onApplied((outcome) => published.push(outcome));
  await sequencer.submit(depositCommand(0));
  const doomed = Array.from({ length: 10 }, (_, index) => sequencer.submit(depositCommand(index + 1)));
  const results = await Promise.allSettled(doomed);
  for (const result of results) {
    assert.equal(result.status, 'rejected');
    assert.equal((result.reason as JournalError).code, 'JOURNAL_FAILED');
  }
  await assert.rejects(
    sequencer.submit(depositCommand(99)),
    (error: JournalError) => error.code === 'JOURNAL_FAILED',
  );
  await sequencer.close();
  assert.equal(fileSystem.datasyncCalls, 3, 'the failed fdatasync was retried');
  assert.equal(fatal.length, 1);
  assert.equal(published.length, 1);
  assert.equal(sequencer.lastSeq, 1);
  assert.ok(lines.some((line) => line.level === 60 && /journal failed/.test(line.msg)));
  directory.remove();
});

test('batch policy: a failing background fdatasync is fatal too', async () => {
  const directory = temporaryDirectory('batch-fail');
  const fileSystem = countingFileSystem(2);
  let reportFatal: (error: JournalError) => void = () => undefined;
  const fatal = new Promise<JournalError>((resolve) => {
    reportFatal = resolve;
  });
  const { sequencer } = await openSequencer({
    dataDir: directory.path,
    engines: toyEngines,
    logger: quietLogger(),
    fileSystem,
    fsyncPolicy: 'batch',
    syncIntervalMs: 1,
    onFatal: reportFatal,
  });
  // Under the batch policy the ack may precede durability: this is the documented risk.
  const outcome = await sequencer.submit(depositCommand(0));
  assert.equal(outcome.seq, 1);
  assert.equal((await fatal).code, 'JOURNAL_FAILED');
  await assert.rejects(
    sequencer.submit(depositCommand(1)),
    (error: JournalError) => error.code === 'JOURNAL_FAILED',
  );
  assert.equal(fileSystem.datasyncCalls, 2);
  await sequencer.close();
  directory.remove();
});

test('a command that cannot be encoded is rejected alone', async () => {
  const directory = temporaryDirectory('unencodable');
  const { sequencer } = await openSequencer({
    dataDir: directory.path,
    engines: toyEngines,
    logger: quietLogger(),
  });
  const bad = sequencer.submit({ op: 'deposit', user: 1, asset: 'BTC', amount: 10n } as unknown as Command);
  const good = sequencer.submit(depositCommand(3));
  await assert.rejects(bad, (error: JournalError) => error.code === 'COMMAND_UNENCODABLE');
  assert.equal((await good).seq, 1);
  await sequencer.close();
  directory.remove();
});

test('restart replays to listeners with replaying = true, then continues the sequence', async () => {
  const directory = temporaryDirectory('restart');
  const first = await openSequencer({ dataDir: directory.path, engines: toyEngines, logger: quietLogger() });
  await Promise.all(Array.from({ length: 25 }, (_, index) => first.sequencer.submit(depositCommand(index))));
  const hashBefore = first.sequencer.engine.stateHash();
  await first.sequencer.close();
  const replayed: Array<[number, boolean]> = [];
  const second = await openSequencer({
    dataDir: directory.path,
    engines: toyEngines,
    logger: quietLogger(),
    listeners: [(outcome, replaying) => replayed.push([outcome.seq, replaying])],
  });
  assert.equal(second.recovered.lastSeq, 25);
  assert.equal(second.sequencer.engine.stateHash(), hashBefore);
  const next = await second.sequencer.submit(depositCommand(25));
  assert.equal(next.seq, 26);
  assert.deepEqual(replayed, [
    ...Array.from({ length: 25 }, (_, index): [number, boolean] => [index + 1, true]),
    [26, false],
  ]);
  await second.sequencer.close();
  directory.remove();
});

test('journal text adds ts, and the sequence as id to a place without one, whatever the input looks like', () => {
  const parse = (command: unknown) =>
    JSON.parse(journalText(command as Command, 9, 1234) as string) as Record<string, unknown>;
  assert.deepEqual(parse({ op: 'deposit', user: 1, asset: 'A', amount: 5 }), {
    op: 'deposit',
    user: 1,
    asset: 'A',
    amount: 5,
    ts: 1234,
  });
  assert.deepEqual(parse({ op: 'place', user: 1 }), { op: 'place', user: 1, id: 9, ts: 1234 });
  assert.deepEqual(parse({ op: 'place', user: 1, id: null }), { op: 'place', user: 1, id: 9, ts: 1234 });
  assert.deepEqual(parse({ op: 'place', user: 1, id: 4 }), { op: 'place', user: 1, id: 4, ts: 1234 });
  assert.deepEqual(parse({ op: 'cancel', ts: 1, id: null }), { op: 'cancel', ts: 1234, id: null });
  assert.deepEqual(parse({}), { ts: 1234 });
  assert.deepEqual(parse({ op: 'place', price: undefined }), { op: 'place', id: 9, ts: 1234 });
  for (const bad of [null, 'deposit', [1, 2], 7n, { amount: 1n }])
    assert.equal(journalText(bad as unknown as Command, 1, 1), undefined);
});

test('journal text gives an oco without ids the sequence for leg A and the sequence plus 2^52 for leg B', () => {
  const parse = (command: unknown) =>
    JSON.parse(journalText(command as Command, 9, 1234) as string) as Record<string, unknown>;
  const legB = 9 + 2 ** 52;
  assert.equal(ocoStopIdOffset, 2 ** 52);
  assert.deepEqual(parse({ op: 'oco', user: 1 }), { op: 'oco', user: 1, id: 9, stopId: legB, ts: 1234 });
  assert.deepEqual(parse({ op: 'oco', user: 1, id: undefined, stopId: undefined }), {
    op: 'oco',
    user: 1,
    id: 9,
    stopId: legB,
    ts: 1234,
  });
  assert.deepEqual(parse({ op: 'oco', user: 1, id: 3, stopId: 4 }), {
    op: 'oco',
    user: 1,
    id: 3,
    stopId: 4,
    ts: 1234,
  });
});

test('close drains queued commands, syncs, and refuses later submits', async () => {
  const directory = temporaryDirectory('close');
  for (const fsyncPolicy of ['none', 'batch', 'always'] as const) {
    const dataDir = `${directory.path}/${fsyncPolicy}`;
    const fileSystem = countingFileSystem();
    const { sequencer } = await openSequencer({
      dataDir,
      engines: toyEngines,
      logger: quietLogger(),
      fileSystem,
      fsyncPolicy,
      segmentBytesMax: 512,
    });
    const pending = Array.from({ length: 40 }, (_, index) => sequencer.submit(depositCommand(index)));
    const closed = sequencer.close();
    await assert.rejects(
      sequencer.submit(depositCommand(99)),
      (error: JournalError) => error.code === 'SEQUENCER_CLOSED',
    );
    const outcomes = await Promise.all(pending);
    await closed;
    assert.equal(outcomes.at(-1)?.seq, 40, fsyncPolicy);
    // Every segment roll and the close synced, whatever the policy.
    assert.ok(fileSystem.datasyncCalls >= 2, `${fsyncPolicy}: ${fileSystem.datasyncCalls} fdatasyncs`);
    const reopened = await openSequencer({ dataDir, engines: toyEngines, logger: quietLogger() });
    assert.equal(reopened.recovered.lastSeq, 40, fsyncPolicy);
    assert.equal(reopened.recovered.truncatedBytes, 0);
    await reopened.sequencer.close();
  }
  directory.remove();
});

test('batch policy syncs in the background within its interval; none leaves it to the OS', async () => {
  const directory = temporaryDirectory('policies');
  const batchFileSystem = countingFileSystem();
  const batch = await openSequencer({
    dataDir: `${directory.path}/batch`,
    engines: toyEngines,
    logger: quietLogger(),
    fileSystem: batchFileSystem,
    fsyncPolicy: 'batch',
    syncIntervalMs: 5,
  });
  const afterOpen = batchFileSystem.datasyncCalls;
  await batch.sequencer.submit(depositCommand(0));
  const deadline = Date.now() + 5_000;
  while (batchFileSystem.datasyncCalls === afterOpen && Date.now() < deadline)
    await new Promise((resolve) => setTimeout(resolve, 5));
  assert.equal(batchFileSystem.datasyncCalls, afterOpen + 1, 'no background fdatasync within the deadline');
  await batch.sequencer.close();

  const noneFileSystem = countingFileSystem();
  const none = await openSequencer({
    dataDir: `${directory.path}/none`,
    engines: toyEngines,
    logger: quietLogger(),
    fileSystem: noneFileSystem,
    fsyncPolicy: 'none',
  });
  const noneAfterOpen = noneFileSystem.datasyncCalls;
  await Promise.all(Array.from({ length: 50 }, (_, index) => none.sequencer.submit(depositCommand(index))));
  assert.equal(noneFileSystem.datasyncCalls, noneAfterOpen);
  await none.sequencer.close();
  assert.equal(noneFileSystem.datasyncCalls, noneAfterOpen + 1, 'a clean close syncs');
  directory.remove();
});

test('the engine applies the journaled text, so values JSON cannot carry behave live as on replay', async () => {
  const directory = temporaryDirectory('json-values');
  const { sequencer } = await openSequencer({
    dataDir: directory.path,
    engines: toyEngines,
    logger: quietLogger(),
  });
  const outcome = await sequencer.submit({
    op: 'deposit',
    user: 1,
    asset: 'BTC',
    amount: Number.NaN,
    note: undefined,
  } as unknown as Command);
  assert.deepEqual(outcome.command, { op: 'deposit', user: 1, asset: 'BTC', amount: null, ts: outcome.ts });
  await sequencer.close();
  directory.remove();
});
