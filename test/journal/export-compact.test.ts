// The running exchange journals place/cancel/amend in the compact form: `hoga journal verify`
// accepts such a journal and `hoga journal export` turns it back into the spec's JSON command
// lines, which a fresh engine replays to the live state hash.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { pino } from 'pino';
import { exportJournal, verifyDataDirectory } from '../../src/cli/journal.js';
import { replayCommands } from '../../src/core/replay.js';
import type { Command } from '../../src/core/types.js';
import { openSequencer } from '../../src/journal/durable.js';
import { coreEngineFactory } from '../../src/journal/engine-factory.js';

it('a compact journal verifies, and exports to JSON lines that replay to the live state hash', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'hoga-compact-'));
  try {
    const { sequencer } = await openSequencer({
      dataDir,
      engines: coreEngineFactory(),
      payloadFormat: 'compact',
      logger: pino({ level: 'silent' }),
    });
    const commands: Command[] = [
      {
        op: 'symbol',
        symbol: 'A-B',
        base: 'A',
        quote: 'B',
        lotSize: 10,
        tickSize: 5,
        makerFeeBps: 10,
        takerFeeBps: 20,
      },
      { op: 'deposit', user: 1, asset: 'A', amount: 1_000 },
      { op: 'deposit', user: 2, asset: 'B', amount: 100_000 },
    ];
    for (let index = 0; index < 40; index++) {
      commands.push({
        op: 'place',
        user: 1,
        id: 100 + index,
        symbol: 'A-B',
        side: 'sell',
        type: 'limit',
        qty: 2,
        price: 100 + 5 * (index % 4),
      });
      commands.push({
        op: 'place',
        user: 2,
        id: 200 + index,
        symbol: 'A-B',
        side: 'buy',
        type: 'limit',
        qty: 1,
        price: 105,
        tif: 'IOC',
      });
      if (index % 5 === 0) commands.push({ op: 'cancel', user: 1, id: 100 + index });
      if (index % 7 === 1) commands.push({ op: 'amend', user: 1, id: 100 + index, qty: 1 });
    }
    for (const command of commands) await sequencer.submit(command);
    const liveHash = sequencer.engine.stateHash();
    await sequencer.close();

    assert.equal(verifyDataDirectory(dataDir).ok, true);
    const exported = join(dataDir, 'export.ndjson');
    const { commands: count } = exportJournal(dataDir, exported);
    assert.equal(count, commands.length);
    const lines = readFileSync(exported, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    assert.deepEqual(
      lines.map((line) => line.op),
      commands.map((command) => command.op),
    );
    assert.equal(replayCommands(lines).engine.stateHash(), liveHash);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
