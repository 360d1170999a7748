// Closed candles survive a failing store: they spill to a local append-only file and are
// replayed, in order, when the store recovers (also after a restart). Nothing is lost.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { appendFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import {
  type Candle,
  type CandleJson,
  type CandleSink,
  CandleWriter,
  candleKey,
  MemoryCandleSink,
} from '../../src/marketdata/index.js';

const directory = await mkdtemp(join(tmpdir(), 'hoga-candles-'));
after(() => rm(directory, { recursive: true, force: true }));

/** A store that can be taken down: writes then throw, as a lost database connection would. */
class FlakySink implements CandleSink {
  down = false;
  readonly memory = new MemoryCandleSink();
  readonly order: number[] = [];

  async write(candles: readonly CandleJson[]): Promise<void> {
    if (this.down) throw new Error('store unavailable');
    for (const candle of candles) this.order.push(candle.openMs);
    await this.memory.write(candles);
  }
}

function candlesFrom(firstMs: number, count: number): Candle[] {
  return Array.from({ length: count }, (_, index) => ({
    symbol: 'X',
    source: 'trades' as const,
    interval: '1m' as const,
    openMs: firstMs + index * 60_000,
    closeMs: firstMs + (index + 1) * 60_000,
    open: 1,
    high: 3,
    low: 1,
    close: 2,
    volume: 10,
    quoteVolume: 2n ** 60n,
    trades: 4,
    closed: true,
  }));
}

test('a store that fails then recovers gets every candle, in order, and the spill file goes away', async () => {
  const sink = new FlakySink();
  const errors: string[] = [];
  const spillPath = join(directory, 'recover.ndjson');
  const writer = new CandleWriter({ sink, spillPath, batchMax: 7, onError: (code) => errors.push(code) });
  await writer.start();
  writer.add(candlesFrom(0, 10));
  await writer.flush();
  sink.down = true;
  writer.add(candlesFrom(600_000, 20));
  await writer.flush();
  writer.add(candlesFrom(1_800_000, 5));
  await writer.flush();
  assert.equal(writer.stats().spilled, 25);
  // A failed replay leaves the older candles in the file set aside for replay, newer ones after.
  const spilledLines = async (path: string): Promise<number> =>
    existsSync(path) ? (await readFile(path, 'utf8')).trim().split('\n').length : 0;
  assert.equal((await spilledLines(`${spillPath}.replaying`)) + (await spilledLines(spillPath)), 25);
  sink.down = false;
  writer.add(candlesFrom(2_100_000, 3));
  await writer.close();
  assert.equal(existsSync(spillPath) || existsSync(`${spillPath}.replaying`), false);
  assert.deepEqual(
    sink.order,
    Array.from({ length: 38 }, (_, index) => index * 60_000),
  );
  assert.equal(
    sink.memory.candles.get(candleKey({ symbol: 'X', interval: '1m', source: 'trades', openMs: 600_000 }))
      ?.quoteVolume,
    (2n ** 60n).toString(),
  );
  assert.deepEqual(writer.stats(), {
    written: 38,
    spilled: 25,
    replayed: 25,
    lost: 0,
    buffered: 0,
    spillBytes: 0,
  });
  assert.ok(errors.every((code) => code === 'SINK_FAILED') && errors.length >= 2);
});

test('a spill file left by a crashed run is replayed by the next one; a torn last line is reported', async () => {
  const spillPath = join(directory, 'restart.ndjson');
  const down = new FlakySink();
  down.down = true;
  const crashed = new CandleWriter({ sink: down, spillPath });
  await crashed.start();
  crashed.add(candlesFrom(0, 4));
  await crashed.flush();
  await crashed.close();
  await appendFile(spillPath, '{"symbol":"X","inter');

  const sink = new FlakySink();
  const errors: string[] = [];
  const restarted = new CandleWriter({ sink, spillPath, onError: (code) => errors.push(code) });
  await restarted.start();
  assert.ok(restarted.stats().spillBytes > 0);
  await restarted.flush();
  await restarted.close();
  assert.deepEqual(sink.order, [0, 60_000, 120_000, 180_000]);
  assert.deepEqual(errors, ['SPILL_CORRUPT_LINE']);
  assert.equal(existsSync(spillPath), false);
});

