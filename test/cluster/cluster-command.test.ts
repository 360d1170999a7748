// `hoga cluster up | status | down` as a user runs them: up prints progress and leaves every
// component ready; status exits 0, then 1 naming a SIGKILLed gateway as dead; up on a running
// cluster is refused; down stops every process and --purge removes the state directory.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import pg from 'pg';
import { processAlive, readClusterState } from '../../src/cluster/local-cluster.js';
import { temporaryDirectory } from '../journal/helpers.js';
import { reachablePostgres } from '../store/backends.js';
import { freeOffset } from './support/cluster.js';

const run = promisify(execFile);
const cliPath = join(import.meta.dirname, '..', '..', 'src', 'cli', 'main.js');

async function hoga(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [cliPath, ...args], {
      env: { ...process.env, HOGA_SCRYPT_COST_LOG2: '10' },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

test('hoga cluster up, status, down --purge', async () => {
  const found = await reachablePostgres();
  if (!('url' in found)) throw new Error(found.failure);
  const database = `hoga_cluster_cli_${process.pid}`;
  const url = new URL(found.url);
  url.pathname = `/${database}`;
  const directory = temporaryDirectory('cluster-cli');
  const dir = join(directory.path, 'state');
  const common = ['--dir', dir];
  try {
    const up = await hoga(
      'cluster',
      'up',
      ...common,
      '--port-offset',
      String(await freeOffset()),
      '--database-url',
      url.toString(),
    );
    assert.equal(up.code, 0, up.stderr);
    for (const name of [
      'nats-1',
      'nats-2',
      'nats-3',
      'redis',
      'engine-1',
      'engine-2',
      'projector',
      'gateway-1',
      'gateway-2',
    ])
      assert.match(up.stdout, new RegExp(`${name}: ready \\(pid \\d+`));
    const state = readClusterState(dir);
    assert.equal(state.components.length, 9);

    const healthy = await hoga('cluster', 'status', ...common);
    assert.equal(healthy.code, 0, healthy.stdout);
    assert.equal(healthy.stdout.match(/ ready /g)?.length, 9, healthy.stdout);

    const again = await hoga('cluster', 'up', ...common);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /CLUSTER_RUNNING/);

    const gateway = state.components.find((component) => component.name === 'gateway-2');
    assert.ok(gateway !== undefined);
    process.kill(gateway.pid, 'SIGKILL');
    while (processAlive(gateway)) await new Promise((wake) => setTimeout(wake, 20));
    const degraded = await hoga('cluster', 'status', ...common);
    assert.equal(degraded.code, 1);
    assert.match(degraded.stdout, /gateway-2\s+dead/);

    const down = await hoga('cluster', 'down', ...common, '--purge');
    assert.equal(down.code, 0, down.stderr);
    for (const component of state.components) assert.equal(processAlive(component), false, component.name);
    assert.equal(existsSync(dir), false);
  } finally {
    await hoga('cluster', 'down', ...common, '--purge');
    directory.remove();
    const client = new pg.Client({ connectionString: found.url });
    await client.connect();
    await client.query(`DROP DATABASE IF EXISTS ${database}`);
    await client.end();
  }
});
