// `hoga engine`: one engine replica of a cluster (docs/CLUSTER.md). Reads `<prefix>_CMD`, appends
// outcomes to `<prefix>_EVT` fenced, keeps snapshots in --data-dir (locked: a second process on
// the same directory is refused, naming the holder, exit 75). Exits 76 when its outcome differs
// from the stored one.
import type { Command } from 'commander';
import { EngineReplica } from '../cluster/engine-replica.js';
import { connectCluster } from '../cluster/nats.js';
import type { ClusterFlags } from '../cluster/settings.js';
import { ensureStreams, streamNames } from '../cluster/streams.js';
import {
  exitOnLocked,
  roleLogger,
  roleSettings,
  stopOnSignals,
  withClusterOptions,
} from './cluster-roles.js';

export function registerEngineCommand(program: Command): void {
  withClusterOptions(
    program
      .command('engine')
      .description('run one engine replica: CMD stream in, fenced outcomes to the EVT stream'),
  )
    .option('--data-dir <dir>', 'snapshots of this replica (HOGA_DATA_DIR, default ./data/engine)')
    .option('--replica-name <name>', 'name in logs and hash reports (HOGA_REPLICA_NAME, default pid-<pid>)')
    .option('--hash-every-commands <n>', 'state hash in the outcome every n commands (default 1000)')
    .option(
      '--snapshot-every-commands <n>',
      'local snapshot every n commands, 0 only at stop (default 100000)',
    )
    .action(async (flags: ClusterFlags & { logLevel?: string }) => {
      const settings = roleSettings('engine', flags);
      const logger = roleLogger('engine', flags).child({ replica: settings.replicaName });
      const connection = await connectCluster(settings.natsServers, `hoga-engine-${settings.replicaName}`);
      const names = streamNames(settings.natsPrefix);
      await ensureStreams(connection.jsm, names, settings.streamReplicas);
      let replica: EngineReplica;
      try {
        replica = await EngineReplica.start({
          ...connection,
          names,
          dataDir: settings.dataDir,
          replicaName: settings.replicaName,
          hashEveryCommands: settings.hashEveryCommands,
          snapshotEveryCommands: settings.snapshotEveryCommands,
          heartbeatMs: settings.heartbeatMs,
          logger,
        });
      } catch (error) {
        exitOnLocked('engine', error);
        throw error;
      }
      logger.info({ dataDir: settings.dataDir, fromSeq: replica.lastSeq + 1 }, 'engine replica running');
      stopOnSignals(logger, async () => {
        await replica.close();
        await connection.close();
      });
    });
}
