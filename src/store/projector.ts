// The projector: takes command outcomes from the sequencer (live and during recovery replay) and
// writes the history tables in batches. Each batch is one transaction that also moves the
// checkpoint, read under a row lock first: outcomes at or below it are skipped, so a crash at any
// point, a replay, or a second projector on the same database neither loses nor repeats a row.
import { setTimeout as delay, setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { CommandOutcome, OutcomeEvents } from '../ports.js';
import { StoreError } from './errors.js';
import { createPartitions, daysWithinBound, PartitionCache, partitionStartsFor } from './partitions.js';
import {
  type BatchRows,
  type CouponRow,
  type OrderRow,
  planBatch,
  referencedOrderIds,
  type SymbolAssets,
  unknownSymbols,
} from './plan.js';
import type { SqlDatabase, SqlExecutor } from './sql.js';
import { readOrders, readUsableCoupons, rowCount, writeBatchRows } from './write.js';

export interface ProjectorOptions {
  /** Checkpoint name: one per independent projection of the same database. */
  name: string;
  /** Outcomes per transaction. */
  batchOutcomesMax: number;
  /** A batch smaller than batchOutcomesMax waits at most this long. */
  flushIntervalMs: number;
  /** Outcomes held in memory; past it the projector falls behind and catches up from `catchUp`. */
  pendingOutcomesMax: number;
  retryDelayMsMax: number;
  /** Reads the journal after a sequence number: how a projector that fell behind catches up. */
  catchUp?: (afterSeq: number) => AsyncIterable<CommandOutcome>;
  /** Called inside each batch's transaction after its rows, before the checkpoint (fault injection). */
  beforeCommit?: (rows: BatchRows) => void | Promise<void>;
}

export const defaultProjectorOptions: ProjectorOptions = {
  name: 'history',
  batchOutcomesMax: 2_000,
  flushIntervalMs: 5,
  pendingOutcomesMax: 200_000,
  retryDelayMsMax: 2_000,
};

/**
 * PGlite runs each statement on the main thread: a smaller batch bounds how long one statement
 * holds the event loop (about 150 ms instead of 1 s at 2,000 on the loaded 2-core machine, see
 * BENCHMARKS.md) for the same throughput.
 */
export const pgliteBatchOutcomesMax = 200;

/**
 * Open orders' rows as this projector last committed them, so a batch that fills or cancels an
 * order accepted in an earlier batch need not read its row back (in the gateway benchmark about
 * a third of the orders were cancelled in the batch after the one that accepted them).
 */
export const openOrderCacheMax = 100_000;

export interface ProjectorStats {
  projectedSeq: number;
  offeredSeq: number;
  pendingOutcomes: number;
  batches: number;
  rows: number;
  failures: number;
  /** Times the projector fell behind (queue full or a gap) and had to catch up. */
  fellBehindCount: number;
}

export class Projector {
  private readonly options: ProjectorOptions;
  private readonly partitions = new PartitionCache();
  private pending: OutcomeEvents[] = [];
  private offered: number;
  private projected: number;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private behind = false;
  private catchUpBroken = false;
  private fellBehindCount = 0;
  private halted = false;
  private batches = 0;
  private rows = 0;
  private failures = 0;
  /** Rows of open orders as of checkpoint `openOrdersSeq`, oldest write first. */
  private readonly openOrders = new Map<number, OrderRow>();
  private openOrdersSeq = -1;
  /**
   * Coupons with uses left as of checkpoint `usableCouponsSeq`: which coupon discounted a fee is
   * derived from them (the trade event gives only the fee). As many as the engine holds; none in
   * an exchange without coupon campaigns, where planning a fill skips coupons altogether.
   */
  private usableCoupons = new Map<number, CouponRow[]>();
  private usableCouponsSeq = -1;

  private constructor(
    private readonly database: SqlDatabase,
    private readonly logger: Logger,
    private readonly symbols: Map<string, SymbolAssets>,
    checkpoint: number,
    options: Partial<ProjectorOptions>,
  ) {
    const batchOutcomesMax =
      database.backend === 'pglite' ? pgliteBatchOutcomesMax : defaultProjectorOptions.batchOutcomesMax;
    this.options = { ...defaultProjectorOptions, batchOutcomesMax, ...definedOnly(options) };
    this.offered = checkpoint;
    this.projected = checkpoint;
  }

  static async open(
    database: SqlDatabase,
    logger: Logger,
    options: Partial<ProjectorOptions> = {},
  ): Promise<Projector> {
    const name = options.name ?? defaultProjectorOptions.name;
    await database.query(
      'INSERT INTO projection_checkpoints (name, seq) VALUES ($1, 0) ON CONFLICT (name) DO NOTHING',
      [name],
    );
    const checkpoint = await readCheckpoint(database, name, false);
    const symbols = new Map<string, SymbolAssets>();
    await loadSymbols(database, symbols);
    logger.info({ projection: name, checkpoint }, 'projector opened');
    return new Projector(database, logger.child({ projection: name }), symbols, checkpoint, options);
  }

  /** The last sequence number whose rows are committed. */
  get projectedSeq(): number {
    return this.projected;
  }

  /** Engine sequence minus projected sequence: the number for /metrics and /readyz. */
  lag(engineSeq: number): number {
    return Math.max(0, engineSeq - this.projected);
  }

  stats(): ProjectorStats {
    return {
      projectedSeq: this.projected,
      offeredSeq: this.offered,
      pendingOutcomes: this.pending.length,
      batches: this.batches,
      rows: this.rows,
      failures: this.failures,
      fellBehindCount: this.fellBehindCount,
    };
  }

  /**
   * The sequencer's listener. Synchronous and bounded: never blocks the command path. Outcomes
   * must come in sequence order; a gap (recovery that started from a snapshot past the
   * checkpoint) or a full queue makes the projector fall behind rather than skip anything.
   */
  offer(outcome: OutcomeEvents): void {
    const latest = Math.max(this.offered, this.projected);
    if (this.halted || outcome.seq <= latest) return;
    this.offered = outcome.seq;
    if (this.behind) return;
    if (outcome.seq !== latest + 1) {
      this.fallBehind('gap in the sequence', { expectedSeq: latest + 1, seq: outcome.seq });
      return;
    }
    if (this.pending.length >= this.options.pendingOutcomesMax) {
      this.fallBehind('queue full', {
        seq: outcome.seq,
        pendingOutcomesMax: this.options.pendingOutcomesMax,
      });
      return;
    }
    this.pending.push(outcome);
    this.schedule();
  }

  private fallBehind(why: string, details: Record<string, number>): void {
    this.behind = true;
    this.fellBehindCount += 1;
    const remedy = this.canCatchUp() ? 'catching up from the journal' : 'stopped: run `hoga db rebuild`';
    this.logger.error(
      { ...details, projectedSeq: this.projected },
      `projector fell behind (${why}); ${remedy}`,
    );
    this.schedule();
  }

  /** Writes everything offered so far; resolves once it is committed. */
  async drain(): Promise<void> {
    this.clearTimer();
    while (
      !this.halted &&
      (this.pending.length > 0 || this.running !== undefined || this.canResumeCatchUp())
    ) {
      await this.startDrain();
    }
  }

  /** Projects a whole stream (rebuild, or catch-up), batch by batch. */
  async project(
    source: AsyncIterable<OutcomeEvents>,
    onBatch?: (projectedSeq: number) => void,
  ): Promise<void> {
    let batch: OutcomeEvents[] = [];
    for await (const outcome of source) {
      if (this.halted) return;
      batch.push(outcome);
      if (batch.length < this.options.batchOutcomesMax) continue;
      batch = await this.writeSome(batch);
      onBatch?.(this.projected);
    }
    while (batch.length > 0 && !this.halted) {
      batch = await this.writeSome(batch);
      onBatch?.(this.projected);
    }
  }

  /** Writes one batch from the front of `outcomes`; returns the rest. */
  private async writeSome(outcomes: OutcomeEvents[]): Promise<OutcomeEvents[]> {
    const consumed = await this.writeWithRetry(outcomes);
    return outcomes.slice(consumed);
  }

  /** Drains, then stops taking outcomes. */
  async close(): Promise<void> {
    await this.drain();
    await this.halt();
  }

  /**
   * Stops at once, dropping what is pending; the in-flight transaction either commits or not.
   * Safe because the journal replays the rest at the next start. Returns when nothing is in flight.
   */
  halt(): Promise<void> {
    this.halted = true;
    this.clearTimer();
    this.pending = [];
    return this.running ?? Promise.resolve();
  }

  private canCatchUp(): boolean {
    return this.options.catchUp !== undefined;
  }

  private canResumeCatchUp(): boolean {
    return this.behind && this.canCatchUp() && !this.catchUpBroken;
  }

  private schedule(): void {
    if (this.running !== undefined) return;
    if (this.pending.length >= this.options.batchOutcomesMax) {
      this.clearTimer();
      void this.startDrain();
      return;
    }
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      void this.startDrain();
    }, this.options.flushIntervalMs);
  }

  private clearTimer(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private startDrain(): Promise<void> {
    this.running ??= this.drainLoop().finally(() => {
      this.running = undefined;
      if (!this.halted && this.pending.length > 0) this.schedule();
    });
    return this.running;
  }

  private async drainLoop(): Promise<void> {
    while (!this.halted) {
      if (this.pending.length === 0 && this.canResumeCatchUp()) {
        await this.catchUpFromJournal();
        continue;
      }
      if (this.pending.length === 0) return;
      const batch = this.pending.slice(0, this.options.batchOutcomesMax);
      try {
        const consumed = await this.writeWithRetry(batch);
        // halt() may have replaced the queue while the batch was in flight.
        if (this.pending[0] === batch[0]) this.pending.splice(0, consumed);
      } catch (error) {
        if (!isSequenceGap(error)) throw error;
        // The queue does not continue the committed rows: drop it, the journal has them all.
        this.pending = [];
        this.fallBehind('gap after the checkpoint', { firstSeq: batch[0].seq, projectedSeq: this.projected });
      }
    }
  }

  /** Outcomes dropped while behind are all in the journal, which is durable before any offer. */
  private async catchUpFromJournal(): Promise<void> {
    const catchUp = this.options.catchUp;
    if (catchUp === undefined) return;
    this.behind = false;
    this.pending = [];
    try {
      // From the committed checkpoint, which an external rebuild may have moved back.
      this.projected = await readCheckpoint(this.database, this.options.name, false);
      this.logger.info({ afterSeq: this.projected }, 'projector catching up from the journal');
      await this.project(catchUp(this.projected));
      this.logger.info({ projectedSeq: this.projected }, 'projector caught up');
    } catch (error) {
      // A journal that cannot serve the catch-up (pruned, damaged) will not heal by retrying.
      this.catchUpBroken = true;
      this.behind = true;
      this.logger.error(
        { err: error, projectedSeq: this.projected },
        'projector catch-up failed: run `hoga db rebuild`',
      );
    }
  }

  /** Returns how many outcomes from the front of `batch` are now projected (0 once halted). */
  private async writeWithRetry(batch: OutcomeEvents[]): Promise<number> {
    for (let attempt = 0; !this.halted; attempt += 1) {
      try {
        return await this.writeBatch(batch);
      } catch (error) {
        if (isSequenceGap(error)) throw error;
        this.failures += 1;
        const retryDelayMs = Math.min(this.options.retryDelayMsMax, 10 * 2 ** Math.min(attempt, 16));
        this.logger.error({ err: error, firstSeq: batch[0]?.seq, retryDelayMs }, 'projection batch failed');
        if (!this.halted) await delay(retryDelayMs);
      }
    }
    return 0;
  }

  /**
   * The current rows of `orderIds`: from the cache of open orders when it reflects `checkpoint`
   * (this projector wrote the last batch), the rest from the table.
   */
  private async existingOrders(
    executor: SqlExecutor,
    checkpoint: number,
    orderIds: number[],
  ): Promise<Map<number, OrderRow>> {
    // Another projector on the same database moved the checkpoint: what it wrote is not cached.
    if (checkpoint !== this.openOrdersSeq) this.openOrders.clear();
    const missing: number[] = [];
    const found = new Map<number, OrderRow>();
    for (const orderId of orderIds) {
      const cached = this.openOrders.get(orderId);
      if (cached === undefined) missing.push(orderId);
      else found.set(orderId, cached);
    }
    if (missing.length === 0) return found;
    for (const [orderId, row] of await readOrders(executor, missing)) found.set(orderId, row);
    return found;
  }

  /**
   * After a commit: the batch's open orders are cached, its finished ones dropped. `orders` is
   * undefined when the batch wrote nothing (the checkpoint was already past it).
   */
  private rememberOpenOrders(seq: number, orders: readonly OrderRow[] | undefined): void {
    if (orders === undefined) {
      if (seq !== this.openOrdersSeq) this.openOrders.clear();
      this.openOrdersSeq = seq;
      return;
    }
    for (const order of orders) {
      this.openOrders.delete(order.orderId);
      if (order.status === 'open' || order.status === 'partiallyFilled' || order.status === 'pending')
        this.openOrders.set(order.orderId, order);
    }
    for (const orderId of this.openOrders.keys()) {
      if (this.openOrders.size <= openOrderCacheMax) break;
      this.openOrders.delete(orderId);
    }
    this.openOrdersSeq = seq;
  }

  private warnAboutBatch(rows: BatchRows, firstSeq: number): void {
    if (rows.unknownOrderEvents > 0)
      this.logger.warn({ count: rows.unknownOrderEvents, firstSeq }, 'events name orders never accepted');
    if (rows.unexplainedFees > 0)
      this.logger.warn(
        { count: rows.unexplainedFees, firstSeq },
        'fees that neither the fee rate nor a projected coupon explain',
      );
  }

  /** After a commit: the batch's coupons replace the cached ones; used-up coupons are dropped. */
  private rememberCoupons(seq: number, coupons: readonly CouponRow[] | undefined): void {
    if (coupons === undefined && seq !== this.usableCouponsSeq) {
      this.usableCouponsSeq = -1;
      return;
    }
    for (const coupon of coupons ?? []) {
      const held = (this.usableCoupons.get(coupon.userId) ?? []).filter(
        (cached) => cached.offeringId !== coupon.offeringId,
      );
      if (coupon.usesLeft > 0) {
        held.push(coupon);
        held.sort((left, right) => left.issuedSeq - right.issuedSeq);
      }
      if (held.length === 0) this.usableCoupons.delete(coupon.userId);
      else this.usableCoupons.set(coupon.userId, held);
    }
    this.usableCouponsSeq = seq;
  }

  /**
   * One transaction. Outcomes at or below the checkpoint are skipped; the rest is cut where it
   * would need more than partitionsPerBatchMax days. Returns how many outcomes it consumed.
   */
  private async writeBatch(batch: OutcomeEvents[]): Promise<number> {
    const name = this.options.name;
    let newPartitions: number[] = [];
    const committed = await this.database.transaction(async (executor) => {
      // Rows and checkpoint commit together, and the journal re-supplies whatever a crash loses, so
      // this transaction need not wait for its WAL flush (users and sessions keep waiting for theirs).
      await executor.query('SET LOCAL synchronous_commit TO off');
      const checkpoint = await readCheckpoint(executor, name, true);
      const skipped = batch.findIndex((outcome) => outcome.seq > checkpoint);
      if (skipped === -1)
        return { seq: checkpoint, rows: 0, consumed: batch.length, orders: undefined, coupons: undefined };
      const fresh = daysWithinBound(batch.slice(skipped));
      if (fresh[0].seq !== checkpoint + 1) {
        throw new StoreError('SEQUENCE_GAP', `sequence ${fresh[0].seq} follows checkpoint ${checkpoint}`);
      }
      // Another projector on this database may have written the symbols this one never saw.
      if (unknownSymbols(fresh, this.symbols).length > 0) await loadSymbols(executor, this.symbols);
      const existing = await this.existingOrders(executor, checkpoint, referencedOrderIds(fresh));
      // Another projector on this database may have issued or used coupons since this one's batch.
      if (checkpoint !== this.usableCouponsSeq) this.usableCoupons = await readUsableCoupons(executor);
      const rows = planBatch(fresh, existing, this.symbols, this.usableCoupons);
      this.warnAboutBatch(rows, fresh[0].seq);
      newPartitions = this.partitions.missing(partitionStartsFor(rows.tsMsMin, rows.tsMsMax));
      await createPartitions(executor, newPartitions);
      await writeBatchRows(executor, rows);
      await this.options.beforeCommit?.(rows);
      const seq = fresh[fresh.length - 1].seq;
      await executor.query('UPDATE projection_checkpoints SET seq = $2 WHERE name = $1', [name, seq]);
      return {
        seq,
        rows: rowCount(rows),
        consumed: skipped + fresh.length,
        orders: rows.orders,
        coupons: rows.coupons,
      };
    });
    this.rememberOpenOrders(committed.seq, committed.orders);
    this.rememberCoupons(committed.seq, committed.coupons);
    this.partitions.remember(newPartitions);
    this.projected = Math.max(this.projected, committed.seq);
    this.batches += 1;
    this.rows += committed.rows;
    // PGlite answers through microtasks only: without this, back-to-back batches would never let
    // timers and sockets run until the whole queue is written.
    await yieldToEventLoop();
    return committed.consumed;
  }
}

