// API key secrets at rest: AES-256-GCM under a server key, so a copy of the database alone does
// not let anyone sign requests. A ciphertext names (by fingerprint) the key that sealed it, and its
// key id is authenticated data, so a ciphertext moved to another key's row does not open. Rotation
// (docs/OPERATIONS.md "API key secrets"): the new key becomes current, the old one `previous` (still
// opens, never seals), and `hoga admin reseal-api-keys` re-seals every secret under the current key.
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const keyBytes = 32;
const ivBytes = 12;
const format = 'v1';

/** Where the server key comes from (src/config.ts fills it from the environment). */
export interface ApiKeySecretKeySettings {
  /** HOGA_API_KEY_SECRET_KEY: 64 hex digits or base64 of 32 bytes; empty: see `file`. */
  key: string;
  /** HOGA_API_KEY_SECRET_KEY_FILE; empty: `<dataDir>/api-key-secret.key`, generated when missing. */
  file: string;
  /** HOGA_API_KEY_PREVIOUS_SECRET_KEY(_FILE): the key being rotated out (opens, never seals). */
  previousKey: string;
  previousFile: string;
}

export function defaultApiKeySecretKeySettings(): ApiKeySecretKeySettings {
  return { key: '', file: '', previousKey: '', previousFile: '' };
}

export const generatedKeyFileName = 'api-key-secret.key';
export const previousKeyFileName = 'api-key-secret.key.previous';

/** 64 hex digits or base64 (either alphabet) of exactly 32 bytes; anything else is refused. */
export function parseSecretKey(text: string, name: string): Buffer {
  const trimmed = text.trim();
  const bytes = /^[0-9a-fA-F]{64}$/.test(trimmed)
    ? Buffer.from(trimmed, 'hex')
    : /^[A-Za-z0-9+/_-]{43}=?$/.test(trimmed)
      ? Buffer.from(trimmed, trimmed.includes('-') || trimmed.includes('_') ? 'base64url' : 'base64')
      : undefined;
  if (bytes === undefined || bytes.length !== keyBytes)
    throw new Error(`${name} must be 32 bytes as 64 hex digits or base64 (e.g. \`openssl rand -hex 32\`)`);
  return bytes;
}

function fingerprintOf(key: Buffer): string {
  return createHash('sha256').update('hoga api key secret key\n').update(key).digest('hex').slice(0, 16);
}

/** What a loaded key set says about itself (for the log: never the key). */
export interface SecretKeySource {
  current: string;
  previous?: string;
  generated: boolean;
}

export class SecretBox {
  private readonly currentFingerprint: string;
  private readonly keys = new Map<string, Buffer>();

  constructor(current: Buffer, previous?: Buffer) {
    this.currentFingerprint = fingerprintOf(current);
    this.keys.set(this.currentFingerprint, current);
    if (previous !== undefined) this.keys.set(fingerprintOf(previous), previous);
  }

  get fingerprint(): string {
    return this.currentFingerprint;
  }

  seal(keyId: string, secret: string): string {
    const iv = randomBytes(ivBytes);
    const cipher = createCipheriv('aes-256-gcm', this.keys.get(this.currentFingerprint) as Buffer, iv);
    cipher.setAAD(Buffer.from(keyId));
    const body = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
    const tag = cipher.getAuthTag();
    return [
      format,
      this.currentFingerprint,
      iv.toString('base64url'),
      tag.toString('base64url'),
      body.toString('base64url'),
    ].join('.');
  }

  /** The secret, or undefined when no known key opens it (wrong key, tampered, another row's). */
  open(keyId: string, sealed: string): string | undefined {
    const parts = sealed.split('.');
    if (parts.length !== 5 || parts[0] !== format) return undefined;
    const key = this.keys.get(parts[1]);
    if (key === undefined) return undefined;
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(parts[2], 'base64url'));
      decipher.setAAD(Buffer.from(keyId));
      decipher.setAuthTag(Buffer.from(parts[3], 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(parts[4], 'base64url')), decipher.final()]).toString(
        'utf8',
      );
    } catch {
      return undefined;
    }
  }

  /** True when the ciphertext is already sealed under the current key. */
  isCurrent(sealed: string): boolean {
    return sealed.split('.')[1] === this.currentFingerprint;
  }
}

function readKeyFile(path: string, name: string): Buffer {
  return parseSecretKey(readFileSync(path, 'utf8'), `${name} (${path})`);
}

/** Writes a fresh key readable by the owner only; `wx` never overwrites a key another process wrote. */
export function generateKeyFile(path: string): void {
  writeFileSync(path, `${randomBytes(keyBytes).toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
  chmodSync(path, 0o600);
}

/** True when the file can be read by anyone but its owner (the log warns). */
export function keyFileTooOpen(path: string): boolean {
  return (statSync(path).mode & 0o077) !== 0;
}

/**
 * The server key set: the configured key, else the configured file, else `<dataDir>/api-key-secret.key`
 * (created with mode 0600 when missing: embedded deployments need no setup). The previous key is
 * optional; in the default-file mode `<dataDir>/api-key-secret.key.previous` is used when it exists.
 */
export function loadSecretBox(
  settings: ApiKeySecretKeySettings,
  dataDir: string,
): { box: SecretBox; source: SecretKeySource; files: string[] } {
  let current: Buffer;
  let generated = false;
  const files: string[] = [];
  let currentSource: string;
  if (settings.key !== '') {
    current = parseSecretKey(settings.key, 'HOGA_API_KEY_SECRET_KEY');
    currentSource = 'HOGA_API_KEY_SECRET_KEY';
  } else {
    const path = settings.file !== '' ? settings.file : join(dataDir, generatedKeyFileName);
    if (settings.file === '' && !existsSync(path)) {
      try {
        generateKeyFile(path);
        generated = true;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
    }
    current = readKeyFile(path, 'HOGA_API_KEY_SECRET_KEY_FILE');
    files.push(path);
    currentSource = path;
  }
  let previous: Buffer | undefined;
  let previousSource: string | undefined;
  if (settings.previousKey !== '') {
    previous = parseSecretKey(settings.previousKey, 'HOGA_API_KEY_PREVIOUS_SECRET_KEY');
    previousSource = 'HOGA_API_KEY_PREVIOUS_SECRET_KEY';
  } else {
    const defaultPrevious =
      settings.key === '' && settings.file === '' ? join(dataDir, previousKeyFileName) : '';
    const path = settings.previousFile !== '' ? settings.previousFile : defaultPrevious;
    if (path !== '' && (settings.previousFile !== '' || existsSync(path))) {
      previous = readKeyFile(path, 'HOGA_API_KEY_PREVIOUS_SECRET_KEY_FILE');
      files.push(path);
      previousSource = path;
    }
  }
  return {
    box: new SecretBox(current, previous),
    source: { current: currentSource, previous: previousSource, generated },
    files,
  };
}

/**
 * Log fields pino censors, whoever logs them: an API key's secret, the server key settings, and
 * the API key header should a request's headers ever be logged.
 */
export const secretLogRedaction = {
  paths: [
    'secret',
    '*.secret',
    'apiKeySecretKey',
    '*.apiKeySecretKey',
    'headers["x-mbx-apikey"]',
    'req.headers["x-mbx-apikey"]',
    'req.headers.authorization',
  ],
  censor: '[redacted]',
};
