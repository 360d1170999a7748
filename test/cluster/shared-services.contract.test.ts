// The shared-services contract (shared-services.contract.ts) against the in-process adapters and
// against the Redis adapters on the machine's Redis (127.0.0.1:6379, or HOGA_TEST_REDIS_URL), two
// gateways' worth of clients under one prefix unique to the run; the keys are removed afterwards.
// Also: what only the Redis adapters have (key TTLs, refusing a malformed event, failing closed).
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { pino } from 'pino';
import { openRedisServices, type RedisServices } from '../../src/cluster/redis-services.js';
import { defaultGatewayConfig } from '../../src/gateway/config.js';
import { inProcessServices, LocalUserLocks } from '../../src/gateway/shared-services.js';
import { removeKeys, testRedisSettings, uniquePrefix } from './redis-support.js';
import { isServiceUnavailable, manualClock, sharedServicesContract } from './shared-services.contract.js';

const logger = pino({ level: process.env.HOGA_TEST_LOG ?? 'silent' });

sharedServicesContract('in-process', async () => ({ members: [inProcessServices()], close: async () => {} }));

sharedServicesContract('Redis', async () => {
  const prefix = uniquePrefix();
  const members = [
    await openRedisServices(testRedisSettings(prefix), logger),
    await openRedisServices(testRedisSettings(prefix), logger),
  ];
  return {
    members,
    async close() {
      await removeKeys(members[0].redis, prefix);
      for (const member of members) await member.close();
    },
  };
});

describe('Redis adapters', () => {
  const prefix = uniquePrefix();
  let services: RedisServices | undefined;
  async function open(): Promise<RedisServices> {
    services ??= await openRedisServices(testRedisSettings(prefix), logger);
    return services;
  }
  after(async () => {
    if (services === undefined) return;
    await removeKeys(services.redis, prefix);
    await services.close();
  });

  it('gives every key a TTL under the prefix: an idle bucket or band goes away on its own', async () => {
    const { redis, rateLimiter, abnormalTraffic } = await open();
    const clock = manualClock();
    await rateLimiter('ttl', { ratePerSecond: 10, burst: 20, bucketsMax: 1 }, clock.read).take('10.1.1.1');
    const options = defaultGatewayConfig().abnormal;
    await abnormalTraffic(options, clock.read).recordOrder(7);
    const bucketTtl = await redis.pttl(`${prefix}rl:ttl:10.1.1.1`);
    assert.ok(bucketTtl > 0 && bucketTtl <= 3_000, `bucket TTL ${bucketTtl}: refill time (2 s) + 1 s`);
    const bandTtl = await redis.pttl(`${prefix}abn:7`);
    assert.ok(bandTtl > 0 && bandTtl <= options.windowMs * 64 + options.suspensionMs, `band TTL ${bandTtl}`);
    await (await open()).signatureReplay(1, clock.read).admit('f'.repeat(64));
    const signatureTtl = await redis.pttl(`${prefix}sig:${'f'.repeat(64)}`);
    assert.ok(signatureTtl > 30_000 && signatureTtl <= 61_000, `signature TTL ${signatureTtl}: window + 1 s`);
  });

  it('ignores a malformed event on the channel and keeps delivering good ones', async () => {
    const member = await open();
    const other = await openRedisServices(testRedisSettings(prefix), logger);
    try {
      const received = new Promise((resolve) => member.sessionEvents.onEvent(resolve));
      await other.redis.publish(`${prefix}sessions`, '{"o":"x","u":1,"h":["not a hash"],"r":"logout"}');
      await other.redis.publish(`${prefix}sessions`, 'not json');
      const good = { userId: 5, tokenHashes: ['d'.repeat(64)], reason: 'revoked' as const };
      await other.sessionEvents.publish(good);
      assert.deepEqual(await received, good);
    } finally {
      await other.close();
    }
  });

  it('splits the end of many sessions into messages the receivers accept', async () => {
    const member = await open();
    const other = await openRedisServices(testRedisSettings(prefix), logger);
    try {
      const hashes = Array.from({ length: 2_500 }, (_, index) => index.toString(16).padStart(64, '0'));
      const received: string[] = [];
      const all = new Promise<void>((resolve) =>
        member.sessionEvents.onEvent((event) => {
          received.push(...event.tokenHashes);
          if (received.length >= hashes.length) resolve();
        }),
      );
      await other.sessionEvents.publish({ userId: 9, tokenHashes: hashes, reason: 'logoutAll' });
      await all;
      assert.deepEqual(received, hashes);
    } finally {
      await other.close();
    }
  });

  it('fails closed with SERVICE_UNAVAILABLE once Redis is gone, and refuses to open without it', async () => {
    const lonely = await openRedisServices(testRedisSettings(uniquePrefix()), logger);
    const limiter = lonely.rateLimiter('gone', { ratePerSecond: 1, burst: 1, bucketsMax: 1 }, Date.now);
    const traffic = lonely.abnormalTraffic(defaultGatewayConfig().abnormal, Date.now);
    await lonely.close();
    await assert.rejects(Promise.resolve(limiter.take('k')), isServiceUnavailable);
    await assert.rejects(Promise.resolve(traffic.suspendedForMs(1)), isServiceUnavailable);
    await assert.rejects(Promise.resolve(traffic.recordOrder(1)), isServiceUnavailable);
    await traffic.recordReject(1);
    await assert.rejects(
      Promise.resolve(lonely.signatureReplay(1, Date.now).admit('a')),
      isServiceUnavailable,
    );
    await assert.rejects(
      lonely.userLocks.withLock(1, async () => 1),
      isServiceUnavailable,
    );
    await assert.rejects(
      Promise.resolve(lonely.sessionEvents.publish({ userId: 1, tokenHashes: [], reason: 'logout' })),
      isServiceUnavailable,
    );
    await assert.rejects(
      openRedisServices({ ...testRedisSettings('x:', 'redis://127.0.0.1:1'), connectTimeoutMs: 500 }, logger),
      /cannot reach Redis at redis:\/\/127\.0\.0\.1:1/,
    );
  });

  it('waits for a lock another gateway holds and takes it once released', async () => {
    const member = await open();
    const locks = member.userLocks;
    let release!: () => void;
    const holding = new Promise<void>((resolve) => {
      release = resolve;
    });
    let entered!: () => void;
    const inside = new Promise<void>((resolve) => {
      entered = resolve;
    });
    const first = locks.withLock(42, async () => {
      entered();
      await holding;
    });
    await inside;
    assert.equal(await member.redis.exists(`${prefix}lock:user:42`), 1);
    let secondRan = false;
    const second = locks.withLock(42, async () => {
      secondRan = true;
    });
    release();
    await first;
    await second;
    assert.equal(secondRan, true);
    assert.equal(await member.redis.exists(`${prefix}lock:user:42`), 0, 'released');
  });
});

describe('LocalUserLocks', () => {
  it('forgets a user once the last holder is done (bounded)', async () => {
    const locks = new LocalUserLocks();
    await Promise.all([locks.withLock(1, async () => 1), locks.withLock(1, async () => 2)]);
    assert.equal(locks.size, 0);
  });
});
