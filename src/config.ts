// Configuration of the whole exchange from command-line flags and the environment (flags win).
// Every setting has a default that works on a fresh clone; docs/CONFIGURATION.md lists them all.
// This is the one place that reads the exchange's settings: every number and switch goes through
// the parsers below, which refuse a malformed value naming the variable instead of guessing.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ApiKeySecretKeySettings } from './gateway/api-key-secrets.js';
import { type CookieSecureMode, defaultGatewayConfig, type GatewayConfig } from './gateway/config.js';

export type FsyncPolicy = 'always' | 'batch' | 'none';

export interface ExchangeConfig {
  host: string;
  port: number;
  dataDir: string;
  /** PostgreSQL read model; empty means embedded PGlite under `<dataDir>/pglite`. */
  databaseUrl: string;
  /** PGlite directory (`memory://` keeps it in memory: tests). */
  pgliteDir: string;
  fsyncPolicy: FsyncPolicy;
  /** fdatasync on the event loop while the last such one took at most this (µs); 0: always the libuv pool. */
  fsyncInlineUsMax: number;
  /** A snapshot (engine plus the listeners' derived state) after this many commands; 0: never by count. */
  snapshotEveryCommands: number;
  /** A snapshot when this long has passed since the last one and commands were applied; 0: never by time. */
  snapshotEveryMs: number;
  /**
   * Keep every journal segment (default). False removes segments older than the second newest
   * snapshot: `journal export`, `db rebuild` and the read model's catch-up then lose history.
   */
  retainSegments: boolean;
  /**
   * `--accept-data-loss` only (no environment variable, so it never outlives the start it was
   * meant for): start although acknowledged commands are missing from the journal.
   */
  acceptDataLoss: boolean;
  /** How long SIGTERM/SIGINT wait for the shutdown snapshot before stopping without it. */
  shutdownSnapshotTimeoutMs: number;
  logLevel: string;
  adminUser: string;
  adminPassword: string;
  /** Milliseconds between pushes of tickers and in-progress candles. */
  marketDataFlushMs: number;
  /** Linux nice value (0-19) of the read-model thread, so order intake wins a contended CPU. */
  readModelNiceness: number;
  /** `idle`: SCHED_IDLE while the projection keeps up (Linux, when it can be undone); `nice`: never. */
  readModelScheduling: 'idle' | 'nice';
  /** PGlite only: how often the read-model thread vacuums and analyzes its tables; 0 never. */
  pgliteVacuumEveryMs: number;
  /** The built trading UI (Vite output), served at `/`. */
  webDistDir: string;
  /** Binance-compatible API: request weight each IP may spend per minute (docs/BINANCE.md). */
  binanceWeightPerMinute: number;
  /** Start the demo bots (docs/UI.md "Demo mode"). */
  demo: boolean;
  /** External quote feed (src/marketdata/feeds/from-spec.ts); empty: none. */
  quoteFeed: string;
  gateway: GatewayConfig;
  /** The server key API key secrets are sealed with (src/gateway/api-key-secrets.ts). */
  apiKeySecretKey: ApiKeySecretKeySettings;
}

/** Flags as `hoga start` parses them (all optional; strings as typed). */
export interface ExchangeFlags {
  host?: string;
  port?: string;
  dataDir?: string;
  databaseUrl?: string;
  fsync?: string;
  snapshotEveryCommands?: string;
  snapshotEveryMs?: string;
  pruneSegments?: boolean;
  acceptDataLoss?: boolean;
  logLevel?: string;
  demo?: boolean;
  quoteFeed?: string;
}

type Environment = Record<string, string | undefined>;

/** Plain decimal digits only: `Number` would also take " 5", "0x10", "1e3" and "5.0". */
const integerPattern = /^[0-9]+$/;
const numberPattern = /^[0-9]+(?:\.[0-9]+)?$/;

export function integer(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined || value === '') return fallback;
  const parsed = Number(value);
  if (!integerPattern.test(value) || !Number.isSafeInteger(parsed))
    throw new Error(`${name} must be a non-negative integer, got ${JSON.stringify(value)}`);
  return parsed;
}

/** Thread priorities above the default need privileges; lowering to 19 needs none. */
function niceness(value: string | undefined): number {
  const parsed = integer(value, 10, 'HOGA_READ_MODEL_NICENESS');
  if (parsed > 19) throw new Error(`HOGA_READ_MODEL_NICENESS must be 0 to 19, got ${value}`);
  return parsed;
}

