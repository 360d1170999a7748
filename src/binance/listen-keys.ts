// Binance's listen-key user data streams (docs/BINANCE.md "User data streams (listen keys)"):
// `POST /api/v3/userDataStream` with the API key alone (no signature, as Binance) hands out a
// listen key, `PUT` keeps it alive, `DELETE` closes it; a socket opened on `/binance/ws/<listenKey>`
// or `/binance/stream?streams=<listenKey>` then receives the user's events, built by the same
// `BinanceUserStreams` as the ws-api subscription (user-streams.ts). A listen key lives 60 minutes
// from its last keepalive; one per API key (asking again returns it and extends it, like Binance's
// one per account), bounded per user; revoking the API key ends its listen key and closes the
// sockets. Listen keys live in this gateway's memory (a cluster needs sticky clients: CLUSTER.md).
import { randomBytes } from 'node:crypto';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import { authenticateApiKey, signedParamsOf } from '../gateway/api-key-auth.js';
import { BinanceCodes, BinanceError, mandatoryParam } from './errors.js';
import { binanceErrorOf } from './private-views.js';
import type { BinanceUserStreams, UserStreamClient } from './user-streams.js';
import type { StreamRouteHooks } from './ws-routes.js';

export const listenKeyValidityMs = 60 * 60_000;
export const listenKeysPerUserMax = 20;

export interface ListenKeyOptions {
  validityMs: number;
  perUserMax: number;
}

/** One socket attached to a listen key, with the framing of its path (raw or combined). */
export interface ListenKeySubscriber {
  client: UserStreamClient;
  frame: (event: object) => string;
}

export interface ListenKeyEntry {
  listenKey: string;
  userId: number;
  keyId: string;
  expiresAtMs: number;
  readonly subscribers: Set<ListenKeySubscriber>;
}

export const unknownListenKey = () =>
  new BinanceError(400, BinanceCodes.INVALID_LISTEN_KEY, 'This listenKey does not exist.');

/** 60 hex digits (240 random bits): matches Binance's listen-key form (ws-routes.ts `listenKeyPattern`). */
export function newListenKey(): string {
  return randomBytes(30).toString('hex');
}

/**
 * The live listen keys: by key, and by user then API key (one each). Clock and key source are
 * injected; an expired key is treated as absent at once and removed by `sweep`.
 */
export class ListenKeys {
  private readonly byListenKey = new Map<string, ListenKeyEntry>();
  private readonly byUser = new Map<number, Map<string, ListenKeyEntry>>();

  constructor(
    private readonly options: ListenKeyOptions,
    private readonly clock: () => number,
    private readonly newKey: () => string = newListenKey,
  ) {}

  get size(): number {
    return this.byListenKey.size;
  }

  /** The API key's listen key, extended; a new one when it has none. */
  open(userId: number, keyId: string): ListenKeyEntry {
    const nowMs = this.clock();
    const mine = this.byUser.get(userId);
    const existing = mine?.get(keyId);
    if (existing !== undefined && existing.expiresAtMs > nowMs) {
      existing.expiresAtMs = nowMs + this.options.validityMs;
      return existing;
    }
    if (existing !== undefined) this.remove(existing);
    const live = [...(this.byUser.get(userId)?.values() ?? [])].filter((entry) => entry.expiresAtMs > nowMs);
    if (live.length >= this.options.perUserMax)
      throw new BinanceError(
        429,
        BinanceCodes.TOO_MANY_REQUESTS,
        `At most ${this.options.perUserMax} listenKeys per account.`,
      );
    let listenKey = this.newKey();
    while (this.byListenKey.has(listenKey)) listenKey = this.newKey();
    const entry: ListenKeyEntry = {
      listenKey,
      userId,
      keyId,
      expiresAtMs: nowMs + this.options.validityMs,
      subscribers: new Set(),
    };
    this.byListenKey.set(listenKey, entry);
    let byKey = this.byUser.get(userId);
    if (byKey === undefined) {
      byKey = new Map();
      this.byUser.set(userId, byKey);
    }
    byKey.set(keyId, entry);
    return entry;
  }

  /** A live listen key (of `userId` when given), else undefined. */
  find(listenKey: string, userId?: number): ListenKeyEntry | undefined {
    const entry = this.byListenKey.get(listenKey);
    if (entry === undefined || entry.expiresAtMs <= this.clock()) return undefined;
    if (userId !== undefined && entry.userId !== userId) return undefined;
    return entry;
  }

  /** Another `validityMs` for one of the user's live listen keys; -1125 otherwise. */
  keepAlive(listenKey: string, userId: number): ListenKeyEntry {
    const entry = this.find(listenKey, userId);
    if (entry === undefined) throw unknownListenKey();
    entry.expiresAtMs = this.clock() + this.options.validityMs;
    return entry;
  }

  /** Ends one of the user's live listen keys; -1125 when there is none. */
  close(listenKey: string, userId: number): ListenKeyEntry {
    const entry = this.find(listenKey, userId);
    if (entry === undefined) throw unknownListenKey();
    this.remove(entry);
    return entry;
  }

  /** Removes and returns every listen key past its time. */
  sweep(): ListenKeyEntry[] {
    const nowMs = this.clock();
    const expired = [...this.byListenKey.values()].filter((entry) => entry.expiresAtMs <= nowMs);
    for (const entry of expired) this.remove(entry);
    return expired;
  }

  /** Removes and returns the listen key made with this API key (it was revoked). */
  dropKey(keyId: string, userId: number): ListenKeyEntry | undefined {
    const entry = this.byUser.get(userId)?.get(keyId);
    if (entry !== undefined) this.remove(entry);
    return entry;
  }

