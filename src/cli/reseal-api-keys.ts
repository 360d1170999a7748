// `hoga admin reseal-api-keys`: re-seals every API key secret under the current server key
// (docs/OPERATIONS.md "API key secrets"). Secrets sealed under the previous key are opened with it
// and sealed again; each row is replaced only if it still holds what was read, so a key created or
// revoked meanwhile is never overwritten. `--rotate` (default key file only) first moves
// `<dataDir>/api-key-secret.key` to `api-key-secret.key.previous` and generates a new key, and
// removes the previous file once every secret is under the new key. Like create-user it locks the
// embedded database's directories (refused while the exchange runs); with PostgreSQL it runs
// alongside the exchange, which opens both keys until it restarts with the new one.
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { type ExchangeConfig, loadConfig } from '../config.js';
import {
  generatedKeyFileName,
  generateKeyFile,
  loadSecretBox,
  previousKeyFileName,
  type SecretBox,
} from '../gateway/api-key-secrets.js';
import { isDirectoryLocked, lockDirectories } from '../journal/data-dir-lock.js';
import { lockedDirectories } from '../main.js';
import type { ApiKeyStore } from '../store/ports.js';
import { openStore } from '../store/store.js';

const pageSize = 500;

export interface ResealReport {
  resealed: number;
  alreadyCurrent: number;
  /** Sealed under a key neither current nor previous: left as they are (the keys stop working). */
  unreadable: string[];
  fingerprint: string;
}

export interface ResealFlags {
  dataDir?: string;
  databaseUrl?: string;
  rotate?: boolean;
}

/** Pages through every key (key id order) and re-seals what is not under the current key. */
export async function resealAll(store: ApiKeyStore, box: SecretBox): Promise<ResealReport> {
  const report: ResealReport = {
    resealed: 0,
    alreadyCurrent: 0,
    unreadable: [],
    fingerprint: box.fingerprint,
  };
  let after = '';
  for (;;) {
    const page = await store.apiKeySecretsAfter(after, pageSize);
    for (const { keyId, secretCiphertext } of page) {
      if (box.isCurrent(secretCiphertext)) {
        report.alreadyCurrent += 1;
        continue;
      }
      const secret = box.open(keyId, secretCiphertext);
      if (secret === undefined) {
        report.unreadable.push(keyId);
        continue;
      }
      if (await store.replaceApiKeySecret(keyId, secretCiphertext, box.seal(keyId, secret)))
        report.resealed += 1;
    }
    if (page.length < pageSize) return report;
    after = page[page.length - 1].keyId;
  }
}

function usesDefaultKeyFile(config: ExchangeConfig): boolean {
  const settings = config.apiKeySecretKey;
  return (
    settings.key === '' && settings.file === '' && settings.previousKey === '' && settings.previousFile === ''
  );
}

/** Moves the current default key file to `.previous` and writes a new one. */
function rotateKeyFile(dataDir: string): void {
  const current = join(dataDir, generatedKeyFileName);
  const previous = join(dataDir, previousKeyFileName);
  if (existsSync(previous))
    throw new Error(
      `${previous} exists: a rotation is unfinished; run reseal-api-keys without --rotate first`,
    );
  if (existsSync(current)) renameSync(current, previous);
  generateKeyFile(current);
}

export async function resealApiKeys(flags: ResealFlags): Promise<ResealReport> {
  const config = loadConfig({ dataDir: flags.dataDir, databaseUrl: flags.databaseUrl });
  if (flags.rotate === true && !usesDefaultKeyFile(config))
    throw new Error(
      '--rotate manages the default key file only; with HOGA_API_KEY_SECRET_KEY(_FILE) set the new key ' +
        'there and the old one in HOGA_API_KEY_PREVIOUS_SECRET_KEY(_FILE), then run without --rotate',
    );
  mkdirSync(config.dataDir, { recursive: true });
  const directories = config.databaseUrl === '' ? lockedDirectories(config) : [];
  const lock = await lockDirectories(directories, 'hoga admin reseal-api-keys').catch((error: unknown) => {
    throw isDirectoryLocked(error)
      ? new Error(`refused: ${error.message}. Stop the exchange first (embedded database)`)
      : error;
  });
  try {
    if (flags.rotate === true) rotateKeyFile(config.dataDir);
    const { box } = loadSecretBox(config.apiKeySecretKey, config.dataDir);
    const logger = pino({ name: 'hoga-admin', level: 'warn' });
    const store = await openStore({ databaseUrl: config.databaseUrl, dataDir: config.pgliteDir, logger });
    try {
      const report = await resealAll(store.apiKeys, box);
      const previous = join(config.dataDir, previousKeyFileName);
      if (flags.rotate === true && report.unreadable.length === 0 && existsSync(previous)) rmSync(previous);
      return report;
    } finally {
      await store.close();
    }
  } finally {
    await lock.release();
  }
}
