// Binance market-stream sockets under /binance/: `/binance/ws/<stream>[/<stream>...]` (raw: each
// message is the event), `/binance/stream?streams=a/b` (combined: `{stream, data}`), and on both
// the live methods `SUBSCRIBE`, `UNSUBSCRIBE`, `LIST_SUBSCRIPTIONS`, `SET_PROPERTY` and
// `GET_PROPERTY` (`combined`), answered `{result, id}` or `{error: {code, msg}, id}`. A path
// segment without `@` names the connection and is ignored (ccxt connects to `/ws/<index>`), unless
// it is a listen key: then the socket also gets that user's data events (listen-keys.ts).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import type { BinanceStreamHub, StreamConnection, StreamName } from './streams.js';

/** Binance's WebSocket error codes. */
const WsErrors = { unknownProperty: 0, invalidValueType: 1, invalidRequest: 2, invalidJson: 3 } as const;

export interface StreamSocketOptions {
  heartbeatMs: number;
  /** Incoming messages per second per socket before it is closed (Binance allows 5). */
  messagesPerSecondMax: number;
  /** Streams named in one request. */
  paramsMax: number;
}

export const defaultStreamSocketOptions: StreamSocketOptions = {
  heartbeatMs: 20_000,
  messagesPerSecondMax: 10,
  paramsMax: 200,
};

interface SocketState {
  socket: WebSocket;
  connection: StreamConnection;
  alive: boolean;
  second: number;
  messages: number;
}

/** Binance's listen keys: 60 letters and digits (what `listen-keys.ts` hands out). */
export const listenKeyPattern = /^[A-Za-z0-9]{60}$/;

export interface ListenKeyAttacher {
  /** Attaches the socket to a live listen key's user data; false when there is no such key. */
  attach(socket: WebSocket, listenKey: string, combined: boolean): boolean;
}

/** Set by route modules registered after the stream routes (the private API's listen keys). */
export interface StreamRouteHooks {
  listenKeys?: ListenKeyAttacher;
}

type Reply = { result: unknown; id: unknown } | { error: { code: number; msg: string }; id: unknown };

function isValidId(id: unknown): boolean {
  return (
    id === null ||
    (typeof id === 'number' && Number.isSafeInteger(id)) ||
    (typeof id === 'string' && id.length <= 64)
  );
}

