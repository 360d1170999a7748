// Authentication as one `onRequest` hook. Each route states what it needs in `config.auth`
// (src/gateway/principal.ts); the hook runs the authenticators in turn, once per request, before
// the body is read, and sets `request.session` to the principal it found. Handlers read
// `request.session` and never authenticate themselves. A new credential kind (API keys) is one
// more entry in the authenticator list given to `installAuthentication`.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { OriginOptions } from './config.js';
import { GatewayError, unauthenticated } from './errors.js';
import { cookieNameFor } from './origins.js';
import type { AuthNeed, Principal, SessionPrincipal } from './principal.js';
import type { GatewayServices } from './services.js';

/**
 * One credential kind. Answers undefined when the request carries no credential of its kind (the
 * next authenticator is tried), throws a GatewayError (UNAUTHENTICATED, FORBIDDEN...) when it
 * carries one that is not valid, and the principal otherwise.
 */
export type Authenticator = (
  request: FastifyRequest,
  services: GatewayServices,
) => Promise<Principal | undefined>;

/**
 * The session token from `Authorization: Bearer` (programs) or the session cookie (browsers) under
 * the one name this request's scheme allows (`__Host-hoga_session` when the cookie is Secure).
 */
export function tokenFromRequest(request: FastifyRequest, options: OriginOptions): string | undefined {
  const authorization = request.headers.authorization;
  if (typeof authorization === 'string' && authorization.startsWith('Bearer ')) {
    return authorization.slice('Bearer '.length).trim();
  }
  return request.cookies[cookieNameFor(request, options)];
}

/** Password logins: a live session's token, from the Bearer header or the session cookie. */
export const authenticateSession: Authenticator = async (request, services) => {
  const token = tokenFromRequest(request, services.config.origins);
  if (token === undefined) return undefined;
  if (token.length === 0) throw unauthenticated();
  const session = await services.sessions.resolve(token);
  if (session === undefined) throw unauthenticated();
  return { userId: session.userId, via: 'session', session, token };
};

/** The credential kinds the gateway accepts, tried in this order. */
export const defaultAuthenticators: readonly Authenticator[] = [authenticateSession];

async function principalFrom(
  request: FastifyRequest,
  services: GatewayServices,
  authenticators: readonly Authenticator[],
): Promise<Principal | undefined> {
  for (const authenticate of authenticators) {
    const principal = await authenticate(request, services);
    if (principal !== undefined) return principal;
  }
  return undefined;
}

async function authenticateFor(
  need: AuthNeed,
  request: FastifyRequest,
  services: GatewayServices,
  authenticators: readonly Authenticator[],
): Promise<Principal | null> {
  if (need === 'optional') {
    try {
      return (await principalFrom(request, services, authenticators)) ?? null;
    } catch (error) {
      // A visitor with a stale cookie is still a visitor on an optional route.
      if (error instanceof GatewayError && error.code === 'UNAUTHENTICATED') return null;
      throw error;
    }
  }
  const principal = await principalFrom(request, services, authenticators);
  if (principal === undefined) throw unauthenticated();
  if (need === 'admin') {
    const user = await services.users.findUserById(principal.userId);
    if (user === undefined || !user.isAdmin) throw new GatewayError('FORBIDDEN', 'administrators only');
  }
  return principal;
}

/**
 * Decorates `request.session`, refuses at start-up any /api route that does not state its need
 * (a forgotten `config.auth` must not silently make a route public), and adds the hook. Call on
 * the root instance after the rate-limit and origin hooks, before any route plugin.
 */
export function installAuthentication(
  app: FastifyInstance,
  authenticators: readonly Authenticator[] = defaultAuthenticators,
): void {
  app.decorateRequest('session', null);
  app.addHook('onRoute', (route) => {
    const need = (route.config as { auth?: AuthNeed } | undefined)?.auth;
    if (route.url.startsWith('/api/') && need === undefined)
      throw new Error(`route ${route.method} ${route.url} does not state config.auth`);
  });
  app.addHook('onRequest', async (request) => {
    const need = request.routeOptions.config.auth ?? 'public';
    if (need === 'public') return;
    request.session = await authenticateFor(need, request, request.server.services, authenticators);
  });
}

/** The principal of a route whose need is `user` or `admin` (the hook has already refused visitors). */
export function principalOf(request: FastifyRequest): Principal {
  if (request.session === null) throw unauthenticated();
  return request.session;
}

/** The login session itself, for routes about sessions (log out, list devices): not an API key. */
export function sessionOf(request: FastifyRequest): SessionPrincipal {
  const principal = principalOf(request);
  if (principal.via !== 'session')
    throw new GatewayError('FORBIDDEN', 'this route needs a login session, not an API key');
  return principal;
}
