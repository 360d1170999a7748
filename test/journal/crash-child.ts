// Crash-test child: the sequencer and the real engine on a data directory, with market data as a
// listener and snapshot participant (its derived state goes into every snapshot, as in the
// running exchange). Reads one JSON line per command from stdin ({"tag":n,"command":{...}}),
// writes {"tag":n,"seq":s} once the command is durable and applied. Prints {"ready":…} after
// recovery and {"closed":…} after stdin ends, both with the market data's exported state.
// The test kills it with SIGKILL at random moments; a real server can replace it later.
import { createInterface } from 'node:readline';
import { pino } from 'pino';
import type { Command } from '../../src/core/types.js';
import { openSequencer } from '../../src/journal/durable.js';
import { coreEngineFactory } from '../../src/journal/engine-factory.js';
import { MarketData } from '../../src/marketdata/marketdata.js';

const dataDir = process.argv[2];
if (dataDir === undefined) throw new Error('usage: crash-child <data-dir>');

function send(message: object): void {
  process.stdout.write(`${JSON.stringify(message)}\n`);
}

// Nobody subscribes: market data only keeps its derived state.
const marketData = new MarketData({ publisher: { publish: () => {}, isWatched: () => false } });
const logger = pino({ level: process.env.HOGA_CRASH_LOG_LEVEL ?? 'warn' }, pino.destination(2));
const { sequencer, recovered } = await openSequencer({
  dataDir,
  engines: coreEngineFactory(),
  logger,
  segmentBytesMax: 128 * 1024,
  snapshotEveryCommands: Number(process.env.HOGA_CRASH_SNAPSHOT_EVERY ?? 100),
  snapshotEveryMs: 0,
  retainSegments: true,
  // Every recovery then checks that the loaded snapshot reproduces the exported state exactly.
  snapshotStateHash: true,
  listeners: [(outcome) => marketData.onOutcome(outcome)],
  participants: [marketData.snapshotParticipant],
});
send({
  ready: true,
  lastSeq: recovered.lastSeq,
  snapshotSeq: recovered.snapshotSeq,
  stateHash: sequencer.engine.stateHash(),
  marketData: JSON.stringify(marketData.exportState()),
});

const lines = createInterface({ input: process.stdin });
for await (const line of lines) {
  const { tag, command } = JSON.parse(line) as { tag: number; command: Command };
  sequencer.submit(command).then(
    (outcome) => send({ tag, seq: outcome.seq }),
    (error: Error & { code?: string }) => send({ tag, error: error.code ?? error.message }),
  );
}
await sequencer.close();
send({
  closed: true,
  lastSeq: sequencer.lastSeq,
  stateHash: sequencer.engine.stateHash(),
  marketData: JSON.stringify(marketData.exportState()),
});
