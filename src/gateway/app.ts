// The Fastify app: builds every service once, registers one route file per concept, and maps
// every error to the one `{code, message, field?}` shape.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import websocket from '@fastify/websocket';
import Fastify, { type FastifyError, type FastifyInstance, LogController } from 'fastify';
import type { Logger } from 'pino';
import type { MatchingEngine } from '../core/types.js';
import type { CommandSequencer } from '../ports.js';
import type { HistoryReader } from '../store/history-reader.js';
import type { SessionStore, UserStore } from '../store/ports.js';
import { registerAdminRoutes, registerSymbolRoutes } from './admin.js';
import { deviceMaxAgeMs, registerAuthRoutes } from './auth.js';
import type { ConnectionOptions, GatewayConfig } from './config.js';
import { limitConnections } from './connection-limits.js';
import type { GatewayContext, MarketDataSockets } from './context.js';
import { type ErrorBody, fromStoreError, GatewayError } from './errors.js';
import { registerHealthRoutes } from './health.js';
import { registerHistoryRoutes } from './history.js';
import { LoginGuard } from './login-guard.js';
import { GatewayMetrics, registerMetricsRoute } from './metrics.js';
import { registerOfferingRoutes } from './offerings.js';
import { Onboarding } from './onboarding.js';
import { registerOnboardingRoutes } from './onboarding-routes.js';
import { registerOrderRoutes } from './orders.js';
import { crossOriginReason, originNotAllowed, secureCookieName, usesBearer } from './origins.js';
import { PasswordHasher } from './passwords.js';
import { SessionManager } from './sessions.js';
import { inProcessServices, type SharedServices } from './shared-services.js';
import type { GatewayState } from './state.js';
import { TradingService } from './trading.js';
import { registerWebSocketRoute } from './ws.js';

export interface GatewayDependencies {
  config: GatewayConfig;
  engine: MatchingEngine;
  sequencer: CommandSequencer;
  users: UserStore;
  sessions: SessionStore;
  /** Built before recovery and registered with the sequencer, so it saw every applied command. */
  state: GatewayState;
  logger: Logger;
  clock?: () => number;
  marketData?: MarketDataSockets;
  history?: HistoryReader;
  ready?: () => boolean;
  /** Limits, suspensions and session ends shared with other gateways (default: this process only). */
  shared?: SharedServices;
}

export interface Gateway {
  app: FastifyInstance;
  context: GatewayContext;
}

function buildContext(deps: GatewayDependencies, metrics: GatewayMetrics): GatewayContext {
  const clock = deps.clock ?? Date.now;
  const { config } = deps;
  const shared = deps.shared ?? inProcessServices();
  const abnormal = shared.abnormalTraffic(config.abnormal, clock);
  const audit = deps.logger.child({ audit: true });
  abnormal.onSuspended((suspension) => {
    audit.warn({ event: 'suspended', ...suspension }, 'user suspended for abnormal traffic');
    metrics.audit.inc({ event: 'suspended' });
  });
  const orderBuckets = shared.rateLimiter('orders', config.limits.ordersPerUser, clock);
  const trading = new TradingService({
    sequencer: deps.sequencer,
    markets: deps.state.markets,
    idempotency: deps.state.idempotency,
    abnormal,
    orderBuckets,
    admission: shared.orderAdmission(orderBuckets, abnormal),
    observeEngineSeconds: (seconds) => metrics.engineSeconds.observe(seconds),
    balanceOf: (user, asset) => deps.engine.balance(user, asset),
  });
  return {
    config,
    engine: deps.engine,
    sequencer: deps.sequencer,
    users: deps.users,
    sessions: new SessionManager(deps.sessions, config.sessions, clock, {
      events: shared.sessionEvents,
      locks: shared.userLocks,
    }),
    passwords: new PasswordHasher(config.passwords),
    trading,
    state: deps.state,
    abnormal,
    buckets: {
      requestsPerIp: shared.rateLimiter('requests', config.limits.requestsPerIp, clock),
    },
    shared,
    logins: new LoginGuard(
      {
        loginsPerIp: config.limits.loginsPerIp,
        loginsPerUsername: config.limits.loginsPerUsername,
        devicesMax: config.sessions.cacheEntriesMax,
        deviceMaxAgeMs,
      },
      clock,
      {
        byIp: shared.rateLimiter('logins-ip', config.limits.loginsPerIp, clock),
        byUsername: shared.rateLimiter('logins-name', config.limits.loginsPerUsername, clock),
        byDevice: shared.rateLimiter('logins-device', config.limits.loginsPerUsername, clock),
      },
    ),
    metrics,
    audit,
    clock,
    marketData: deps.marketData,
    history: deps.history,
    ready: deps.ready ?? (() => true),
    onboarding: new Onboarding(),
  };
}

