// Liveness (the process answers) and readiness (recovery done, intake not saturated, and in cluster
// mode the shared services reachable).
import type { FastifyInstance } from 'fastify';
import type { GatewayContext } from './context.js';

/** Readiness fails when the sequencer's queue is this full: a load balancer should back off. */
const queueDepthNotReady = 10_000;

export function registerHealthRoutes(app: FastifyInstance, context: GatewayContext): void {
  app.get('/healthz', { schema: { tags: ['operations'], summary: 'Liveness' } }, async () => ({
    status: 'ok',
  }));

  app.get('/readyz', { schema: { tags: ['operations'], summary: 'Readiness' } }, async (_request, reply) => {
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
  });
}
