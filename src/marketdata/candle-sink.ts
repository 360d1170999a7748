// Closed candles go to a store in batches. When the store fails, batches are appended to a local
// spill file (NDJSON, fdatasync'd) and replayed, oldest first, once the store answers again.
// Nothing is lost and order is kept: while the spill file holds anything, new batches go behind it.
// A sink must upsert by (symbol, interval, source, openMs), so a batch written twice (a replay cut short
// by a new failure) is harmless.
import { closeSync, fdatasyncSync, openSync, writeSync } from 'node:fs';
import { open, readFile, rename, rm, stat } from 'node:fs/promises';
import type { SnapshotParticipant } from '../journal/participant.js';
import { type Candle, type CandleJson, candleKey, candleToJson } from './candles.js';
import type { ClosedCandleHandler } from './marketdata.js';

export interface CandleSink {
  write(candles: readonly CandleJson[]): Promise<void>;
}

/** The in-memory sink: latest version of each candle by key. */
export class MemoryCandleSink implements CandleSink {
  readonly candles = new Map<string, CandleJson>();
  writes = 0;

  constructor(private readonly candlesMax = 1_000_000) {}

  async write(candles: readonly CandleJson[]): Promise<void> {
    this.writes += 1;
    for (const candle of candles) {
      if (this.candles.size >= this.candlesMax)
        this.candles.delete(this.candles.keys().next().value as string);
      this.candles.set(candleKey(candle), candle);
    }
  }
}

export interface CandleWriterOptions {
  sink: CandleSink;
  spillPath: string;
  batchMax?: number;
  /** Candles held in memory awaiting a write; beyond it they spill straight to the file. */
  bufferMax?: number;
  spillBytesMax?: number;
  /** How often buffered candles are written (and a spill replay is tried). */
  flushMs?: number;
  onError?: (code: CandleWriterErrorCode, error: unknown) => void;
}

export type CandleWriterErrorCode = 'SINK_FAILED' | 'SPILL_FULL' | 'SPILL_CORRUPT_LINE';

export interface CandleWriterStats {
  written: number;
  spilled: number;
  replayed: number;
  lost: number;
  buffered: number;
  spillBytes: number;
}

function fileBytes(path: string): Promise<number> {
  return stat(path).then(
    (info) => info.size,
    () => 0,
  );
}

export class CandleWriter implements ClosedCandleHandler {
  private readonly sink: CandleSink;
  private readonly spillPath: string;
  /** Where the spill file is moved while it is being replayed. */
  private readonly replayPath: string;
  private readonly batchMax: number;
  private readonly bufferMax: number;
  private readonly spillBytesMax: number;
  private readonly flushMs: number;
  private readonly onError: (code: CandleWriterErrorCode, error: unknown) => void;
  private buffer: CandleJson[] = [];
  /** The batch handed to the sink and not yet confirmed. */
  private inFlight: CandleJson[] = [];
  private spillBytes = 0;
  private flushing: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly counters = { written: 0, spilled: 0, replayed: 0, lost: 0 };

  constructor(options: CandleWriterOptions) {
    this.sink = options.sink;
    this.spillPath = options.spillPath;
    this.replayPath = `${options.spillPath}.replaying`;
    this.batchMax = options.batchMax ?? 1_000;
    this.bufferMax = options.bufferMax ?? 100_000;
    this.spillBytesMax = options.spillBytesMax ?? 1024 ** 3;
    this.flushMs = options.flushMs ?? 100;
    this.onError = options.onError ?? (() => {});
  }

  /** Picks up a spill file left by an earlier run, then starts the flush timer. */
  async start(): Promise<void> {
    this.spillBytes = (await fileBytes(this.spillPath)) + (await fileBytes(this.replayPath));
    this.timer ??= setInterval(() => void this.flush(), this.flushMs);
    this.timer.unref();
  }

  add(candles: readonly Candle[]): void {
    for (const candle of candles) this.buffer.push(candleToJson(candle));
    if (this.buffer.length < this.bufferMax) return;
    // A store slower than the candle rate: the file, not memory, absorbs the excess. Keys make
    // the order between the file and an in-flight batch irrelevant (each candle closes once).
    if (this.flushing === undefined) void this.flush();
    else this.spillNow(this.buffer.splice(0));
  }

  /** Writes everything buffered (or spills it). One flush runs at a time; callers share it. */
  flush(): Promise<void> {
    this.flushing ??= this.flushAll().finally(() => {
      this.flushing = undefined;
    });
    return this.flushing;
  }

  /** Resolves once every candle added before the call was handed to the sink (or spilled). */
  async flushAdded(): Promise<void> {
    await this.flush();
    // The flush that was running may have finished its loop before the latest candles came.
    if (this.buffer.length > 0) await this.flush();
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.flush();
    if (this.buffer.length > 0) await this.flush();
  }

