// Cluster test fixtures on the real NATS server (JetStream on 127.0.0.1:4222, one node, so the
// streams have one replica): each fixture gets its own stream prefix and removes its streams.
import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import { EngineReplica } from '../../src/cluster/engine-replica.js';
import type { ClusterError } from '../../src/cluster/errors.js';
import { type ClusterConnection, connectCluster } from '../../src/cluster/nats.js';
import { deleteStreams, ensureStreams, type StreamNames, streamNames } from '../../src/cluster/streams.js';
import { temporaryDirectory } from '../journal/helpers.js';

export const testNatsServers = [process.env.HOGA_TEST_NATS ?? 'nats://127.0.0.1:4222'];

export const silentLogger = pino({ level: 'silent' });

export function uniquePrefix(label: string): string {
  return `T${label}_${randomBytes(5).toString('hex')}`;
}

export interface ClusterFixture {
  prefix: string;
  names: StreamNames;
  connection: ClusterConnection;
  /** Starts an engine replica on a fresh (or given) data directory; fatal errors are recorded, not exits. */
  startReplica(
    name: string,
    dataDir?: string,
  ): Promise<{ replica: EngineReplica; dataDir: string; fatal: ClusterError[] }>;
  close(): Promise<void>;
}

export async function openClusterFixture(label: string): Promise<ClusterFixture> {
  const prefix = uniquePrefix(label);
  const names = streamNames(prefix);
  const connection = await connectCluster(testNatsServers, `test-${prefix}`);
  await ensureStreams(connection.jsm, names, 1);
  const replicas: EngineReplica[] = [];
  const directories: Array<() => void> = [];
  return {
    prefix,
    names,
    connection,
    async startReplica(name, dataDir) {
      let directory = dataDir;
      if (directory === undefined) {
        const created = temporaryDirectory(`replica-${name}`);
        directories.push(created.remove);
        directory = created.path;
      }
      const fatal: ClusterError[] = [];
      const replica = await EngineReplica.start({
        ...connection,
        names,
        dataDir: directory,
        replicaName: name,
        hashEveryCommands: 5,
        snapshotEveryCommands: 0,
        heartbeatMs: 1_000,
        logger: silentLogger,
        onFatal: (error) => fatal.push(error),
      });
      replicas.push(replica);
      return { replica, dataDir: directory, fatal };
    },
    async close() {
      for (const replica of replicas) await replica.close().catch(() => {});
      await deleteStreams(connection.jsm, names);
      await connection.close();
      for (const remove of directories) remove();
    },
  };
}
