// Exactly-once across a real crash: a child process projecting into PostgreSQL is killed with
// SIGKILL at a random checkpoint (mid-transaction or between two), then a new projector replays
// the whole stream. The rows must equal a clean projection of the same stream. The child is given
// only up to a seeded number of outcomes past the kill point and then waits, so every kill lands
// before the end of the stream whatever the machine's speed (earlier, a fast child could finish
// all three runs before the parent saw its checkpoint, and the test failed on that seed).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import type { Store } from '../../src/store/store.js';
import { rebuildProjections } from '../../src/store/store.js';
import { Random } from '../support/random.js';
import { dumpProjection, postgresBackend, uniqueSchema } from './backends.js';
import { crashStreamOptions, OutcomeStream, streamOf } from './outcomes.js';

const childPath = join(import.meta.dirname, 'projector-child.js');
const backend = postgresBackend();
const schemas: string[] = [];
let skipReason: string | undefined;
let databaseUrl = '';
const outcomesCount = 2_000;
const pollDeadlineMs = 60_000;

before(async () => {
  skipReason = await backend.unavailable();
  if (skipReason !== undefined && process.env.CI === 'true') throw new Error(skipReason);
  if (skipReason !== undefined) process.stderr.write(`\n*** SKIPPING store kill -9 test: ${skipReason}\n\n`);
  databaseUrl = backend.connectionString?.() ?? '';
});

after(async () => {
  for (const schema of schemas) await backend.dropSchema(schema);
});

async function openFresh(prefix: string): Promise<Store> {
  const schema = uniqueSchema(prefix);
  schemas.push(schema);
  return backend.openStore(schema);
}

async function checkpointOf(store: Store): Promise<number> {
  const rows = await store.database.query<{ seq: string }>(
    "SELECT seq FROM projection_checkpoints WHERE name = 'history'",
  );
  return Number(rows[0]?.seq ?? 0);
}

it('SIGKILL at random points loses and repeats no row', { timeout: 180_000 }, async (context) => {
  if (skipReason !== undefined) {
    context.skip(skipReason);
    return;
  }
  const seed = Number(process.env.HOGA_TEST_SEED ?? Date.now() % 100_000);
  const random = new Random(seed);
  const outcomes = new OutcomeStream({ ...crashStreamOptions, seed }).take(outcomesCount);
  const reference = await openFresh('store_kill_reference');
  await rebuildProjections(reference, streamOf(outcomes), () => undefined);
  const expected = await dumpProjection(reference);
  await reference.close();

  const store = await openFresh('store_kill');
  let killedMidway = 0;
  for (let kill = 0; kill < 3; kill += 1) {
    const killAtSeq = random.int(1, outcomesCount - 1);
    // Up to 200 outcomes past the kill point are in flight, so the kill can hit mid-batch.
    const offered = Math.min(outcomesCount - 1, killAtSeq + random.int(0, 200));
    const child = spawn(
      process.execPath,
      [childPath, databaseUrl, store.database.schema, String(seed), String(outcomesCount), String(offered)],
      {
        stdio: ['ignore', 'ignore', 'inherit'],
      },
    );
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const deadline = Date.now() + pollDeadlineMs;
    while ((await checkpointOf(store)) < killAtSeq && child.exitCode === null && Date.now() < deadline) {
      await delay(5);
    }
    child.kill('SIGKILL');
    await exited;
    const checkpoint = await checkpointOf(store);
    if (child.signalCode === 'SIGKILL' && checkpoint < outcomesCount) killedMidway += 1;
    const tradeRows = await store.database.query<{ count: string }>('SELECT count(*) AS count FROM trades');
    const tradesUpToCheckpoint = outcomes
      .filter((outcome) => outcome.seq <= checkpoint)
      .flatMap((outcome) => outcome.events.filter((event) => event.ev === 'trade')).length;
    assert.equal(Number(tradeRows[0].count), tradesUpToCheckpoint, `seed ${seed}: rows match the checkpoint`);
  }
  assert.ok(killedMidway > 0, `seed ${seed}: at least one kill came before the child finished`);
  const projector = await store.openProjector();
  for (const outcome of outcomes) projector.offer(outcome);
  await projector.close();
  assert.deepEqual(await dumpProjection(store), expected, `seed ${seed}`);
  await store.close();
});
