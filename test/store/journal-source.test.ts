// The journal as outcomes for the read model: a projector's catch-up starts at the newest snapshot
// at or before its checkpoint, so it neither replays all history nor needs segments a snapshot
// made unnecessary; `hoga db rebuild` still needs every segment from sequence 1.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { pino } from 'pino';
import { Engine } from '../../src/core/engine.js';
import type { Command } from '../../src/core/types.js';
import { openSequencer } from '../../src/journal/durable.js';
import { coreEngineFactory } from '../../src/journal/engine-factory.js';
import { listDataDirectory } from '../../src/journal/segment.js';
import type { CommandOutcome } from '../../src/ports.js';
import { engineAtOrBefore, journalCatchUp, journalOutcomes } from '../../src/store/journal-source.js';
import { OutcomeStream } from './outcomes.js';

const logger = pino({ level: 'silent' });
const commandsTotal = 3_000;

let dataDir: string;
/** What the sequencer's listener saw live, by sequence: what every catch-up must hand over. */
const live = new Map<number, CommandOutcome>();
let snapshotSeqs: number[] = [];

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'hoga-journal-source-'));
  const stream = new OutcomeStream({ seed: 31, usersCount: 6, stepMs: 1, startTsMs: Date.UTC(2026, 10, 24) });
  const opened = await openSequencer({
    dataDir,
    engines: coreEngineFactory(),
    logger,
    fsyncPolicy: 'none',
    payloadFormat: 'compact',
    // Small segments and frequent snapshots, with pruning: the oldest history is gone.
    segmentBytesMax: 16 << 10,
    snapshotEveryCommands: 700,
    snapshotEveryMs: 0,
    retainSegments: false,
    listeners: [(outcome) => live.set(outcome.seq, structuredClone(outcome))],
  });
  for (let index = 0; index < commandsTotal; index++) {
    const { ts: _ts, ...command } = stream.next().command;
    await opened.sequencer.submit(command as Command);
  }
  await opened.sequencer.close();
  const listing = listDataDirectory(dataDir);
  snapshotSeqs = listing.snapshots.map((snapshot) => snapshot.seq);
  assert.ok(listing.segments[0].seq > 1, 'pruning removed the oldest segments');
  assert.equal(snapshotSeqs.length, 2, 'the newest two snapshots are kept');
});

after(() => rmSync(dataDir, { recursive: true, force: true }));

async function collect(source: AsyncIterable<CommandOutcome>): Promise<CommandOutcome[]> {
  const outcomes: CommandOutcome[] = [];
  for await (const outcome of source) outcomes.push(outcome);
  return outcomes;
}

it('picks the newest snapshot at or before the checkpoint, else a fresh engine', () => {
  const [older, newer] = snapshotSeqs;
  assert.equal(engineAtOrBefore(dataDir, newer + 5, coreEngineFactory()).engineSeq, newer);
  assert.equal(engineAtOrBefore(dataDir, newer, coreEngineFactory()).engineSeq, newer);
  assert.equal(engineAtOrBefore(dataDir, newer - 1, coreEngineFactory()).engineSeq, older);
  assert.equal(engineAtOrBefore(dataDir, older - 1, coreEngineFactory()).engineSeq, 0);
});

it('a catch-up from any checkpoint the kept journal covers hands over exactly the live outcomes after it', async () => {
  const [older, newer] = snapshotSeqs;
  const catchUp = journalCatchUp(dataDir, coreEngineFactory());
  for (const checkpoint of [
    older,
    older + 1,
    newer - 1,
    newer,
    newer + 123,
    commandsTotal - 1,
    commandsTotal,
  ]) {
    const outcomes = await collect(catchUp(checkpoint));
    assert.equal(outcomes.length, commandsTotal - checkpoint, `checkpoint ${checkpoint}`);
    for (const outcome of outcomes) assert.deepEqual(outcome, live.get(outcome.seq), `seq ${outcome.seq}`);
  }
});

it('a checkpoint older than every kept snapshot, or a rebuild, needs the pruned segments: JOURNAL_INCOMPLETE', async () => {
  const [older] = snapshotSeqs;
  await assert.rejects(collect(journalCatchUp(dataDir, coreEngineFactory())(older - 1)), {
    code: 'JOURNAL_INCOMPLETE',
  });
  await assert.rejects(collect(journalOutcomes(dataDir, new Engine())), { code: 'JOURNAL_INCOMPLETE' });
});
