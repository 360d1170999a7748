// Configuration from the environment: each rate limit's rate and burst come from their own
// variables, and a malformed value stops start-up naming the variable.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { loadConfig } from '../../src/config.js';

it('reads every token bucket from its variables and refuses malformed ones by name', () => {
  const config = loadConfig(
    {},
    {
      HOGA_ORDERS_PER_SECOND: '7',
      HOGA_ORDERS_BURST: '70',
      HOGA_REQUESTS_PER_IP_PER_SECOND: '11',
      HOGA_REQUESTS_PER_IP_BURST: '110',
      HOGA_LOGINS_PER_IP_PER_SECOND: '0.5',
      HOGA_LOGINS_PER_IP_BURST: '3',
    },
  );
  const { ordersPerUser, requestsPerIp, loginsPerIp } = config.gateway.limits;
  assert.deepEqual([ordersPerUser.ratePerSecond, ordersPerUser.burst], [7, 70]);
  assert.deepEqual([requestsPerIp.ratePerSecond, requestsPerIp.burst], [11, 110]);
  assert.deepEqual([loginsPerIp.ratePerSecond, loginsPerIp.burst], [0.5, 3]);
  assert.throws(() => loadConfig({}, { HOGA_LOGINS_PER_IP_BURST: '-1' }), /HOGA_LOGINS_PER_IP_BURST/);
  assert.equal(loadConfig({}, {}).quoteFeed, '');
  assert.equal(loadConfig({}, {}).readModelNiceness, 10);
  assert.equal(loadConfig({}, { HOGA_READ_MODEL_NICENESS: '0' }).readModelNiceness, 0);
  assert.equal(loadConfig({}, {}).pgliteVacuumEveryMs, 3_600_000);
  assert.equal(loadConfig({}, { HOGA_PGLITE_VACUUM_EVERY_MS: '0' }).pgliteVacuumEveryMs, 0);
  assert.throws(() => loadConfig({}, { HOGA_PGLITE_VACUUM_EVERY_MS: '-1' }), /HOGA_PGLITE_VACUUM_EVERY_MS/);
  assert.throws(() => loadConfig({}, { HOGA_READ_MODEL_NICENESS: '20' }), /HOGA_READ_MODEL_NICENESS/);
  assert.equal(loadConfig({}, {}).readModelScheduling, 'idle');
  assert.equal(loadConfig({}, { HOGA_READ_MODEL_SCHEDULING: 'nice' }).readModelScheduling, 'nice');
  assert.throws(() => loadConfig({}, { HOGA_READ_MODEL_SCHEDULING: 'fifo' }), /HOGA_READ_MODEL_SCHEDULING/);
  assert.equal(loadConfig({ quoteFeed: 'simulated' }, { HOGA_QUOTE_FEED: 'tcp:h:1' }).quoteFeed, 'simulated');
});

it('snapshots every 1,000,000 commands or 10 minutes and keeps every segment unless told otherwise', () => {
  const defaults = loadConfig({}, {});
  assert.deepEqual(
    [defaults.snapshotEveryCommands, defaults.snapshotEveryMs, defaults.retainSegments],
    [1_000_000, 600_000, true],
  );
  const fromEnvironment = loadConfig(
    {},
    { HOGA_SNAPSHOT_EVERY_COMMANDS: '500', HOGA_SNAPSHOT_EVERY_MS: '0', HOGA_RETAIN_SEGMENTS: 'false' },
  );
  assert.deepEqual(
    [fromEnvironment.snapshotEveryCommands, fromEnvironment.snapshotEveryMs, fromEnvironment.retainSegments],
    [500, 0, false],
  );
  const flagsWin = loadConfig(
    { snapshotEveryCommands: '7', snapshotEveryMs: '9', pruneSegments: true },
    { HOGA_SNAPSHOT_EVERY_COMMANDS: '500', HOGA_RETAIN_SEGMENTS: 'true' },
  );
  assert.deepEqual(
    [flagsWin.snapshotEveryCommands, flagsWin.snapshotEveryMs, flagsWin.retainSegments],
    [7, 9, false],
  );
  assert.throws(() => loadConfig({}, { HOGA_RETAIN_SEGMENTS: 'on' }), /HOGA_RETAIN_SEGMENTS/);
  assert.throws(() => loadConfig({}, { HOGA_SNAPSHOT_EVERY_MS: '-5' }), /HOGA_SNAPSHOT_EVERY_MS/);
});

