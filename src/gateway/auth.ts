// Accounts and sessions over REST: register, log in, log out (one / every device), list and end
// sessions, who am I. Logins are throttled per username and per IP BEFORE any hashing, so a
// password-guessing burst costs the server a bucket lookup, not a 128 MiB scrypt.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { authenticate, clearedSessionCookie, type GatewayContext, sessionCookie } from './context.js';
import { GatewayError, notFound } from './errors.js';
import type { RegisteredUser } from './onboarding.js';
import { Credentials, SessionIdParams } from './schemas.js';
import { hashToken } from './sessions.js';

/** Public id of a session: a prefix of a hash of the token hash, never the token or its hash. */
export function sessionId(tokenHash: string): string {
  return hashToken(`session-id:${tokenHash}`).slice(0, 32);
}

function throttleLogin(context: GatewayContext, request: FastifyRequest, username: string): void {
  const byIp = context.buckets.loginsPerIp.take(request.ip);
  const byName = username === '' ? byIp : context.buckets.loginsPerUsername.take(username.toLowerCase());
  const refused = !byIp.ok ? byIp : !byName.ok ? byName : undefined;
  if (refused !== undefined && !refused.ok) {
    throw new GatewayError(
      429,
      'RATE_LIMITED',
      'too many login attempts',
      undefined,
      refused.retryAfterSeconds,
    );
  }
}

function device(request: FastifyRequest): string {
  const agent = request.headers['user-agent'];
  return typeof agent === 'string' && agent.length > 0 ? agent : 'unknown';
}

export function registerAuthRoutes(app: FastifyInstance, context: GatewayContext): void {
  const tags = ['auth'];
  let decoyHash: Promise<string> | undefined;

  app.post<{ Body: Credentials }>(
    '/api/v1/auth/register',
    { schema: { tags, body: Credentials, summary: 'Create an account' } },
    async (request, reply) => {
      throttleLogin(context, request, '');
      const { username, password } = request.body;
      if ((await context.users.findUserByName(username)) !== undefined) {
        throw new GatewayError(409, 'USERNAME_TAKEN', 'username already taken', 'username');
      }
      const passwordHash = await context.passwords.hash(password);
      const user = await createUserOrConflict(context, username, passwordHash);
      context.audit.info({ event: 'register', userId: user.id, ip: request.ip }, 'register');
      await welcomeNewUser(context, { userId: user.id, username: user.username });
      return reply.code(201).send({ userId: user.id, username: user.username });
    },
  );

  app.post<{ Body: Credentials }>(
    '/api/v1/auth/login',
    { schema: { tags, body: Credentials, summary: 'Log in; sets the session cookie and returns the token' } },
    async (request, reply) => {
      const { username, password } = request.body;
      throttleLogin(context, request, username);
      const user = await context.users.findUserByName(username);
      // An unknown user still costs one hash, so timing does not reveal which usernames exist.
      decoyHash ??= context.passwords.hash('decoy password that never matches');
      const valid = await context.passwords.verify(password, user?.passwordHash ?? (await decoyHash));
      if (user === undefined || !valid) {
        context.audit.warn({ event: 'loginFailed', username, ip: request.ip }, 'login failed');
        context.metrics.audit.inc({ event: 'loginFailed' });
        throw new GatewayError(401, 'INVALID_CREDENTIALS', 'wrong username or password');
      }
      const { token, session } = await context.sessions.create(user.id, device(request), request.ip);
      context.audit.info({ event: 'login', userId: user.id, ip: request.ip }, 'login');
      context.metrics.audit.inc({ event: 'login' });
      const maxAgeSeconds = Math.floor(context.config.sessions.absoluteTimeoutMs / 1000);
      reply.header('set-cookie', sessionCookie(token, maxAgeSeconds));
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
    { schema: { tags, summary: 'End this session' } },
    async (request, reply) => {
      const { session } = await authenticate(context, request);
      await context.sessions.end(session, 'logout');
      reply.header('set-cookie', clearedSessionCookie());
      return { ended: 1 };
    },
  );

  app.post(
    '/api/v1/auth/logout-all',
    { schema: { tags, summary: 'End every session of this user' } },
    async (request, reply) => {
      const { session } = await authenticate(context, request);
      const ended = await context.sessions.endAll(session.userId);
      context.audit.info({ event: 'logoutAll', userId: session.userId, ended, ip: request.ip }, 'logout all');
      context.metrics.audit.inc({ event: 'logoutAll' });
      reply.header('set-cookie', clearedSessionCookie());
      return { ended };
    },
  );

  app.get('/api/v1/me', { schema: { tags, summary: 'The logged-in user' } }, async (request) => {
    const { session } = await authenticate(context, request);
    const user = await context.users.findUserById(session.userId);
    if (user === undefined) throw notFound('user');
    return { userId: user.id, username: user.username, isAdmin: user.isAdmin, createdAtMs: user.createdAtMs };
  });

  registerSessionRoutes(app, context);
}

/** Registration hooks (demo mode's starting balance); the account exists either way. */
async function welcomeNewUser(context: GatewayContext, user: RegisteredUser): Promise<void> {
  try {
    await context.onboarding.registered(user);
  } catch (error) {
    context.audit.warn(
      { event: 'registerHookFailed', userId: user.userId, err: error },
      'register hook failed',
    );
  }
}

async function createUserOrConflict(context: GatewayContext, username: string, passwordHash: string) {
  try {
    return await context.users.createUser(username, passwordHash, false, context.clock());
  } catch (error) {
    // Two registrations raced past the existence check: the store's unique index decides.
    if ((await context.users.findUserByName(username)) !== undefined) {
      throw new GatewayError(409, 'USERNAME_TAKEN', 'username already taken', 'username');
    }
    throw error;
  }
}

function registerSessionRoutes(app: FastifyInstance, context: GatewayContext): void {
  const tags = ['sessions'];
  app.get('/api/v1/sessions', { schema: { tags, summary: 'My sessions (devices)' } }, async (request) => {
    const { session: current } = await authenticate(context, request);
    const sessions = await context.sessions.list(current.userId);
    return sessions.map((session) => ({
      sessionId: sessionId(session.tokenHash),
      device: session.device,
      ip: session.ip,
      createdAtMs: session.createdAtMs,
      lastSeenAtMs: session.lastSeenAtMs,
      current: session.tokenHash === current.tokenHash,
    }));
  });

  app.delete<{ Params: SessionIdParams }>(
    '/api/v1/sessions/:sessionId',
    { schema: { tags, params: SessionIdParams, summary: 'End one of my sessions' } },
    async (request) => {
      const { session: current } = await authenticate(context, request);
      // Only the caller's own sessions are searched: another user's id is simply not found.
      const sessions = await context.sessions.list(current.userId);
      const target = sessions.find((session) => sessionId(session.tokenHash) === request.params.sessionId);
      if (target === undefined) throw notFound('session');
      await context.sessions.end(target, 'revoked');
      return { ended: 1 };
    },
  );
}