test('past spillBytesMax candles are counted as lost and reported, never silently dropped', async () => {
  const sink = new FlakySink();
  sink.down = true;
  const errors: string[] = [];
  const writer = new CandleWriter({
    sink,
    spillPath: join(directory, 'full.ndjson'),
    spillBytesMax: 1_000,
    onError: (code) => errors.push(code),
  });
  await writer.start();
  writer.add(candlesFrom(0, 100));
  await writer.close();
  assert.equal(writer.stats().lost, 100);
  assert.ok(errors.includes('SPILL_FULL'));
});

test('candles spilled while a replay is in flight are kept and replayed next', async () => {
  const sink = new FlakySink();
  const spillPath = join(directory, 'race.ndjson');
  const writer = new CandleWriter({ sink, spillPath, bufferMax: 5 });
  await writer.start();
  sink.down = true;
  writer.add(candlesFrom(0, 4));
  await writer.flush();
  sink.down = false;
  let release: () => void = () => {};
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  let reached: () => void = () => {};
  const replayReachedSink = new Promise<void>((resolve) => {
    reached = resolve;
  });
  const write = sink.write.bind(sink);
  sink.write = async (candles) => {
    reached();
    await gate;
    await write(candles);
  };
  const replaying = writer.flush();
  await replayReachedSink;
  writer.add(candlesFrom(240_000, 8));
  assert.equal(writer.stats().buffered, 0, 'over bufferMax while flushing: straight to the file');
  release();
  await replaying;
  await writer.close();
  assert.deepEqual(
    [...sink.order].sort((left, right) => left - right),
    Array.from({ length: 12 }, (_, index) => index * 60_000),
  );
  assert.equal(existsSync(spillPath) || existsSync(`${spillPath}.replaying`), false);
});

/** A store whose writes wait until released: a batch stays in flight as long as the test wants. */
class HeldSink implements CandleSink {
  readonly memory = new MemoryCandleSink();
  private release: (() => void) | undefined;
  private released = false;
  held = 0;

  async write(candles: readonly CandleJson[]): Promise<void> {
    this.held += 1;
    if (!this.released) {
      await new Promise<void>((resolve) => {
        this.release = resolve;
      });
    }
    await this.memory.write(candles);
  }

  /** Lets the held write and every later one through. */
  releaseAll(): void {
    this.released = true;
    this.release?.();
  }
}

test('closed candles not yet stored (in flight and buffered) go into the snapshot and are stored after a restore', async () => {
  const held = new HeldSink();
  const writer = new CandleWriter({ sink: held, spillPath: join(directory, 'snapshot.ndjson'), batchMax: 4 });
  writer.add(candlesFrom(0, 4));
  const flushing = writer.flush();
  assert.equal(held.held, 1, 'the first batch is in flight');
  writer.add(candlesFrom(240_000, 3));
  // The capture is what the snapshot writes: plain JSON, serialised after the pause.
  const captured = JSON.parse(JSON.stringify(writer.snapshotParticipant.exportState()));
  assert.deepEqual(
    captured.pending.map((candle: CandleJson) => candle.openMs),
    Array.from({ length: 7 }, (_, index) => index * 60_000),
  );
  // A crash now loses the writer; the restarted one gets the snapshot's pending candles.
  const store = new MemoryCandleSink();
  const restarted = new CandleWriter({ sink: store, spillPath: join(directory, 'snapshot-2.ndjson') });
  restarted.snapshotParticipant.restoreState(captured);
  restarted.add(candlesFrom(420_000, 1));
  await restarted.close();
  assert.deepEqual(
    [...store.candles.values()].map((candle) => candle.openMs),
    Array.from({ length: 8 }, (_, index) => index * 60_000),
  );
  assert.throws(() => restarted.snapshotParticipant.restoreState({}), /pending expected/);
  held.releaseAll();
  await flushing;
});
