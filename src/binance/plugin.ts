// The Binance-compatible API as one Fastify plugin on the gateway's port: its own encapsulated
// scope with Binance's error shape (`{code, msg}`, errors.ts) and request weights (weights.ts),
// the public spot REST routes, and any further route modules handed in (the private API adds its
// own the same way). Registered from src/main.ts with one call.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { CandleReader } from '../gateway/candles.js';
import type { MarketDataReader } from '../gateway/market-views.js';
import type { GatewayServices } from '../gateway/services.js';
import type { MarketDataBus } from '../marketdata/index.js';
import { toBinanceError } from './errors.js';
import { registerBinanceMarketRoutes } from './market-routes.js';
import { BinanceStreamHub, type StreamLimits } from './streams.js';
import { BinanceUserStreams } from './user-streams.js';
import { RequestWeights, usedWeightHeader, type WeightOptions } from './weights.js';
import { registerBinanceStreamRoutes, type StreamRouteHooks, type StreamSocketOptions } from './ws-routes.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Binance request weight of the route: fixed, or from the query (depth by `limit`). */
    binanceWeight?: number | ((query: Record<string, unknown>) => number);
  }
}

export interface BinanceDependencies {
  /** The gateway's services: markets, trading, sessions, clock, metrics. */
  context: GatewayServices;
  data: MarketDataReader;
  candles: CandleReader;
  /** Resolves once every closed candle has reached the store. */
  beforeCandles?: () => Promise<void>;
  weights?: Partial<WeightOptions>;
  /** The market-data bus: with it, the Binance market streams are served under /binance/. */
  bus?: MarketDataBus;
  streams?: Partial<StreamLimits>;
  streamSockets?: Partial<StreamSocketOptions>;
}

export interface BinanceApi {
  weights: RequestWeights;
  streams?: BinanceStreamHub;
}

/** What a route module of the Binance API gets: the dependencies and the shared weights. */
export interface BinanceScope {
  deps: BinanceDependencies;
  weights: RequestWeights;
  /** The user data event streams, created on first use and shared by every module (ws-api, listen keys). */
  userStreams(): BinanceUserStreams;
  /** What the market-stream sockets hand on (a module serving listen keys sets `listenKeys`). */
  streamHooks: StreamRouteHooks;
}

/** One user-data stream set per registration: pushes every live outcome, closes on a key's revoke. */
function createUserStreams(services: GatewayServices): BinanceUserStreams {
  const options = services.config.state.streams;
  const streams = new BinanceUserStreams(
    {
      markets: services.state.markets,
      tracker: services.state.tracker,
      balanceOf: (user, asset) => services.engine.balance(user, asset),
    },
    { socketsPerUserMax: options.socketsPerUserMax, sendBufferBytesMax: options.sendBufferBytesMax },
  );
  services.state.onLive(streams.onOutcome);
  services.apiKeys.onRevoked((keyId, user) => streams.closeKey(keyId, user));
  return streams;
}

/** A further set of Binance routes (e.g. the private API), registered inside the same scope. */
export type BinanceRouteModule = (scope: FastifyInstance, binance: BinanceScope) => void | Promise<void>;

function sendError(request: FastifyRequest, reply: FastifyReply, thrown: unknown) {
  const error = toBinanceError(thrown);
  if (error.statusCode >= 500) request.log.error({ err: thrown }, 'binance request failed');
  if (error.retryAfterSeconds !== undefined) reply.header('retry-after', String(error.retryAfterSeconds));
  return reply.code(error.statusCode).send(error.body());
}

/**
 * Registers the Binance-compatible API. Returns the shared weights and the stream hub (for
 * metrics and tests). `modules` run inside the scope after the public routes.
 */
export async function registerBinanceApi(
  app: FastifyInstance,
  deps: BinanceDependencies,
  modules: readonly BinanceRouteModule[] = [],
): Promise<BinanceApi> {
  const weights = new RequestWeights(deps.weights, deps.context.clock);
  const { bus } = deps;
  const streams =
    bus === undefined
      ? undefined
      : new BinanceStreamHub(deps.context.state.markets, deps.data, deps.context.clock, deps.streams);
  let userStreams: BinanceUserStreams | undefined;
  const binance: BinanceScope = {
    deps,
    weights,
    userStreams: () => {
      userStreams ??= createUserStreams(deps.context);
      return userStreams;
    },
    streamHooks: {},
  };
  await app.register(async (scope) => {
    scope.setErrorHandler((thrown, request, reply) => sendError(request, reply, thrown));
    scope.addHook('onRequest', async (request, reply) => {
      const configured = request.routeOptions.config.binanceWeight;
      if (configured === undefined) return;
      const weight =
        typeof configured === 'number' ? configured : configured(request.query as Record<string, unknown>);
      const charged = weights.charge(request.ip, weight);
      reply.header(usedWeightHeader, String(charged.used));
      if (!charged.ok) throw charged.error;
    });
    registerBinanceMarketRoutes(scope, {
      markets: deps.context.state.markets,
      data: deps.data,
      candles: deps.candles,
      beforeCandles: deps.beforeCandles ?? (async () => undefined),
      clock: deps.context.clock,
      weightPerMinuteMax: weights.options.weightPerMinuteMax,
    });
    if (bus !== undefined && streams !== undefined) {
      const unsubscribe = bus.subscribe(streams);
      scope.addHook('onClose', async () => unsubscribe());
      registerBinanceStreamRoutes(
        scope,
        streams,
        deps.context.clock,
        deps.streamSockets,
        binance.streamHooks,
      );
    }
    for (const module of modules) await module(scope, binance);
  });
  return { weights, streams };
}
