// The CommandSequencer contract (test/journal/sequencer.contract.ts) against the cluster's
// JetStreamSequencer: commands through `<prefix>_CMD` on the real NATS server, applied by one
// in-process engine replica, answered from `<prefix>_EVT`.

import { JetStreamSequencer } from '../../src/cluster/jetstream-sequencer.js';
import { Engine } from '../../src/core/engine.js';
import type { Command } from '../../src/core/types.js';
import { sequencerContract } from '../journal/sequencer.contract.js';
import { openClusterFixture, silentLogger } from './support.js';

const pendingMax = 4;

sequencerContract('JetStreamSequencer (NATS JetStream)', async () => {
  const fixture = await openClusterFixture('contract');
  await fixture.startReplica('a');
  const sequencer = await JetStreamSequencer.open({
    ...fixture.connection,
    names: fixture.names,
    logger: silentLogger,
    pendingMax,
    timeoutMs: 60_000,
    heartbeatMs: 1_000,
    engine: new Engine(),
  });
  return {
    sequencer,
    saturate: () => {
      const queued = Array.from({ length: pendingMax }, (_, index) =>
        sequencer.submit({ op: 'deposit', user: 100 + index, asset: 'USD', amount: 1 } as Command),
      );
      return async () => {
        await Promise.all(queued);
      };
    },
    close: async () => {
      await sequencer.close();
      await fixture.close();
    },
    removeAfterClose: () => {
      void fixture.close();
    },
  };
});
