// Accounts and sessions over REST: register, log in, log out (one / every device), list and end
// sessions, who am I. Logins are throttled (src/gateway/login-guard.ts) BEFORE any hashing, so a
// password-guessing burst costs the server a bucket lookup, not a 128 MiB scrypt.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { principalOf, sessionOf } from './authentication.js';
import { deviceCookieNames, readCookie, sessionCookieNames, setCookie } from './cookies.js';
import { GatewayError, notFound } from './errors.js';
import type { RegisteredUser } from './onboarding.js';
import { secureCookieLost } from './origins.js';
import { EndedReply, LoginReply, MeReply, RegisteredReply, replies, SessionsReply } from './responses.js';
import { Credentials, SessionIdParams } from './schemas.js';
import { deviceMaxAgeMs, type GatewayServices } from './services.js';
import { hashToken } from './sessions.js';

/** Public id of a session: a prefix of a hash of the token hash, never the token or its hash. */
export function sessionId(tokenHash: string): string {
  return hashToken(`session-id:${tokenHash}`).slice(0, 32);
}

function deviceToken(context: GatewayServices, request: FastifyRequest): string | undefined {
  return readCookie(request, context.config.origins, deviceCookieNames);
}

/** A browser would drop the Secure cookie over plain http: refuse before hashing, saying why. */
function refuseLostCookie(context: GatewayServices, request: FastifyRequest): void {
  if (!secureCookieLost(request, context.config.origins)) return;
  throw new GatewayError(
    'COOKIE_NEEDS_HTTPS',
    'this server sets its session cookie Secure, which a browser drops over plain http: use https, ' +
      'or set HOGA_COOKIE_SECURE=auto for a plain-http deployment (docs/CONFIGURATION.md)',
  );
}

function userAgent(request: FastifyRequest): string {
  const agent = request.headers['user-agent'];
  return typeof agent === 'string' && agent.length > 0 ? agent : 'unknown';
}

export const authRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const context = app.services;
  const tags = ['auth'];
  let decoyHash: Promise<string> | undefined;

  app.post(
    '/api/v1/auth/register',
    {
      config: { auth: 'public' },
      schema: {
        tags,
        body: Credentials,
        response: replies({ 201: RegisteredReply }),
        summary: 'Create an account',
      },
    },
    async (request, reply) => {
      await context.logins.admitRegistration(request.ip);
      const { username, password } = request.body;
      if ((await context.users.findUserByName(username)) !== undefined) {
        throw new GatewayError('USERNAME_TAKEN', 'username already taken', 'username');
      }
      const passwordHash = await context.passwords.hash(password);
      const user = await createUserOrConflict(context, username, passwordHash);
      context.audit.info(
        { event: 'register', userId: user.id, ip: request.ip, reqId: request.id },
        'register',
      );
      await welcomeNewUser(context, { userId: user.id, username: user.username });
      return reply.code(201).send({ userId: user.id, username: user.username });
    },
  );

  app.post(
    '/api/v1/auth/login',
    {
      config: { auth: 'public' },
      schema: {
        tags,
        body: Credentials,
        response: replies({ 200: LoginReply }),
        summary: 'Log in; sets the session cookie and returns the token',
      },
    },
    async (request, reply) => {
      const { username, password } = request.body;
      refuseLostCookie(context, request);
      const device = deviceToken(context, request);
      const lane = await context.logins.admitLogin(request.ip, username, device);
      const user = await context.users.findUserByName(username);
      // An unknown user still costs one hash, so timing does not reveal which usernames exist.
      decoyHash ??= context.passwords.hash('decoy password that never matches');
      const valid = await context.passwords.verify(password, user?.passwordHash ?? (await decoyHash), lane);
      if (user === undefined || !valid) {
        const failed = { event: 'loginFailed', username, ip: request.ip, reqId: request.id, lane };
        context.audit.warn(failed, 'login failed');
        context.metrics.audit.inc({ event: 'loginFailed' });
        throw new GatewayError('INVALID_CREDENTIALS', 'wrong username or password');
      }
      const { token, session } = await context.sessions.create(user.id, userAgent(request), request.ip);
      context.audit.info(
        { event: 'login', userId: user.id, ip: request.ip, reqId: request.id, lane },
        'login',
      );
      context.metrics.audit.inc({ event: 'login' });
      const maxAgeSeconds = Math.floor(context.config.sessions.absoluteTimeoutMs / 1000);
      const options = context.config.origins;
      const remembered = await context.logins.rememberDevice(user.username, device);
      setCookie(request, reply, options, sessionCookieNames, token, maxAgeSeconds);
      setCookie(request, reply, options, deviceCookieNames, remembered, Math.floor(deviceMaxAgeMs / 1000));
      return {
        token,
        userId: user.id,
        username: user.username,
        isAdmin: user.isAdmin,
        sessionId: sessionId(session.tokenHash),
      };
    },
  );

  app.post(
    '/api/v1/auth/logout',
    {
      config: { auth: 'user' },
      schema: { tags, response: replies({ 200: EndedReply }), summary: 'End this session' },
    },
    async (request, reply) => {
      const { session } = sessionOf(request);
      await context.sessions.end(session, 'logout');
      setCookie(request, reply, context.config.origins, sessionCookieNames, '', 0);
      return { ended: 1 };
    },
  );

  app.post(
    '/api/v1/auth/logout-all',
    {
      config: { auth: 'user' },
      schema: { tags, response: replies({ 200: EndedReply }), summary: 'End every session of this user' },
    },
    async (request, reply) => {
      const { userId } = sessionOf(request);
      const ended = await context.sessions.endAll(userId);
      const line = { event: 'logoutAll', userId, ended, ip: request.ip, reqId: request.id };
      context.audit.info(line, 'logout all');
      context.metrics.audit.inc({ event: 'logoutAll' });
      setCookie(request, reply, context.config.origins, sessionCookieNames, '', 0);
      return { ended };
    },
  );

  app.get(
    '/api/v1/me',
    {
      config: { auth: 'user' },
      schema: { tags, response: replies({ 200: MeReply }), summary: 'The logged-in user' },
    },
    async (request) => {
      const user = await context.users.findUserById(principalOf(request).userId);
      if (user === undefined) throw notFound('user');
      return {
        userId: user.id,
        username: user.username,
        isAdmin: user.isAdmin,
        createdAtMs: user.createdAtMs,
      };
    },
  );

  registerSessionRoutes(app, context);
};

