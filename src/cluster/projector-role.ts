// The cluster projector (`hoga projector`): `<prefix>_EVT` → the PostgreSQL read model, through
// the same Projector as the single process (src/store/projector.ts): each batch of outcomes is one
// transaction that also moves the checkpoint (the EVT sequence), read under a row lock, so a crash
// at any point, a restart, or a second projector on the same database neither loses nor repeats a
// row. It reads EVT from checkpoint + 1. `rebuild` empties the projected tables and their
// checkpoints first, then projects from sequence 1. It also aggregates the closed trade candles
// (CandleProjection, its own state and checkpoint), which no other role writes in a cluster.
import type { Logger } from 'pino';
import type { Projector } from '../store/projector.js';
import { projectedTables } from '../store/schema.js';
import { defaultSchema, openStore, type Store } from '../store/store.js';
import { CandleProjection } from './candle-projection.js';
import { type ClusterConnection, connectCluster } from './nats.js';
import { decodeOutcome } from './outcome-codec.js';
import type { ClusterSettings } from './settings.js';
import { StreamReader } from './stream-reader.js';
import { ensureStreams, streamNames } from './streams.js';

export interface ProjectorRoleOptions {
  settings: ClusterSettings;
  logger: Logger;
  /** Empty the projected tables and project EVT again from sequence 1. */
  rebuild?: boolean;
}

export interface ProjectorRole {
  store: Store;
  projector: Projector;
  candles: CandleProjection;
  /** The last EVT sequence whose rows and candles are committed. */
  readonly projectedSeq: number;
  /** Resolves once everything up to `seq` is committed. */
  projectedThrough(seq: number): Promise<void>;
  close(): Promise<void>;
}

/** Outcomes taken from EVT but not yet committed: the reader waits for a drain above this. */
const pendingOutcomesHighWater = 20_000;
/** Callers of projectedThrough waiting at once. */
const waitersMax = 1_000;

export async function startProjectorRole(options: ProjectorRoleOptions): Promise<ProjectorRole> {
  const { settings, logger } = options;
  if (settings.databaseUrl === '')
    throw new Error('CLUSTER_SETTING_INVALID: the projector needs HOGA_DATABASE_URL');
  const connection: ClusterConnection = await connectCluster(
    settings.natsServers,
    `hoga-projector-${settings.replicaName}`,
  );
  let store: Store | undefined;
  try {
    const names = streamNames(settings.natsPrefix);
    await ensureStreams(connection.jsm, names, settings.streamReplicas);
    store = await openStore({
      databaseUrl: settings.databaseUrl,
      schema: settings.dbSchema === '' ? defaultSchema : settings.dbSchema,
      logger: logger.child({ component: 'read-model' }),
    });
    if (options.rebuild === true) {
      await store.database.transaction(async (executor) => {
        await executor.query(`TRUNCATE ${projectedTables.join(', ')}`);
        await executor.query('DELETE FROM projection_checkpoints');
        await CandleProjection.reset(executor);
      });
      logger.warn('projected tables emptied: rebuilding from EVT sequence 1');
    }
    const projector = await store.openProjector({ pendingOutcomesMax: pendingOutcomesHighWater * 4 });
    const candles = await CandleProjection.open(store.database, logger.child({ component: 'candles' }));
    const projectedSeq = () => Math.min(projector.projectedSeq, candles.projectedSeq);
    const waiters: Array<{ seq: number; resolve: () => void }> = [];
    const wake = () => {
      for (let index = waiters.length - 1; index >= 0; index--) {
        if (waiters[index].seq <= projectedSeq()) waiters.splice(index, 1)[0].resolve();
      }
    };
    const wakeTimer = setInterval(wake, 20);
    wakeTimer.unref();
    const reader = new StreamReader({
      js: connection.js,
      nc: connection.nc,
      stream: names.evtStream,
      // Each skips what it already committed.
      fromSeq: projectedSeq() + 1,
      heartbeatMs: settings.heartbeatMs,
      logger,
      handle: async (message) => {
        const outcome = decodeOutcome(message.data);
        projector.offer({ seq: message.seq, ts: outcome.ts, events: outcome.events });
        candles.offer({ seq: message.seq, ts: outcome.ts, command: outcome.command, events: outcome.events });
        if (projector.stats().pendingOutcomes >= pendingOutcomesHighWater || candles.needsDrain) {
          await Promise.all([projector.drain(), candles.drain()]);
          wake();
        }
      },
    });
    logger.info({ fromSeq: projectedSeq() + 1 }, 'projector reading the event stream');
    const opened = store;
    return {
      store: opened,
      projector,
      candles,
      get projectedSeq() {
        return projectedSeq();
      },
      projectedThrough: (seq) => {
        if (projectedSeq() >= seq) return Promise.resolve();
        if (waiters.length >= waitersMax) return Promise.reject(new Error('too many waiters'));
        return new Promise((resolve) => waiters.push({ seq, resolve }));
      },
      close: async () => {
        clearInterval(wakeTimer);
        await reader.close();
        await projector.close();
        await candles.close();
        wake();
        await opened.close();
        await connection.close();
      },
    };
  } catch (error) {
    await store?.close().catch(() => undefined);
    await connection.close();
    throw error;
  }
}
