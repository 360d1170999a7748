// Snapshot participants: listeners' derived state captured at exactly the snapshot's sequence,
// restored before the tail replays, and a snapshot without a registered participant's state never
// used silently (an older one, or the whole journal, instead).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openSequencer } from '../../src/journal/durable.js';
import type { JournalError } from '../../src/journal/errors.js';
import { nodeFileSystem } from '../../src/journal/file-system.js';
import type { SnapshotParticipant } from '../../src/journal/participant.js';
import { recover } from '../../src/journal/recovery.js';
import { listDataDirectory } from '../../src/journal/segment.js';
import { readSnapshot, writeSnapshot } from '../../src/journal/snapshot.js';
import type { CommandOutcome } from '../../src/ports.js';
import { depositCommand, recordingLogger, temporaryDirectory } from './helpers.js';
import { toyEngines } from './toy-engine.js';

/**
 * A listener whose state depends on every outcome and on their order: the sequences it saw, and
 * a running digest of them. Restored wrongly (a sequence too many or too few), it differs from a
 * listener that saw the whole journal.
 */
class Digest {
  seqs: number[] = [];
  digest = 7;
  restoredFrom: number | undefined;
  readonly listener = (outcome: CommandOutcome): void => {
    this.seqs.push(outcome.seq);
    const amount = (outcome.command as { amount?: number }).amount ?? 0;
    this.digest = (Math.imul(this.digest, 31) + outcome.seq * 1_000 + amount) | 0;
  };

  participant(name: string): SnapshotParticipant {
    return {
      name,
      exportState: () => ({ seqs: this.seqs.slice(), digest: this.digest }),
      restoreState: (state) => {
        const saved = state as { seqs: number[]; digest: number };
        this.seqs = saved.seqs.slice();
        this.digest = saved.digest;
        this.restoredFrom = saved.seqs.at(-1) ?? 0;
      },
    };
  }
}

async function runWithSnapshots(
  dataDir: string,
  names: string[],
  commands: number,
  options: { retainSegments: boolean; snapshotEveryCommands: number },
): Promise<Digest> {
  const digest = new Digest();
  const { sequencer, snapshots } = await openSequencer({
    dataDir,
    engines: toyEngines,
    logger: recordingLogger().logger,
    segmentBytesMax: 2_048,
    snapshotEveryMs: 0,
    listeners: [digest.listener],
    participants: names.map((name) => digest.participant(name)),
    ...options,
  });
  // Waves of submits in flight together: batches of several commands, snapshots between them.
  const wave = 7;
  for (let first = 0; first < commands; first += wave) {
    const count = Math.min(wave, commands - first);
    await Promise.all(
      Array.from({ length: count }, (_, index) => sequencer.submit(depositCommand(first + index))),
    );
  }
  await snapshots.idle();
  await sequencer.close();
  return digest;
}

/** What a listener that saw commands 1..`commands` (depositCommand(seq - 1)) holds. */
function expectedDigest(commands: number): Digest {
  const digest = new Digest();
  for (let seq = 1; seq <= commands; seq++)
    digest.listener({ seq, ts: 0, command: depositCommand(seq - 1), events: [] });
  return digest;
}

test('participants are captured at the snapshot sequence and restored before the tail replays', async () => {
  const directory = temporaryDirectory('participants');
  await runWithSnapshots(directory.path, ['digest'], 400, {
    retainSegments: true,
    snapshotEveryCommands: 45,
  });
  const newest = listDataDirectory(directory.path).snapshots.at(-1);
  assert.ok(newest !== undefined, 'no snapshot taken');
  const saved = readSnapshot(newest.path).participants?.digest as { seqs: number[] };
  // Captured between batches: the participant had seen exactly the commands the engine had.
  assert.equal(saved.seqs.length, newest.seq);
  assert.equal(saved.seqs.at(-1), newest.seq);
  // A tail after the newest snapshot, written by a run that takes none.
  const second = new Digest();
  const { sequencer } = await openSequencer({
    dataDir: directory.path,
    engines: toyEngines,
    logger: recordingLogger().logger,
    snapshotEveryCommands: 0,
    snapshotEveryMs: 0,
    listeners: [second.listener],
    participants: [second.participant('digest')],
  });
  for (let index = 400; index < 425; index++) await sequencer.submit(depositCommand(index));
  await sequencer.close();
  const live = expectedDigest(425);
  assert.equal(second.digest, live.digest);

  const restarted = new Digest();
  const recovered = recover(directory.path, {
    engines: toyEngines,
    logger: recordingLogger().logger,
    listeners: [restarted.listener],
    participants: [restarted.participant('digest')],
  });
  assert.equal(recovered.snapshotSeq, newest.seq);
  assert.equal(restarted.restoredFrom, newest.seq);
  assert.equal(recovered.replayedCommands, 425 - newest.seq);
  assert.deepEqual(restarted.seqs, live.seqs);
  assert.equal(restarted.digest, live.digest);
  directory.remove();
});

