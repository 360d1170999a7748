// Unit tests, with an injected clock, of the hardening in issue 15: login throttling that a third
// party cannot turn against a user, the password pool's trusted lane, idle timeouts shorter than
// the last-seen write interval, an abnormal-traffic order trigger reachable under the order limit,
// and log lines without duplicate keys.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { type AddressInfo, connect, type Socket } from 'node:net';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { loadConfig, ordersPerWindowMax } from '../../src/config.js';
import { AbnormalTrafficDetector } from '../../src/gateway/abnormal-traffic.js';
import { defaultGatewayConfig } from '../../src/gateway/config.js';
import { ConnectionLimits } from '../../src/gateway/connection-limits.js';
import { GatewayError } from '../../src/gateway/errors.js';
import { LoginGuard, type LoginGuardOptions } from '../../src/gateway/login-guard.js';
import { PasswordHasher } from '../../src/gateway/passwords.js';
import { TokenBuckets } from '../../src/gateway/rate-limits.js';
import { SessionManager } from '../../src/gateway/sessions.js';
import type { MaybePromise } from '../../src/gateway/shared-services.js';
import { openStore } from '../../src/store/store.js';
import { MemorySessionStore } from './support/memory-store.js';

function manualClock(startMs = 1_000_000) {
  const clock = { nowMs: startMs, read: () => clock.nowMs };
  return clock;
}

const guardOptions: LoginGuardOptions = {
  loginsPerIp: { ratePerSecond: 0.001, burst: 2, bucketsMax: 100 },
  loginsPerUsername: { ratePerSecond: 0.001, burst: 5, bucketsMax: 100 },
  devicesMax: 10,
  deviceMaxAgeMs: 60_000,
};

/** The in-process adapters answer at once: the guard's result without a promise. */
function now<T>(value: MaybePromise<T>): T {
  assert.ok(!(value instanceof Promise), 'the in-process guard answered later');
  return value as T;
}

function admitted(attempt: () => unknown): boolean {
  try {
    attempt();
    return true;
  } catch (error) {
    assert.ok(error instanceof GatewayError && error.code === 'RATE_LIMITED', String(error));
    return false;
  }
}

describe('LoginGuard', () => {
  it('does not charge the username bucket for attempts the IP bucket refused', () => {
    const guard = new LoginGuard(guardOptions, manualClock().read);
    const attacker = Array.from({ length: 10 }, () =>
      admitted(() => guard.admitLogin('10.0.0.66', 'victim', undefined)),
    );
    assert.deepEqual(
      attacker.filter(Boolean).length,
      2,
      'the attacker IP gets its burst of 2, then is refused',
    );
    const victim = Array.from({ length: 3 }, (_, index) =>
      admitted(() => guard.admitLogin(`10.0.1.${index}`, 'Victim', undefined)),
    );
    assert.deepEqual(victim, [true, true, true], 'the 8 refused attempts left the name 3 of its 5');
  });

  it('lets a known device of the user through a locked name and a busy IP, on the trusted lane', () => {
    const clock = manualClock();
    const guard = new LoginGuard(guardOptions, clock.read);
    const device = now(guard.rememberDevice('victim', undefined));
    for (let attempt = 0; attempt < 20; attempt += 1)
      admitted(() => guard.admitLogin(`10.0.2.${attempt}`, 'victim', undefined));
    assert.equal(
      admitted(() => guard.admitLogin('10.0.3.1', 'victim', undefined)),
      false,
      'name locked',
    );
    assert.equal(guard.admitLogin('10.0.2.0', 'VICTIM', device), 'trusted');
    assert.equal(now(guard.rememberDevice('victim', device)), device, 'a known device keeps its token');
    const other = now(guard.rememberDevice('mallory', undefined));
    assert.equal(
      admitted(() => guard.admitLogin('10.0.2.0', 'victim', other)),
      false,
      "another user's device is an unknown device for this name",
    );
    clock.nowMs += guardOptions.deviceMaxAgeMs + 1;
    assert.equal(
      admitted(() => guard.admitLogin('10.0.4.1', 'victim', device)),
      false,
      'device aged out',
    );
  });

  it('gives a trusted device its own bucket, so a stolen device cookie still guesses slowly', () => {
    const guard = new LoginGuard(guardOptions, manualClock().read);
    const device = now(guard.rememberDevice('victim', undefined));
    const results = Array.from({ length: 7 }, () =>
      admitted(() => guard.admitLogin('10.0.5.1', 'victim', device)),
    );
    assert.deepEqual(results, [true, true, true, true, true, false, false]);
  });
});

describe('PasswordHasher lanes', () => {
  it('serves a trusted verification before every general one that waits', async () => {
    const hasher = new PasswordHasher({
      cost: { costLog2: 10, blockSize: 8, parallelism: 1 },
      concurrentHashesMax: 1,
      waitingHashesMax: 8,
    });
    const stored = await hasher.hash('right password');
    const finished: string[] = [];
    const general = Array.from({ length: 6 }, (_, index) =>
      hasher.verify('wrong password', stored).then(() => finished.push(`general-${index}`)),
    );
    const trusted = hasher.verify('right password', stored, 'trusted').then((valid) => {
      finished.push('trusted');
      return valid;
    });
    assert.equal(await trusted, true);
    await Promise.all(general);
    assert.deepEqual(finished.slice(0, 2), ['general-0', 'trusted'], 'only the hash in progress ran first');
  });

  it('bounds each lane on its own: a full general lane still takes a trusted verification', async () => {
    const hasher = new PasswordHasher({
      cost: { costLog2: 10, blockSize: 8, parallelism: 1 },
      concurrentHashesMax: 1,
      waitingHashesMax: 2,
    });
    const stored = await hasher.hash('right password');
    const general = [0, 1, 2].map(() => hasher.verify('x', stored));
    await assert.rejects(hasher.verify('x', stored), (error: GatewayError) => error.code === 'BUSY');
    assert.equal(await hasher.verify('right password', stored, 'trusted'), true);
    await Promise.all(general);
  });
});

