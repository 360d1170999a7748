// Browser-facing security: which origins may use the session cookie, and the cookie's name and
// Secure flag. A browser attaches the cookie to any request to this host, including one a page on
// another origin makes (SameSite=Strict does not separate origins of one site, e.g. another port
// or subdomain), so every cookie-authenticated write and WebSocket upgrade checks `Origin` (or
// `Sec-Fetch-Site` when a browser sent no Origin). Programs send no Origin and pass
// (docs/API.md "Cross-site requests").
import type { FastifyRequest } from 'fastify';
import type { OriginOptions } from './config.js';
import { GatewayError } from './errors.js';

/** The `__Host-` prefix makes browsers refuse the cookie unless Secure, host-only and `Path=/`. */
export const secureCookieName = '__Host-hoga_session';
/** Plain-http deployments (HOGA_COOKIE_SECURE=false or auto over http) cannot use the prefix. */
export const plainCookieName = 'hoga_session';

const loopbackHosts = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

/** Whether this request's session cookie carries `Secure` (and the `__Host-` name). */
export function cookieSecureFor(request: FastifyRequest, options: OriginOptions): boolean {
  if (options.cookieSecure === 'auto') return request.protocol === 'https';
  return options.cookieSecure === 'true';
}

export function cookieNameFor(request: FastifyRequest, options: OriginOptions): string {
  return cookieSecureFor(request, options) ? secureCookieName : plainCookieName;
}

/** `origin` is listed, or names the host this request was sent to (any scheme: a TLS proxy changes it). */
export function originAllowed(origin: string, request: FastifyRequest, options: OriginOptions): boolean {
  if (options.allowedOrigins.includes(origin)) return true;
  let parsed: URL;
  try {
    parsed = new URL(origin);
  } catch {
    return false;
  }
  // `null` (sandboxed frames, some redirects) and anything with a path never match.
  if (parsed.origin !== origin) return false;
  let own: URL;
  try {
    own = new URL(`${parsed.protocol}//${request.host}`);
  } catch {
    return false;
  }
  return own.host === parsed.host;
}

/** Why a browser request is cross-origin and must not use the cookie; undefined when it may. */
export function crossOriginReason(request: FastifyRequest, options: OriginOptions): string | undefined {
  const origin = request.headers.origin;
  if (typeof origin === 'string') {
    return originAllowed(origin, request, options) ? undefined : `origin ${origin} is not allowed`;
  }
  // Browsers that send no Origin still label the request; no label at all is a program.
  const site = request.headers['sec-fetch-site'];
  if (site === undefined || site === 'same-origin' || site === 'none') return undefined;
  return `a ${String(site)} request`;
}

export function originNotAllowed(reason: string): GatewayError {
  return new GatewayError(
    'ORIGIN_NOT_ALLOWED',
    `${reason}: cookie-authenticated requests must come from this site's own pages (HOGA_ALLOWED_ORIGINS)`,
  );
}

/** A Bearer token is never attached by a browser on its own, so such requests need no origin check. */
export function usesBearer(request: FastifyRequest): boolean {
  const authorization = request.headers.authorization;
  return typeof authorization === 'string' && authorization.startsWith('Bearer ');
}

/** A browser talking plain http to a non-loopback host drops a Secure cookie: say so at login. */
export function secureCookieLost(request: FastifyRequest, options: OriginOptions): boolean {
  const fromBrowser = request.headers.origin !== undefined || request.headers['sec-fetch-site'] !== undefined;
  return (
    fromBrowser &&
    cookieSecureFor(request, options) &&
    request.protocol !== 'https' &&
    !loopbackHosts.has(String(request.hostname ?? '').toLowerCase())
  );
}
