// `hoga admin create-user`: creates a user (optionally an administrator) directly in the read model.
// With embedded PGlite only one process may open the database: the command locks the data and
// PGlite directories like `hoga start` does, and refuses while the exchange runs (a user written
// under a running exchange would be overwritten by it and vanish). With PostgreSQL both share the
// database safely and it runs alongside.
import { mkdirSync } from 'node:fs';
import type { Command } from 'commander';
import { pino } from 'pino';
import { loadConfig } from '../config.js';
import { PasswordHasher, passwordLengthMax } from '../gateway/passwords.js';
import { directoryLockedExitCode, isDirectoryLocked, lockDirectories } from '../journal/data-dir-lock.js';
import { lockedDirectories } from '../main.js';
import { openStore } from '../store/store.js';
import { resealApiKeys } from './reseal-api-keys.js';

const passwordLengthMin = 8;

async function createUser(flags: {
  username: string;
  password?: string;
  admin?: boolean;
  dataDir?: string;
  databaseUrl?: string;
}): Promise<void> {
  const password = flags.password ?? process.env.HOGA_NEW_PASSWORD ?? '';
  if (password.length < passwordLengthMin || password.length > passwordLengthMax) {
    throw new Error(
      `password (--password or HOGA_NEW_PASSWORD) must be ${passwordLengthMin}..${passwordLengthMax} characters`,
    );
  }
  const config = loadConfig({ dataDir: flags.dataDir, databaseUrl: flags.databaseUrl });
  mkdirSync(config.dataDir, { recursive: true });
  // With PostgreSQL the exchange and this command share the database safely: nothing to lock.
  const directories = config.databaseUrl === '' ? lockedDirectories(config) : [];
  const lock = await lockDirectories(directories, 'hoga admin create-user').catch((error: unknown) => {
    throw isDirectoryLocked(error) ? new ExchangeRunningError(error.message) : error;
  });
  try {
    await createUserLocked(flags.username, password, flags.admin === true, config);
  } finally {
    await lock.release();
  }
}

/** The exchange (or another command) holds the directories: say what to do instead. */
class ExchangeRunningError extends Error {
  constructor(detail: string) {
    super(
      `refused: ${detail}. A user created now would vanish at the exchange's next write to its ` +
        'embedded database. Stop the exchange and run this again, or create the user through the ' +
        'running exchange (POST /api/v1/auth/register; an administrator: HOGA_ADMIN_USER and ' +
        'HOGA_ADMIN_PASSWORD at the next start)',
    );
  }
}

async function createUserLocked(
  username: string,
  password: string,
  isAdmin: boolean,
  config: ReturnType<typeof loadConfig>,
): Promise<void> {
  const logger = pino({ name: 'hoga-admin', level: 'warn' });
  const store = await openStore({ databaseUrl: config.databaseUrl, dataDir: config.pgliteDir, logger });
  try {
    if ((await store.users.findUserByName(username)) !== undefined) {
      throw new Error(`user ${username} already exists`);
    }
    const hasher = new PasswordHasher(config.gateway.passwords);
    const user = await store.users.createUser(username, await hasher.hash(password), isAdmin, Date.now());
    process.stdout.write(
      `${JSON.stringify({ userId: user.id, username: user.username, isAdmin: user.isAdmin })}\n`,
    );
  } finally {
    await store.close();
  }
}

export function registerAdminCommands(program: Command): void {
  const admin = program.command('admin').description('administration');
  admin
    .command('create-user')
    .description('create a user (with embedded PGlite: refused while the exchange runs)')
    .requiredOption('--username <name>', 'login name')
    .option('--password <password>', 'password (or HOGA_NEW_PASSWORD)')
    .option('--admin', 'make the user an administrator')
    .option('--data-dir <dir>', 'data directory (HOGA_DATA_DIR, default ./data)')
    .option('--database-url <url>', 'PostgreSQL read model (DATABASE_URL)')
    .action(async (flags) => {
      try {
        await createUser(flags);
      } catch (error) {
        process.stderr.write(`hoga admin create-user: ${(error as Error).message}\n`);
        process.exitCode = error instanceof ExchangeRunningError ? directoryLockedExitCode : 1;
      }
    });
  admin
    .command('reseal-api-keys')
    .description('re-seal every API key secret under the current server key (docs/OPERATIONS.md)')
    .option('--rotate', 'default key file only: generate a new key first, keep the old one as .previous')
    .option('--data-dir <dir>', 'data directory (HOGA_DATA_DIR, default ./data)')
    .option('--database-url <url>', 'PostgreSQL read model (DATABASE_URL)')
    .action(async (flags) => {
      try {
        const report = await resealApiKeys(flags);
        process.stdout.write(`${JSON.stringify(report)}\n`);
        if (report.unreadable.length > 0) process.exitCode = 1;
      } catch (error) {
        process.stderr.write(`hoga admin reseal-api-keys: ${(error as Error).message}\n`);
        process.exitCode = 1;
      }
    });
}