export function registerBinanceStreamRoutes(
  scope: FastifyInstance,
  hub: BinanceStreamHub,
  clock: () => number,
  options: Partial<StreamSocketOptions> = {},
  hooks: StreamRouteHooks = {},
): void {
  const settings = { ...defaultStreamSocketOptions, ...options };
  const sockets = new Set<SocketState>();
  const heartbeat = setInterval(() => {
    for (const state of sockets) {
      if (!state.alive) {
        state.socket.terminate();
        continue;
      }
      state.alive = false;
      state.socket.ping();
    }
  }, settings.heartbeatMs);
  heartbeat.unref();
  scope.addHook('onClose', async () => {
    clearInterval(heartbeat);
    for (const state of sockets) state.socket.close(1001, 'server closing');
  });

  function reply(state: SocketState, message: Reply): void {
    if (state.connection.closed) return;
    state.socket.send(JSON.stringify(message));
  }

  function parseAll(names: unknown[]): StreamName[] | string {
    const parsed: StreamName[] = [];
    for (const name of names) {
      const stream = hub.parse(name);
      if (stream === undefined)
        return `Invalid request: unknown stream ${JSON.stringify(name).slice(0, 100)}`;
      parsed.push(stream);
    }
    return parsed;
  }

  /** The reply to one message, and what to do after sending it (subscribing sends the current state). */
  function answer(state: SocketState, text: string): { reply: Reply; afterReply?: () => void } {
    const error = (code: number, msg: string, id: unknown = null) => ({
      reply: { error: { code, msg }, id },
    });
    let message: unknown;
    try {
      message = JSON.parse(text);
    } catch (thrown) {
      return error(WsErrors.invalidJson, `Invalid JSON: ${(thrown as Error).message}`);
    }
    if (typeof message !== 'object' || message === null || Array.isArray(message))
      return error(WsErrors.invalidRequest, 'Invalid request: expected an object');
    const { method, params, id } = message as { method?: unknown; params?: unknown; id?: unknown };
    if (!isValidId(id ?? null)) return error(WsErrors.invalidValueType, 'Invalid value type: id');
    const echoed = id ?? null;
    const ok = (result: unknown) => ({ reply: { result, id: echoed } });
    switch (method) {
      case 'SUBSCRIBE':
      case 'UNSUBSCRIBE': {
        if (!Array.isArray(params) || params.length > settings.paramsMax)
          return error(
            WsErrors.invalidRequest,
            `Invalid request: params must be an array of at most ${settings.paramsMax} streams`,
            echoed,
          );
        const parsed = parseAll(params);
        if (typeof parsed === 'string') return error(WsErrors.invalidRequest, parsed, echoed);
        if (method === 'UNSUBSCRIBE') {
          hub.unsubscribe(
            state.connection,
            parsed.map((stream) => stream.name),
          );
          return ok(null);
        }
        if (!hub.canSubscribe(state.connection, parsed))
          return error(
            WsErrors.invalidRequest,
            `Invalid request: at most ${hub.limits.streamsPerConnectionMax} streams per connection`,
            echoed,
          );
        // The reply goes first, then the current state of latest-value streams.
        return { ...ok(null), afterReply: () => hub.subscribe(state.connection, parsed) };
      }
      case 'LIST_SUBSCRIPTIONS':
        return ok([...state.connection.streams.keys()]);
      case 'SET_PROPERTY':
        if (!Array.isArray(params) || params[0] !== 'combined')
          return error(WsErrors.unknownProperty, 'Unknown property', echoed);
        if (typeof params[1] !== 'boolean')
          return error(WsErrors.invalidValueType, 'Invalid value type: expected Boolean', echoed);
        state.connection.combined = params[1];
        return ok(null);
      case 'GET_PROPERTY':
        if (!Array.isArray(params) || params[0] !== 'combined')
          return error(WsErrors.unknownProperty, 'Unknown property', echoed);
        return ok(state.connection.combined);
      default:
        return error(
          WsErrors.invalidRequest,
          `Invalid request: unknown method ${String(JSON.stringify(method)).slice(0, 40)}`,
          echoed,
        );
    }
  }

  function handle(state: SocketState, text: string): void {
    const { reply: message, afterReply } = answer(state, text);
    reply(state, message);
    afterReply?.();
  }

  function open(socket: WebSocket, initial: readonly string[], combined: boolean): void {
    const parsed = parseAll(initial.filter((name) => name.includes('@')));
    if (typeof parsed === 'string') {
      socket.close(1008, parsed.slice(0, 120));
      return;
    }
    const connection = hub.connect(socket, combined);
    if (connection === undefined) return;
    const state: SocketState = { socket, connection, alive: true, second: 0, messages: 0 };
    sockets.add(state);
    if (!hub.subscribe(connection, parsed)) {
      socket.close(1008, 'too many streams');
      return;
    }
    for (const name of initial) {
      if (!listenKeyPattern.test(name)) continue;
      if (hooks.listenKeys?.attach(socket, name, combined) !== true) {
        socket.close(1008, 'This listenKey does not exist.');
        return;
      }
    }
    socket.on('pong', () => {
      state.alive = true;
    });
    socket.on('message', (data, isBinary) => {
      state.alive = true;
      const second = Math.floor(clock() / 1_000);
      if (second !== state.second) {
        state.second = second;
        state.messages = 0;
      }
      state.messages += 1;
      if (state.messages > settings.messagesPerSecondMax) return void socket.close(1008, 'too many messages');
      if (isBinary) return void socket.close(1003, 'text frames only');
      handle(state, data.toString());
    });
    socket.on('close', () => {
      sockets.delete(state);
      hub.detach(connection);
    });
  }

  // WebSocket upgrades: public, and not REST operations of the OpenAPI document.
  const schema = { hide: true, tags: ['binance'], summary: 'Binance market streams (WebSocket)' };
  const config = { auth: 'public' as const };
  scope.get('/binance/ws', { websocket: true, config, schema }, (socket) => open(socket, [], false));
  scope.get<{ Params: { '*': string } }>(
    '/binance/ws/*',
    { websocket: true, config, schema },
    (socket, request) =>
      open(
        socket,
        request.params['*'].split('/').filter((part) => part.length > 0),
        false,
      ),
  );
  scope.get<{ Querystring: { streams?: string } }>(
    '/binance/stream',
    { websocket: true, config, schema },
    (socket, request: FastifyRequest<{ Querystring: { streams?: string } }>) =>
      open(
        socket,
        (request.query.streams ?? '').split('/').filter((part) => part.length > 0),
        true,
      ),
  );
}
