// Live outcomes and replayed outcomes must be byte for byte the same: the sequencer journals each
// command with its ts (and assigned id) and applies exactly the journaled text, so a recovery
// produces the same events in the same order, including for malformed commands the engine rejects.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Command } from '../../src/core/types.js';
import { defaultEngineLimits } from '../../src/core/types.js';
import { openSequencer } from '../../src/journal/durable.js';
import { coreEngineFactory } from '../../src/journal/engine-factory.js';
import { walkJournal } from '../../src/journal/inspect.js';
import type { PayloadFormat } from '../../src/journal/payload.js';
import type { CommandOutcome } from '../../src/ports.js';
import { generateCommands } from '../model/generator.js';
import { recordingLogger, seedFromEnvironment, temporaryDirectory } from './helpers.js';

const commandCount = 4_000;

function line(outcome: CommandOutcome): string {
  return JSON.stringify({
    seq: outcome.seq,
    ts: outcome.ts,
    command: outcome.command,
    events: outcome.events,
  });
}

for (const payloadFormat of ['json', 'compact'] as const) {
  test(`replay after a restart reproduces every live outcome byte for byte (real engine, ${payloadFormat} payloads)`, async () => {
    await replayEqualsLive(payloadFormat);
  });
}

async function replayEqualsLive(payloadFormat: PayloadFormat): Promise<void> {
  const seed = seedFromEnvironment();
  const directory = temporaryDirectory('replay-equality');
  let nowMs = 1_790_000_000_000;
  const live: string[] = [];
  const first = await openSequencer({
    dataDir: directory.path,
    engines: coreEngineFactory(),
    logger: recordingLogger().logger,
    clock: () => nowMs++,
    snapshotEveryCommands: 1_500,
    snapshotEveryMs: 0,
    retainSegments: true,
    segmentBytesMax: 64 * 1024,
    listeners: [(outcome) => live.push(line(outcome))],
    payloadFormat,
  });
  const commands = generateCommands(seed, commandCount, defaultEngineLimits);
  const submitted = commands.map((command) =>
    first.sequencer.submit(command as Command).catch((error: Error) => error),
  );
  await Promise.all(submitted);
  const liveHash = first.sequencer.engine.stateHash();
  await first.sequencer.close();
  assert.ok(live.length > commandCount / 2, `seed ${seed}: only ${live.length} commands were sequenced`);
  const compactRecords = countCompactRecords(directory.path);
  if (payloadFormat === 'json') assert.equal(compactRecords, 0);
  else assert.ok(compactRecords > live.length / 4, `seed ${seed}: ${compactRecords} compact records`);

  const replayed: string[] = [];
  const second = await openSequencer({
    dataDir: directory.path,
    engines: {
      create: coreEngineFactory().create,
      // Replay everything from sequence 1, not from the snapshot, to compare every outcome.
      restore: () => {
        throw new Error('snapshots skipped in this test');
      },
    },
    logger: recordingLogger().logger,
    listeners: [(outcome, replaying) => (replaying ? replayed.push(line(outcome)) : undefined)],
  });
  assert.equal(second.recovered.snapshotSeq, 0);
  assert.equal(replayed.length, live.length, `seed ${seed}`);
  for (let index = 0; index < live.length; index++)
    assert.equal(replayed[index], live[index], `seed ${seed}: outcome ${index + 1} differs`);
  assert.equal(second.sequencer.engine.stateHash(), liveHash, `seed ${seed}`);
  await second.sequencer.close();

  const fromSnapshot = await openSequencer({
    dataDir: directory.path,
    engines: coreEngineFactory(),
    logger: recordingLogger().logger,
  });
  assert.ok(fromSnapshot.recovered.snapshotSeq > 0, `seed ${seed}: no snapshot was taken`);
  assert.equal(fromSnapshot.sequencer.engine.stateHash(), liveHash, `seed ${seed}: snapshot + tail differs`);
  await fromSnapshot.sequencer.close();
  directory.remove();
}

/** Records whose payload is not JSON (JSON payloads always start with `{`). */
function countCompactRecords(dataDir: string): number {
  let compact = 0;
  walkJournal(dataDir, (_seq, bytes, start) => {
    if (bytes[start] !== 0x7b) compact++;
  });
  return compact;
}
