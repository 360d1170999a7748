// Settings of the Redis that cluster-mode gateways share (docs/CONFIGURATION.md "Cluster: Redis"),
// read from the environment and refused with the variable's name when malformed, like src/config.ts.
import { integer } from '../config.js';

export interface RedisSettings {
  /** redis://[user:password@]host[:port][/db] or rediss:// (TLS). */
  url: string;
  /** Every key and channel starts with it, so several exchanges (or test runs) can share one Redis. */
  prefix: string;
  /** A command without a reply after this long fails (the request gets SERVICE_UNAVAILABLE). */
  commandTimeoutMs: number;
  connectTimeoutMs: number;
  /** A per-user lock expires after this long even if its holder died. */
  lockTtlMs: number;
  /** How long a login waits for the user's lock before SERVICE_UNAVAILABLE. */
  lockWaitMs: number;
}

type Environment = Record<string, string | undefined>;

export const defaultRedisSettings: Omit<RedisSettings, 'url'> = {
  prefix: 'hoga:',
  commandTimeoutMs: 1_000,
  connectTimeoutMs: 5_000,
  lockTtlMs: 10_000,
  lockWaitMs: 5_000,
};

const prefixPattern = /^[A-Za-z0-9:_.-]{0,64}$/;

function positiveInteger(environment: Environment, name: string, fallback: number): number {
  const value = integer(environment[name], fallback, name);
  if (value < 1) throw new Error(`${name} must be at least 1, got ${value}`);
  return value;
}

/** Undefined when HOGA_REDIS_URL is unset or empty: the gateway keeps its limits in-process. */
export function redisSettingsFromEnvironment(environment: Environment): RedisSettings | undefined {
  const url = environment.HOGA_REDIS_URL?.trim() ?? '';
  if (url === '') return undefined;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`HOGA_REDIS_URL must be a URL like redis://127.0.0.1:6379, got ${JSON.stringify(url)}`);
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:')
    throw new Error(`HOGA_REDIS_URL must start with redis:// or rediss://, got ${parsed.protocol}//`);
  const prefix = environment.HOGA_REDIS_PREFIX ?? defaultRedisSettings.prefix;
  if (!prefixPattern.test(prefix))
    throw new Error(
      `HOGA_REDIS_PREFIX must be at most 64 of A-Z a-z 0-9 : _ . -, got ${JSON.stringify(prefix)}`,
    );
  const settings: RedisSettings = {
    url,
    prefix,
    commandTimeoutMs: positiveInteger(
      environment,
      'HOGA_REDIS_COMMAND_TIMEOUT_MS',
      defaultRedisSettings.commandTimeoutMs,
    ),
    connectTimeoutMs: positiveInteger(
      environment,
      'HOGA_REDIS_CONNECT_TIMEOUT_MS',
      defaultRedisSettings.connectTimeoutMs,
    ),
    lockTtlMs: positiveInteger(environment, 'HOGA_REDIS_LOCK_TTL_MS', defaultRedisSettings.lockTtlMs),
    lockWaitMs: positiveInteger(environment, 'HOGA_REDIS_LOCK_WAIT_MS', defaultRedisSettings.lockWaitMs),
  };
  return settings;
}
