// Positional channel numbering (cluster gateways): message numbers derived from the event stream
// position, so two hubs fed the same outcomes number the same messages alike whenever their
// channels were created, and a client resumes on the other hub with `since` without a reset.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ChannelName } from '../../src/marketdata/channels.js';
import { ChannelHub, type ChannelSource, positionalStride } from '../../src/marketdata/hub.js';
import { RecordingClient, type WireMessage } from './support.js';

const source: ChannelSource = {
  has: (channel: ChannelName) => channel.symbol === 'X',
  snapshot: (channel: ChannelName) => ({ snapshotOf: channel.name }),
};

/** Two hubs over one stream position; `apply` publishes an outcome's messages on both. */
function twoHubs() {
  let position = 0;
  const make = () => {
    const hub = new ChannelHub({ epoch: 'evt', numbering: { kind: 'positional', position: () => position } });
    hub.addSource(source);
    return hub;
  };
  const hubs = [make(), make()];
  const apply = (messages: number) => {
    position += 1;
    for (const hub of hubs) for (let n = 0; n < messages; n++) hub.publish('trades.X', { position, n });
  };
  return { hubs, apply };
}

function subscribe(hub: ChannelHub, request: Record<string, unknown> = {}) {
  const client = new RecordingClient();
  const connection = hub.connect(client);
  assert.ok(connection);
  connection.handleText(JSON.stringify({ op: 'subscribe', ch: 'trades.X', ...request }));
  return client;
}

function seqs(messages: WireMessage[]): number[] {
  return messages.map((message) => (message as { seq: number }).seq);
}

test('two hubs number the same messages alike, and a client resumes on the other one without a reset', () => {
  const { hubs, apply } = twoHubs();
  apply(1);
  const early = subscribe(hubs[0]);
  const [ack] = early.take();
  assert.deepEqual(
    [(ack as { seq: number }).seq, (ack as { epoch: string }).epoch],
    [2 * positionalStride - 1, 'evt'],
  );
  apply(2);
  apply(0);
  const late = subscribe(hubs[1]);
  late.take();
  apply(1);
  const seen = early.take();
  assert.deepEqual(seqs(seen), [2 * positionalStride, 2 * positionalStride + 1, 4 * positionalStride]);
  assert.deepEqual(seqs(late.take()), [4 * positionalStride]);
  // The early client saw up to 2 × stride + 1 on hub 0; hub 1 has kept everything since its channel
  // was created (after position 3), which is after that: a reset snapshot, never a gap.
  const movedTooEarly = subscribe(hubs[1], { since: 2 * positionalStride + 1, epoch: 'evt' });
  assert.equal((movedTooEarly.take()[1] as { reset?: boolean }).reset, true);
  // A client that saw up to the last message of position 4 resumes on hub 1 exactly.
  apply(2);
  const resumed = subscribe(hubs[1], { since: 4 * positionalStride, epoch: 'evt' });
  const [resumedAck, ...replayed] = resumed.take();
  assert.equal((resumedAck as { ok: boolean }).ok, true);
  assert.deepEqual(seqs(replayed), [5 * positionalStride, 5 * positionalStride + 1]);
});

test('positional history: a since older than the kept messages gets a reset snapshot', () => {
  let position = 0;
  const hub = new ChannelHub({
    epoch: 'evt',
    limits: { historyMax: 2 },
    numbering: { kind: 'positional', position: () => position },
  });
  hub.addSource(source);
  subscribe(hub);
  for (let index = 0; index < 3; index++) {
    position += 1;
    hub.publish('trades.X', { index });
  }
  const kept = subscribe(hub, { since: 2 * positionalStride, epoch: 'evt' });
  assert.deepEqual(seqs(kept.take().slice(1)), [3 * positionalStride]);
  // The message at stride was evicted, but a client that saw it misses nothing kept after it.
  const justKept = subscribe(hub, { since: positionalStride, epoch: 'evt' });
  assert.deepEqual(seqs(justKept.take().slice(1)), [2 * positionalStride, 3 * positionalStride]);
  const tooOld = subscribe(hub, { since: positionalStride - 1, epoch: 'evt' });
  assert.equal((tooOld.take()[1] as { reset?: boolean }).reset, true);
});
