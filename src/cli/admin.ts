// `hoga admin create-user`: creates a user (optionally an administrator) directly in the read model.
// With embedded PGlite only one process may open the database: run it while the exchange is
// stopped (or set HOGA_ADMIN_USER / HOGA_ADMIN_PASSWORD, which `hoga start` applies on first start).
import { mkdirSync } from 'node:fs';
import type { Command } from 'commander';
import { pino } from 'pino';
import { loadConfig } from '../config.js';
import { PasswordHasher, passwordLengthMax } from '../gateway/passwords.js';
import { openStore } from '../store/store.js';

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
  const logger = pino({ name: 'hoga-admin', level: 'warn' });
  mkdirSync(config.dataDir, { recursive: true });
  const store = await openStore({ databaseUrl: config.databaseUrl, dataDir: config.pgliteDir, logger });
  try {
    if ((await store.users.findUserByName(flags.username)) !== undefined) {
      throw new Error(`user ${flags.username} already exists`);
    }
    const hasher = new PasswordHasher(config.gateway.passwords);
    const user = await store.users.createUser(
      flags.username,
      await hasher.hash(password),
      flags.admin === true,
      Date.now(),
    );
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
    .description('create a user (run while the exchange is stopped when using embedded PGlite)')
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
        process.exitCode = 1;
      }
    });
}