describe('session idle timeout below the last-seen write interval', () => {
  it('keeps a session in use alive when the idle timeout is shorter than the touch interval', async () => {
    const clock = manualClock();
    const options = {
      idleTimeoutMs: 10_000,
      absoluteTimeoutMs: 1_000_000,
      sessionsPerUserMax: 5,
      cacheEntriesMax: 10,
      touchIntervalMs: 60_000,
    };
    const sessions = new SessionManager(new MemorySessionStore(), options, clock.read);
    const { token, session } = await sessions.create(1, 'agent', 'ip');
    for (let step = 0; step < 20; step += 1) {
      clock.nowMs += 3_000;
      assert.ok(await sessions.resolve(token), `in use every 3 s, alive at ${(step + 1) * 3} s`);
    }
    assert.equal(await sessions.expiresAtMs(session.tokenHash), clock.nowMs + 10_000, 'touched just now');
    clock.nowMs += 10_001;
    assert.equal(await sessions.resolve(token), undefined, 'idle for longer than the timeout: ended');
  });
});

describe('abnormal-traffic defaults', () => {
  it('can suspend a user for orders under the default order rate limit', () => {
    const config = loadConfig({}, {}).gateway;
    assert.ok(config.abnormal.ordersPerWindowFloor < ordersPerWindowMax(config));
    const clock = manualClock(5_000_000);
    const buckets = new TokenBuckets(config.limits.ordersPerUser, clock.read);
    const detector = new AbnormalTrafficDetector(config.abnormal, clock.read);
    let suspended = 0;
    detector.onSuspended(() => {
      suspended += 1;
    });
    // As fast as the order limit allows for one window: two attempts every millisecond.
    for (let elapsedMs = 0; elapsedMs < config.abnormal.windowMs; elapsedMs += 1) {
      for (const _attempt of [1, 2]) if (buckets.take('7').ok) detector.recordOrder(7);
      clock.nowMs += 1;
    }
    assert.equal(suspended, 1);
  });

  it('refuses a floor that the order limit makes unreachable, naming the settings', () => {
    assert.throws(
      () => loadConfig({}, { HOGA_ABNORMAL_ORDERS_FLOOR: '2000' }),
      /HOGA_ABNORMAL_ORDERS_FLOOR \(2000\) must be below 1500/,
    );
    const lowered = loadConfig({}, { HOGA_ORDERS_PER_SECOND: '7', HOGA_ORDERS_BURST: '70' }).gateway;
    assert.equal(lowered.abnormal.ordersPerWindowFloor, 70, 'unset, the floor follows the order burst');
    assert.equal(defaultGatewayConfig().abnormal.ordersPerWindowFloor, 1_000);
  });
});

/** Keys of one JSON object text in order, duplicates kept (JSON.parse would hide them). */
function topLevelKeys(line: string): string[] {
  const keys: string[] = [];
  let depth = 0;
  const pattern = /"((?:[^"\\]|\\.)*)"(\s*:)?|[{}[\]]/g;
  for (const match of line.matchAll(pattern)) {
    if (match[0] === '{' || match[0] === '[') depth += 1;
    else if (match[0] === '}' || match[0] === ']') depth -= 1;
    else if (depth === 1 && match[2] !== undefined) keys.push(match[1]);
  }
  return keys;
}

describe('log lines', () => {
  it('have no duplicate keys where the store logs under a component logger', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _encoding, done) {
        lines.push(...chunk.toString().split('\n').filter(Boolean));
        done();
      },
    });
    const logger = pino({ name: 'hoga', level: 'info' }, sink).child({ component: 'read-model' });
    const store = await openStore({ dataDir: 'memory://', logger });
    await store.close();
    assert.ok(lines.some((line) => line.includes('migration applied')));
    for (const line of lines) {
      const keys = topLevelKeys(line);
      assert.deepEqual(keys, [...new Set(keys)], `duplicate keys in ${line}`);
      assert.equal(JSON.parse(line).name, 'hoga');
    }
  });
});

describe('ConnectionLimits', () => {
  it('refuses connections past the total cap with 503 TOO_MANY_CONNECTIONS, whatever the address', async () => {
    const server = createServer((_request, response) => response.end('ok'));
    const refused: string[] = [];
    new ConnectionLimits({ perIpMax: 100, totalMax: 2, perIp: false }, (reason) =>
      refused.push(reason),
    ).attach(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const open = () =>
      new Promise<Socket>((resolve) => {
        const socket = connect({ host: '127.0.0.1', port }, () => resolve(socket));
      });
    const held = [await open(), await open()];
    const third = await open();
    let reply = '';
    third.on('data', (chunk) => {
      reply += chunk;
    });
    await new Promise((resolve) => third.once('close', resolve));
    assert.match(reply, /^HTTP\/1\.1 503[\s\S]*TOO_MANY_CONNECTIONS/);
    assert.deepEqual(refused, ['total']);
    for (const socket of held) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  });
});
