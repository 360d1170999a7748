// The one place that wires everything: read model, gateway state, market data, the journal and
// sequencer (recovery replays into every listener first), then the HTTP/WebSocket server.
import { mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { type Logger, pino } from 'pino';
import { Histogram } from 'prom-client';
import { registerBinanceApi } from './binance/plugin.js';
import { binancePrivateModules } from './binance/private-modules.js';
import type { ExchangeConfig } from './config.js';
import type { MatchingEngine } from './core/types.js';
import {
  keyFileTooOpen,
  loadSecretBox,
  type SecretBox,
  secretLogRedaction,
} from './gateway/api-key-secrets.js';
import { buildGateway } from './gateway/app.js';
import { candleRoutes } from './gateway/candles.js';
import { channelFormatter } from './gateway/channel-units.js';
import type { Onboarding } from './gateway/onboarding.js';
import { PasswordHasher } from './gateway/passwords.js';
import { registerPublicMarketRoutes } from './gateway/public-market.js';
import { snapshotRoute } from './gateway/snapshots.js';
import { GatewayState } from './gateway/state.js';
import { registerWebUi } from './gateway/web-static.js';
import { type DirectoryLock, lockDirectories } from './journal/data-dir-lock.js';
import { openSequencer } from './journal/durable.js';
import { coreEngineFactory } from './journal/engine-factory.js';
import { type JournalFileSystem, nodeFileSystem } from './journal/file-system.js';
import { listDataDirectory } from './journal/segment.js';
import type { Sequencer } from './journal/sequencer.js';
import { type FeedSpecResult, quoteFeedFromSpec } from './marketdata/feeds/from-spec.js';
import {
  CandleWriter,
  ChannelHub,
  InProcessBus,
  MarketData,
  type QuoteFeed,
  QuoteIngest,
} from './marketdata/index.js';
import { registerQuoteMetrics } from './marketdata/quote-metrics.js';
import type { CommandOutcome } from './ports.js';
import { ReadModelClient } from './store/read-model-client.js';

export interface ExchangeHandle {
  /** `http://host:port` the server listens on. */
  url: string;
  port: number;
  app: FastifyInstance;
  sequencer: Sequencer;
  engine: MatchingEngine;
  readModel: ReadModelClient;
  /** How this start recovered: the snapshot it began at (0: none) and the commands replayed after it. */
  recovered: { snapshotSeq: number; replayedCommands: number; lastSeq: number };
  /** External quotes in: feeds (and the demo) push here; `quotes.<sym>` channels come out. */
  quotes: QuoteIngest;
  /** Registration hooks and the login page's announcement (the demo uses both). */
  onboarding: Onboarding;
  logger: Logger;
  /**
   * Stops intake, then (with `snapshot`) takes a snapshot so the next start replays only the
   * tail, waiting for it at most `snapshotTimeoutMs`; then closes the journal and the read model.
   */
  close(options?: { snapshot?: boolean; snapshotTimeoutMs?: number }): Promise<void>;
}

export interface StartOptions {
  logger?: Logger;
  /**
   * The gateway's clock (sessions, rate limits, abnormal traffic, login throttling); Date.now by
   * default. Tests inject one so limits can be checked without timing the machine.
   */
  gatewayClock?: () => number;
}

/** The journal's file system with each fdatasync timed (the journal does not expose it). */
function timedFileSystem(inner: JournalFileSystem, observe: (seconds: number) => void): JournalFileSystem {
  return {
    ...inner,
    async datasync(fd) {
      const startedAt = process.hrtime.bigint();
      await inner.datasync(fd);
      observe(Number(process.hrtime.bigint() - startedAt) / 1e9);
    },
    ...(inner.datasyncInline === undefined
      ? {}
      : {
          datasyncInline(fd: number) {
            const startedAt = process.hrtime.bigint();
            inner.datasyncInline?.(fd);
            observe(Number(process.hrtime.bigint() - startedAt) / 1e9);
          },
        }),
  };
}

/** Creates the configured administrator on first start (no-op when the name exists). */
async function seedAdmin(config: ExchangeConfig, readModel: ReadModelClient, logger: Logger): Promise<void> {
  if (config.adminUser === '' || config.adminPassword === '') return;
  if ((await readModel.users.findUserByName(config.adminUser)) !== undefined) return;
  const hasher = new PasswordHasher({ ...config.gateway.passwords, waitingHashesMax: 1 });
  const passwordHash = await hasher.hash(config.adminPassword);
  const admin = await readModel.users.createUser(config.adminUser, passwordHash, true, Date.now());
  logger.info(
    { audit: true, event: 'adminCreated', userId: admin.id, username: admin.username },
    'admin created',
  );
}

/** The configured external quote feed, checked before anything opens (none when empty). */
function chooseQuoteFeed(spec: string, logger: Logger): FeedSpecResult | undefined {
  if (spec === '') return undefined;
  const chosen = quoteFeedFromSpec(spec, {
    onDisconnect: (error, delayMs) =>
      logger.warn({ feed: spec, err: error, delayMs }, 'quote feed disconnected, reconnecting'),
  });
  if (!chosen.ok) throw new Error(`QUOTE_FEED_INVALID: ${spec}: ${chosen.message}`);
  return chosen;
}

/** Starts the chosen feed into `quotes`; its end or failure is logged, never thrown. */
function runQuoteFeed(
  chosen: FeedSpecResult | undefined,
  quotes: QuoteIngest,
  logger: Logger,
): QuoteFeed | undefined {
  quotes.start();
  if (chosen === undefined || !chosen.ok) return undefined;
  logger.info({ feed: chosen.description }, 'quote feed started');
  chosen.feed.run(quotes).then(
    (stats) => logger.info({ feed: chosen.description, ...stats }, 'quote feed ended'),
    (error: unknown) => logger.error({ feed: chosen.description, err: error }, 'quote feed failed'),
  );
  return chosen.feed;
}

/** The directories this exchange owns: the data directory, and PGlite's when it is on disk. */
export function lockedDirectories(config: ExchangeConfig): string[] {
  const embedded = config.databaseUrl === '' && !config.pgliteDir.startsWith('memory://');
  return embedded ? [config.dataDir, config.pgliteDir] : [config.dataDir];
}

/**
 * A snapshot of everything applied, bounded by `timeoutMs`; skipped when the newest snapshot is
 * already at the last sequence. Returns whether the sequencer must still wait for it at close.
 */
async function shutdownSnapshot(
  sequencer: Sequencer,
  dataDir: string,
  timeoutMs: number,
  logger: Logger,
): Promise<boolean> {
  const newest = listDataDirectory(dataDir).snapshots.at(-1)?.seq ?? 0;
  if (sequencer.lastSeq === 0 || sequencer.lastSeq === newest) {
    logger.info(
      { lastSeq: sequencer.lastSeq },
      'shutdown snapshot not needed: the newest snapshot is current',
    );
    return true;
  }
  logger.info({ lastSeq: sequencer.lastSeq, timeoutMs }, 'taking a shutdown snapshot');
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timedOut'>((resolve) => {
    timer = setTimeout(() => resolve('timedOut'), timeoutMs);
  });
  try {
    const taken = await Promise.race([sequencer.snapshot(), timedOut]);
    if (taken === 'timedOut') {
      logger.warn(
        { lastSeq: sequencer.lastSeq, timeoutMs },
        'shutdown snapshot not finished in time; stopping without it (the next start replays from the previous snapshot)',
      );
      return false;
    }
    logger.info(
      { lastSeq: taken.lastSeq, bytes: taken.bytes, writeMs: taken.writeMs },
      'shutdown snapshot written',
    );
  } catch (error) {
    logger.error({ err: error }, 'shutdown snapshot failed; the journal holds every command');
  } finally {
    clearTimeout(timer);
  }
  return true;
}

