// Who sent a request, as the authentication hook (src/gateway/authentication.ts) found it. A
// principal names the user and the credential that proved it; the kinds differ in what else they
// carry (a session can be logged out, an API key has permissions).
import type { SessionRecord } from '../store/ports.js';

/** Logged in with a password: the session cookie (browsers) or `Authorization: Bearer` (programs). */
export interface SessionPrincipal {
  userId: number;
  via: 'session';
  session: SessionRecord;
  token: string;
}

/** A signed API-key request (HMAC); its permissions bound what the key may do. */
export interface ApiKeyPrincipal {
  userId: number;
  via: 'apiKey';
  keyId: string;
  permissions: readonly string[];
}

export type Principal = SessionPrincipal | ApiKeyPrincipal;

/**
 * What a route needs, stated in its `config.auth`: `public` reads no credential; `optional` sets
 * `request.session` when a valid credential came and null otherwise (never 401); `user` answers 401
 * without one; `admin` also answers 403 unless the user is an administrator.
 */
export type AuthNeed = 'public' | 'optional' | 'user' | 'admin';

export const authNeeds: readonly AuthNeed[] = ['public', 'optional', 'user', 'admin'];
