// Binance's WebSocket API at `/binance/ws-api/v3` (docs/BINANCE.md "WebSocket API"), what ccxt.pro
// uses for spot trading and user data: requests `{id, method, params}` answered `{id, status,
// result}` or `{id, status, error: {code, msg}}`. Signed methods carry `apiKey`, `timestamp` and
// `signature` in `params` (api-key-auth.ts `wsSignedInput`) and run the same operations as the REST
// routes (private-ops.ts). `userDataStream.subscribe.signature` attaches the socket to the user's
// events (user-streams.ts), pushed as `{subscriptionId, event}`. Every request takes a token from
// the client address's request bucket, like a REST request.
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import { verifySigned, wsSignedInput } from '../gateway/api-key-auth.js';
import type { ApiKeyPermission } from '../store/ports.js';
import { type Params, PrivateOperations } from './private-ops.js';
import { BinanceError, binanceErrorOf } from './private-views.js';
import type { BinanceUserStreams } from './user-streams.js';

type Signed = (user: number, params: Params) => unknown;

/** Signed methods: the permission each needs and what it runs. */
function signedMethods(operations: PrivateOperations): Record<string, [ApiKeyPermission, Signed]> {
  return {
    'order.place': ['trade', (user, params) => operations.place(user, params, false)],
    'order.test': ['trade', (user, params) => operations.place(user, params, true)],
    'order.status': ['read', (user, params) => operations.order(user, params)],
    'order.cancel': ['trade', (user, params) => operations.cancel(user, params)],
    'openOrders.status': ['read', (user, params) => operations.openOrders(user, params)],
    'openOrders.cancelAll': ['trade', (user, params) => operations.cancelAll(user, params)],
    allOrders: ['read', (user, params) => operations.allOrders(user, params)],
    myTrades: ['read', (user, params) => operations.myTrades(user, params)],
    'account.status': ['read', (user) => operations.account(user)],
  };
}

/** The request id as the client sent it (Binance allows strings, numbers and null). */
function idOf(message: unknown): string | number | null {
  const id = (message as { id?: unknown } | null)?.id;
  return typeof id === 'string' || typeof id === 'number' ? id : null;
}

export interface WsApiOptions {
  /** The user data streams shared with the listen keys (plugin.ts `BinanceScope.userStreams`). */
  userStreams: BinanceUserStreams;
}

export const binanceWsApiRoute: FastifyPluginAsync<WsApiOptions> = async (app, options) => {
  const services = app.services;
  const operations = new PrivateOperations(services);
  const methods = signedMethods(operations);
  const streamOptions = services.config.state.streams;
  const streams = options.userStreams;
  const sockets = new Set<WebSocket>();
  const alive = new WeakSet<WebSocket>();
  const heartbeat = setInterval(() => {
    for (const socket of sockets) {
      if (!alive.has(socket)) {
        socket.terminate();
        continue;
      }
      alive.delete(socket);
      socket.ping();
    }
    recheckKeys();
  }, services.config.webSocket.heartbeatMs);
  heartbeat.unref();
  app.addHook('onClose', async () => {
    clearInterval(heartbeat);
    for (const socket of sockets) socket.terminate();
  });

  /**
   * A key revoked on another gateway (or by the CLI) is heard of only by reading the store: each
   * subscribed key is resolved again (a store read once its cache entry is older than `recheckMs`),
   * and the sockets of one that is gone close as a local revoke would close them.
   */
  function recheckKeys(): void {
    for (const [keyId, user] of streams.subscribedKeys()) {
      services.apiKeys.resolve(keyId).then(
        (key) => {
          if (key === undefined) streams.closeKey(keyId, user);
        },
        (error: unknown) => app.log.warn({ err: error, keyId: keyId.slice(0, 8) }, 'api key re-check failed'),
      );
    }
  }

  function send(socket: WebSocket, payload: object): void {
    if (socket.readyState !== socket.OPEN) return;
    if (socket.bufferedAmount > streamOptions.sendBufferBytesMax) {
      socket.close(4008, 'SLOW_CONSUMER');
      return;
    }
    socket.send(JSON.stringify(payload));
  }

  async function dispatch(
    socket: WebSocket,
    request: FastifyRequest,
    state: { nextSubscription: number },
    message: unknown,
  ) {
    if (message === null || typeof message !== 'object' || Array.isArray(message))
      throw new BinanceError(
        400,
        -1100,
        'Malformed request: a JSON object {id, method, params} is expected.',
      );
    const { method, params } = message as { method?: unknown; params?: unknown };
    if (typeof method !== 'string')
      throw new BinanceError(400, -1102, "Mandatory parameter 'method' was not sent.");
    let taken = services.buckets.requestsPerIp.take(request.ip);
    if (taken instanceof Promise) taken = await taken;
    if (!taken.ok) throw new BinanceError(429, -1003, 'Too many requests; retry later.');
    const caller = { ip: request.ip, reqId: request.id };
    if (method === 'ping') return {};
    if (method === 'time') return { serverTime: services.clock() };
    if (method === 'userDataStream.subscribe.signature') {
      const principal = await verifySigned(wsSignedInput(params), caller, services.apiKeyAuth, {
        permission: 'read',
      });
      const subscriptionId = state.nextSubscription++;
      const frame = (event: object) => JSON.stringify({ subscriptionId, event });
      if (!streams.subscribe(principal.userId, principal.keyId, socket, frame))
        throw new BinanceError(429, -1003, 'Too many user data subscriptions for this account.');
      return { subscriptionId };
    }
    if (method === 'userDataStream.unsubscribe') {
      streams.unsubscribe(socket);
      return {};
    }
    const signed = methods[method];
    if (signed === undefined) throw new BinanceError(400, -1100, `Unknown method '${method.slice(0, 64)}'.`);
    const [permission, run] = signed;
    const input = wsSignedInput(params);
    const principal = await verifySigned(input, caller, services.apiKeyAuth, { permission });
    return run(principal.userId, input.params);
  }

  app.get(
    '/binance/ws-api/v3',
    { websocket: true, config: { auth: 'public' }, schema: { hide: true } },
    (socket: WebSocket, request: FastifyRequest) => {
      sockets.add(socket);
      alive.add(socket);
      const state = { nextSubscription: 0 };
      socket.on('pong', () => alive.add(socket));
      socket.on('close', () => {
        sockets.delete(socket);
        streams.unsubscribe(socket);
      });
      socket.on('message', (data, isBinary) => {
        alive.add(socket);
        if (isBinary) return void socket.close(1003, 'text frames only');
        let message: unknown;
        try {
          message = JSON.parse(data.toString());
        } catch {
          return send(socket, {
            id: null,
            status: 400,
            error: { code: -1100, msg: 'Malformed request: not JSON.' },
          });
        }
        const id = idOf(message);
        dispatch(socket, request, state, message).then(
          (result) => send(socket, { id, status: 200, result }),
          (thrown: unknown) => {
            const error = binanceErrorOf(thrown);
            if (error.statusCode >= 500) request.log.error({ err: thrown }, 'binance ws-api request failed');
            send(socket, { id, status: error.statusCode, error: error.body() });
          },
        );
      });
    },
  );
};