/** The API key server key set; says where it came from (never the key) and warns on a loose file mode. */
function openSecretBox(config: ExchangeConfig, logger: Logger): SecretBox {
  const { box, source, files } = loadSecretBox(config.apiKeySecretKey, config.dataDir);
  logger.info({ ...source, fingerprint: box.fingerprint }, 'api key server key loaded');
  for (const file of files) {
    if (keyFileTooOpen(file))
      logger.warn({ file }, 'api key server key file is readable by others than its owner: chmod 600 it');
  }
  return box;
}

export async function startExchange(
  config: ExchangeConfig,
  options: StartOptions = {},
): Promise<ExchangeHandle> {
  const logger = options.logger ?? pino({ name: 'hoga', level: config.logLevel, redact: secretLogRedaction });
  const chosenQuoteFeed = chooseQuoteFeed(config.quoteFeed, logger.child({ component: 'quotes' }));
  // PGlite creates its own folder but not the parents: a fresh clone has no ./data yet.
  mkdirSync(config.dataDir, { recursive: true });
  // Before anything reads or writes them; held until close() (or the process's end).
  const lock = await lockDirectories(lockedDirectories(config), 'hoga start');
  try {
    return await startLocked(config, logger, chosenQuoteFeed, lock, options.gatewayClock);
  } catch (error) {
    await lock.release();
    throw error;
  }
}

