// Closed trade candles of cluster mode, produced by the projector from `<prefix>_EVT`: the single
// process hands market data's closed candles to a CandleWriter, but in a cluster no gateway owns
// the candles table, so the projector (which reads EVT once) aggregates them. Deterministic: every
// trade counts at its outcome's time (`ts`, never decreasing along EVT), daily and weekly candles
// follow the market's timezone from its listing exactly as MarketData does, and a candle closes
// when a later trade falls past its end or when an outcome's time enters a new second past it
// (event time, never the projector's clock). Each commit upserts the candles closed since the last
// one (idempotent by key) and stores the candles still open with the sequence they reflect
// (`projection_states`), in one transaction: a restart resumes those candles instead of writing a
// partial one over a complete row, and a second projector writes the same rows.
import type { Logger } from 'pino';
import type { EngineEvent } from '../core/types.js';
import { type Candle, type CandleJson, candleToJson, SymbolCandles } from '../marketdata/candles.js';
import { marketSymbolsMaxDefault } from '../marketdata/marketdata.js';
import { isValidTimezone, MarketTimezone } from '../marketdata/timezone.js';
import { SqlCandleSink } from '../store/candle-sink.js';
import { SqlCandles } from '../store/candles.js';
import type { SqlDatabase, SqlExecutor } from '../store/sql.js';

export interface CandleOutcome {
  seq: number;
  ts: number;
  command: unknown;
  events: readonly EngineEvent[];
}

export interface CandleProjectionOptions {
  /** Row name in projection_states. */
  name?: string;
  symbolsMax?: number;
  /** Closed candles held before `needsDrain` says to wait for a commit. */
  pendingCandlesMax?: number;
  /** A commit waits at most this long after the first outcome it carries. */
  flushIntervalMs?: number;
  retryDelayMsMax?: number;
}

interface SavedMarket {
  symbol: string;
  timezone: string;
  candles: Array<CandleJson | null>;
}

interface SavedState {
  markets: SavedMarket[];
  /** Second (ts / 1000) of the last due-candle check. */
  second: number;
}

interface Market {
  symbol: string;
  timezone: string;
  candles: SymbolCandles;
}

const defaultTimezone = 'UTC';

export class CandleProjection {
  private readonly markets = new Map<string, Market>();
  private readonly timezones = new Map<string, MarketTimezone>();
  private closed: Candle[] = [];
  private second = Number.NEGATIVE_INFINITY;
  private offered: number;
  private committed: number;
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> | undefined;
  private halted = false;
  private readonly options: Required<CandleProjectionOptions>;
  /** Candle rows upserted so far (a replayed candle counts again). */
  written = 0;

  private constructor(
    private readonly database: SqlDatabase,
    private readonly logger: Logger,
    seq: number,
    options: CandleProjectionOptions,
  ) {
    this.options = {
      name: options.name ?? 'candles',
      symbolsMax: options.symbolsMax ?? marketSymbolsMaxDefault,
      pendingCandlesMax: options.pendingCandlesMax ?? 20_000,
      flushIntervalMs: options.flushIntervalMs ?? 20,
      retryDelayMsMax: options.retryDelayMsMax ?? 2_000,
    };
    this.offered = seq;
    this.committed = seq;
  }

  /** Resumes from the stored state (the sequence it reflects and the candles open then). */
  static async open(
    database: SqlDatabase,
    logger: Logger,
    options: CandleProjectionOptions = {},
  ): Promise<CandleProjection> {
    const name = options.name ?? 'candles';
    const rows = await database.query<{ seq: number | string; state: SavedState | string }>(
      'SELECT seq, state FROM projection_states WHERE name = $1',
      [name],
    );
    const row = rows[0];
    const projection = new CandleProjection(
      database,
      logger,
      row === undefined ? 0 : Number(row.seq),
      options,
    );
    if (row !== undefined)
      projection.restore(typeof row.state === 'string' ? JSON.parse(row.state) : row.state);
    logger.info({ projection: name, seq: projection.committed }, 'candle projection opened');
    return projection;
  }

  /** Forgets the stored state (`hoga projector --rebuild`): the next open starts from sequence 1. */
  static async reset(executor: SqlExecutor, name = 'candles'): Promise<void> {
    await executor.query('DELETE FROM projection_states WHERE name = $1', [name]);
  }

  /** The last sequence whose candles are committed. */
  get projectedSeq(): number {
    return this.committed;
  }