async function readCheckpoint(executor: SqlExecutor, name: string, lock: boolean): Promise<number> {
  const rows = await executor.query<{ seq: number | string }>(
    `SELECT seq FROM projection_checkpoints WHERE name = $1${lock ? ' FOR UPDATE' : ''}`,
    [name],
  );
  return Number(rows[0]?.seq ?? 0);
}

/** Symbols are few (engine symbolsMax), so they are kept in memory whole. */
async function loadSymbols(executor: SqlExecutor, symbols: Map<string, SymbolAssets>): Promise<void> {
  const rows = await executor.query<{
    symbol: string;
    base: string;
    quote: string;
    lot_size: number | string;
    maker_fee_bps: number | string;
    taker_fee_bps: number | string;
  }>('SELECT symbol, base, quote, lot_size, maker_fee_bps, taker_fee_bps FROM symbols');
  for (const row of rows) {
    symbols.set(row.symbol, {
      base: row.base,
      quote: row.quote,
      lotSize: Number(row.lot_size),
      makerFeeBps: Number(row.maker_fee_bps),
      takerFeeBps: Number(row.taker_fee_bps),
    });
  }
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, field]) => field !== undefined)) as Partial<T>;
}

function isSequenceGap(error: unknown): boolean {
  return error instanceof StoreError && error.code === 'SEQUENCE_GAP';
}