it('reads the browser, connection and log settings and refuses bad ones by name', () => {
  const defaults = loadConfig({}, {}).gateway;
  assert.equal(defaults.origins.cookieSecure, 'true');
  assert.deepEqual(defaults.origins.allowedOrigins, []);
  assert.deepEqual(
    [defaults.connections.perIpMax, defaults.connections.totalMax, defaults.connections.requestTimeoutMs],
    [256, 10_000, 30_000],
  );
  const set = loadConfig(
    {},
    {
      HOGA_COOKIE_SECURE: 'auto',
      HOGA_ALLOWED_ORIGINS: 'https://trade.example.com, http://10.0.0.5:8080',
      HOGA_CONNECTIONS_PER_IP_MAX: '8',
      HOGA_HEADERS_TIMEOUT_MS: '2000',
      HOGA_LOG_REQUESTS: 'false',
    },
  ).gateway;
  assert.equal(set.origins.cookieSecure, 'auto');
  assert.deepEqual(set.origins.allowedOrigins, ['https://trade.example.com', 'http://10.0.0.5:8080']);
  assert.equal(set.connections.perIpMax, 8);
  assert.equal(set.connections.headersTimeoutMs, 2_000);
  assert.equal(set.logRequests, false);
  assert.throws(() => loadConfig({}, { HOGA_COOKIE_SECURE: 'yes' }), /HOGA_COOKIE_SECURE/);
  assert.throws(() => loadConfig({}, { HOGA_ALLOWED_ORIGINS: 'https://a.example/' }), /https:\/\/a\.example/);
  assert.throws(() => loadConfig({}, { HOGA_ALLOWED_ORIGINS: 'a.example' }), /HOGA_ALLOWED_ORIGINS/);
  assert.throws(() => loadConfig({}, { HOGA_CONNECTIONS_MAX: '0' }), /HOGA_CONNECTIONS_MAX/);
  assert.throws(
    () => loadConfig({}, { HOGA_HEADERS_TIMEOUT_MS: '40000' }),
    /HOGA_HEADERS_TIMEOUT_MS must not exceed HOGA_REQUEST_TIMEOUT_MS/,
  );
  assert.throws(() => loadConfig({}, { HOGA_SESSION_IDLE_MS: '500' }), /HOGA_SESSION_IDLE_MS/);
});

it('reads every switch as 1/0, true/false or yes/no and refuses anything else by name', () => {
  const switches: Array<[string, (config: ReturnType<typeof loadConfig>) => boolean]> = [
    ['HOGA_TRUST_PROXY', (config) => config.gateway.trustProxy],
    ['HOGA_DEMO', (config) => config.demo],
    ['HOGA_RETAIN_SEGMENTS', (config) => config.retainSegments],
    ['HOGA_LOG_REQUESTS', (config) => config.gateway.logRequests],
  ];
  for (const [name, read] of switches) {
    for (const word of ['1', 'true', 'yes', 'TRUE', 'Yes'])
      assert.equal(read(loadConfig({}, { [name]: word })), true, `${name}=${word}`);
    for (const word of ['0', 'false', 'no', 'False', 'NO'])
      assert.equal(read(loadConfig({}, { [name]: word })), false, `${name}=${word}`);
    for (const word of ['on', 'off', 'y', ' 1', '2', 'truthy']) {
      assert.throws(
        () => loadConfig({}, { [name]: word }),
        new RegExp(`^Error: ${name} must be 1, true, yes, 0, false or no`),
        `${name}=${word}`,
      );
    }
  }
  assert.equal(loadConfig({}, {}).gateway.trustProxy, false);
  assert.equal(loadConfig({}, {}).demo, false);
  assert.equal(loadConfig({}, {}).retainSegments, true);
});

it('refuses numbers that are not plain decimal digits, naming the variable', () => {
  assert.equal(loadConfig({}, { HOGA_PORT: '9090' }).port, 9090);
  for (const text of [' 5', '5 ', '0x10', '1e3', '5.0', '-1', '+5', 'five']) {
    assert.throws(
      () => loadConfig({}, { HOGA_PORT: text }),
      /^Error: HOGA_PORT must be a non-negative integer/,
      text,
    );
    assert.throws(
      () => loadConfig({}, { HOGA_SNAPSHOT_EVERY_MS: text }),
      /^Error: HOGA_SNAPSHOT_EVERY_MS must be a non-negative integer/,
      text,
    );
  }
  assert.throws(() => loadConfig({ port: '0x50' }, {}), /^Error: --port must be a non-negative integer/);
  assert.equal(
    loadConfig({}, { HOGA_ORDERS_PER_SECOND: '2.5' }).gateway.limits.ordersPerUser.ratePerSecond,
    2.5,
  );
  for (const text of ['0x10', '1e3', ' 2', '.5', 'Infinity']) {
    assert.throws(
      () => loadConfig({}, { HOGA_ORDERS_PER_SECOND: text }),
      /^Error: HOGA_ORDERS_PER_SECOND must be a positive number/,
      text,
    );
  }
});
