// Snapshots carry the engine's state hash by default, and recovery passes over one whose state
// does not load back to that hash: it falls back to the previous snapshot and the journal, and
// says so in the log.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Command } from '../../src/core/types.js';
import { defaultJournalSettings, openSequencer } from '../../src/journal/durable.js';
import { coreEngineFactory } from '../../src/journal/engine-factory.js';
import { nodeFileSystem } from '../../src/journal/file-system.js';
import { recover } from '../../src/journal/recovery.js';
import { readSnapshot, writeSnapshot } from '../../src/journal/snapshot.js';
import { recordingLogger, temporaryDirectory } from './helpers.js';

const symbol = {
  op: 'symbol',
  symbol: 'BTC-USD',
  base: 'BTC',
  quote: 'USD',
  lotSize: 10,
  tickSize: 1,
  makerFeeBps: 10,
  takerFeeBps: 20,
};

function place(id: number, user: number, side: string, qty: number, price: number): Command {
  return { op: 'place', id, user, symbol: 'BTC-USD', side, type: 'limit', qty, price } as Command;
}

test('state hashes are stored by default; a snapshot whose hash does not match is skipped for the previous one', async () => {
  assert.equal(defaultJournalSettings.snapshotStateHash, true);
  const directory = temporaryDirectory('snapshot-hash');
  const engines = coreEngineFactory();
  const opened = await openSequencer({
    dataDir: directory.path,
    engines,
    logger: recordingLogger().logger,
    snapshotEveryMs: 0,
  });
  const { sequencer } = opened;
  for (const command of [
    symbol,
    { op: 'deposit', user: 1, asset: 'BTC', amount: 10_000 },
    { op: 'deposit', user: 2, asset: 'USD', amount: 100_000 },
    place(1, 1, 'sell', 20, 100),
  ]) {
    await sequencer.submit(command as Command);
  }
  const older = await sequencer.snapshot();
  await sequencer.submit(place(2, 2, 'buy', 5, 100));
  await sequencer.submit(place(3, 2, 'buy', 7, 99));
  const newer = await sequencer.snapshot();
  await sequencer.submit(place(4, 1, 'sell', 3, 99));
  const finalHash = opened.recovered.engine.stateHash();
  await sequencer.close();

  const newerContent = readSnapshot(newer.path);
  assert.match(newerContent.stateHash, /^[0-9a-f]{16}$/, 'the hash is stored without asking');
  assert.equal(readSnapshot(older.path).lastSeq, 4);
  // A snapshot that reads back intact (checksum fine) but whose state does not load to the hash it
  // was written with: what a bug in exporting or loading state would leave.
  await writeSnapshot(directory.path, { ...newerContent, stateHash: '0123456789abcdef' }, nodeFileSystem);

  const { logger, lines } = recordingLogger();
  const recovered = recover(directory.path, { engines, logger });
  assert.equal(recovered.snapshotSeq, 4, 'fell back to the previous snapshot');
  assert.equal(recovered.lastSeq, 7, 'and replayed the journal from there');
  assert.equal(recovered.engine.stateHash(), finalHash);
  const skipped = lines.find((line) => /snapshot unusable/.test(line.msg));
  assert.ok(skipped, 'the skip is logged');
  assert.equal(skipped.level, 40);
  const error = (skipped as unknown as { err: { code: string; message: string } }).err;
  assert.equal(error.code, 'SNAPSHOT_HASH_MISMATCH');
  assert.match(error.message, /state hash [0-9a-f]{16} after loading, 0123456789abcdef when written/);
  directory.remove();
});
