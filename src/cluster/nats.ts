// One NATS connection per role process, to every server of the cluster and reconnecting for
// ever (a role outlives any single NATS node), with its JetStream client and manager.
import { type JetStreamClient, type JetStreamManager, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';

/** How long close() lets the connection drain. */
const drainMsMax = 5_000;

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
    // Without this every request (each JetStream publish) builds two Error objects up front for
    // their stack traces: a third of the client's CPU at a few thousand publishes per second.
    noAsyncTraces: true,
  });
  const jsm = await jetstreamManager(nc);
  const js = jetstream(nc);
  return {
    nc,
    js,
    jsm,
    close: async () => {
      // Drain delivers what is in flight; while reconnecting to a dead node it could wait for
      // ever, so after drainMsMax the connection is closed regardless.
      let timer: NodeJS.Timeout | undefined;
      const bounded = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, drainMsMax);
      });
      await Promise.race([nc.drain().catch(() => undefined), bounded]);
      clearTimeout(timer);
      if (!nc.isClosed()) await nc.close().catch(() => undefined);
    },
  };
}
