// The gateway's services, built once at start-up and hung on the Fastify instance as the `services`
// decorator: every route plugin reads `app.services` (and a hook `request.server.services`) instead
// of receiving a context argument. The `declare module 'fastify'` block is the one place that says
// which decorators exist.
import type { Logger } from 'pino';
import type { MatchingEngine } from '../core/types.js';
import type { CommandSequencer } from '../ports.js';
import type { HistoryReader } from '../store/history-reader.js';
import type { ApiKeyStore, SessionStore, UserStore } from '../store/ports.js';
import type { ApiKeyAuthServices } from './api-key-auth.js';
import type { SecretBox } from './api-key-secrets.js';
import { ApiKeyService } from './api-keys.js';
import type { GatewayConfig } from './config.js';
import { LoginGuard } from './login-guard.js';
import type { GatewayMetrics } from './metrics.js';
import { Onboarding } from './onboarding.js';
import { PasswordHasher } from './passwords.js';
import type { AuthNeed, Principal } from './principal.js';
import type { StreamClient } from './private-streams.js';
import { SessionManager } from './sessions.js';
import {
  type AbnormalTraffic,
  inProcessServices,
  type RateLimiter,
  type SharedServices,
} from './shared-services.js';
import type { GatewayState } from './state.js';
import { TradingService } from './trading.js';

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

export interface GatewayServices {
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
  /** What this gateway shares with the others (in-process when it is alone; src/gateway/shared-services.ts). */
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
  apiKeys: ApiKeyService;
  /** What `authenticateApiKey` needs (src/gateway/api-key-auth.ts). */
  apiKeyAuth: ApiKeyAuthServices;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Every service the routes use (src/gateway/services.ts). */
    services: GatewayServices;
  }
  interface FastifyRequest {
    /** Who sent the request, set by the authentication hook; null on public routes and for visitors. */
    session: Principal | null;
  }
  interface FastifyContextConfig {
    /** What the route needs (src/gateway/authentication.ts); every /api route states it. */
    auth?: AuthNeed;
  }
}

/** What the services are built from: the process's engine, sequencer, stores and state. */
export interface ServiceDependencies {
  config: GatewayConfig;
  engine: MatchingEngine;
  sequencer: CommandSequencer;
  users: UserStore;
  sessions: SessionStore;
  apiKeys: ApiKeyStore;
  /** Seals and opens API key secrets (src/gateway/api-key-secrets.ts). */
  secretBox: SecretBox;
  state: GatewayState;
  logger: Logger;
  clock?: () => number;
  marketData?: MarketDataSockets;
  history?: HistoryReader;
  ready?: () => boolean;
  /** Limits, suspensions and session ends shared with other gateways (default: this process only). */
  shared?: SharedServices;
}

/** How long a remembered device (the login guard's own lane) is trusted. */
export const deviceMaxAgeMs = 30 * 24 * 3_600_000;

export function buildServices(deps: ServiceDependencies, metrics: GatewayMetrics): GatewayServices {
  const clock = deps.clock ?? Date.now;
  const { config } = deps;
  const shared = deps.shared ?? inProcessServices();
  metrics.gauge(
    'hoga_shared_services_live',
    '1 while the shared services (Redis in cluster mode) are reachable',
    () => (shared.sessionEvents.live ? 1 : 0),
  );
  const abnormal = shared.abnormalTraffic(config.abnormal, clock);
  const audit = deps.logger.child({ audit: true });
  abnormal.onSuspended((suspension) => {
    audit.warn({ event: 'suspended', ...suspension }, 'user suspended for abnormal traffic');
    metrics.audit.inc({ event: 'suspended' });
  });
  const orderBuckets = shared.rateLimiter('orders', config.limits.ordersPerUser, clock);
  const trading = new TradingService({
    sequencer: deps.sequencer,
    markets: deps.state.markets,
    idempotency: deps.state.idempotency,
    abnormal,
    orderBuckets,
    admission: shared.orderAdmission(orderBuckets, abnormal),
    observeEngineSeconds: (seconds) => metrics.engineSeconds.observe(seconds),
    balanceOf: (user, asset) => deps.engine.balance(user, asset),
  });
  const apiKeys = new ApiKeyService(deps.apiKeys, deps.secretBox, config.apiKeys, clock);
  return {
    config,
    engine: deps.engine,
    sequencer: deps.sequencer,
    users: deps.users,
    sessions: new SessionManager(deps.sessions, config.sessions, clock, {
      events: shared.sessionEvents,
      locks: shared.userLocks,
    }),
    passwords: new PasswordHasher(config.passwords),
    trading,
    state: deps.state,
    abnormal,
    buckets: {
      requestsPerIp: shared.rateLimiter('requests', config.limits.requestsPerIp, clock),
    },
    shared,
    logins: new LoginGuard(
      {
        loginsPerIp: config.limits.loginsPerIp,
        loginsPerUsername: config.limits.loginsPerUsername,
        devicesMax: config.sessions.cacheEntriesMax,
        deviceMaxAgeMs,
      },
      clock,
      {
        devices: shared.trustedDevices(
          { devicesMax: config.sessions.cacheEntriesMax, deviceMaxAgeMs },
          clock,
        ),
        byIp: shared.rateLimiter('logins-ip', config.limits.loginsPerIp, clock),
        byUsername: shared.rateLimiter('logins-name', config.limits.loginsPerUsername, clock),
        byDevice: shared.rateLimiter('logins-device', config.limits.loginsPerUsername, clock),
      },
    ),
    metrics,
    audit,
    clock,
    marketData: deps.marketData,
    history: deps.history,
    ready: deps.ready ?? (() => true),
    onboarding: new Onboarding(),
    apiKeys,
    apiKeyAuth: {
      apiKeys,
      replay: shared.signatureReplay(config.apiKeys.replayEntriesMax, clock),
      clock,
      audit,
      countAudit: (event) => metrics.audit.inc({ event }),
    },
  };
}
