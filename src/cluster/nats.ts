// One NATS connection per role process, to every server of the cluster and reconnecting for
// ever (a role outlives any single NATS node), with its JetStream client and manager.
import { type JetStreamClient, type JetStreamManager, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';

export interface ClusterConnection {
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
  close(): Promise<void>;
}

export async function connectCluster(servers: readonly string[], name: string): Promise<ClusterConnection> {
  const nc = await connect({
    servers: [...servers],
    name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    waitOnFirstConnect: true,
  });
  const jsm = await jetstreamManager(nc);
  const js = jetstream(nc);
  return {
    nc,
    js,
    jsm,
    close: async () => {
      await nc.drain().catch(() => nc.close());
    },
  };
}