async function startLocked(
  config: ExchangeConfig,
  logger: Logger,
  chosenQuoteFeed: FeedSpecResult | undefined,
  lock: DirectoryLock,
  gatewayClock: (() => number) | undefined,
): Promise<ExchangeHandle> {
  const readModel = await ReadModelClient.open(
    {
      databaseUrl: config.databaseUrl,
      dataDir: config.pgliteDir,
      journalDir: config.dataDir,
      logLevel: config.logLevel,
      niceness: config.readModelNiceness,
      scheduling: config.readModelScheduling,
      vacuumEveryMs: config.pgliteVacuumEveryMs,
    },
    logger.child({ component: 'read-model' }),
  );
  const state = new GatewayState(config.gateway.state);
  // Channels carry decimal strings like REST; `"units":"engine"` in a subscribe keeps the integers.
  const hub = new ChannelHub({ formatter: channelFormatter(state.markets) });
  const bus = new InProcessBus();
  bus.subscribe(hub);
  // Closed candles persist in the read model's candles table, written on its thread; while it
  // fails they spill to a file in the data directory and are replayed later.
  const candleLogger = logger.child({ component: 'candles' });
  const candleWriter = new CandleWriter({
    sink: readModel.candleSink(),
    spillPath: join(config.dataDir, 'candles.spill.ndjson'),
    onError: (code, error) => candleLogger.error({ code, err: error }, 'candle writer'),
  });
  await candleWriter.start();
  const marketData = new MarketData({ publisher: bus, closedCandles: candleWriter });
  hub.addSource(marketData);
  // External quotes (quotes.<sym> and their candles) share the bus and the candle store.
  const quotes = new QuoteIngest({ publisher: bus, closedCandles: candleWriter });
  hub.addSource(quotes);
  hub.addSource(state.offerings);
  state.offerings.usePublisher(bus);
  hub.start();

  const listeners = [
    state.apply,
    (outcome: CommandOutcome) => readModel.offer(outcome),
    (outcome: CommandOutcome) => marketData.onOutcome(outcome),
  ];
  const fsyncSeconds = new Histogram({
    name: 'hoga_journal_fsync_seconds',
    help: 'fdatasync of one journal batch (group commit)',
    buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [],
  });
  const opened = await openSequencer({
    dataDir: config.dataDir,
    fileSystem: timedFileSystem(nodeFileSystem, (seconds) => fsyncSeconds.observe(seconds)),
    fsyncPolicy: config.fsyncPolicy,
    inlineSyncUsMax: config.fsyncInlineUsMax,
    // Snapshots carry the listeners' derived state too (gateway registries, market data), so a
    // restart loads the newest one and replays only the tail. The read model keeps its own
    // checkpoint in SQL and catches up from the journal when it is behind the snapshot, which is
    // why every segment is kept by default (docs/OPERATIONS.md "Snapshots in the running exchange").
    snapshotEveryCommands: config.snapshotEveryCommands,
    snapshotEveryMs: config.snapshotEveryMs,
    retainSegments: config.retainSegments,
    // Place, cancel and amend as fixed binary fields: about half the bytes and twice the replay
    // speed of JSON (docs/BENCHMARKS.md "Journal"); every reader decodes both forms.
    payloadFormat: 'compact',
    engines: coreEngineFactory(),
    logger: logger.child({ component: 'journal' }),
    lockDataDir: false,
    acceptDataLoss: config.acceptDataLoss,
    listeners,
    participants: [
      state.snapshotParticipant,
      marketData.snapshotParticipant,
      quotes.snapshotParticipant,
      candleWriter.snapshotParticipant,
    ],
  });
  const { sequencer } = opened;
  // After recovery: the quote ingest's open candles and dedupe window come from the snapshot, and
  // restoring them must not meet quotes already taken.
  const quoteFeed = runQuoteFeed(chosenQuoteFeed, quotes, logger.child({ component: 'quotes' }));
  state.useEngine(sequencer.engine);
  await seedAdmin(config, readModel, logger);

  const { app, services } = await buildGateway({
    clock: gatewayClock,
    config: config.gateway,
    engine: sequencer.engine,
    sequencer,
    users: readModel.users,
    sessions: readModel.sessions,
    apiKeys: readModel.apiKeys,
    secretBox: openSecretBox(config, logger),
    state,
    logger: logger.child({ component: 'gateway' }),
    marketData: hub,
    history: { lagCommands: () => readModel.lag(sequencer.lastSeq), ...readModel.history() },
  });
  services.metrics.registry.registerMetric(fsyncSeconds);
  registerQuoteMetrics(services.metrics.registry, quotes, quoteFeed);
  services.metrics.gauge(
    'hoga_read_model_fell_behind_count',
    'Times the read model fell behind (a gap or a full queue) and caught up from the journal',
    () => readModel.fellBehindCount(),
  );
  services.metrics.gauge(
    'hoga_read_model_thread_idle',
    '1 while the read-model thread runs under SCHED_IDLE, 0 otherwise',
    () => (readModel.scheduling().policy === 'idle' ? 1 : 0),
  );
  services.metrics.gauge(
    'hoga_read_model_thread_boosts',
    'Times the lagging read-model thread was given the normal scheduling policy back',
    () => readModel.scheduling().boosts,
  );
  const flushTimer = setInterval(() => marketData.flush(Date.now()), config.marketDataFlushMs);
  flushTimer.unref();
  await app.register(candleRoutes, {
    markets: state.markets,
    reader: readModel,
    beforeRead: () => candleWriter.flushAdded(),
    openCandles: marketData,
  });
  registerPublicMarketRoutes(app, { markets: state.markets, data: marketData, clock: services.clock });
  await app.register(snapshotRoute, { takeSnapshot: () => sequencer.snapshot() });
  const binance = await registerBinanceApi(
    app,
    {
      context: services,
      data: marketData,
      candles: readModel,
      beforeCandles: () => candleWriter.flushAdded(),
      weights: { weightPerMinuteMax: config.binanceWeightPerMinute },
      bus,
    },
    binancePrivateModules,
  );
  services.metrics.gauge(
    'hoga_binance_stream_connections',
    'Open Binance-compatible market-stream sockets (/binance/ws, /binance/stream)',
    () => binance.streams?.connectionCount ?? 0,
  );
  await registerWebUi(app, { distDir: config.webDistDir });
  await app.listen({ host: config.host, port: config.port });
  const port = (app.server.address() as AddressInfo).port;
  const host = config.host === '0.0.0.0' ? '127.0.0.1' : config.host;
  logger.info({ port, lastSeq: sequencer.lastSeq, dataDir: config.dataDir }, 'exchange listening');

  let closing: Promise<void> | undefined;
  async function close(closeOptions: { snapshot?: boolean; snapshotTimeoutMs?: number } = {}): Promise<void> {
    clearInterval(flushTimer);
    quoteFeed?.stop();
    quotes.stop();
    await app.close();
    const waitForSnapshot =
      closeOptions.snapshot !== true ||
      (await shutdownSnapshot(
        sequencer,
        config.dataDir,
        closeOptions.snapshotTimeoutMs ?? config.shutdownSnapshotTimeoutMs,
        logger,
      ));
    await sequencer.close({ waitForSnapshot });
    hub.stop();
    await candleWriter.close();
    await readModel.close();
    await lock.release();
  }
  return {
    url: `http://${host}:${port}`,
    port,
    app,
    sequencer,
    engine: sequencer.engine,
    readModel,
    recovered: {
      snapshotSeq: opened.recovered.snapshotSeq,
      replayedCommands: opened.recovered.replayedCommands,
      lastSeq: opened.recovered.lastSeq,
    },
    quotes,
    onboarding: services.onboarding,
    logger,
    close: (closeOptions) => {
      closing ??= close(closeOptions);
      return closing;
    },
  };
}