  /** Every listen key's API key and user (to re-check for revokes made elsewhere). */
  keys(): Array<[keyId: string, userId: number]> {
    return [...this.byListenKey.values()].map((entry) => [entry.keyId, entry.userId]);
  }

  private remove(entry: ListenKeyEntry): void {
    this.byListenKey.delete(entry.listenKey);
    const byKey = this.byUser.get(entry.userId);
    if (byKey?.get(entry.keyId) === entry) byKey.delete(entry.keyId);
    if (byKey?.size === 0) this.byUser.delete(entry.userId);
  }
}

export interface ListenKeyRouteOptions {
  userStreams: BinanceUserStreams;
  hooks: StreamRouteHooks;
  listenKeys?: Partial<ListenKeyOptions>;
}

/** The `userDataStream` REST routes and the attaching of listen-key sockets. */
export const binanceListenKeyRoutes: FastifyPluginAsync<ListenKeyRouteOptions> = async (app, options) => {
  const services = app.services;
  const streams = options.userStreams;
  const registry = new ListenKeys(
    { validityMs: listenKeyValidityMs, perUserMax: listenKeysPerUserMax, ...options.listenKeys },
    services.clock,
  );

  /** Stops pushing to a listen key's sockets; `expired` first tells them, as Binance does. */
  function detach(entry: ListenKeyEntry, expired: boolean): void {
    for (const subscriber of entry.subscribers) {
      if (expired)
        subscriber.client.send(
          subscriber.frame({ e: 'listenKeyExpired', E: services.clock(), listenKey: entry.listenKey }),
        );
      streams.unsubscribe(subscriber.client);
    }
    entry.subscribers.clear();
  }

  // Its sockets close through the user streams' own revoke listener (4001).
  services.apiKeys.onRevoked((keyId, userId) => {
    const entry = registry.dropKey(keyId, userId);
    if (entry !== undefined) detach(entry, false);
  });

  const sweep = setInterval(() => {
    for (const entry of registry.sweep()) detach(entry, true);
    // A key revoked on another gateway or by the CLI is known only from the store.
    for (const [keyId, userId] of registry.keys())
      services.apiKeys.resolve(keyId).then(
        (key) => {
          if (key !== undefined) return;
          const entry = registry.dropKey(keyId, userId);
          if (entry !== undefined) detach(entry, false);
        },
        (error: unknown) => app.log.warn({ err: error, keyId: keyId.slice(0, 8) }, 'api key re-check failed'),
      );
  }, services.config.webSocket.heartbeatMs);
  sweep.unref();
  app.addHook('onClose', async () => clearInterval(sweep));

  options.hooks.listenKeys = {
    attach(socket: WebSocket, listenKey: string, combined: boolean): boolean {
      const entry = registry.find(listenKey);
      if (entry === undefined) return false;
      const client: UserStreamClient = {
        send: (data) => {
          if (socket.readyState === socket.OPEN) socket.send(data);
        },
        get bufferedAmount() {
          return socket.bufferedAmount;
        },
        close: (code, reason) => socket.close(code, reason),
      };
      const frame = combined
        ? (event: object) => JSON.stringify({ stream: listenKey, data: event })
        : (event: object) => JSON.stringify(event);
      if (!streams.subscribe(entry.userId, entry.keyId, client, frame)) {
        socket.close(1008, 'Too many user data sockets for this account.');
        return true;
      }
      const subscriber = { client, frame };
      entry.subscribers.add(subscriber);
      socket.on('close', () => {
        entry.subscribers.delete(subscriber);
        streams.unsubscribe(client);
      });
      return true;
    },
  };

  await app.register(async (scope) => {
    scope.addContentTypeParser(
      'application/x-www-form-urlencoded',
      { parseAs: 'string' },
      (_request, body, done) => done(null, body),
    );
    scope.setErrorHandler((thrown, request, reply) => {
      const error = binanceErrorOf(thrown);
      if (error.statusCode >= 500) request.log.error({ err: thrown }, 'binance request failed');
      services.metrics.rejects.inc({ code: String(error.code) });
      return reply.code(error.statusCode).send(error.body());
    });
    // Binance's weight for each of the three.
    const config = { auth: 'public', binanceWeight: 2 } as const;
    const schema = (summary: string) => ({ tags: ['binance'], summary: `${summary} (Binance, API key)` });
    const caller = (request: FastifyRequest) =>
      authenticateApiKey(request, services.apiKeyAuth, { signed: false, permission: 'read' });
    const listenKeyOf = (request: FastifyRequest): string => {
      const listenKey = signedParamsOf(request).get('listenKey');
      if (listenKey === undefined || listenKey === '') throw mandatoryParam('listenKey');
      return listenKey;
    };

    scope.post(
      '/api/v3/userDataStream',
      { config, schema: schema('Start a user data stream') },
      async (request) => {
        const principal = await caller(request);
        return { listenKey: registry.open(principal.userId, principal.keyId).listenKey };
      },
    );
    scope.put(
      '/api/v3/userDataStream',
      { config, schema: schema('Keep a user data stream alive') },
      async (request) => {
        const principal = await caller(request);
        registry.keepAlive(listenKeyOf(request), principal.userId);
        return {};
      },
    );
    scope.delete(
      '/api/v3/userDataStream',
      { config, schema: schema('Close a user data stream') },
      async (request) => {
        const principal = await caller(request);
        detach(registry.close(listenKeyOf(request), principal.userId), false);
        return {};
      },
    );
  });
};
