// `hoga projector`: the cluster's read-model writer (docs/CLUSTER.md): EVT stream → PostgreSQL,
// the checkpoint in the same transaction as the rows. `--rebuild` empties the projected tables
// and projects the whole stream again.
import type { Command } from 'commander';
import { startProjectorRole } from '../cluster/projector-role.js';
import type { ClusterFlags } from '../cluster/settings.js';
import { roleLogger, roleSettings, stopOnSignals, withClusterOptions } from './cluster-roles.js';

export function registerProjectorCommand(program: Command): void {
  withClusterOptions(
    program
      .command('projector')
      .description('run the cluster projector: EVT stream into the PostgreSQL read model'),
  )
    .option('--database-url <url>', 'PostgreSQL read model (HOGA_DATABASE_URL)')
    .option('--db-schema <name>', 'schema of the read model (HOGA_DB_SCHEMA, default hoga)')
    .option('--replica-name <name>', 'name in logs (HOGA_REPLICA_NAME)')
    .option('--rebuild', 'empty the projected tables and project the event stream again from sequence 1')
    .action(async (flags: ClusterFlags & { rebuild?: boolean; logLevel?: string }) => {
      const settings = roleSettings('projector', flags);
      const logger = roleLogger('projector', flags);
      const projector = await startProjectorRole({ settings, logger, rebuild: flags.rebuild === true });
      logger.info({ projectedSeq: projector.projectedSeq }, 'projector running');
      stopOnSignals(logger, () => projector.close());
    });
}
