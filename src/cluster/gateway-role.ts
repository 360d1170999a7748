// A cluster gateway (`hoga gateway`): the normal HTTP/WebSocket gateway (buildGateway) whose
// sequencer is the JetStream one and whose whole state is derived from `<prefix>_EVT`, read from
// sequence 1 at every start: the follower engine (balances, books), GatewayState (markets, order
// tracker, idempotency index, private streams) and market data. Channel numbers are positional
// (hub.ts), so every gateway numbers market data alike and a client resumes on another gateway
// with `since`; tickers and candles advance on event time (the outcomes' ts), never on this
// process's clock. Users, sessions and history come from PostgreSQL (the projector writes the
// history). Any number of gateways can run side by side.
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { ExchangeConfig } from '../config.js';
import { Engine } from '../core/engine.js';
import { buildGateway } from '../gateway/app.js';
import { registerCandleRoutes } from '../gateway/candles.js';
import { PasswordHasher } from '../gateway/passwords.js';
import { GatewayState } from '../gateway/state.js';
import { registerWebUi } from '../gateway/web-static.js';
import { ChannelHub, MarketData } from '../marketdata/index.js';
import type { CommandOutcome } from '../ports.js';
import { StoreError } from '../store/errors.js';
import { defaultSchema, openStore, type Store } from '../store/store.js';
import { JetStreamSequencer } from './jetstream-sequencer.js';
import { type ClusterConnection, connectCluster } from './nats.js';
import type { RedisSettings } from './redis-config.js';
import { openRedisServices } from './redis-services.js';
import type { ClusterSettings } from './settings.js';
import { ensureStreams, streamNames } from './streams.js';

export interface GatewayRoleOptions {
  settings: ClusterSettings;
  /** host, port, admin user, gateway limits, web UI (the single-process configuration's part). */
  config: ExchangeConfig;
  logger: Logger;
  /** The gateway's clock for sessions and limits (tests); Date.now by default. */
  gatewayClock?: () => number;
  /** Serve the built web UI at `/` (default true). */
  webUi?: boolean;
  /**
   * Sessions' ends, limits and suspensions shared with the other gateways (Redis). Without it they
   * hold in this process only: right for one gateway, not for several behind a load balancer.
   */
  redis?: RedisSettings;
}

export interface GatewayRole {
  url: string;
  port: number;
  app: FastifyInstance;
  sequencer: JetStreamSequencer;
  engine: Engine;
  store: Store;
  close(): Promise<void>;
}

/** How often the projector's checkpoint is read for the read-model lag (/metrics, /readyz). */
const lagRefreshMs = 1_000;

export async function startGatewayRole(options: GatewayRoleOptions): Promise<GatewayRole> {
  const { settings } = options;
  if (settings.databaseUrl === '')
    throw new Error('CLUSTER_SETTING_INVALID: the gateway needs HOGA_DATABASE_URL');
  const connection = await connectCluster(settings.natsServers, `hoga-gateway-${settings.replicaName}`);
  const opened: Array<() => Promise<void>> = [connection.close];
  try {
    return await startConnected(options, connection, opened);
  } catch (error) {
    for (const close of opened.reverse()) await close().catch(() => undefined);
    throw error;
  }
}

