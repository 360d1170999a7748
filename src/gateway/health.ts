// Liveness (the process answers) and readiness (recovery done, intake not saturated, and in cluster
// mode the shared services reachable).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { LivenessReply, ReadinessReply, replies } from './responses.js';

/** Readiness fails when the sequencer's queue is this full: a load balancer should back off. */
const queueDepthNotReady = 10_000;

export const healthRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const context = app.services;
  const config = { auth: 'public' } as const;
  app.get(
    '/healthz',
    {
      config,
      schema: { tags: ['operations'], response: replies({ 200: LivenessReply }), summary: 'Liveness' },
    },
    async () => ({
      status: 'ok',
    }),
  );

  app.get(
    '/readyz',
    {
      config,
      schema: {
        tags: ['operations'],
        response: replies({ 200: ReadinessReply, 503: ReadinessReply }),
        summary: 'Readiness',
      },
    },
    async (_request, reply) => {
      const queueDepth = context.sequencer.queueDepth;
      const readModelLag = context.history?.lagCommands();
      // Cluster mode: while the shared services (Redis) are cut off every request fails closed.
      const sharedLive = context.shared.sessionEvents.live;
      const ready = context.ready() && queueDepth < queueDepthNotReady && sharedLive;
      return reply.code(ready ? 200 : 503).send({
        status: ready ? 'ready' : 'not ready',
        lastSeq: context.sequencer.lastSeq,
        queueDepth,
        readModelLag: readModelLag ?? null,
        sharedLive,
      });
    },
  );
};