  /**
   * Closed candles not yet in the store (in flight or buffered) go into the exchange's snapshot: a
   * restart from it replays only the commands after it, so a candle closed before the snapshot and
   * lost from memory by a crash would otherwise never be written. Restored ones are written again
   * (the sink upserts by key, and a closed candle never changes). Spilled candles are on disk
   * already. Bounded by bufferMax + batchMax.
   */
  readonly snapshotParticipant: SnapshotParticipant = {
    name: 'closedCandles',
    exportState: () => ({ pending: [...this.inFlight, ...this.buffer] }),
    restoreState: (state) => this.restorePending(state),
  };

  private restorePending(state: unknown): void {
    const pending = (state as { pending?: unknown } | null)?.pending;
    if (!Array.isArray(pending)) throw new Error('closed candles state: pending expected');
    this.buffer = [...(pending as CandleJson[]), ...this.buffer];
  }

  stats(): CandleWriterStats {
    return { ...this.counters, buffered: this.buffer.length, spillBytes: this.spillBytes };
  }

  private async flushAll(): Promise<void> {
    if (this.spillBytes > 0 && !(await this.replaySpill())) {
      await this.spill(this.buffer.splice(0));
      return;
    }
    while (this.buffer.length > 0) {
      const batch = this.buffer.splice(0, this.batchMax);
      this.inFlight = batch;
      try {
        await this.sink.write(batch);
        this.counters.written += batch.length;
      } catch (error) {
        this.onError('SINK_FAILED', error);
        await this.spill([...batch, ...this.buffer.splice(0)]);
        return;
      } finally {
        this.inFlight = [];
      }
    }
  }

  /**
   * Writes spilled candles to the sink, oldest first; true when nothing is left spilled. The
   * file is first renamed aside, so candles spilled while the replay awaits the sink land in a
   * fresh file and are never removed with the replayed one.
   */
  private async replaySpill(): Promise<boolean> {
    while (this.spillBytes > 0) {
      const replayBytes = await fileBytes(this.replayPath);
      if (replayBytes === 0) {
        if ((await fileBytes(this.spillPath)) === 0) {
          this.spillBytes = 0;
          return true;
        }
        await rename(this.spillPath, this.replayPath);
        continue;
      }
      if (!(await this.writeToSink(await this.readSpill(this.replayPath)))) return false;
      await rm(this.replayPath, { force: true });
      this.spillBytes -= replayBytes;
    }
    return true;
  }

  private async readSpill(path: string): Promise<CandleJson[]> {
    const candles: CandleJson[] = [];
    for (const line of (await readFile(path, 'utf8')).split('\n')) {
      if (line.length === 0) continue;
      try {
        candles.push(JSON.parse(line) as CandleJson);
      } catch (error) {
        // Only a crash mid-append leaves a torn line, and its candle was never acknowledged.
        this.onError('SPILL_CORRUPT_LINE', error);
      }
    }
    return candles;
  }

  private async writeToSink(candles: CandleJson[]): Promise<boolean> {
    try {
      for (let start = 0; start < candles.length; start += this.batchMax) {
        await this.sink.write(candles.slice(start, start + this.batchMax));
      }
    } catch (error) {
      this.onError('SINK_FAILED', error);
      return false;
    }
    this.counters.replayed += candles.length;
    this.counters.written += candles.length;
    return true;
  }

  /** The spill text, or undefined (candles counted lost) when the file would pass its bound. */
  private spillText(candles: readonly CandleJson[]): string | undefined {
    const text = `${candles.map((candle) => JSON.stringify(candle)).join('\n')}\n`;
    if (this.spillBytes + Buffer.byteLength(text) <= this.spillBytesMax) return text;
    this.counters.lost += candles.length;
    this.onError('SPILL_FULL', new Error(`spill file would pass ${this.spillBytesMax} bytes`));
    return undefined;
  }

  private spillNow(candles: readonly CandleJson[]): void {
    const text = this.spillText(candles);
    if (text === undefined) return;
    const descriptor = openSync(this.spillPath, 'a');
    try {
      writeSync(descriptor, text);
      fdatasyncSync(descriptor);
    } finally {
      closeSync(descriptor);
    }
    this.spillBytes += Buffer.byteLength(text);
    this.counters.spilled += candles.length;
  }

  private async spill(candles: readonly CandleJson[]): Promise<void> {
    if (candles.length === 0) return;
    const text = this.spillText(candles);
    if (text === undefined) return;
    const bytes = Buffer.byteLength(text);
    const file = await open(this.spillPath, 'a');
    try {
      await file.write(text);
      await file.datasync();
    } finally {
      await file.close();
    }
    this.spillBytes += bytes;
    this.counters.spilled += candles.length;
  }
}