function scheduling(value: string | undefined): 'idle' | 'nice' {
  if (value === undefined || value === '' || value === 'idle') return 'idle';
  if (value === 'nice') return 'nice';
  throw new Error(`HOGA_READ_MODEL_SCHEDULING must be idle or nice, got ${value}`);
}

function positiveNumber(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined || value === '') return fallback;
  const parsed = Number(value);
  if (!numberPattern.test(value) || !Number.isFinite(parsed) || parsed <= 0)
    throw new Error(`${name} must be a positive number such as 5 or 0.5, got ${JSON.stringify(value)}`);
  return parsed;
}

function fsyncPolicy(value: string | undefined): FsyncPolicy {
  const policy = value ?? 'always';
  if (policy !== 'always' && policy !== 'batch' && policy !== 'none') {
    throw new Error(`HOGA_FSYNC (or --fsync) must be always, batch or none, got ${policy}`);
  }
  return policy;
}

const trueWords = new Set(['1', 'true', 'yes']);
const falseWords = new Set(['0', 'false', 'no']);

/**
 * A switch: `1`, `true`, `yes` or `0`, `false`, `no` (any letter case); unset or empty is the
 * default. Anything else (`on`, `y`, ` 1`) is refused rather than guessed, so a switch an operator
 * meant to turn on is never silently off.
 */
function booleanSetting(value: string | undefined, fallback: boolean, name: string): boolean {
  if (value === undefined || value === '') return fallback;
  const word = value.toLowerCase();
  if (trueWords.has(word)) return true;
  if (falseWords.has(word)) return false;
  throw new Error(`${name} must be 1, true, yes, 0, false or no, got ${JSON.stringify(value)}`);
}

function cookieSecure(value: string | undefined): CookieSecureMode {
  if (value === undefined || value === '') return 'true';
  if (value === 'auto' || value === 'true' || value === 'false') return value;
  throw new Error(`HOGA_COOKIE_SECURE must be auto, true or false, got ${value}`);
}

/** `scheme://host[:port]` exactly as a browser sends it in `Origin` (no path, no trailing slash). */
function allowedOrigins(value: string | undefined): string[] {
  if (value === undefined || value.trim() === '') return [];
  return value.split(',').map((entry) => {
    const origin = entry.trim();
    let parsed: URL;
    try {
      parsed = new URL(origin);
    } catch {
      throw new Error(`HOGA_ALLOWED_ORIGINS: ${origin} is not an origin like https://exchange.example.com`);
    }
    if (parsed.origin !== origin)
      throw new Error(
        `HOGA_ALLOWED_ORIGINS: write ${origin} as ${parsed.origin} (scheme://host[:port] only)`,
      );
    return origin;
  });
}

function connectionsFromEnvironment(config: GatewayConfig, environment: Environment): void {
  const connections = config.connections;
  const settings: Array<[keyof typeof connections, string]> = [
    ['perIpMax', 'HOGA_CONNECTIONS_PER_IP_MAX'],
    ['totalMax', 'HOGA_CONNECTIONS_MAX'],
    ['headersTimeoutMs', 'HOGA_HEADERS_TIMEOUT_MS'],
    ['requestTimeoutMs', 'HOGA_REQUEST_TIMEOUT_MS'],
    ['keepAliveTimeoutMs', 'HOGA_KEEP_ALIVE_TIMEOUT_MS'],
    ['idleTimeoutMs', 'HOGA_CONNECTION_IDLE_TIMEOUT_MS'],
  ];
  for (const [key, name] of settings) {
    connections[key] = positiveNumber(environment[name], connections[key], name);
    if (!Number.isSafeInteger(connections[key])) throw new Error(`${name} must be an integer`);
  }
  // Node refuses a headers timeout above the request timeout; say which setting to change instead.
  if (connections.headersTimeoutMs > connections.requestTimeoutMs)
    throw new Error('HOGA_HEADERS_TIMEOUT_MS must not exceed HOGA_REQUEST_TIMEOUT_MS');
}

/** The most orders one user can place in one abnormal-traffic window under the order rate limit. */
export function ordersPerWindowMax(config: GatewayConfig): number {
  const bucket = config.limits.ordersPerUser;
  return Math.floor(bucket.burst + (bucket.ratePerSecond * config.abnormal.windowMs) / 1000);
}

