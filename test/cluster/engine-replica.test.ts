// Engine replicas on the real NATS server: two replicas apply every command, exactly one outcome
// per command lands in EVT and the other replica verifies it; their state hashes agree; a replica
// whose engine computes something else stops with REPLICA_DIVERGED; a replica restarted from its
// snapshot catches up; a retried order (same Nats-Msg-Id) is answered with the original outcome;
// a backlog longer than the append window is appended once per command, in place.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AckedPublisher } from '../../src/cluster/acked-publisher.js';
import { EngineReplica } from '../../src/cluster/engine-replica.js';
import type { ClusterError } from '../../src/cluster/errors.js';
import { JetStreamSequencer } from '../../src/cluster/jetstream-sequencer.js';
import { decodeOutcome, encodeCommand } from '../../src/cluster/outcome-codec.js';
import { Engine } from '../../src/core/engine.js';
import type { Command } from '../../src/core/types.js';
import { listDataDirectory } from '../../src/journal/segment.js';
import { type ClusterFixture, openClusterFixture, silentLogger } from './support.js';

const listing = {
  op: 'symbol',
  symbol: 'BTC-USD',
  base: 'BTC',
  quote: 'USD',
  lotSize: 1,
  tickSize: 1,
  makerFeeBps: 0,
  takerFeeBps: 0,
} as Command;

function trading(count: number): Command[] {
  const commands: Command[] = [
    listing,
    { op: 'deposit', user: 1, asset: 'USD', amount: 1_000_000 },
    { op: 'deposit', user: 2, asset: 'BTC', amount: 1_000_000 },
  ];
  for (let index = 0; index < count; index++) {
    const seller = index % 2 === 0;
    commands.push({
      op: 'place',
      user: seller ? 2 : 1,
      symbol: 'BTC-USD',
      side: seller ? 'sell' : 'buy',
      type: 'limit',
      price: 100 + (index % 7),
      qty: 1 + (index % 3),
    } as unknown as Command);
  }
  return commands;
}

async function openSequencer(fixture: ClusterFixture): Promise<JetStreamSequencer> {
  return JetStreamSequencer.open({
    ...fixture.connection,
    names: fixture.names,
    logger: silentLogger,
    pendingMax: 1_000,
    timeoutMs: 60_000,
    heartbeatMs: 1_000,
  });
}

/** Waits (on a condition, never a fixed time) until the replica has settled sequence `seq`. */
async function settledThrough(replica: EngineReplica, seq: number): Promise<void> {
  while (replica.settledSeq < seq) await new Promise((resolve) => setTimeout(resolve, 5));
  await replica.idle();
}

