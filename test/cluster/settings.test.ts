// Cluster settings: defaults, flags over the environment, and every malformed value refused with
// CLUSTER_SETTING_INVALID naming the variable; stream names from the prefix.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ClusterSettingsError, loadClusterSettings } from '../../src/cluster/settings.js';
import { streamNames } from '../../src/cluster/streams.js';

test('defaults, and flags win over the environment', () => {
  const defaults = loadClusterSettings({}, {});
  assert.deepEqual(
    [defaults.natsServers, defaults.natsPrefix, defaults.streamReplicas],
    [['nats://127.0.0.1:4222'], 'HOGA', 1],
  );
  const chosen = loadClusterSettings(
    { natsPrefix: 'FLAG', streamReplicas: '3' },
    {
      HOGA_NATS_PREFIX: 'ENV',
      HOGA_NATS_SERVERS: 'nats://a:1, nats://b:2,c:3',
      HOGA_DB_SCHEMA: 'cluster_1',
      HOGA_DATABASE_URL: 'postgres://u@h/db',
    },
  );
  assert.deepEqual(
    [chosen.natsPrefix, chosen.streamReplicas, chosen.natsServers, chosen.dbSchema],
    ['FLAG', 3, ['nats://a:1', 'nats://b:2', 'c:3'], 'cluster_1'],
  );
});

test('malformed values are refused naming the variable', () => {
  const cases: Array<[Record<string, string>, RegExp]> = [
    [{ HOGA_NATS_PREFIX: 'a.b' }, /HOGA_NATS_PREFIX/],
    [{ HOGA_NATS_PREFIX: '' }, /HOGA_NATS_PREFIX/],
    [{ HOGA_NATS_SERVERS: 'nats://host' }, /HOGA_NATS_SERVERS/],
    [{ HOGA_STREAM_REPLICAS: '0' }, /HOGA_STREAM_REPLICAS/],
    [{ HOGA_STREAM_REPLICAS: 'three' }, /HOGA_STREAM_REPLICAS/],
    [{ HOGA_DB_SCHEMA: 'Drop Table' }, /HOGA_DB_SCHEMA/],
    [{ HOGA_DATABASE_URL: 'mysql://x' }, /HOGA_DATABASE_URL/],
    [{ HOGA_HASH_EVERY_COMMANDS: '0' }, /HOGA_HASH_EVERY_COMMANDS/],
    [{ HOGA_COMMAND_TIMEOUT_MS: '5' }, /HOGA_COMMAND_TIMEOUT_MS/],
  ];
  for (const [environment, names] of cases) {
    assert.throws(
      () => loadClusterSettings({}, environment),
      (error: unknown) =>
        error instanceof ClusterSettingsError &&
        error.code === 'CLUSTER_SETTING_INVALID' &&
        names.test(error.message),
      JSON.stringify(environment),
    );
  }
});

test('stream and subject names come from the prefix', () => {
  assert.deepEqual(streamNames('X1'), {
    cmdStream: 'X1_CMD',
    evtStream: 'X1_EVT',
    cmdSubject: 'X1.cmd',
    evtSubject: 'X1.evt',
    hashSubject: 'X1.hash',
  });
  assert.throws(() => streamNames('a>b'));
});
