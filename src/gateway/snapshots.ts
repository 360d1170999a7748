// On-demand snapshot for operators: `POST /api/v1/admin/snapshots` captures the engine and every
// snapshot participant between two batches, as a periodic snapshot does, and answers once the
// file is durable. Useful before an upgrade or a planned restart, so the next start replays
// almost nothing.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { SnapshotTaken } from '../journal/snapshot-scheduler.js';
import { principalOf } from './authentication.js';
import { GatewayError } from './errors.js';
import { replies, SnapshotReply } from './responses.js';

export const snapshotRoute: FastifyPluginAsyncTypebox<{
  takeSnapshot: () => Promise<SnapshotTaken>;
}> = async (app, { takeSnapshot }) => {
  const context = app.services;
  app.post(
    '/api/v1/admin/snapshots',
    {
      config: { auth: 'admin' },
      schema: {
        tags: ['admin'],
        response: replies({ 201: SnapshotReply }),
        summary: 'Take a snapshot now (admin)',
      },
    },
    async (request, reply) => {
      const admin = { id: principalOf(request).userId };
      let taken: SnapshotTaken;
      try {
        taken = await takeSnapshot();
      } catch (error) {
        context.audit.error(
          { event: 'snapshot', adminId: admin.id, err: error, reqId: request.id },
          'snapshot failed',
        );
        throw new GatewayError('INTERNAL', 'the snapshot failed; the journal still holds every command');
      }
      context.audit.info(
        { event: 'snapshot', adminId: admin.id, lastSeq: taken.lastSeq, reqId: request.id },
        'snapshot',
      );
      return reply.code(201).send({
        lastSeq: taken.lastSeq,
        bytes: taken.bytes,
        pauseMs: taken.pauseMs,
        participantsPauseMs: taken.participantsPauseMs,
        writeMs: taken.writeMs,
        segmentsRemoved: taken.segmentsRemoved,
      });
    },
  );
};