describe('engine replicas', () => {
  let fixture: ClusterFixture;
  before(async () => {
    fixture = await openClusterFixture('replicas');
  });
  after(async () => {
    await fixture.close();
  });

  it('two replicas: one outcome per command lands, the other verifies it, and their hashes agree', async () => {
    const a = await fixture.startReplica('a');
    const b = await fixture.startReplica('b');
    const sequencer = await openSequencer(fixture);
    const outcomes = await Promise.all(trading(60).map((command) => sequencer.submit(command)));
    assert.deepEqual(
      outcomes.map((outcome) => outcome.seq),
      outcomes.map((_, index) => index + 1),
    );
    await settledThrough(a.replica, 63);
    await settledThrough(b.replica, 63);
    const info = await fixture.connection.jsm.streams.info(fixture.names.evtStream);
    assert.equal(info.state.messages, 63, 'exactly one outcome per command');
    assert.equal(a.replica.landed + b.replica.landed, 63);
    assert.equal(a.replica.landed + a.replica.verified, 63);
    assert.equal(b.replica.landed + b.replica.verified, 63);
    assert.equal(a.replica.stateHash, b.replica.stateHash);
    assert.deepEqual([a.fatal, b.fatal], [[], []]);
    assert.equal(a.replica.hashMismatches + b.replica.hashMismatches, 0);
    // Every 5th outcome carries the state hash, and trades happened.
    const stored = await fixture.connection.jsm.streams.getMessage(fixture.names.evtStream, { seq: 60 });
    assert.ok(stored !== null);
    assert.match(decodeOutcome(stored.data).hash ?? '', /./);
    assert.ok(outcomes.some((outcome) => outcome.events.some((event) => event.ev === 'trade')));
    // A retried order (same clientOrderId) gets the first outcome, not a second order.
    const order = {
      op: 'place',
      user: 1,
      symbol: 'BTC-USD',
      side: 'buy',
      type: 'limit',
      price: 50,
      qty: 1,
      clientOrderId: 'retry-1',
    } as unknown as Command;
    const first = await sequencer.submit(order);
    const retried = await sequencer.submit(order);
    assert.equal(retried.seq, first.seq);
    assert.deepEqual(retried.events, first.events);
    assert.equal(sequencer.lastSeq, first.seq);
    await sequencer.close();
    await a.replica.close();
    await b.replica.close();
  });

  it('a replica restarted on its data directory resumes from its snapshot and verifies what it missed', async () => {
    const sequencer = await openSequencer(fixture);
    const running = await fixture.startReplica('c');
    const before = sequencer.lastSeq;
    await sequencer.submit({ op: 'deposit', user: 7, asset: 'USD', amount: 5 });
    await settledThrough(running.replica, before + 1);
    await running.replica.close();
    const snapshots = listDataDirectory(running.dataDir).snapshots;
    assert.equal(snapshots.at(-1)?.seq, before + 1, 'close writes a snapshot at the last settled sequence');
    const other = await fixture.startReplica('d');
    const last = await sequencer.submit({ op: 'deposit', user: 7, asset: 'USD', amount: 6 });
    await settledThrough(other.replica, last.seq);
    const restarted = await fixture.startReplica('c', running.dataDir);
    await settledThrough(restarted.replica, last.seq);
    assert.equal(restarted.replica.landed, 0);
    assert.equal(restarted.replica.verified, 1, 'only the command after its snapshot');
    assert.equal(restarted.replica.stateHash, other.replica.stateHash);
    assert.deepEqual(restarted.fatal, []);
    await sequencer.close();
    await restarted.replica.close();
    await other.replica.close();
  });

  it('a replica whose engine computes another outcome stops with REPLICA_DIVERGED and lands nothing', async () => {
    const sequencer = await openSequencer(fixture);
    const honest = await fixture.startReplica('honest');
    const seq = (await sequencer.submit({ op: 'deposit', user: 8, asset: 'USD', amount: 9 })).seq;
    await settledThrough(honest.replica, seq);
    const fatal: ClusterError[] = [];
    // An engine that credits twice what it is asked: its first outcome differs from the stored one.
    const { temporaryDirectory } = await import('../journal/helpers.js');
    const directory = temporaryDirectory('divergent');
    const skewed = () => {
      const engine = new Engine();
      const apply = engine.apply.bind(engine);
      engine.apply = (command: unknown) => {
        const fields = command as { op?: string; amount?: number };
        return apply(fields.op === 'deposit' ? { ...fields, amount: (fields.amount ?? 0) * 2 } : command);
      };
      return engine;
    };
    const divergent = await EngineReplica.start({
      ...fixture.connection,
      names: fixture.names,
      dataDir: directory.path,
      replicaName: 'divergent',
      hashEveryCommands: 5,
      snapshotEveryCommands: 0,
      heartbeatMs: 1_000,
      logger: silentLogger,
      onFatal: (error) => fatal.push(error),
      engines: { create: skewed, restore: () => skewed() },
    });
    while (fatal.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    assert.equal(fatal[0].code, 'REPLICA_DIVERGED');
    assert.equal(divergent.landed, 0);
    const info = await fixture.connection.jsm.streams.info(fixture.names.evtStream);
    assert.equal(info.state.last_seq, seq);
    await divergent.close();
    directory.remove();
    await sequencer.close();
    await honest.replica.close();
  });
});

describe('engine replicas catching up on a backlog', () => {
  let fixture: ClusterFixture;
  before(async () => {
    fixture = await openClusterFixture('backlog');
  });
  after(async () => {
    await fixture.close();
  });

  it('more commands than the append window: every outcome lands once, in place, and both replicas agree', async () => {
    // Stored before any replica runs, so each replica reads far ahead of its appends and its
    // window of appends in flight fills and slides.
    const count = 2_500;
    const publisher = new AckedPublisher(fixture.connection.nc);
    await Promise.all(
      Array.from({ length: count }, (_, index) =>
        publisher.publish(
          fixture.names.cmdSubject,
          encodeCommand({ op: 'deposit', user: 1 + (index % 10), asset: 'USD', amount: 1 + index }),
          { timeoutMs: 60_000 },
        ),
      ),
    );
    publisher.close();
    const a = await fixture.startReplica('a');
    const b = await fixture.startReplica('b');
    await settledThrough(a.replica, count);
    await settledThrough(b.replica, count);
    const info = await fixture.connection.jsm.streams.info(fixture.names.evtStream);
    assert.equal(info.state.messages, count, 'exactly one outcome per command');
    assert.equal(a.replica.landed + b.replica.landed, count);
    assert.equal(a.replica.landed + a.replica.verified, count);
    assert.equal(b.replica.landed + b.replica.verified, count);
    assert.equal(a.replica.stateHash, b.replica.stateHash);
    assert.deepEqual([a.fatal, b.fatal], [[], []]);
    for (const seq of [1, 1_024, 1_025, count]) {
      const stored = await fixture.connection.jsm.streams.getMessage(fixture.names.evtStream, { seq });
      assert.ok(stored !== null);
      const outcome = decodeOutcome(stored.data);
      assert.equal(outcome.seq, seq);
      assert.equal((outcome.command as unknown as { amount: number }).amount, seq);
    }
    await a.replica.close();
    await b.replica.close();
  });

  it('a fresh replica on a long filled stream reads the stored outcomes in bulk, appends nothing, and agrees', async () => {
    const base = (await fixture.connection.jsm.streams.info(fixture.names.cmdStream)).state.last_seq;
    const commands = trading(6_000);
    const publisher = new AckedPublisher(fixture.connection.nc);
    await Promise.all(
      commands.map((command) =>
        publisher.publish(fixture.names.cmdSubject, encodeCommand(command), { timeoutMs: 60_000 }),
      ),
    );
    const filled = base + commands.length;
    const head = await fixture.startReplica('head');
    await settledThrough(head.replica, filled);
    const late = await fixture.startReplica('late');
    await settledThrough(late.replica, filled);
    assert.equal(late.replica.landed, 0, 'nothing appended while behind');
    assert.equal(late.replica.verifiedInBulk, filled, 'every stored outcome read in bulk');
    assert.equal(late.replica.stateHash, head.replica.stateHash);
    // At the head it appends again: the next commands each get exactly one outcome.
    const more = trading(20).slice(3);
    await Promise.all(
      more.map((command) =>
        publisher.publish(fixture.names.cmdSubject, encodeCommand(command), { timeoutMs: 60_000 }),
      ),
    );
    publisher.close();
    await settledThrough(late.replica, filled + more.length);
    await settledThrough(head.replica, filled + more.length);
    const info = await fixture.connection.jsm.streams.info(fixture.names.evtStream);
    assert.equal(info.state.messages, filled + more.length, 'exactly one outcome per command');
    assert.equal(late.replica.verifiedInBulk, filled, 'no bulk reading at the head');
    assert.equal(late.replica.landed + late.replica.verified, filled + more.length);
    assert.equal(late.replica.stateHash, head.replica.stateHash);
    assert.deepEqual([head.fatal, late.fatal], [[], []]);
    await head.replica.close();
    await late.replica.close();
  });
});
