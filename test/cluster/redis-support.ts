// Helpers for tests on the machine's Redis (127.0.0.1:6379, or HOGA_TEST_REDIS_URL): settings under
// a prefix unique to the run, and removal of every key under it afterwards.
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { defaultRedisSettings, type RedisSettings } from '../../src/cluster/redis-config.js';

export const testRedisUrl = process.env.HOGA_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export function testRedisSettings(prefix: string, url = testRedisUrl): RedisSettings {
  return { ...defaultRedisSettings, url, prefix };
}

export function uniquePrefix(): string {
  return `hoga-test:${process.pid}-${randomBytes(4).toString('hex')}:`;
}

/** Deletes every key under the prefix (SCAN, never KEYS: the Redis is shared with others). */
export async function removeKeys(redis: Redis, prefix: string): Promise<number> {
  let cursor = '0';
  let removed = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
    cursor = next;
    if (keys.length > 0) removed += await redis.del(...keys);
  } while (cursor !== '0');
  return removed;
}
