// Helpers shared by the cluster role commands (`hoga engine | gateway | projector`): the common
// flags, settings from flags and environment, a refusal as one line on stderr with its own exit
// status, and a clean stop on SIGINT/SIGTERM.
import type { Command } from 'commander';
import { type Logger, pino } from 'pino';
import {
  type ClusterFlags,
  type ClusterSettings,
  ClusterSettingsError,
  loadClusterSettings,
} from '../cluster/settings.js';
import { directoryLockedExitCode, isDirectoryLocked } from '../journal/data-dir-lock.js';

/** Exit status of a role refused for a malformed setting (EX_USAGE). */
export const settingInvalidExitCode = 64;

export function withClusterOptions(command: Command): Command {
  return command
    .option(
      '--nats-servers <list>',
      'comma-separated NATS servers (HOGA_NATS_SERVERS, default nats://127.0.0.1:4222)',
    )
    .option(
      '--nats-prefix <prefix>',
      'stream prefix: <prefix>_CMD, <prefix>_EVT (HOGA_NATS_PREFIX, default HOGA)',
    )
    .option('--stream-replicas <n>', 'JetStream replicas of both streams (HOGA_STREAM_REPLICAS, default 1)')
    .option('--log-level <level>', 'pino level (HOGA_LOG_LEVEL, default info)');
}

export function roleSettings(role: string, flags: ClusterFlags): ClusterSettings {
  try {
    return loadClusterSettings(flags);
  } catch (error) {
    if (error instanceof ClusterSettingsError) {
      process.stderr.write(`hoga ${role}: ${error.code}: ${error.message}\n`);
      process.exit(settingInvalidExitCode);
    }
    throw error;
  }
}

export function roleLogger(role: string, flags: { logLevel?: string }): Logger {
  return pino({ name: `hoga-${role}`, level: flags.logLevel ?? process.env.HOGA_LOG_LEVEL ?? 'info' });
}

/** A locked data directory: one line naming the holder, exit 75. Other errors are rethrown. */
export function exitOnLocked(role: string, error: unknown): void {
  if (!isDirectoryLocked(error)) return;
  process.stderr.write(`hoga ${role}: ${error.message}\n`);
  process.exit(directoryLockedExitCode);
}

/** Runs `stop` once on the first SIGINT/SIGTERM, then exits 0 (1 when stopping failed). */
export function stopOnSignals(logger: Logger, stop: () => Promise<void>): void {
  let stopping = false;
  const handler = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping');
    stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'stop failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', () => handler('SIGINT'));
  process.once('SIGTERM', () => handler('SIGTERM'));
}
