// `hoga cluster up|down|status`: a whole cluster on loopback from the installed nats-server and
// redis-server binaries and the local PostgreSQL (docs/CLUSTER.md "A cluster on one machine").
// State (pids, ports, URLs, logs) lives in --dir (default ./cluster-data, cluster.json).
import type { Command } from 'commander';
import {
  clusterLayout,
  gatewayUrls,
  LocalCluster,
  LocalClusterError,
  natsUrls,
} from '../cluster/local-cluster.js';

/** Exit status of `status` when a component is dead or not ready, and of a failed `up`. */
export const clusterDownExitCode = 1;

const progress = (line: string) => process.stdout.write(`${line}\n`);

function refuse(error: unknown): never {
  if (error instanceof LocalClusterError) {
    process.stderr.write(`hoga cluster: ${error.code}: ${error.message}\n`);
    process.exit(error.code === 'CLUSTER_SETTING_INVALID' ? 64 : clusterDownExitCode);
  }
  throw error;
}

export function registerClusterCommands(program: Command): void {
  const cluster = program
    .command('cluster')
    .description('a cluster on this machine: 3 NATS nodes, Redis, 2 engines, projector, 2 gateways');
  cluster
    .command('up')
    .description('start every component and wait until each is ready')
    .option('--dir <dir>', 'state directory (default ./cluster-data)')
    .option('--database-url <url>', 'read model database, created when missing (default hoga_cluster)')
    .option('--port-offset <n>', 'added to every default port (14222.., 16222.., 18222.., 16379, 18080..)')
    .option(
      '--admin-password <password>',
      'administrator password (HOGA_ADMIN_PASSWORD, default admin-password-1)',
    )
    .action(
      async (flags: { dir?: string; databaseUrl?: string; portOffset?: string; adminPassword?: string }) => {
        try {
          const offset = flags.portOffset === undefined ? 0 : Number(flags.portOffset);
          const layout = clusterLayout({
            dir: flags.dir,
            databaseUrl: flags.databaseUrl ?? process.env.HOGA_DATABASE_URL,
            portOffset: offset,
            adminPassword: flags.adminPassword ?? process.env.HOGA_ADMIN_PASSWORD,
          });
          progress(`state in ${layout.dir}`);
          await LocalCluster.up(layout, progress);
          progress(`cluster up: gateways ${gatewayUrls(layout).join(' ')}`);
          progress(`NATS ${natsUrls(layout).join(',')}; Redis redis://127.0.0.1:${layout.redisPort}`);
          progress(`admin user ${layout.adminUser}; state ${layout.dir}/cluster.json`);
        } catch (error) {
          refuse(error);
        }
      },
    );
  cluster
    .command('status')
    .description('each component alive/dead and ready; exit 1 when any is not')
    .option('--dir <dir>', 'state directory (default ./cluster-data)')
    .action(async (flags: { dir?: string }) => {
      try {
        const statuses = await LocalCluster.attach(flags.dir ?? './cluster-data').status();
        for (const status of statuses) {
          const state = !status.alive ? 'dead' : status.ready ? 'ready' : 'alive, not ready';
          progress(`${status.name.padEnd(10)} ${state.padEnd(16)} ${status.detail}`);
        }
        if (statuses.some((status) => !status.ready)) process.exit(clusterDownExitCode);
      } catch (error) {
        refuse(error);
      }
    });
  cluster
    .command('down')
    .description('stop every component (SIGTERM, SIGKILL after 10 s)')
    .option('--dir <dir>', 'state directory (default ./cluster-data)')
    .option('--purge', 'also remove the state directory (NATS stores, Redis AOF, engine data)')
    .action(async (flags: { dir?: string; purge?: boolean }) => {
      try {
        await LocalCluster.attach(flags.dir ?? './cluster-data').down(progress, flags.purge === true);
      } catch (error) {
        refuse(error);
      }
    });
}
