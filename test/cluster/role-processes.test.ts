// The cluster roles as real processes: an engine replica answers commands published to CMD; a
// second engine on the same data directory is refused naming the first one's pid (exit 75);
// SIGTERM stops an engine cleanly with a snapshot at its last sequence; an engine, a gateway and a
// projector process serve a user's requests end to end and stop cleanly.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, test } from 'node:test';
import pg from 'pg';
import { JetStreamSequencer } from '../../src/cluster/jetstream-sequencer.js';
import { directoryLockedExitCode } from '../../src/journal/data-dir-lock.js';
import { listDataDirectory } from '../../src/journal/segment.js';
import { Api } from '../gateway/support/exchange.js';
import { temporaryDirectory } from '../journal/helpers.js';
import { reachablePostgres } from '../store/backends.js';
import { hogaRole, killChildren } from './processes.js';
import { openClusterFixture, silentLogger, testNatsServers } from './support.js';

after(killChildren);

test('engine process: serves commands, a second engine on its data directory is refused, SIGTERM snapshots', async () => {
  const fixture = await openClusterFixture('roles');
  const directory = temporaryDirectory('engine-role');
  try {
    const environment = {
      HOGA_NATS_SERVERS: testNatsServers.join(','),
      HOGA_NATS_PREFIX: fixture.prefix,
      HOGA_DATA_DIR: directory.path,
    };
    const engine = hogaRole(['engine', '--replica-name', 'one'], environment);
    await engine.logged('engine replica running');
    const second = hogaRole(['engine', '--replica-name', 'two'], environment);
    const refused = await second.finished;
    assert.equal(refused.code, directoryLockedExitCode);
    assert.match(refused.stderr, new RegExp(`in use by pid ${engine.process.pid} \\(hoga engine one`));

    const sequencer = await JetStreamSequencer.open({
      ...fixture.connection,
      names: fixture.names,
      logger: silentLogger,
      pendingMax: 10,
      timeoutMs: 60_000,
      heartbeatMs: 1_000,
    });
    const outcome = await sequencer.submit({ op: 'deposit', user: 1, asset: 'USD', amount: 10 });
    assert.equal(outcome.seq, 1);
    assert.ok(outcome.events.length > 0, JSON.stringify(outcome));
    await sequencer.close();
    engine.process.kill('SIGTERM');
    const stopped = await engine.finished;
    assert.equal(stopped.code, 0, stopped.stderr);
    assert.deepEqual(
      listDataDirectory(directory.path).snapshots.map((file) => file.seq),
      [1],
    );
  } finally {
    await fixture.close();
    directory.remove();
  }
});

test('engine, gateway and projector processes: register, deposit and history end to end', async () => {
  const found = await reachablePostgres();
  if (!('url' in found)) throw new Error(found.failure);
  const fixture = await openClusterFixture('processes');
  const directory = temporaryDirectory('engine-role');
  const schema = `roles_${randomBytes(4).toString('hex')}`;
  try {
    const environment = {
      HOGA_NATS_SERVERS: testNatsServers.join(','),
      HOGA_NATS_PREFIX: fixture.prefix,
      HOGA_DATA_DIR: directory.path,
      HOGA_DATABASE_URL: found.url,
      HOGA_DB_SCHEMA: schema,
      HOGA_HOST: '127.0.0.1',
      HOGA_PORT: '0',
      HOGA_ADMIN_USER: 'admin',
      HOGA_ADMIN_PASSWORD: 'admin-password-1',
      HOGA_SCRYPT_COST_LOG2: '10',
    };
    const engine = hogaRole(['engine'], environment);
    const gateway = hogaRole(['gateway'], environment);
    const projector = hogaRole(['projector'], environment);
    await engine.logged('engine replica running');
    await projector.logged('projector running');
    const listening = await gateway.logged('gateway listening');
    const api = new Api(`http://127.0.0.1:${listening.port}`);
    const admin = await api.login('admin', 'admin-password-1');
    await api.createMarket(admin);
    const userId = await api.register('carol');
    await api.deposit(admin, userId, 'USD', '12.5');
    const carol = await api.login('carol');
    assert.deepEqual(await api.expect(200, 'GET', '/api/v1/balances', undefined, carol), [
      { asset: 'USD', available: '12.500000', locked: '0.000000' },
    ]);
    for (const child of [gateway, projector, engine]) {
      child.process.kill('SIGTERM');
      const stopped = await child.finished;
      assert.equal(stopped.code, 0, stopped.stderr);
    }
  } finally {
    await fixture.close();
    directory.remove();
    const client = new pg.Client({ connectionString: found.url });
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await client.end();
  }
});
