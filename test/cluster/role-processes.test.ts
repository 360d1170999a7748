// The cluster roles as real processes: an engine replica answers commands published to CMD; a
// second engine on the same data directory is refused naming the first one's pid (exit 75);
// SIGTERM stops an engine cleanly with a snapshot at its last sequence.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { JetStreamSequencer } from '../../src/cluster/jetstream-sequencer.js';
import { directoryLockedExitCode } from '../../src/journal/data-dir-lock.js';
import { listDataDirectory } from '../../src/journal/segment.js';
import { temporaryDirectory } from '../journal/helpers.js';
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