/** A floor no user can pass would make the abnormal-traffic order trigger dead code. */
function checkAbnormalReachable(config: GatewayConfig): void {
  const reachable = ordersPerWindowMax(config);
  if (config.abnormal.ordersPerWindowFloor >= reachable)
    throw new Error(
      `HOGA_ABNORMAL_ORDERS_FLOOR (${config.abnormal.ordersPerWindowFloor}) must be below ${reachable}, ` +
        'the most orders a user can place in one second under HOGA_ORDERS_PER_SECOND and HOGA_ORDERS_BURST',
    );
}

function gatewayFromEnvironment(environment: Environment): GatewayConfig {
  const config = defaultGatewayConfig();
  const sessions = config.sessions;
  sessions.idleTimeoutMs = integer(
    environment.HOGA_SESSION_IDLE_MS,
    sessions.idleTimeoutMs,
    'HOGA_SESSION_IDLE_MS',
  );
  // Below a second the last-seen bookkeeping (a quarter of the idle timeout) would write on every request.
  if (sessions.idleTimeoutMs < 1_000) throw new Error('HOGA_SESSION_IDLE_MS must be at least 1000');
  sessions.absoluteTimeoutMs = integer(
    environment.HOGA_SESSION_ABSOLUTE_MS,
    sessions.absoluteTimeoutMs,
    'HOGA_SESSION_ABSOLUTE_MS',
  );
  sessions.sessionsPerUserMax = integer(
    environment.HOGA_SESSIONS_PER_USER_MAX,
    sessions.sessionsPerUserMax,
    'HOGA_SESSIONS_PER_USER_MAX',
  );
  const cost = config.passwords.cost;
  cost.costLog2 = integer(environment.HOGA_SCRYPT_COST_LOG2, cost.costLog2, 'HOGA_SCRYPT_COST_LOG2');
  const limits = config.limits;
  const buckets: Array<[keyof typeof limits, string]> = [
    ['ordersPerUser', 'HOGA_ORDERS'],
    ['requestsPerIp', 'HOGA_REQUESTS_PER_IP'],
    ['loginsPerIp', 'HOGA_LOGINS_PER_IP'],
  ];
  for (const [name, prefix] of buckets) {
    const bucket = limits[name];
    const rateName = `${prefix}_PER_SECOND`;
    bucket.ratePerSecond = positiveNumber(environment[rateName], bucket.ratePerSecond, rateName);
    bucket.burst = positiveNumber(environment[`${prefix}_BURST`], bucket.burst, `${prefix}_BURST`);
  }
  const abnormal = config.abnormal;
  abnormal.suspensionMs = integer(
    environment.HOGA_SUSPENSION_MS,
    abnormal.suspensionMs,
    'HOGA_SUSPENSION_MS',
  );
  abnormal.multiple = positiveNumber(
    environment.HOGA_ABNORMAL_MULTIPLE,
    abnormal.multiple,
    'HOGA_ABNORMAL_MULTIPLE',
  );
  // Unset, the floor follows the order burst: a user who spends a whole burst within one window
  // (possible only from a quiet start) is abnormal, whatever the order limit is set to.
  abnormal.ordersPerWindowFloor = integer(
    environment.HOGA_ABNORMAL_ORDERS_FLOOR,
    Math.floor(limits.ordersPerUser.burst),
    'HOGA_ABNORMAL_ORDERS_FLOOR',
  );
  abnormal.rejectsPerWindowFloor = integer(
    environment.HOGA_ABNORMAL_REJECTS_FLOOR,
    abnormal.rejectsPerWindowFloor,
    'HOGA_ABNORMAL_REJECTS_FLOOR',
  );
  config.trustProxy = booleanSetting(environment.HOGA_TRUST_PROXY, false, 'HOGA_TRUST_PROXY');
  checkAbnormalReachable(config);
  config.origins.cookieSecure = cookieSecure(environment.HOGA_COOKIE_SECURE);
  config.origins.allowedOrigins = allowedOrigins(environment.HOGA_ALLOWED_ORIGINS);
  connectionsFromEnvironment(config, environment);
  config.logRequests = booleanSetting(environment.HOGA_LOG_REQUESTS, config.logRequests, 'HOGA_LOG_REQUESTS');
  config.apiKeys.perUserMax = integer(
    environment.HOGA_API_KEYS_PER_USER_MAX,
    config.apiKeys.perUserMax,
    'HOGA_API_KEYS_PER_USER_MAX',
  );
  if (config.apiKeys.perUserMax < 1) throw new Error('HOGA_API_KEYS_PER_USER_MAX must be at least 1');
  return config;
}

