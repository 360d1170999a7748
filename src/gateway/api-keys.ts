// API keys (docs/API.md "API keys"): a user creates, lists and revokes them with a session; a
// program signs requests with one (api-key-auth.ts). Keys are not sessions: no session cap, and
// logout-all leaves them. Resolved keys are cached with their secret opened, and re-read from the
// store at most `recheckMs` later, so a key revoked by another process (a second gateway, a CLI)
// stops working within that time; a revoke here ends it at once and tells the listeners (open
// WebSockets of the key close).
import { randomBytes } from 'node:crypto';
import { BlockList, isIP } from 'node:net';
import type { ApiKeyPermission, ApiKeyRecord, ApiKeyStore } from '../store/ports.js';
import type { SecretBox } from './api-key-secrets.js';
import { GatewayError, notFound, validationError } from './errors.js';

export interface ApiKeyOptions {
  perUserMax: number;
  cacheEntriesMax: number;
  /** A cached key is re-read from the store when it was last read this long ago. */
  recheckMs: number;
}

export const apiKeyPermissions: readonly ApiKeyPermission[] = ['read', 'trade'];
export const labelLengthMax = 64;
export const ipAllowlistMax = 30;
/** 64 hex digits: what the gateway issues, and all `X-MBX-APIKEY` may look like. */
export const keyIdPattern = /^[0-9a-f]{64}$/;

export interface CreateApiKeyRequest {
  label: string;
  permissions?: ApiKeyPermission[];
  ipAllowlist?: string[];
}

/** What a user sees of a key: never the secret (it is shown once, in the creation reply). */
export interface ApiKeyView {
  keyId: string;
  label: string;
  permissions: ApiKeyPermission[];
  ipAllowlist: string[];
  createdAtMs: number;
}

/** A key ready to check a request: its secret in clear, in memory only. */
export interface ResolvedApiKey {
  keyId: string;
  userId: number;
  permissions: ReadonlySet<ApiKeyPermission>;
  /** Undefined: any address. */
  allows: ((ip: string) => boolean) | undefined;
  secret: Buffer;
  readAtMs: number;
}

export type ApiKeyRevokedListener = (keyId: string, userId: number) => void;

export function viewOf(record: ApiKeyRecord): ApiKeyView {
  return {
    keyId: record.keyId,
    label: record.label,
    permissions: record.permissions,
    ipAllowlist: record.ipAllowlist,
    createdAtMs: record.createdAtMs,
  };
}

/** `::ffff:1.2.3.4` (an IPv4 client on a dual-stack socket) as the IPv4 address it is. */
export function plainAddress(ip: string): string {
  return ip.startsWith('::ffff:') && isIP(ip.slice(7)) === 4 ? ip.slice(7) : ip;
}

/** An address or a CIDR range, checked; undefined when it is neither. */
function addEntry(list: BlockList, entry: string): boolean {
  const slash = entry.indexOf('/');
  const address = slash < 0 ? entry : entry.slice(0, slash);
  const family = isIP(address);
  if (family === 0) return false;
  const type = family === 4 ? 'ipv4' : 'ipv6';
  if (slash < 0) {
    list.addAddress(address, type);
    return true;
  }
  const prefixText = entry.slice(slash + 1);
  const prefix = Number(prefixText);
  if (!/^[0-9]{1,3}$/.test(prefixText) || prefix > (family === 4 ? 32 : 128)) return false;
  list.addSubnet(address, prefix, type);
  return true;
}

export function checkIpAllowlist(entries: readonly string[]): void {
  if (entries.length > ipAllowlistMax)
    throw validationError('ipAllowlist', `may hold at most ${ipAllowlistMax} addresses or ranges`);
  const list = new BlockList();
  for (const entry of entries) {
    if (!addEntry(list, entry))
      throw validationError('ipAllowlist', `${JSON.stringify(entry)} is not an IP address or CIDR range`);
  }
}

function allowsOf(entries: readonly string[]): ((ip: string) => boolean) | undefined {
  if (entries.length === 0) return undefined;
  const list = new BlockList();
  for (const entry of entries) addEntry(list, entry);
  return (ip) => {
    const address = plainAddress(ip);
    const family = isIP(address);
    return family !== 0 && list.check(address, family === 4 ? 'ipv4' : 'ipv6');
  };
}