/** Fastify's own errors (schema validation, body size, bad JSON) in our one shape. */
function fastifyErrorBody(error: FastifyError): { status: number; body: ErrorBody } {
  if (error.validation !== undefined && error.validation.length > 0) {
    const first = error.validation[0];
    const missing =
      (first.params as { missingProperty?: string; additionalProperty?: string } | undefined) ?? {};
    const field =
      missing.missingProperty ?? missing.additionalProperty ?? first.instancePath.replace(/^\//, '');
    return {
      status: 400,
      body: {
        code: 'VALIDATION_FAILED',
        message: `${field || error.validationContext}: ${first.message}`,
        field,
      },
    };
  }
  if (error.statusCode === 413)
    return { status: 413, body: { code: 'PAYLOAD_TOO_LARGE', message: error.message } };
  if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) {
    return { status: error.statusCode, body: { code: 'VALIDATION_FAILED', message: error.message } };
  }
  return { status: 500, body: { code: 'INTERNAL', message: 'internal error' } };
}

function registerErrorHandling(app: FastifyInstance, metrics: GatewayMetrics): void {
  app.setErrorHandler((thrown, request, reply) => {
    const error = fromStoreError(thrown) ?? thrown;
    if (error instanceof GatewayError) {
      if (error.retryAfterSeconds !== undefined) reply.header('retry-after', String(error.retryAfterSeconds));
      metrics.rejects.inc({ code: error.code });
      return reply.code(error.statusCode).send(error.body());
    }
    const { status, body } = fastifyErrorBody(error as FastifyError);
    if (status === 500) request.log.error({ err: error }, 'request failed');
    metrics.rejects.inc({ code: body.code });
    return reply.code(status).send(body);
  });
  app.setNotFoundHandler((_request, reply) =>
    reply.code(404).send({ code: 'NOT_FOUND', message: 'no such route' }),
  );
}

/** A client's own id when it looks like one (bounded, no spaces or control characters), else a fresh one. */
const requestIdPattern = /^[A-Za-z0-9._:-]{1,64}$/;

function requestIdFor(request: IncomingMessage): string {
  const incoming = request.headers['x-request-id'];
  return typeof incoming === 'string' && requestIdPattern.test(incoming) ? incoming : randomUUID();
}

function registerIpLimit(app: FastifyInstance, context: GatewayContext): void {
  app.addHook('onRequest', async (request) => {
    const url = request.url;
    if (url === '/healthz' || url === '/readyz' || url === '/metrics') return;
    let taken = context.buckets.requestsPerIp.take(request.ip);
    if (taken instanceof Promise) taken = await taken;
    if (!taken.ok)
      throw new GatewayError(429, 'RATE_LIMITED', 'request rate limit', undefined, taken.retryAfterSeconds);
  });
}

