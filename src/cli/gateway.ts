// `hoga gateway`: one cluster gateway (docs/CLUSTER.md): REST + WebSocket on --port, commands to
// the CMD stream, state derived from the EVT stream, users/sessions/history in PostgreSQL
// (HOGA_DATABASE_URL), sessions' ends and limits shared in Redis (HOGA_REDIS_URL). Host, port, admin user and gateway limits are the `hoga start` settings.
import type { Command } from 'commander';
import { startGatewayRole } from '../cluster/gateway-role.js';
import { redisSettingsFromEnvironment } from '../cluster/redis-config.js';
import type { ClusterFlags } from '../cluster/settings.js';
import { loadConfig } from '../config.js';
import { roleLogger, roleSettings, stopOnSignals, withClusterOptions } from './cluster-roles.js';

export function registerGatewayCommand(program: Command): void {
  withClusterOptions(
    program
      .command('gateway')
      .description('run one cluster gateway: REST/WebSocket over the CMD and EVT streams'),
  )
    .option('--host <host>', 'listen address (HOGA_HOST, default 0.0.0.0)')
    .option('--port <port>', 'listen port (HOGA_PORT, default 8080; 0 picks a free port)')
    .option('--database-url <url>', 'PostgreSQL read model (HOGA_DATABASE_URL)')
    .option('--db-schema <name>', 'schema of the read model (HOGA_DB_SCHEMA, default hoga)')
    .option('--replica-name <name>', 'name in logs (HOGA_REPLICA_NAME)')
    .action(async (flags: ClusterFlags & { host?: string; port?: string; logLevel?: string }) => {
      const settings = roleSettings('gateway', flags);
      const config = loadConfig({ host: flags.host, port: flags.port, logLevel: flags.logLevel });
      const logger = roleLogger('gateway', flags).child({ gateway: settings.replicaName });
      const redis = redisSettingsFromEnvironment(process.env);
      if (redis === undefined)
        logger.warn("HOGA_REDIS_URL unset: sessions and limits are this gateway's alone");
      const gateway = await startGatewayRole({ settings, config, logger, redis });
      stopOnSignals(logger, () => gateway.close());
    });
}
