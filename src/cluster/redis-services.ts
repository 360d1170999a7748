// The gateway's shared services on Redis (cluster mode): two connections, one for commands and one
// subscribed to session events. Commands never queue while Redis is away (`enableOfflineQueue`
// off) and time out after `commandTimeoutMs`, so a request fails at once with SERVICE_UNAVAILABLE
// instead of waiting; the clients keep reconnecting in the background.
import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from 'pino';
import { composedAdmission, inProcessServices, type SharedServices } from '../gateway/shared-services.js';
import { type RedisSettings, redisSettingsFromEnvironment } from './redis-config.js';
import {
  defineLimitScripts,
  RedisAbnormalTraffic,
  RedisOrderAdmission,
  RedisRateLimiter,
} from './redis-limits.js';
import { RedisSignatureReplay } from './redis-replay.js';
import { RedisSessionEvents, RedisTrustedDevices, RedisUserLocks } from './redis-sessions.js';

/** Reconnect delay: quick at first, at most a second between attempts. */
function reconnectDelayMs(attempt: number): number {
  return Math.min(1_000, attempt * 50);
}

function clientOptions(settings: RedisSettings): RedisOptions {
  return {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: settings.commandTimeoutMs,
    connectTimeout: settings.connectTimeoutMs,
    autoResubscribe: false,
    retryStrategy: reconnectDelayMs,
  };
}

export interface RedisServices extends SharedServices {
  /** The command connection (benchmarks read `INFO cpu` through it). */
  readonly redis: Redis;
  /** The connection subscribed to session events. */
  readonly subscriber: Redis;
}

/** Connects both clients (rejects when Redis cannot be reached within the connect timeout). */
export async function openRedisServices(settings: RedisSettings, logger: Logger): Promise<RedisServices> {
  const log = logger.child({ component: 'redis' });
  const redis = new Redis(settings.url, clientOptions(settings));
  const subscriber = new Redis(settings.url, clientOptions(settings));
  for (const [name, client] of [
    ['commands', redis],
    ['subscriber', subscriber],
  ] as const) {
    // Without a listener an error event would throw; the state changes are what matters.
    client.on('error', (error: Error) =>
      log.warn({ err: error, connection: name }, 'redis connection error'),
    );
  }
  try {
    await Promise.all([redis.connect(), subscriber.connect()]);
  } catch (error) {
    redis.disconnect();
    subscriber.disconnect();
    throw new Error(`cannot reach Redis at ${redactedUrl(settings.url)}: ${(error as Error).message}`);
  }
  defineLimitScripts(redis);
  const sessionEvents = new RedisSessionEvents(redis, subscriber, settings.prefix, log);
  await sessionEvents.start();
  return {
    redis,
    subscriber,
    rateLimiter: (name, options, clock) => new RedisRateLimiter(redis, settings.prefix, name, options, clock),
    abnormalTraffic: (options, clock) =>
      new RedisAbnormalTraffic(redis, settings.prefix, options, clock, log),
    // Both on Redis (as buildGateway makes them): one script; anything else composes the checks.
    orderAdmission: (orders, abnormal) =>
      orders instanceof RedisRateLimiter && abnormal instanceof RedisAbnormalTraffic
        ? new RedisOrderAdmission(redis, orders, abnormal)
        : composedAdmission(orders, abnormal),
    trustedDevices: (options, clock) =>
      new RedisTrustedDevices(redis, settings.prefix, options.deviceMaxAgeMs, clock),
    sessionEvents,
    userLocks: new RedisUserLocks(redis, settings.prefix, settings.lockTtlMs, settings.lockWaitMs),
    signatureReplay: () => new RedisSignatureReplay(redis, settings.prefix),
    async close() {
      sessionEvents.stop();
      subscriber.disconnect();
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}

/**
 * What a gateway process passes to `buildGateway({ shared })`: the Redis services when
 * HOGA_REDIS_URL is set, else the in-process ones (a malformed setting throws, naming it).
 */
export async function sharedServicesFromEnvironment(
  environment: Record<string, string | undefined>,
  logger: Logger,
): Promise<SharedServices> {
  const settings = redisSettingsFromEnvironment(environment);
  if (settings === undefined) return inProcessServices();
  const services = await openRedisServices(settings, logger);
  logger.info(
    { url: redactedUrl(settings.url), prefix: settings.prefix },
    'sessions and limits shared on Redis',
  );
  return services;
}

/** The URL without its password, for messages and logs. */
export function redactedUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'redis://(unparseable)';
  }
}
