// Faults under load on a whole cluster (the `hoga cluster up` code, real nats-server ×3 with R3
// streams, redis-server, PostgreSQL): SIGKILL a NATS node, an engine replica, a gateway (its
// clients move to the other gateway and retry with the same clientOrderId); restart Redis and the
// projector. Each fault once in npm test, 5 times in CI (HOGA_FAULT_ROUNDS=5), 20 with HOGA_LONG=1; after each, the invariants of
// support/cluster.ts: every acknowledged order exactly once, balances conserved, both replicas
// alive (a hash mismatch would stop one), the read model equal to a rebuild.
import { after, before, test } from 'node:test';
import {
  checkInvariants,
  createFreeMarket,
  OrderLoad,
  startTestCluster,
  type TestCluster,
} from './support/cluster.js';

// `npm test` injects each fault once; CI runs the file again with HOGA_FAULT_ROUNDS=5 after it
// (`npm run test:faults`, .ci/run), and HOGA_LONG=1 asks for 20.
const repeats = process.env.HOGA_LONG === '1' ? 20 : faultRounds(process.env.HOGA_FAULT_ROUNDS);

function faultRounds(text: string | undefined): number {
  if (text === undefined || text === '') return 1;
  if (!/^[1-9][0-9]{0,2}$/.test(text)) throw new Error(`HOGA_FAULT_ROUNDS must be 1-999, got ${text}`);
  return Number(text);
}
/** Acknowledged orders wanted before a fault and again after recovery. */
const ordersAround = 15;

let cluster: TestCluster;
let load: OrderLoad;

before(async () => {
  cluster = await startTestCluster('faults');
  await createFreeMarket(cluster);
  load = await OrderLoad.open(cluster, 4);
});

after(async () => {
  await load?.stop().catch(() => {});
  await cluster?.close();
});

async function underLoad(fault: (round: number) => Promise<void>): Promise<void> {
  for (let round = 0; round < repeats; round++) {
    load.start();
    await load.moreAcknowledged(ordersAround);
    await fault(round);
    await load.moreAcknowledged(ordersAround);
    await load.stop();
    await checkInvariants(cluster, load);
  }
}

test('SIGKILL a NATS node under load, start it again', async () => {
  await underLoad(async (round) => {
    const name = `nats-${(round % 3) + 1}`;
    cluster.cluster.signal(name, 'SIGKILL');
    await cluster.cluster.waitExited(name);
    await load.moreAcknowledged(ordersAround);
    await cluster.cluster.start(name);
  });
});

test('SIGKILL an engine replica under load, restart it (catches up from its snapshot and CMD)', async () => {
  await underLoad(async (round) => {
    await cluster.cluster.restart(`engine-${(round % 2) + 1}`);
  });
});

test('SIGKILL a gateway under load: its clients retry on the other one; restart it', async () => {
  await underLoad(async (round) => {
    const name = `gateway-${(round % 2) + 1}`;
    cluster.cluster.signal(name, 'SIGKILL');
    await cluster.cluster.waitExited(name);
    await load.moreAcknowledged(ordersAround);
    await cluster.cluster.start(name);
  });
});

test('restart Redis under load', async () => {
  await underLoad(async () => {
    cluster.cluster.signal('redis', 'SIGTERM');
    await cluster.cluster.waitExited('redis');
    await cluster.cluster.start('redis');
  });
});

test('SIGKILL the projector under load, restart it', async () => {
  await underLoad(async () => {
    await cluster.cluster.restart('projector');
  });
});
