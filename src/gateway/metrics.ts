// Prometheus metrics on a registry of the gateway's own (several gateways can live in one test
// process). Gauges that mirror other components are read at scrape time.
import type { FastifyInstance } from 'fastify';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

const latencyBucketsSeconds = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 2.5,
];

export interface GaugeSources {
  sequencerQueueDepth: () => number;
  passwordQueueDepth: () => number;
  webSocketCount: () => number;
  lastSeq: () => number;
  readModelLag?: () => number;
}

export class GatewayMetrics {
  readonly registry = new Registry();
  readonly requestSeconds: Histogram<'method' | 'route' | 'status'>;
  readonly engineSeconds: Histogram;
  readonly audit: Counter<'event'>;
  readonly rejects: Counter<'code'>;

  constructor(sources: GaugeSources) {
    collectDefaultMetrics({ register: this.registry, prefix: 'hoga_' });
    this.requestSeconds = new Histogram({
      name: 'hoga_http_request_seconds',
      help: 'HTTP request latency by route',
      labelNames: ['method', 'route', 'status'],
      buckets: latencyBucketsSeconds,
      registers: [this.registry],
    });
    this.engineSeconds = new Histogram({
      name: 'hoga_engine_submit_seconds',
      help: 'Time from submit to durable, applied outcome (queue + journal + engine)',
      buckets: latencyBucketsSeconds,
      registers: [this.registry],
    });
    this.audit = new Counter({
      name: 'hoga_audit_events_total',
      help: 'Audit events by kind',
      labelNames: ['event'],
      registers: [this.registry],
    });
    this.rejects = new Counter({
      name: 'hoga_gateway_errors_total',
      help: 'Error replies by code',
      labelNames: ['code'],
      registers: [this.registry],
    });
    this.gauge(
      'hoga_sequencer_queue_depth',
      'Commands waiting in the sequencer',
      sources.sequencerQueueDepth,
    );
    this.gauge(
      'hoga_password_queue_depth',
      'Password hashes waiting for the scrypt pool',
      sources.passwordQueueDepth,
    );
    this.gauge('hoga_websocket_connections', 'Open authenticated WebSockets', sources.webSocketCount);
    this.gauge('hoga_last_seq', 'Sequence number of the last applied command', sources.lastSeq);
    if (sources.readModelLag !== undefined) {
      this.gauge(
        'hoga_read_model_lag_commands',
        'Commands applied but not yet projected',
        sources.readModelLag,
      );
    }
  }

  /** Adds a scrape-time gauge (used by main.ts for journal figures). */
  gauge(name: string, help: string, read: () => number): void {
    new Gauge({
      name,
      help,
      registers: [this.registry],
      collect() {
        this.set(read());
      },
    });
  }
}

export function registerMetricsRoute(app: FastifyInstance, metrics: GatewayMetrics): void {
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.requestSeconds.observe(
      { method: request.method, route, status: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });
  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
    reply.header('content-type', metrics.registry.contentType);
    return metrics.registry.metrics();
  });
}