async function startConnected(
  options: GatewayRoleOptions,
  connection: ClusterConnection,
  opened: Array<() => Promise<void>>,
): Promise<GatewayRole> {
  const { settings, config, logger } = options;
  const names = streamNames(settings.natsPrefix);
  await ensureStreams(connection.jsm, names, settings.streamReplicas);
  const store = await openStore({
    databaseUrl: settings.databaseUrl,
    schema: settings.dbSchema === '' ? defaultSchema : settings.dbSchema,
    logger: logger.child({ component: 'read-model' }),
  });
  opened.push(store.close);
  await seedAdminOnce(config, store, logger);
  const shared = options.redis === undefined ? undefined : await openRedisServices(options.redis, logger);
  if (shared !== undefined) opened.push(() => shared.close());

  const engine = new Engine();
  const state = new GatewayState(config.gateway.state);
  state.useEngine(engine);
  // The stream position of the outcome being applied: every channel number derives from it.
  let position = 0;
  const hub = new ChannelHub({
    epoch: `evt-${settings.natsPrefix}`,
    numbering: { kind: 'positional', position: () => position },
  });
  const marketData = new MarketData({ publisher: hub });
  hub.addSource(marketData);
  hub.addSource(state.offerings);
  state.offerings.usePublisher(hub);
  hub.start();
  // Tickers and in-progress candles go out when event time crosses a flush interval: the same
  // outcome triggers the same flush on every gateway (a quiet market's last ticker waits for the
  // next command).
  let flushedInterval = 0;
  const flushMs = Math.max(1, config.marketDataFlushMs);
  const listeners = [
    (outcome: CommandOutcome) => {
      position = outcome.seq;
    },
    state.apply,
    (outcome: CommandOutcome) => {
      marketData.onOutcome(outcome);
      const interval = Math.floor(outcome.ts / flushMs);
      if (interval !== flushedInterval) {
        flushedInterval = interval;
        marketData.flush(outcome.ts);
      }
    },
  ];
  const sequencer = await JetStreamSequencer.open({
    ...connection,
    names,
    logger: logger.child({ component: 'sequencer' }),
    pendingMax: settings.pendingCommandsMax,
    timeoutMs: settings.commandTimeoutMs,
    heartbeatMs: settings.heartbeatMs,
    engine,
    listeners,
  });
  opened.push(() => sequencer.close());
  logger.info({ lastSeq: sequencer.lastSeq }, 'gateway state derived from the event stream');

  let projectedSeq = 0;
  const readLag = async () => {
    const rows = await store.database
      .query<{ seq: string | number }>("SELECT seq FROM projection_checkpoints WHERE name = 'history'")
      .catch(() => []);
    projectedSeq = Number(rows[0]?.seq ?? 0);
  };
  await readLag();
  const lagTimer = setInterval(() => void readLag(), lagRefreshMs);
  lagTimer.unref();

  const { app } = await buildGateway({
    clock: options.gatewayClock,
    config: config.gateway,
    engine,
    sequencer,
    users: store.users,
    sessions: store.sessions,
    state,
    logger: logger.child({ component: 'gateway' }),
    marketData: hub,
    shared,
    history: {
      lagCommands: () => Math.max(0, sequencer.lastSeq - projectedSeq),
      ordersOfUser: (user, query) => store.history.ordersOfUser(user, query),
      orderOfUser: (user, id) => store.history.orderOfUser(user, id),
      eventsOfOrder: (user, id, query) => store.history.eventsOfOrder(user, id, query),
      tradesOfUser: (user, query) => store.history.tradesOfUser(user, query),
      ledgerOfUser: (user, query) => store.history.ledgerOfUser(user, query),
      couponsOfUser: (user, query) => store.history.couponsOfUser(user, query),
      couponUsesOfUser: (user, query) => store.history.couponUsesOfUser(user, query),
    },
  });
  registerCandleRoutes(app, state.markets, store.candles);
  if (options.webUi !== false) await registerWebUi(app, { distDir: config.webDistDir });
  await app.listen({ host: config.host, port: config.port });
  const port = (app.server.address() as AddressInfo).port;
  const host = config.host === '0.0.0.0' ? '127.0.0.1' : config.host;
  logger.info({ port, lastSeq: sequencer.lastSeq }, 'gateway listening');
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host}:${port}`,
    port,
    app,
    sequencer,
    engine,
    store,
    close: () => {
      closing ??= (async () => {
        clearInterval(lagTimer);
        await app.close();
        hub.stop();
        for (const close of opened.reverse()) await close().catch(() => undefined);
      })();
      return closing;
    },
  };
}

/**
 * Creates the configured administrator when missing. Gateways starting together may both try:
 * the unique username makes the second insert fail, which is success here.
 */
async function seedAdminOnce(config: ExchangeConfig, store: Store, logger: Logger): Promise<void> {
  if (config.adminUser === '' || config.adminPassword === '') return;
  if ((await store.users.findUserByName(config.adminUser)) !== undefined) return;
  const hasher = new PasswordHasher({ ...config.gateway.passwords, waitingHashesMax: 1 });
  const passwordHash = await hasher.hash(config.adminPassword);
  try {
    const admin = await store.users.createUser(config.adminUser, passwordHash, true, Date.now());
    logger.info({ audit: true, event: 'adminCreated', userId: admin.id }, 'admin created');
  } catch (error) {
    if (!(error instanceof StoreError && error.code === 'USERNAME_TAKEN')) throw error;
  }
}
