// The /ws protocol (docs/API.md "WebSocket"): authenticate with the session cookie, a Bearer header
// or an `{op:"auth", token}` message; place, oco, cancel and amend with a request `id` and get
// `{id, ok, result | error}` on the same socket; private streams of the user's orders, fills and
// balances; public market-data channels handed to the market-data hub. Send buffers are bounded and
// dead peers are dropped by ping/pong heartbeats.
import { type TSchema, Type } from '@sinclair/typebox';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import type { SessionRecord } from '../store/ports.js';
import { type ErrorBody, fromStoreError, GatewayError, notFound, unauthenticated } from './errors.js';
import { claimUnits } from './offerings.js';
import { closeCodes } from './private-streams.js';
import { AmendBody, OcoBody, PlaceBody } from './schemas.js';
import { hashToken } from './sessions.js';
import { compileCheck } from './validation.js';

/** Every request's envelope: the op (already dispatched on) and the id echoed in the reply. */
const Envelope = Type.Object({ op: Type.String(), id: Type.Optional(Type.Unknown()) });

/** A request's own fields plus the envelope, and nothing else. */
function withEnvelope<T extends TSchema>(fields: T) {
  return Type.Composite([Envelope, fields], { additionalProperties: false });
}

const orderIdField = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER });
const PlaceFields = withEnvelope(PlaceBody);
const OcoFields = withEnvelope(OcoBody);
const CancelFields = withEnvelope(Type.Object({ orderId: orderIdField }));
const AmendFields = withEnvelope(Type.Composite([Type.Object({ orderId: orderIdField }), AmendBody]));
const ClaimFields = withEnvelope(
  Type.Object({
    offeringId: Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }),
    units: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }),
    clientClaimId: Type.Optional(Type.String({ maxLength: 64 })),
  }),
);
const AuthFields = withEnvelope(
  Type.Object({
    token: Type.String({ minLength: 1, maxLength: 128 }),
    private: Type.Optional(Type.Boolean()),
  }),
);
const PrivateFields = withEnvelope(Type.Object({ enabled: Type.Boolean() }));

/** Request ids are echoed back; bounded so a client cannot make us echo megabytes. */
const requestIdLengthMax = 64;

const checkPlace = compileCheck(PlaceFields);
const checkOco = compileCheck(OcoFields);
const checkCancel = compileCheck(CancelFields);
const checkAmend = compileCheck(AmendFields);
const checkAuth = compileCheck(AuthFields);
const checkClaim = compileCheck(ClaimFields);
const checkPrivate = compileCheck(PrivateFields);

interface Connection {
  socket: WebSocket;
  ip: string;
  alive: boolean;
  user?: number;
  tokenHash?: string;
  /**
   * The hub's side of the socket. `subscriptions` is read when present (the ChannelHub's
   * HubConnection has it) so a visitor watching the market is not closed by the auth timeout.
   */
  marketData?: {
    handle(request: unknown): boolean;
    close(): void;
    readonly subscriptions?: ReadonlySet<unknown>;
  };
  /** Bad frames this socket may still send (refilled over time); below one it is closed. */
  badFrameTokens: number;
  badFramesUpdatedAtMs: number;
  /** Set once the socket is being closed for abuse: frames still buffered are ignored unread. */
  refusing: boolean;
  /** Closes the socket when its session times out, even if no request arrives (ping-only sockets). */
  expiryTimer?: NodeJS.Timeout;
}

/** How long an abusive socket's close frame may take to leave before the socket is dropped. */
const abusiveSocketGraceMs = 1_000;

/** setTimeout's limit is about 24.8 days; a later expiry is re-checked after this. */
const expiryCheckMsMax = 24 * 3_600_000;

type RequestId = string | number | null;

function requestIdOf(message: Record<string, unknown>): RequestId {
  const id = message.id;
  if (typeof id === 'number' && Number.isSafeInteger(id)) return id;
  if (typeof id === 'string' && id.length <= requestIdLengthMax) return id;
  return null;
}

/** The reply REST would give: a GatewayError, a store error (BUSY...) or else INTERNAL. */
function replyErrorOf(error: unknown): GatewayError | undefined {
  return error instanceof GatewayError ? error : fromStoreError(error);
}

function errorBodyOf(error: unknown): ErrorBody {
  return replyErrorOf(error)?.body() ?? { code: 'INTERNAL', message: 'internal error' };
}

function subscriptionCount(connection: Connection): number {
  return connection.marketData?.subscriptions?.size ?? 0;
}