const unsafeMethods = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * Cross-site request forgery: a browser attaches the session cookie to a form post or a bodiless
 * fetch from any page, so every state-changing request that a browser could have sent from another
 * origin is refused, before its body is read. Bearer requests are exempt (no browser adds one on
 * its own); logins and registrations are checked too (a forged login would sign the victim in to
 * the attacker's account).
 */
function registerOriginCheck(app: FastifyInstance, context: GatewayContext): void {
  app.addHook('onRequest', async (request) => {
    if (!unsafeMethods.has(request.method) || usesBearer(request)) return;
    const reason = crossOriginReason(request, context.config.origins);
    if (reason !== undefined) throw originNotAllowed(reason);
  });
}

const probeRoutes = new Set(['/healthz', '/readyz', '/metrics']);

/** Echoes the request id so a client can quote it; with `logRequests`, one line per request. */
function registerRequestLog(app: FastifyInstance, config: GatewayConfig): void {
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  if (!config.logRequests) return;
  app.addHook('onResponse', async (request, reply) => {
    // Probes poll every few seconds: their lines would drown the rest, so they log at debug.
    const level = probeRoutes.has(request.url) ? 'debug' : 'info';
    request.log[level](
      {
        method: request.method,
        url: request.url,
        status: reply.statusCode,
        ip: request.ip,
        responseTimeMs: Math.round(reply.elapsedTime * 1000) / 1000,
      },
      'request',
    );
  });
}

/** Node checks header and request timeouts on this period; a fraction of the shorter one keeps them tight. */
function timeoutCheckMs(connections: ConnectionOptions): number {
  return Math.max(
    10,
    Math.min(1_000, Math.floor(Math.min(connections.headersTimeoutMs, connections.requestTimeoutMs) / 4)),
  );
}

export async function buildGateway(deps: GatewayDependencies): Promise<Gateway> {
  const { connections } = deps.config;
  const app = Fastify({
    loggerInstance: deps.logger,
    bodyLimit: deps.config.bodyBytesMax,
    trustProxy: deps.config.trustProxy,
    requestIdHeader: false,
    genReqId: requestIdFor,
    // Fastify's own two lines per request are off; registerRequestLog writes one.
    logController: new LogController({ disableRequestLogging: true }),
    connectionTimeout: connections.idleTimeoutMs,
    keepAliveTimeout: connections.keepAliveTimeoutMs,
    requestTimeout: connections.requestTimeoutMs,
    http: {
      headersTimeout: connections.headersTimeoutMs,
      requestTimeout: connections.requestTimeoutMs,
      connectionsCheckingInterval: timeoutCheckMs(connections),
    },
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false } },
  }) as unknown as FastifyInstance;
  const metrics = new GatewayMetrics({
    sequencerQueueDepth: () => deps.sequencer.queueDepth,
    passwordQueueDepth: () => context.passwords.queueDepth,
    webSocketCount: () => deps.state.streams.socketCount,
    lastSeq: () => deps.sequencer.lastSeq,
    readModelLag: deps.history === undefined ? undefined : () => deps.history?.lagCommands() ?? 0,
  });
  const context = buildContext(deps, metrics);
  limitConnections(
    app.server,
    { perIpMax: connections.perIpMax, totalMax: connections.totalMax, perIp: !deps.config.trustProxy },
    metrics,
  );
  await app.register(swagger, {
    openapi: {
      info: {
        title: 'Hoga exchange API',
        version: '1.0.0',
        description: 'See docs/API.md for units and error codes.',
      },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer' },
          cookie: { type: 'apiKey', in: 'cookie', name: secureCookieName },
        },
      },
      security: [{ bearer: [] }, { cookie: [] }],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  await app.register(websocket, { options: { maxPayload: deps.config.webSocket.messageBytesMax } });
  registerErrorHandling(app, metrics);
  registerRequestLog(app, deps.config);
  registerIpLimit(app, context);
  registerOriginCheck(app, context);
  registerMetricsRoute(app, metrics);
  registerHealthRoutes(app, context);
  registerAuthRoutes(app, context);
  registerOnboardingRoutes(app, context);
  registerSymbolRoutes(app, context);
  registerAdminRoutes(app, context);
  registerOrderRoutes(app, context);
  registerHistoryRoutes(app, context);
  registerOfferingRoutes(app, context);
  const sockets = registerWebSocketRoute(app, context);
  app.addHook('onClose', async () => sockets.close());
  return { app, context };
}