test('a snapshot without a registered participant is passed over for an older one that has it', async () => {
  const directory = temporaryDirectory('participants-older');
  const live = new Digest();
  const { sequencer } = await openSequencer({
    dataDir: directory.path,
    engines: toyEngines,
    logger: recordingLogger().logger,
    snapshotEveryCommands: 0,
    snapshotEveryMs: 0,
    retainSegments: true,
    listeners: [live.listener],
    participants: [live.participant('digest')],
  });
  for (let index = 0; index < 100; index++) {
    await sequencer.submit(depositCommand(index));
    if (index === 59) await sequencer.snapshot();
  }
  await sequencer.close();
  // A newer snapshot written by a process that did not know the participant (its engine state
  // does not matter: it must never be loaded).
  await writeSnapshot(
    directory.path,
    {
      lastSeq: 90,
      lastTs: 0,
      stateHash: '',
      state: toyEngines.create().exportState(),
      participants: { other: {} },
    },
    nodeFileSystem,
  );
  const { logger, lines } = recordingLogger();
  const restarted = new Digest();
  const recovered = recover(directory.path, {
    engines: toyEngines,
    logger,
    listeners: [restarted.listener],
    participants: [restarted.participant('digest')],
  });
  assert.equal(recovered.snapshotSeq, 60);
  assert.equal(recovered.snapshotsPassedOver, 1);
  assert.equal(restarted.restoredFrom, 60);
  assert.deepEqual(restarted.seqs, live.seqs);
  assert.equal(restarted.digest, live.digest);
  const warning = lines.find((line) => /lacks the derived state/.test(line.msg));
  assert.deepEqual(warning?.missingParticipants, ['digest']);
  directory.remove();
});

test('with no snapshot holding every participant, recovery replays the whole journal, or refuses when it was pruned', async () => {
  const directory = temporaryDirectory('participants-full');
  const live = await runWithSnapshots(directory.path, ['digest'], 300, {
    retainSegments: true,
    snapshotEveryCommands: 40,
  });
  const snapshotsWritten = listDataDirectory(directory.path).snapshots.length;
  assert.ok(snapshotsWritten > 0);
  const { logger, lines } = recordingLogger();
  const restarted = new Digest();
  const second = new Digest();
  const recovered = recover(directory.path, {
    engines: toyEngines,
    logger,
    listeners: [restarted.listener, second.listener],
    participants: [restarted.participant('digest'), second.participant('added-later')],
  });
  assert.equal(recovered.snapshotSeq, 0);
  assert.equal(recovered.snapshotsPassedOver, snapshotsWritten);
  assert.equal(recovered.replayedCommands, 300);
  assert.equal(restarted.restoredFrom, undefined);
  assert.deepEqual(restarted.seqs, live.seqs);
  assert.equal(second.digest, live.digest);
  assert.ok(lines.some((line) => /replaying the whole journal/.test(line.msg)));

  const pruned = temporaryDirectory('participants-pruned');
  await runWithSnapshots(pruned.path, ['digest'], 300, { retainSegments: false, snapshotEveryCommands: 40 });
  assert.ok(listDataDirectory(pruned.path).segments[0].seq > 1, 'no segment was pruned');
  assert.throws(
    () =>
      recover(pruned.path, {
        engines: toyEngines,
        logger: recordingLogger().logger,
        participants: [new Digest().participant('digest'), new Digest().participant('added-later')],
      }),
    (error: JournalError) => error.code === 'SNAPSHOT_UNUSABLE' && /lack a participant/.test(error.message),
  );
  pruned.remove();
  directory.remove();
});

test('snapshots written before participants existed still load when none is registered', async () => {
  const directory = temporaryDirectory('participants-old');
  await runWithSnapshots(directory.path, [], 120, { retainSegments: true, snapshotEveryCommands: 50 });
  const newest = listDataDirectory(directory.path).snapshots.at(-1);
  assert.ok(newest !== undefined);
  const content = readSnapshot(newest.path);
  assert.equal('participants' in content, false);
  const recovered = recover(directory.path, { engines: toyEngines, logger: recordingLogger().logger });
  assert.equal(recovered.snapshotSeq, newest.seq);
  directory.remove();
});

test('a participant that cannot read its checksummed state stops recovery, naming it', async () => {
  const directory = temporaryDirectory('participants-broken');
  await runWithSnapshots(directory.path, ['digest'], 100, {
    retainSegments: true,
    snapshotEveryCommands: 50,
  });
  const broken: SnapshotParticipant = {
    name: 'digest',
    exportState: () => null,
    restoreState: () => {
      throw new Error('unexpected shape');
    },
  };
  assert.throws(
    () =>
      recover(directory.path, {
        engines: toyEngines,
        logger: recordingLogger().logger,
        participants: [broken],
      }),
    (error: JournalError) =>
      error.code === 'SNAPSHOT_PARTICIPANT_FAILED' && /"digest".*unexpected shape/.test(error.message),
  );
  directory.remove();
});

test('participant names must be unique', async () => {
  const directory = temporaryDirectory('participants-names');
  const digest = new Digest();
  await assert.rejects(
    openSequencer({
      dataDir: directory.path,
      engines: toyEngines,
      logger: recordingLogger().logger,
      participants: [digest.participant('same'), digest.participant('same')],
    }),
    /unique/,
  );
  directory.remove();
});
