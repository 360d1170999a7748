// The authentication hook on a bare Fastify instance: each route's `config.auth`, the authenticator
// list tried in order, `optional` never refusing, `admin` checking the user, and an /api route that
// states no need refused when it is registered.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import cookie from '@fastify/cookie';
import Fastify, { type FastifyInstance } from 'fastify';
import {
  type Authenticator,
  authenticateSession,
  installAuthentication,
} from '../../src/gateway/authentication.js';
import { defaultGatewayConfig } from '../../src/gateway/config.js';
import { GatewayError, unauthenticated } from '../../src/gateway/errors.js';
import type { AuthNeed } from '../../src/gateway/principal.js';
import type { GatewayServices } from '../../src/gateway/services.js';

const session = { tokenHash: 'h', userId: 5, device: 'd', ip: 'i', createdAtMs: 0, lastSeenAtMs: 0 };
const services = {
  config: defaultGatewayConfig(),
  sessions: { resolve: async (token: string) => (token === 'good' ? session : undefined) },
  users: { findUserById: async (id: number) => ({ id, isAdmin: id === 9 }) },
} as unknown as GatewayServices;

/** Answers `X-Key: <userId>` as an API key; no header, no opinion; `X-Key: bad` is refused. */
const headerKey: Authenticator = async (request) => {
  const key = request.headers['x-key'];
  if (key === undefined) return undefined;
  if (key === 'bad') throw unauthenticated();
  return { userId: Number(key), via: 'apiKey', keyId: 'k', permissions: ['read'] };
};

async function appWith(authenticators: Authenticator[]): Promise<FastifyInstance> {
  const app = Fastify();
  app.decorate('services', services);
  await app.register(cookie);
  app.setErrorHandler((error, _request, reply) => {
    const status = error instanceof GatewayError ? error.statusCode : 500;
    return reply.code(status).send({ code: (error as GatewayError).code });
  });
  installAuthentication(app, authenticators);
  for (const need of ['public', 'optional', 'user', 'admin'] as AuthNeed[]) {
    app.get(`/api/${need}`, { config: { auth: need } }, async (request) => ({
      principal:
        request.session === null ? null : { userId: request.session.userId, via: request.session.via },
    }));
  }
  return app;
}

async function call(app: FastifyInstance, need: AuthNeed, headers: Record<string, string> = {}) {
  const reply = await app.inject({ method: 'GET', url: `/api/${need}`, headers });
  return { status: reply.statusCode, body: reply.json() };
}

describe('the authentication hook', () => {
  it('reads no credential on public routes and answers optional ones with null for a visitor', async () => {
    const app = await appWith([authenticateSession]);
    assert.deepEqual(await call(app, 'public', { authorization: 'Bearer good' }), {
      status: 200,
      body: { principal: null },
    });
    assert.deepEqual(await call(app, 'optional'), { status: 200, body: { principal: null } });
    assert.deepEqual(await call(app, 'optional', { authorization: 'Bearer stale' }), {
      status: 200,
      body: { principal: null },
    });
    assert.deepEqual(await call(app, 'optional', { cookie: '__Host-hoga_session=good' }), {
      status: 200,
      body: { principal: { userId: 5, via: 'session' } },
    });
  });

  it('refuses user routes without a credential and admin routes to a non-administrator', async () => {
    const app = await appWith([authenticateSession, headerKey]);
    assert.deepEqual(await call(app, 'user'), { status: 401, body: { code: 'UNAUTHENTICATED' } });
    assert.deepEqual(await call(app, 'user', { authorization: 'Bearer stale' }), {
      status: 401,
      body: { code: 'UNAUTHENTICATED' },
    });
    assert.deepEqual(await call(app, 'admin', { authorization: 'Bearer good' }), {
      status: 403,
      body: { code: 'FORBIDDEN' },
    });
    assert.deepEqual(await call(app, 'admin', { 'x-key': '9' }), {
      status: 200,
      body: { principal: { userId: 9, via: 'apiKey' } },
    });
  });

  it('tries the authenticators in order: the first principal wins, a bad credential is refused', async () => {
    const app = await appWith([authenticateSession, headerKey]);
    assert.deepEqual(await call(app, 'user', { 'x-key': '7' }), {
      status: 200,
      body: { principal: { userId: 7, via: 'apiKey' } },
    });
    assert.deepEqual(await call(app, 'user', { authorization: 'Bearer good', 'x-key': '7' }), {
      status: 200,
      body: { principal: { userId: 5, via: 'session' } },
    });
    assert.deepEqual(await call(app, 'user', { 'x-key': 'bad' }), {
      status: 401,
      body: { code: 'UNAUTHENTICATED' },
    });
  });

  it('refuses at start an /api route that does not state config.auth', async () => {
    const app = await appWith([authenticateSession]);
    assert.throws(() => app.get('/api/forgot', async () => ({})), /does not state config\.auth/);
    app.get('/healthy', async () => ({}));
    await app.ready();
  });
});