export const webSocketRoute: FastifyPluginAsync = async (app) => {
  const context = app.services;
  const connections = new Set<Connection>();
  const { streams } = context.state;

  context.sessions.onEnded((tokenHash, userId, reason) => streams.closeSession(userId, tokenHash, reason));
  // Ends may have been missed (the cross-gateway feed was interrupted): every socket's session is
  // read from the store again, and a socket whose session is gone closes (SESSION_ENDED).
  context.sessions.onResync(() => {
    for (const connection of connections) void watchExpiry(connection);
  });

  const heartbeat = setInterval(() => {
    for (const connection of connections) {
      if (!connection.alive) {
        connection.socket.terminate();
        continue;
      }
      connection.alive = false;
      connection.socket.ping();
      if (connection.tokenHash !== undefined)
        void context.sessions.expireIfStale(connection.tokenHash).catch(() => {});
    }
  }, context.config.webSocket.heartbeatMs);
  heartbeat.unref();

  function send(connection: Connection, payload: unknown): void {
    streams.sendBounded(connection.socket, JSON.stringify(payload));
  }

  /** `receives`: whether the socket gets the user's private pushes (an order-entry socket may not). */
  async function authenticateWith(connection: Connection, token: string, receives = true): Promise<number> {
    const session = await context.sessions.resolveHash(hashToken(token));
    if (session === undefined) throw unauthenticated();
    return attachSession(connection, session, receives);
  }

  function attachSession(connection: Connection, session: SessionRecord, receives: boolean): number {
    const { tokenHash } = session;
    if (connection.user !== undefined) streams.detach(connection.socket);
    if (!streams.attach(session.userId, tokenHash, connection.socket, receives)) {
      throw new GatewayError('RATE_LIMITED', 'too many open sockets for this user');
    }
    connection.user = session.userId;
    connection.tokenHash = tokenHash;
    void watchExpiry(connection);
    return session.userId;
  }

  /**
   * Arms a timer for the moment the socket's session times out; at that moment the session is
   * ended (closing every socket of it, 4001) unless it was used meanwhile, in which case the timer
   * moves to the new expiry. Without it a socket that only pings kept receiving pushes until the
   * next heartbeat.
   */
  async function watchExpiry(connection: Connection): Promise<void> {
    clearTimeout(connection.expiryTimer);
    const tokenHash = connection.tokenHash;
    if (tokenHash === undefined || connection.socket.readyState > 1) return;
    const expiresAtMs = await context.sessions.expiresAtMs(tokenHash).catch(() => undefined);
    if (connection.tokenHash !== tokenHash || connection.socket.readyState > 1) return;
    if (expiresAtMs === undefined)
      return void connection.socket.close(closeCodes.sessionEnded, 'SESSION_ENDED');
    const delayMs = Math.min(expiryCheckMsMax, Math.max(1, expiresAtMs - context.clock() + 1));
    connection.expiryTimer = setTimeout(() => void watchExpiry(connection), delayMs);
    connection.expiryTimer.unref();
  }

  /**
   * The user behind the socket when that needs no waiting (authenticated, session cached and live);
   * undefined sends the caller to `userOf`, which also handles every failure.
   */
  function userNow(connection: Connection): number | undefined {
    if (connection.tokenHash === undefined) return undefined;
    return context.sessions.liveCached(connection.tokenHash) === undefined ? undefined : connection.user;
  }

  /** The user behind the socket, re-checking the session (cheap: cached) so a timed-out one stops. */
  async function userOf(connection: Connection): Promise<number> {
    if (connection.user === undefined || connection.tokenHash === undefined) throw unauthenticated();
    const session = await context.sessions.resolveHash(connection.tokenHash);
    if (session === undefined) {
      connection.socket.close(closeCodes.sessionEnded, 'SESSION_ENDED');
      throw unauthenticated();
    }
    return connection.user;
  }

  /** The message is checked as it came (the schemas allow `op` and `id`): no copy per request. */
  async function dispatch(connection: Connection, message: Record<string, unknown>): Promise<unknown> {
    switch (message.op) {
      case 'auth': {
        const request = checkAuth(message);
        return { userId: await authenticateWith(connection, request.token, request.private ?? true) };
      }
      case 'private': {
        const request = checkPrivate(message);
        await userOf(connection);
        streams.setReceives(connection.socket, request.enabled);
        return { private: request.enabled };
      }
      case 'place':
        return context.trading.place(userNow(connection) ?? (await userOf(connection)), checkPlace(message));
      case 'oco':
        return context.trading.placeOco(await userOf(connection), checkOco(message));
      case 'cancel': {
        const user = userNow(connection) ?? (await userOf(connection));
        return context.trading.cancel(user, checkCancel(message).orderId);
      }
      case 'amend': {
        const user = await userOf(connection);
        const request = checkAmend(message);
        const order = context.state.tracker.order(user, request.orderId);
        if (order === undefined) throw notFound('order');
        return context.trading.amend(user, order.id, order.symbol, request.qty);
      }
      case 'claim':
        return claimUnits(context, await userOf(connection), checkClaim(message));
      case 'ping':
        return { pong: context.clock() };
      default:
        throw new GatewayError(
          'VALIDATION_FAILED',
          'op must be auth, private, place, oco, cancel, amend, claim, ping, subscribe or unsubscribe',
          'op',
        );
    }
  }

  /**
   * Counts one bad frame (unparseable or over the rate limit) against the socket's budget; past it
   * the socket is closed with 4009 and paused, so a flood already in its buffer is never parsed.
   */
  function badFrame(connection: Connection): boolean {
    const { badFramesBurst, badFramesPerSecond } = context.config.webSocket;
    const nowMs = context.clock();
    const refill = ((nowMs - connection.badFramesUpdatedAtMs) * badFramesPerSecond) / 1000;
    connection.badFrameTokens = Math.min(badFramesBurst, connection.badFrameTokens + refill) - 1;
    connection.badFramesUpdatedAtMs = nowMs;
    if (connection.badFrameTokens >= 0) return false;
    connection.refusing = true;
    connection.socket.close(closeCodes.tooManyBadFrames, 'TOO_MANY_BAD_FRAMES');
    connection.socket.pause();
    // Paused, the peer's closing handshake is never read: drop the socket once the close frame had
    // time to leave instead of holding it for the library's 30 s closing timeout.
    setTimeout(() => connection.socket.terminate(), abusiveSocketGraceMs).unref();
    return true;
  }

  function refuseFrame(connection: Connection, id: RequestId, error: ErrorBody): void {
    if (!badFrame(connection)) send(connection, { id, ok: false, error });
  }

  async function onMessage(connection: Connection, raw: string): Promise<void> {
    if (connection.refusing) return;
    // Every frame is charged before it is parsed: a frame that is not even JSON costs a token too.
    let allowed = context.buckets.requestsPerIp.take(connection.ip);
    if (allowed instanceof Promise) {
      try {
        allowed = await allowed;
      } catch (error) {
        return send(connection, { id: null, ok: false, error: errorBodyOf(error) });
      }
    }
    if (!allowed.ok)
      return refuseFrame(connection, null, { code: 'RATE_LIMITED', message: 'request rate limit' });
    let message: Record<string, unknown>;
    try {
      const parsed: unknown = JSON.parse(raw);
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
        throw new Error('not an object');
      message = parsed as Record<string, unknown>;
    } catch {
      return refuseFrame(connection, null, {
        code: 'VALIDATION_FAILED',
        message: 'message must be a JSON object',
      });
    }
    const id = requestIdOf(message);
    if (connection.marketData?.handle(message) === true) return;
    try {
      send(connection, { id, ok: true, result: await dispatch(connection, message) });
    } catch (error) {
      if (replyErrorOf(error) === undefined) app.log.error({ err: error }, 'websocket request failed');
      send(connection, { id, ok: false, error: errorBodyOf(error) });
    }
  }

  function open(socket: WebSocket, request: FastifyRequest): void {
    const connection: Connection = {
      socket,
      ip: request.ip,
      alive: true,
      badFrameTokens: context.config.webSocket.badFramesBurst,
      badFramesUpdatedAtMs: context.clock(),
      refusing: false,
    };
    connections.add(connection);
    connection.marketData = context.marketData?.connect(socket);
    socket.on('pong', () => {
      connection.alive = true;
    });
    socket.on('message', (data, isBinary) => {
      connection.alive = true;
      if (isBinary) return void socket.close(1003, 'text frames only');
      void onMessage(connection, data.toString());
    });
    socket.on('close', () => {
      clearTimeout(connection.expiryTimer);
      connections.delete(connection);
      streams.detach(socket);
      connection.marketData?.close();
    });
    // The upgrade's cookie or Bearer header, resolved by the authentication hook (`optional`).
    const principal = request.session;
    if (principal?.via === 'session') {
      try {
        attachSession(connection, principal.session, true);
      } catch {
        // Too many sockets for this user: the socket stays open unauthenticated, as an `auth` would.
      }
    }
    watchAuthentication(connection);
  }

  /**
   * Closes a socket that neither authenticated nor subscribed to public market data within the
   * auth window. A visitor's subscribed socket is checked again every window, so it stays open
   * while it watches at least one channel; heartbeats still drop it when the peer dies.
   */
  function watchAuthentication(connection: Connection): void {
    const { socket } = connection;
    let authTimer: NodeJS.Timeout | undefined;
    const check = () => {
      if (connection.user !== undefined) return;
      if (subscriptionCount(connection) > 0) return arm();
      socket.close(closeCodes.authTimeout, 'AUTH_TIMEOUT');
    };
    const arm = () => {
      authTimer = setTimeout(check, context.config.webSocket.authTimeoutMs);
      authTimer.unref();
    };
    arm();
    socket.on('close', () => clearTimeout(authTimer));
  }

  app.get(
    '/ws',
    // Cross-site upgrades carrying the cookie are refused by the origin hook (src/gateway/app.ts).
    { websocket: true, config: { auth: 'optional' }, schema: { hide: true } },
    (socket, request) => open(socket, request),
  );

  app.addHook('onClose', async () => {
    clearInterval(heartbeat);
    for (const connection of connections) connection.socket.terminate();
  });
};
