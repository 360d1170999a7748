// HOGA_REDIS_* settings: defaults, every refusal names its variable, and the environment decides
// between the in-process and the Redis services.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { defaultRedisSettings, redisSettingsFromEnvironment } from '../../src/cluster/redis-config.js';
import { redactedUrl, sharedServicesFromEnvironment } from '../../src/cluster/redis-services.js';
import { LocalSessionEvents } from '../../src/gateway/shared-services.js';
import { testRedisUrl, uniquePrefix } from './redis-support.js';

const logger = pino({ level: 'silent' });

describe('redisSettingsFromEnvironment', () => {
  it('is undefined without HOGA_REDIS_URL (or with an empty one)', () => {
    assert.equal(redisSettingsFromEnvironment({}), undefined);
    assert.equal(redisSettingsFromEnvironment({ HOGA_REDIS_URL: '  ' }), undefined);
  });

  it('takes the defaults and the overrides', () => {
    assert.deepEqual(redisSettingsFromEnvironment({ HOGA_REDIS_URL: 'redis://r:6379' }), {
      ...defaultRedisSettings,
      url: 'redis://r:6379',
    });
    const settings = redisSettingsFromEnvironment({
      HOGA_REDIS_URL: 'rediss://user:secret@r:6380/2',
      HOGA_REDIS_PREFIX: 'exchange-b:',
      HOGA_REDIS_COMMAND_TIMEOUT_MS: '250',
      HOGA_REDIS_CONNECT_TIMEOUT_MS: '3000',
      HOGA_REDIS_LOCK_TTL_MS: '8000',
      HOGA_REDIS_LOCK_WAIT_MS: '100',
    });
    assert.deepEqual(settings, {
      url: 'rediss://user:secret@r:6380/2',
      prefix: 'exchange-b:',
      commandTimeoutMs: 250,
      connectTimeoutMs: 3000,
      lockTtlMs: 8000,
      lockWaitMs: 100,
    });
    assert.equal(
      redisSettingsFromEnvironment({ HOGA_REDIS_URL: 'redis://r', HOGA_REDIS_PREFIX: '' })?.prefix,
      '',
    );
  });

  it('refuses malformed values, naming the variable', () => {
    const refusals: Array<[Record<string, string>, RegExp]> = [
      [{ HOGA_REDIS_URL: 'not a url' }, /HOGA_REDIS_URL must be a URL/],
      [{ HOGA_REDIS_URL: 'http://r:6379' }, /HOGA_REDIS_URL must start with redis:\/\/ or rediss:\/\//],
      [{ HOGA_REDIS_URL: 'redis://r', HOGA_REDIS_PREFIX: 'has space' }, /HOGA_REDIS_PREFIX/],
      [{ HOGA_REDIS_URL: 'redis://r', HOGA_REDIS_PREFIX: 'x'.repeat(65) }, /HOGA_REDIS_PREFIX/],
      [
        { HOGA_REDIS_URL: 'redis://r', HOGA_REDIS_COMMAND_TIMEOUT_MS: '1.5' },
        /HOGA_REDIS_COMMAND_TIMEOUT_MS/,
      ],
      [
        { HOGA_REDIS_URL: 'redis://r', HOGA_REDIS_CONNECT_TIMEOUT_MS: '0' },
        /HOGA_REDIS_CONNECT_TIMEOUT_MS must be at least 1/,
      ],
      [{ HOGA_REDIS_URL: 'redis://r', HOGA_REDIS_LOCK_TTL_MS: '-1' }, /HOGA_REDIS_LOCK_TTL_MS/],
      [{ HOGA_REDIS_URL: 'redis://r', HOGA_REDIS_LOCK_WAIT_MS: 'soon' }, /HOGA_REDIS_LOCK_WAIT_MS/],
    ];
    for (const [environment, message] of refusals)
      assert.throws(() => redisSettingsFromEnvironment(environment), message, JSON.stringify(environment));
  });
});

describe('sharedServicesFromEnvironment', () => {
  it('is in-process without HOGA_REDIS_URL and on Redis with it', async () => {
    const local = await sharedServicesFromEnvironment({}, logger);
    assert.ok(local.sessionEvents instanceof LocalSessionEvents);
    const shared = await sharedServicesFromEnvironment(
      { HOGA_REDIS_URL: testRedisUrl, HOGA_REDIS_PREFIX: uniquePrefix() },
      logger,
    );
    try {
      assert.equal(shared.sessionEvents.live, true);
      assert.ok(!(shared.sessionEvents instanceof LocalSessionEvents));
    } finally {
      await shared.close();
    }
  });

  it('never shows the password in a message', () => {
    assert.equal(redactedUrl('redis://user:secret@r:6379/1'), 'redis://user:***@r:6379/1');
    assert.equal(redactedUrl('redis://r:6379'), 'redis://r:6379');
  });
});
