// AckedPublisher on the real NATS server: pipelined publishes get their own sequences in order,
// a repeated msg id is a duplicate with the original sequence, a fence on the wrong last sequence
// is the JetStream API error 10071 (what the engine replica's race handling relies on), and a
// subject with no stream, no answer, or a close each end the publish with a stable code.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { JetStreamApiError } from '@nats-io/jetstream';
import { AckedPublisher } from '../../src/cluster/acked-publisher.js';
import type { ClusterError } from '../../src/cluster/errors.js';
import { type ClusterFixture, openClusterFixture } from './support.js';

const body = (text: string) => new TextEncoder().encode(text);

describe('AckedPublisher', () => {
  let fixture: ClusterFixture;
  let publisher: AckedPublisher;

  before(async () => {
    fixture = await openClusterFixture('ackpub');
    publisher = new AckedPublisher(fixture.connection.nc);
  });

  after(async () => {
    publisher.close();
    await fixture.close();
  });

  it('pipelines publishes: each gets its own sequence, in publish order', async () => {
    const acks = await Promise.all(
      Array.from({ length: 300 }, (_, index) =>
        publisher.publish(fixture.names.cmdSubject, body(`m${index}`), { timeoutMs: 30_000 }),
      ),
    );
    assert.deepEqual(
      acks.map((ack) => ack.seq),
      Array.from({ length: 300 }, (_, index) => index + 1),
    );
    assert.ok(acks.every((ack) => ack.stream === fixture.names.cmdStream && !ack.duplicate));
    assert.equal(publisher.inFlight, 0);
  });

  it('a repeated msg id is a duplicate carrying the original sequence', async () => {
    const first = await publisher.publish(fixture.names.cmdSubject, body('a'), {
      msgID: 'dup-1',
      timeoutMs: 30_000,
    });
    const again = await publisher.publish(fixture.names.cmdSubject, body('b'), {
      msgID: 'dup-1',
      timeoutMs: 30_000,
    });
    assert.equal(first.duplicate, false);
    assert.equal(again.duplicate, true);
    assert.equal(again.seq, first.seq);
  });

  it('fences on the last sequence: the wrong one is JetStream error 10071, the right one lands', async () => {
    const subject = fixture.names.evtSubject;
    const landed = await publisher.publish(subject, body('e1'), { expectLastSequence: 0, timeoutMs: 30_000 });
    assert.equal(landed.seq, 1);
    await assert.rejects(
      publisher.publish(subject, body('e1 again'), { expectLastSequence: 0, timeoutMs: 30_000 }),
      (error: unknown) => error instanceof JetStreamApiError && error.code === 10071,
    );
    const next = await publisher.publish(subject, body('e2'), { expectLastSequence: 1, timeoutMs: 30_000 });
    assert.equal(next.seq, 2);
  });

  it('a subject no stream holds is NO_STREAM', async () => {
    await assert.rejects(
      publisher.publish(`${fixture.prefix}.nowhere`, body('x'), { timeoutMs: 30_000 }),
      (error: ClusterError) => error.code === 'NO_STREAM',
    );
  });

  it('no answer within the timeout is PUBLISH_TIMEOUT; close ends what still waits with PUBLISHER_CLOSED', async () => {
    // A plain subscriber that never replies: the server sees a responder, so nothing answers.
    const silent = fixture.connection.nc.subscribe(`${fixture.prefix}.silent`);
    await fixture.connection.nc.flush();
    try {
      await assert.rejects(
        publisher.publish(`${fixture.prefix}.silent`, body('x'), { timeoutMs: 1 }),
        (error: ClusterError) => error.code === 'PUBLISH_TIMEOUT',
      );
      const own = new AckedPublisher(fixture.connection.nc);
      const waiting = own.publish(`${fixture.prefix}.silent`, body('y'), { timeoutMs: 600_000 });
      own.close();
      await assert.rejects(waiting, (error: ClusterError) => error.code === 'PUBLISHER_CLOSED');
      await assert.rejects(
        own.publish(fixture.names.cmdSubject, body('z'), { timeoutMs: 30_000 }),
        (error: ClusterError) => error.code === 'PUBLISHER_CLOSED',
      );
    } finally {
      silent.unsubscribe();
    }
  });
});
