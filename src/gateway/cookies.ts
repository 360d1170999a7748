// The gateway's two cookies (session and remembered device), read and written through
// @fastify/cookie under the name and Secure flag this request's scheme calls for
// (`__Host-` names only when Secure: src/gateway/origins.ts).
import type { CookieSerializeOptions } from '@fastify/cookie';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { OriginOptions } from './config.js';
import { cookieSecureFor, plainCookieName, secureCookieName } from './origins.js';

export interface CookieNames {
  secure: string;
  plain: string;
}

export const sessionCookieNames: CookieNames = { secure: secureCookieName, plain: plainCookieName };
export const deviceCookieNames: CookieNames = { secure: '__Host-hoga_device', plain: 'hoga_device' };

/** The cookie's name and attributes for this request: HttpOnly, SameSite=Strict, whole site. */
export function cookieFor(
  request: FastifyRequest,
  options: OriginOptions,
  names: CookieNames,
  maxAgeSeconds: number,
): { name: string; options: CookieSerializeOptions } {
  const secure = cookieSecureFor(request, options);
  return {
    name: secure ? names.secure : names.plain,
    options: { path: '/', httpOnly: true, secure, sameSite: 'strict', maxAge: maxAgeSeconds },
  };
}

export function setCookie(
  request: FastifyRequest,
  reply: FastifyReply,
  options: OriginOptions,
  names: CookieNames,
  value: string,
  maxAgeSeconds: number,
): void {
  const cookie = cookieFor(request, options, names, maxAgeSeconds);
  reply.setCookie(cookie.name, value, cookie.options);
}

export function readCookie(
  request: FastifyRequest,
  options: OriginOptions,
  names: CookieNames,
): string | undefined {
  return request.cookies[cookieSecureFor(request, options) ? names.secure : names.plain];
}