function hasControlCharacter(text: string): boolean {
  for (let index = 0; index < text.length; index += 1) {
    const code = text.charCodeAt(index);
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}

function checkCreate(request: CreateApiKeyRequest): {
  permissions: ApiKeyPermission[];
  ipAllowlist: string[];
} {
  const label = request.label;
  if (label.length === 0 || label.length > labelLengthMax || hasControlCharacter(label))
    throw validationError('label', `must be 1 to ${labelLengthMax} characters without control characters`);
  const permissions = request.permissions ?? ['read'];
  if (permissions.length === 0 || permissions.some((permission) => !apiKeyPermissions.includes(permission)))
    throw validationError('permissions', `must be a non-empty list of ${apiKeyPermissions.join(', ')}`);
  const ipAllowlist = [...new Set(request.ipAllowlist ?? [])];
  checkIpAllowlist(ipAllowlist);
  // Stored in one canonical order, so a list reads the same whichever order it was asked in.
  return { permissions: apiKeyPermissions.filter((known) => permissions.includes(known)), ipAllowlist };
}

export class ApiKeyService {
  private readonly cache = new Map<string, ResolvedApiKey>();
  private readonly revokedListeners: ApiKeyRevokedListener[] = [];

  constructor(
    private readonly store: ApiKeyStore,
    private readonly box: SecretBox,
    private readonly options: ApiKeyOptions,
    private readonly clock: () => number,
  ) {}

  onRevoked(listener: ApiKeyRevokedListener): void {
    this.revokedListeners.push(listener);
  }

  /** A new key; the reply is the only time its secret is ever shown. */
  async create(userId: number, request: CreateApiKeyRequest): Promise<ApiKeyView & { secret: string }> {
    const { permissions, ipAllowlist } = checkCreate(request);
    const keyId = randomBytes(32).toString('hex');
    const secret = randomBytes(32).toString('hex');
    const record: ApiKeyRecord = {
      keyId,
      userId,
      label: request.label,
      permissions,
      ipAllowlist,
      secretCiphertext: this.box.seal(keyId, secret),
      createdAtMs: this.clock(),
    };
    if (!(await this.store.createApiKey(record, this.options.perUserMax)))
      throw new GatewayError(
        'API_KEY_LIMIT',
        `a user may hold at most ${this.options.perUserMax} API keys: revoke one first`,
      );
    return { ...viewOf(record), secret };
  }

  async list(userId: number): Promise<ApiKeyView[]> {
    return (await this.store.listApiKeys(userId)).map(viewOf);
  }

  /** Only the caller's own keys: another user's key id is simply not found. */
  async revoke(userId: number, keyId: string): Promise<void> {
    if (!keyIdPattern.test(keyId) || !(await this.store.deleteApiKey(userId, keyId)))
      throw notFound('API key');
    this.forget(keyId, userId);
  }

  /**
   * The key for an `X-MBX-APIKEY` value, or undefined (unknown, revoked, or sealed under a server
   * key this process does not hold: the log says so once per read).
   */
  async resolve(keyId: string): Promise<ResolvedApiKey | undefined> {
    const cached = this.cache.get(keyId);
    const nowMs = this.clock();
    if (cached !== undefined && nowMs - cached.readAtMs < this.options.recheckMs) return cached;
    const record = await this.store.findApiKey(keyId);
    if (record === undefined) {
      if (cached !== undefined) this.forget(keyId, cached.userId);
      return undefined;
    }
    const secret = this.box.open(record.keyId, record.secretCiphertext);
    if (secret === undefined) {
      this.cache.delete(keyId);
      throw new GatewayError(
        'INTERNAL',
        'an API key secret could not be opened with the configured server key',
      );
    }
    const resolved: ResolvedApiKey = {
      keyId,
      userId: record.userId,
      permissions: new Set(record.permissions),
      allows: allowsOf(record.ipAllowlist),
      secret: Buffer.from(secret),
      readAtMs: nowMs,
    };
    this.remember(resolved);
    return resolved;
  }

  private remember(key: ResolvedApiKey): void {
    this.cache.delete(key.keyId);
    if (this.cache.size >= this.options.cacheEntriesMax) {
      const oldest = this.cache.keys().next().value;
      if (oldest !== undefined) this.cache.delete(oldest);
    }
    this.cache.set(key.keyId, key);
  }

  private forget(keyId: string, userId: number): void {
    this.cache.delete(keyId);
    for (const listener of this.revokedListeners) listener(keyId, userId);
  }
}