export function loadConfig(
  flags: ExchangeFlags = {},
  environment: Environment = process.env,
): ExchangeConfig {
  const dataDir = flags.dataDir ?? environment.HOGA_DATA_DIR ?? './data';
  return {
    host: flags.host ?? environment.HOGA_HOST ?? '0.0.0.0',
    port: integer(
      flags.port ?? environment.HOGA_PORT,
      8080,
      flags.port === undefined ? 'HOGA_PORT' : '--port',
    ),
    dataDir,
    databaseUrl: flags.databaseUrl ?? environment.DATABASE_URL ?? '',
    pgliteDir: environment.HOGA_PGLITE_DIR ?? join(dataDir, 'pglite'),
    fsyncPolicy: fsyncPolicy(flags.fsync ?? environment.HOGA_FSYNC),
    fsyncInlineUsMax: integer(environment.HOGA_FSYNC_INLINE_US_MAX, 1_000, 'HOGA_FSYNC_INLINE_US_MAX'),
    snapshotEveryCommands: integer(
      flags.snapshotEveryCommands ?? environment.HOGA_SNAPSHOT_EVERY_COMMANDS,
      1_000_000,
      'HOGA_SNAPSHOT_EVERY_COMMANDS',
    ),
    snapshotEveryMs: integer(
      flags.snapshotEveryMs ?? environment.HOGA_SNAPSHOT_EVERY_MS,
      10 * 60_000,
      'HOGA_SNAPSHOT_EVERY_MS',
    ),
    retainSegments:
      flags.pruneSegments === true
        ? false
        : booleanSetting(environment.HOGA_RETAIN_SEGMENTS, true, 'HOGA_RETAIN_SEGMENTS'),
    acceptDataLoss: flags.acceptDataLoss === true,
    shutdownSnapshotTimeoutMs: integer(
      environment.HOGA_SHUTDOWN_SNAPSHOT_TIMEOUT_MS,
      30_000,
      'HOGA_SHUTDOWN_SNAPSHOT_TIMEOUT_MS',
    ),
    logLevel: flags.logLevel ?? environment.HOGA_LOG_LEVEL ?? 'info',
    adminUser: environment.HOGA_ADMIN_USER ?? '',
    adminPassword: environment.HOGA_ADMIN_PASSWORD ?? '',
    marketDataFlushMs: integer(environment.HOGA_MARKETDATA_FLUSH_MS, 100, 'HOGA_MARKETDATA_FLUSH_MS'),
    readModelNiceness: niceness(environment.HOGA_READ_MODEL_NICENESS),
    readModelScheduling: scheduling(environment.HOGA_READ_MODEL_SCHEDULING),
    pgliteVacuumEveryMs: integer(
      environment.HOGA_PGLITE_VACUUM_EVERY_MS,
      60 * 60_000,
      'HOGA_PGLITE_VACUUM_EVERY_MS',
    ),
    webDistDir: environment.HOGA_WEB_DIST ?? fileURLToPath(new URL('../../web/dist', import.meta.url)),
    binanceWeightPerMinute: integer(
      environment.HOGA_BINANCE_WEIGHT_PER_MINUTE,
      6_000,
      'HOGA_BINANCE_WEIGHT_PER_MINUTE',
    ),
    demo: flags.demo === true || booleanSetting(environment.HOGA_DEMO, false, 'HOGA_DEMO'),
    quoteFeed: flags.quoteFeed ?? environment.HOGA_QUOTE_FEED ?? '',
    gateway: gatewayFromEnvironment(environment),
    apiKeySecretKey: {
      key: environment.HOGA_API_KEY_SECRET_KEY ?? '',
      file: environment.HOGA_API_KEY_SECRET_KEY_FILE ?? '',
      previousKey: environment.HOGA_API_KEY_PREVIOUS_SECRET_KEY ?? '',
      previousFile: environment.HOGA_API_KEY_PREVIOUS_SECRET_KEY_FILE ?? '',
    },
  };
}
