// `hoga start`: the whole exchange in one process with embedded defaults (file journal in ./data,
// PGlite read model, in-process bus). Stops cleanly on SIGINT/SIGTERM.
import type { Command } from 'commander';
import { loadConfig } from '../config.js';
import { startDemo } from '../demo/demo.js';
import { directoryLockedExitCode } from '../journal/data-dir-lock.js';
import { JournalError } from '../journal/errors.js';
import { startExchange } from '../main.js';

/** Exit status when acknowledged commands are missing and --accept-data-loss was not given. */
export const acknowledgedDataLostExitCode = 65;

/**
 * A start refused for a reason the operator must act on gets one clear line on stderr and its own
 * exit status, not a stack trace: another process holds the directory, or acknowledged data is gone.
 */
function exitOnRefusal(error: unknown): void {
  if (!(error instanceof JournalError)) return;
  const status =
    error.code === 'DATA_DIR_LOCKED'
      ? directoryLockedExitCode
      : error.code === 'ACKNOWLEDGED_DATA_LOST'
        ? acknowledgedDataLostExitCode
        : undefined;
  if (status === undefined) return;
  process.stderr.write(`hoga start: ${error.message}\n`);
  process.exit(status);
}

export function registerStartCommand(program: Command): void {
  program
    .command('start')
    .description('run the exchange (REST + WebSocket on --port, journal in --data-dir)')
    .option('--host <host>', 'listen address (HOGA_HOST, default 0.0.0.0)')
    .option('--port <port>', 'listen port (HOGA_PORT, default 8080; 0 picks a free port)')
    .option('--data-dir <dir>', 'journal, snapshots and embedded database (HOGA_DATA_DIR, default ./data)')
    .option('--database-url <url>', 'PostgreSQL read model instead of embedded PGlite (DATABASE_URL)')
    .option('--fsync <policy>', 'always | batch | none (HOGA_FSYNC, default always)')
    .option(
      '--snapshot-every-commands <n>',
      'snapshot after this many commands, 0 never by count (HOGA_SNAPSHOT_EVERY_COMMANDS, default 1000000)',
    )
    .option(
      '--snapshot-every-ms <ms>',
      'snapshot after this long, 0 never by time (HOGA_SNAPSHOT_EVERY_MS, default 600000)',
    )
    .option(
      '--prune-segments',
      'remove journal segments older than the second newest snapshot (HOGA_RETAIN_SEGMENTS=false)',
    )
    .option(
      '--accept-data-loss',
      'start even if acknowledged commands are missing from the journal; sequences continue above them (docs/OPERATIONS.md)',
    )
    .option('--log-level <level>', 'pino level (HOGA_LOG_LEVEL, default info)')
    .option('--demo', 'list demo markets and run demo trading bots (HOGA_DEMO=1)')
    .option(
      '--quote-feed <spec>',
      'external quotes: simulated[:SYMBOLS[:RATE[:SEED]]] | file:PATH[@SPEED] | tcp:HOST:PORT (HOGA_QUOTE_FEED)',
    )
    .action(async (flags) => {
      const config = loadConfig(flags);
      let exchange: Awaited<ReturnType<typeof startExchange>>;
      try {
        exchange = await startExchange(config);
      } catch (error) {
        exitOnRefusal(error);
        throw error;
      }
      // The handlers go in before the demo starts, so a signal during its start-up still stops
      // cleanly with a snapshot instead of killing the process.
      const demoStarting = config.demo ? startDemo(exchange, { quotes: exchange.quotes }) : undefined;
      const stop = (signal: string) => {
        exchange.logger.info({ signal }, 'stopping');
        // A snapshot at the last sequence, so the next start replays (almost) nothing.
        Promise.resolve(demoStarting)
          .then((demo) => demo?.stop())
          .then(() => exchange.close({ snapshot: true }))
          .then(
            () => process.exit(0),
            (error: unknown) => {
              exchange.logger.error({ err: error }, 'stop failed');
              process.exit(1);
            },
          );
      };
      process.once('SIGINT', () => stop('SIGINT'));
      process.once('SIGTERM', () => stop('SIGTERM'));
      await demoStarting;
    });
}
