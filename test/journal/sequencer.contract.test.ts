// The CommandSequencer contract (sequencer.contract.ts) against the journal's Sequencer on a real
// data directory and against MemorySequencer, the fake of the gateway's unit tests.
import { pino } from 'pino';
import { Engine } from '../../src/core/engine.js';
import type { Command } from '../../src/core/types.js';
import { openSequencer } from '../../src/journal/durable.js';
import { coreEngineFactory } from '../../src/journal/engine-factory.js';
import { MemorySequencer } from '../gateway/support/memory-sequencer.js';
import { temporaryDirectory } from './helpers.js';
import { sequencerContract } from './sequencer.contract.js';

const inboundQueueMax = 4;

sequencerContract('Sequencer (file journal)', async () => {
  const directory = temporaryDirectory('sequencer-contract');
  let nowMs = 1_700_000_000_000;
  const { sequencer } = await openSequencer({
    dataDir: directory.path,
    engines: coreEngineFactory(),
    logger: pino({ level: 'silent' }),
    clock: () => nowMs++,
    inboundQueueMax,
    snapshotEveryMs: 0,
  });
  return {
    sequencer,
    saturate: () => {
      const queued = Array.from({ length: inboundQueueMax }, (_, index) =>
        sequencer.submit({ op: 'deposit', user: 100 + index, asset: 'USD', amount: 1 } as Command),
      );
      return async () => {
        await Promise.all(queued);
      };
    },
    close: async () => {
      await sequencer.close();
      directory.remove();
    },
    removeAfterClose: directory.remove,
  };
});

sequencerContract('MemorySequencer (test fake)', async () => {
  const sequencer = new MemorySequencer(new Engine());
  return {
    sequencer,
    saturate: () => {
      sequencer.full = true;
      return async () => {
        sequencer.full = false;
      };
    },
    close: () => sequencer.close(),
    removeAfterClose: () => {},
  };
});
