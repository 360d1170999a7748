// The Fastify app: builds every service once (the `services` decorator), adds the hooks every
// request passes (request id, rate limit, origin, authentication), registers one route plugin per
// concept, and maps every error to the one `{code, message, field?}` shape.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import cookie from '@fastify/cookie';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import websocket from '@fastify/websocket';
import Fastify, {
  type FastifyError,
  type FastifyInstance,
  type FastifyRequest,
  LogController,
} from 'fastify';
import { adminRoutes, symbolRoutes } from './admin.js';
import { apiKeyAuthenticator } from './api-key-auth.js';
import { apiKeyRoutes } from './api-key-routes.js';
import { authRoutes } from './auth.js';
import { type Authenticator, defaultAuthenticators, installAuthentication } from './authentication.js';
import type { ConnectionOptions, GatewayConfig } from './config.js';
import { limitConnections } from './connection-limits.js';
import { fromStoreError, GatewayError, statusOf } from './errors.js';
import { healthRoutes } from './health.js';
import { historyRoutes } from './history.js';
import { GatewayMetrics, registerMetricsRoute } from './metrics.js';
import { offeringRoutes } from './offerings.js';
import { onboardingRoutes } from './onboarding-routes.js';
import { orderRoutes } from './orders.js';
import {
  cookieNameFor,
  crossOriginReason,
  originNotAllowed,
  secureCookieName,
  usesBearer,
} from './origins.js';
import { buildServices, type GatewayServices, type ServiceDependencies } from './services.js';
import { validatorCompiler } from './validation.js';
import { webSocketRoute } from './ws.js';

export interface GatewayDependencies extends ServiceDependencies {
  /** The credential kinds accepted, in order (default: sessions; src/gateway/authentication.ts). */
  authenticators?: readonly Authenticator[];
}

export interface Gateway {
  app: FastifyInstance;
  services: GatewayServices;
}

/**
 * Fastify's own errors (body size, bad JSON, content type) as GatewayErrors, whose status comes
 * from the one table; undefined for anything else (a bug: 500 INTERNAL).
 */
function fromFastifyError(error: FastifyError): GatewayError | undefined {
  const status = error.statusCode;
  if (status === 413) return new GatewayError('PAYLOAD_TOO_LARGE', error.message);
  if (status === 415) return new GatewayError('UNSUPPORTED_MEDIA_TYPE', error.message);
  if (status !== undefined && status >= 400 && status < 500)
    return new GatewayError('VALIDATION_FAILED', error.message);
  return undefined;
}

function registerErrorHandling(app: FastifyInstance, metrics: GatewayMetrics): void {
  app.setErrorHandler((thrown, request, reply) => {
    const error =
      thrown instanceof GatewayError
        ? thrown
        : (fromStoreError(thrown) ?? fromFastifyError(thrown as FastifyError));
    if (error === undefined) {
      request.log.error({ err: thrown }, 'request failed');
      metrics.rejects.inc({ code: 'INTERNAL' });
      return reply.code(statusOf('INTERNAL')).send({ code: 'INTERNAL', message: 'internal error' });
    }
    if (error.retryAfterSeconds !== undefined) reply.header('retry-after', String(error.retryAfterSeconds));
    metrics.rejects.inc({ code: error.code });
    return reply.code(error.statusCode).send(error.body());
  });
  app.setNotFoundHandler((_request, reply) => {
    const error = new GatewayError('NOT_FOUND', 'no such route');
    return reply.code(error.statusCode).send(error.body());
  });
}

/** A client's own id when it looks like one (bounded, no spaces or control characters), else a fresh one. */
const requestIdPattern = /^[A-Za-z0-9._:-]{1,64}$/;

function requestIdFor(request: IncomingMessage): string {
  const incoming = request.headers['x-request-id'];
  return typeof incoming === 'string' && requestIdPattern.test(incoming) ? incoming : randomUUID();
}

function registerIpLimit(app: FastifyInstance): void {
  const { buckets } = app.services;
  app.addHook('onRequest', async (request) => {
    const url = request.url;
    if (url === '/healthz' || url === '/readyz' || url === '/metrics') return;
    let taken = buckets.requestsPerIp.take(request.ip);
    if (taken instanceof Promise) taken = await taken;
    if (!taken.ok)
      throw new GatewayError('RATE_LIMITED', 'request rate limit', undefined, taken.retryAfterSeconds);
  });
}

const unsafeMethods = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * Cross-site request forgery: a browser attaches the session cookie to a form post or a bodiless
 * fetch from any page, so every state-changing request that a browser could have sent from another
 * origin is refused, before its body is read. Bearer requests are exempt (no browser adds one on
 * its own); logins and registrations are checked too (a forged login would sign the victim in to
 * the attacker's account). A WebSocket upgrade is a GET, but a page on another origin can open
 * /ws and the browser sends the victim's cookie with it: an upgrade that carries the session
 * cookie is checked too (visitors without a cookie and programs are not affected).
 */
function registerOriginCheck(app: FastifyInstance): void {
  const options = app.services.config.origins;
  app.addHook('onRequest', async (request) => {
    if (usesBearer(request)) return;
    if (isUpgrade(request)) {
      if (request.cookies[cookieNameFor(request, options)] === undefined) return;
    } else if (!unsafeMethods.has(request.method)) return;
    const reason = crossOriginReason(request, options);
    if (reason !== undefined) throw originNotAllowed(reason);
  });
}

function isUpgrade(request: FastifyRequest): boolean {
  const upgrade = request.headers.upgrade;
  return typeof upgrade === 'string' && upgrade.toLowerCase() === 'websocket';
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
  }) as unknown as FastifyInstance;
  // Route schemas are TypeBox, checked by the TypeBox compiler exactly as WebSocket messages are.
  app.setValidatorCompiler(validatorCompiler);
  const metrics = new GatewayMetrics({
    sequencerQueueDepth: () => deps.sequencer.queueDepth,
    passwordQueueDepth: () => services.passwords.queueDepth,
    webSocketCount: () => deps.state.streams.socketCount,
    lastSeq: () => deps.sequencer.lastSeq,
    readModelLag: deps.history === undefined ? undefined : () => deps.history?.lagCommands() ?? 0,
  });
  const services = buildServices(deps, metrics);
  app.decorate('services', services);
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
  // Parses the Cookie header in its own onRequest hook, so it runs before the hooks below.
  await app.register(cookie);
  registerErrorHandling(app, metrics);
  registerRequestLog(app, deps.config);
  registerIpLimit(app);
  registerOriginCheck(app);
  installAuthentication(app, deps.authenticators ?? [...defaultAuthenticators, apiKeyAuthenticator]);
  registerMetricsRoute(app, metrics);
  for (const routes of [
    healthRoutes,
    authRoutes,
    apiKeyRoutes,
    onboardingRoutes,
    symbolRoutes,
    adminRoutes,
    orderRoutes,
    historyRoutes,
    offeringRoutes,
    webSocketRoute,
  ])
    await app.register(routes);
  return { app, services };
}