  /** Outcomes must come in sequence order; those at or below the state's sequence are skipped. */
  offer(outcome: CandleOutcome): void {
    if (this.halted || outcome.seq <= this.offered) return;
    if (outcome.seq !== this.offered + 1) {
      throw new Error(`candle projection: sequence ${outcome.seq} follows ${this.offered}`);
    }
    this.offered = outcome.seq;
    const second = Math.floor(outcome.ts / 1_000);
    if (second !== this.second) {
      this.second = second;
      for (const market of this.markets.values()) market.candles.closeDue(outcome.ts, this.closed);
    }
    const events = outcome.events;
    for (let index = 0; index < events.length; index++) {
      const event = events[index];
      if (event.ev === 'symbolAdded') {
        // As MarketData: the listing's timezone (journaled as a field of the symbol command).
        const listed =
          (event as { timezone?: unknown }).timezone ??
          (outcome.command as { timezone?: unknown } | null)?.timezone;
        this.addMarket(event.symbol, listed);
        continue;
      }
      if (event.ev !== 'trade') continue;
      const market = this.markets.get(event.symbol);
      if (market !== undefined) market.candles.add(outcome.ts, event.price, event.qty, this.closed);
    }
    this.schedule();
  }

  /** Enough closed candles are waiting that the reader should wait for `drain()`. */
  get needsDrain(): boolean {
    return this.closed.length >= this.options.pendingCandlesMax;
  }

  /** Commits everything offered so far. */
  async drain(): Promise<void> {
    this.clearTimer();
    while (!this.halted && (this.offered > this.committed || this.writing !== undefined)) {
      await this.startWrite();
    }
  }

  /** Drains, then stops. */
  async close(): Promise<void> {
    await this.drain();
    this.halted = true;
    this.clearTimer();
  }

  private addMarket(symbol: string, listed: unknown): void {
    if (this.markets.has(symbol) || this.markets.size >= this.options.symbolsMax) return;
    const name = typeof listed === 'string' && isValidTimezone(listed) ? listed : defaultTimezone;
    this.markets.set(symbol, {
      symbol,
      timezone: name,
      candles: new SymbolCandles(symbol, this.timezone(name)),
    });
  }

  private timezone(name: string): MarketTimezone {
    let timezone = this.timezones.get(name);
    if (timezone === undefined) {
      timezone = new MarketTimezone(name);
      this.timezones.set(name, timezone);
    }
    return timezone;
  }

  private restore(state: SavedState): void {
    this.second = state.second;
    for (const saved of state.markets) {
      const name = isValidTimezone(saved.timezone) ? saved.timezone : defaultTimezone;
      const candles = new SymbolCandles(saved.symbol, this.timezone(name));
      candles.restoreState(saved.candles);
      this.markets.set(saved.symbol, { symbol: saved.symbol, timezone: name, candles });
    }
  }

  private exportState(): SavedState {
    return {
      markets: [...this.markets.values()].map((market) => ({
        symbol: market.symbol,
        timezone: market.timezone,
        candles: market.candles.exportState(),
      })),
      second: this.second,
    };
  }

  private schedule(): void {
    if (this.writing !== undefined || this.timer !== undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.startWrite();
    }, this.options.flushIntervalMs);
  }

  private clearTimer(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private startWrite(): Promise<void> {
    this.writing ??= this.writeLoop().finally(() => {
      this.writing = undefined;
      if (!this.halted && this.offered > this.committed) this.schedule();
    });
    return this.writing;
  }

  private async writeLoop(): Promise<void> {
    while (!this.halted && this.offered > this.committed) {
      // Taken together, synchronously: the candles closed up to `seq` and the state at `seq`.
      const seq = this.offered;
      const candles = this.closed.map(candleToJson);
      this.closed = [];
      const state = JSON.stringify(this.exportState());
      for (let attempt = 0; ; attempt++) {
        try {
          await this.commit(seq, candles, state);
          break;
        } catch (error) {
          const retryDelayMs = Math.min(this.options.retryDelayMsMax, 10 * 2 ** Math.min(attempt, 16));
          this.logger.error({ err: error, seq, retryDelayMs }, 'candle projection commit failed');
          await new Promise((resolve) => setTimeout(resolve, retryDelayMs));
        }
      }
      this.committed = seq;
      this.written += candles.length;
    }
  }

  private async commit(seq: number, candles: readonly CandleJson[], state: string): Promise<void> {
    await this.database.transaction(async (executor) => {
      if (candles.length > 0) await new SqlCandleSink(new SqlCandles(executor)).write(candles);
      // Never moves back (a second projector on the same database may be ahead: same rows).
      await executor.query(
        `INSERT INTO projection_states (name, seq, state) VALUES ($1, $2, $3::jsonb)
           ON CONFLICT (name) DO UPDATE SET seq = excluded.seq, state = excluded.state
           WHERE projection_states.seq < excluded.seq`,
        [this.options.name, seq, state],
      );
    });
  }
}