/** Registration hooks (demo mode's starting balance); the account exists either way. */
async function welcomeNewUser(context: GatewayServices, user: RegisteredUser): Promise<void> {
  try {
    await context.onboarding.registered(user);
  } catch (error) {
    context.audit.warn(
      { event: 'registerHookFailed', userId: user.userId, err: error },
      'register hook failed',
    );
  }
}

async function createUserOrConflict(context: GatewayServices, username: string, passwordHash: string) {
  try {
    return await context.users.createUser(username, passwordHash, false, context.clock());
  } catch (error) {
    // Two registrations raced past the existence check: the store's unique index decides.
    if ((await context.users.findUserByName(username)) !== undefined) {
      throw new GatewayError('USERNAME_TAKEN', 'username already taken', 'username');
    }
    throw error;
  }
}

function registerSessionRoutes(
  app: Parameters<FastifyPluginAsyncTypebox>[0],
  context: GatewayServices,
): void {
  const tags = ['sessions'];
  app.get(
    '/api/v1/sessions',
    {
      config: { auth: 'user' },
      schema: { tags, response: replies({ 200: SessionsReply }), summary: 'My sessions (devices)' },
    },
    async (request) => {
      const { session: current } = sessionOf(request);
      const sessions = await context.sessions.list(current.userId);
      return sessions.map((session) => ({
        sessionId: sessionId(session.tokenHash),
        device: session.device,
        ip: session.ip,
        createdAtMs: session.createdAtMs,
        lastSeenAtMs: session.lastSeenAtMs,
        current: session.tokenHash === current.tokenHash,
      }));
    },
  );

  app.delete(
    '/api/v1/sessions/:sessionId',
    {
      config: { auth: 'user' },
      schema: {
        tags,
        params: SessionIdParams,
        response: replies({ 200: EndedReply }),
        summary: 'End one of my sessions',
      },
    },
    async (request) => {
      const { session: current } = sessionOf(request);
      // Only the caller's own sessions are searched: another user's id is simply not found.
      const sessions = await context.sessions.list(current.userId);
      const target = sessions.find((session) => sessionId(session.tokenHash) === request.params.sessionId);
      if (target === undefined) throw notFound('session');
      await context.sessions.end(target, 'revoked');
      return { ended: 1 };
    },
  );
}
