// What every route file gets: the services built once at start-up, and the authentication helper.
import type { FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { MatchingEngine } from '../core/types.js';
import type { CommandSequencer } from '../ports.js';
import type { HistoryReader } from '../store/history-reader.js';
import type { SessionRecord, UserRecord, UserStore } from '../store/ports.js';
import type { GatewayConfig, OriginOptions } from './config.js';
import { GatewayError, unauthenticated } from './errors.js';
import type { LoginGuard } from './login-guard.js';
import type { GatewayMetrics } from './metrics.js';
import type { Onboarding } from './onboarding.js';
import { cookieNameFor, cookieSecureFor, plainCookieName, secureCookieName } from './origins.js';
import type { PasswordHasher } from './passwords.js';
import type { StreamClient } from './private-streams.js';
import type { SessionManager } from './sessions.js';
import type { AbnormalTraffic, RateLimiter, SharedServices } from './shared-services.js';
import type { GatewayState } from './state.js';
import type { TradingService } from './trading.js';

/** The market-data hub's per-socket side (src/marketdata ChannelHub fits): public channels. */
export interface MarketDataSockets {
  /** Undefined when the hub refused the socket (it closes the socket itself). */
  connect(client: StreamClient):
    | {
        /** Handles one client message; false when the message is not for the hub. */
        handle(request: unknown): boolean;
        close(): void;
      }
    | undefined;
}

export interface GatewayContext {
  config: GatewayConfig;
  engine: MatchingEngine;
  sequencer: CommandSequencer;
  users: UserStore;
  sessions: SessionManager;
  passwords: PasswordHasher;
  trading: TradingService;
  state: GatewayState;
  abnormal: AbnormalTraffic;
  buckets: {
    requestsPerIp: RateLimiter;
  };
  /** What this gateway shares with the others (in-process when it is alone). */
  shared: SharedServices;
  logins: LoginGuard;
  metrics: GatewayMetrics;
  audit: Logger;
  clock: () => number;
  marketData?: MarketDataSockets;
  history?: HistoryReader;
  /** False until start-up (recovery, admin seeding) has finished. */
  ready: () => boolean;
  /** Registration hooks and what the login page may say (demo mode). */
  onboarding: Onboarding;
}

export interface Authenticated {
  session: SessionRecord;
  token: string;
}

/**
 * The session token from `Authorization: Bearer` (programs) or the session cookie (browsers) under
 * the one name this request's scheme allows (`__Host-hoga_session` when the cookie is Secure).
 */
export function tokenFromRequest(request: FastifyRequest, options: OriginOptions): string | undefined {
  const authorization = request.headers.authorization;
  if (typeof authorization === 'string' && authorization.startsWith('Bearer ')) {
    return authorization.slice('Bearer '.length).trim();
  }
  return cookieValue(request.headers.cookie, cookieNameFor(request, options));
}

export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const separator = part.indexOf('=');
    if (separator > 0 && part.slice(0, separator).trim() === name) return part.slice(separator + 1).trim();
  }
  return undefined;
}

const authenticatedKey = Symbol('authenticated');
type WithAuthenticated = FastifyRequest & { [authenticatedKey]?: Authenticated };

export async function authenticate(context: GatewayContext, request: FastifyRequest): Promise<Authenticated> {
  const cached = (request as WithAuthenticated)[authenticatedKey];
  if (cached !== undefined) return cached;
  const token = tokenFromRequest(request, context.config.origins);
  if (token === undefined || token.length === 0) throw unauthenticated();
  const session = await context.sessions.resolve(token);
  if (session === undefined) throw unauthenticated();
  const authenticated = { session, token };
  (request as WithAuthenticated)[authenticatedKey] = authenticated;
  return authenticated;
}

export async function requireAdmin(context: GatewayContext, request: FastifyRequest): Promise<UserRecord> {
  const { session } = await authenticate(context, request);
  const user = await context.users.findUserById(session.userId);
  if (user === undefined || !user.isAdmin) throw new GatewayError(403, 'FORBIDDEN', 'administrators only');
  return user;
}

/** `value` under the cookie name and Secure flag this request's scheme calls for. */
export function cookieFor(
  request: FastifyRequest,
  options: OriginOptions,
  name: { secure: string; plain: string },
  value: string,
  maxAgeSeconds: number,
): string {
  const secure = cookieSecureFor(request, options);
  const attributes = `Path=/; HttpOnly;${secure ? ' Secure;' : ''} SameSite=Strict; Max-Age=${maxAgeSeconds}`;
  return `${secure ? name.secure : name.plain}=${value}; ${attributes}`;
}

const sessionCookieNames = { secure: secureCookieName, plain: plainCookieName };

export function sessionCookie(
  request: FastifyRequest,
  options: OriginOptions,
  token: string,
  maxAgeSeconds: number,
): string {
  return cookieFor(request, options, sessionCookieNames, token, maxAgeSeconds);
}

export function clearedSessionCookie(request: FastifyRequest, options: OriginOptions): string {
  return cookieFor(request, options, sessionCookieNames, '', 0);
}
