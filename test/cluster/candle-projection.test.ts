// The cluster projector's trade candles on the real PostgreSQL: outcomes of a real engine (a
// market listed in Asia/Tokyo, trades over eleven minutes across Tokyo's Monday midnight) give
// exactly the closed candles the single process's market data hands its CandleWriter for the same
// outcomes, also when the projection stops half way and a new one resumes from its stored state;
// replaying outcomes already committed changes nothing.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { type CandleOutcome, CandleProjection } from '../../src/cluster/candle-projection.js';
import { Engine } from '../../src/core/engine.js';
import type { Command } from '../../src/core/types.js';
import { journalText } from '../../src/journal/sequencer.js';
import type { Candle } from '../../src/marketdata/candles.js';
import { MarketData } from '../../src/marketdata/marketdata.js';
import { openStore, type Store } from '../../src/store/store.js';
import { reachablePostgres } from '../store/backends.js';
import { silentLogger } from './support.js';

/** Sunday 2026-01-04 23:58:00 in Tokyo (14:58 UTC): the run crosses Tokyo's day and week. */
const startMs = Date.UTC(2026, 0, 4, 14, 58, 0);

function outcomes(): CandleOutcome[] {
  const commands: Command[] = [
    {
      op: 'symbol',
      symbol: 'BTC-JPY',
      base: 'BTC',
      quote: 'JPY',
      lotSize: 1,
      tickSize: 1,
      makerFeeBps: 0,
      takerFeeBps: 0,
      timezone: 'Asia/Tokyo',
    } as unknown as Command,
    { op: 'deposit', user: 1, asset: 'JPY', amount: 1_000_000_000 },
    { op: 'deposit', user: 2, asset: 'BTC', amount: 1_000_000 },
  ];
  for (let index = 0; index < 800; index++) {
    const seller = index % 2 === 0;
    commands.push({
      op: 'place',
      user: seller ? 2 : 1,
      symbol: 'BTC-JPY',
      side: seller ? 'sell' : 'buy',
      type: 'limit',
      price: seller ? 100 + (index % 11) : 104 + (index % 5),
      qty: 1 + (index % 4),
    } as unknown as Command);
  }
  const engine = new Engine();
  let ts = startMs;
  return commands.map((command, index) => {
    const seq = index + 1;
    // Uneven steps (0 to 1.6 s) so that some seconds hold several trades and some none.
    ts += (index * 7919) % 1_700;
    const json = journalText(command, seq, ts) as string;
    const applied = JSON.parse(json);
    // As stored in EVT (the engine reuses its event array between commands).
    return { seq, ts, command: applied, events: JSON.parse(JSON.stringify(engine.apply(applied))) };
  });
}

/** What the single process writes: market data's closed candles for the same outcomes. */
function singleProcessCandles(all: readonly CandleOutcome[]): Candle[] {
  const closed: Candle[] = [];
  const marketData = new MarketData({
    publisher: { publish: () => undefined, isWatched: () => false },
    closedCandles: { add: (candles) => closed.push(...candles.map((candle) => ({ ...candle }))) },
  });
  for (const outcome of all) marketData.onOutcome(outcome as never);
  marketData.flush(all[all.length - 1].ts);
  return closed;
}

function rowOf(candle: Candle): string {
  return [
    candle.symbol,
    candle.interval,
    candle.openMs,
    candle.closeMs,
    candle.open,
    candle.high,
    candle.low,
    candle.close,
    candle.volume,
    candle.quoteVolume.toString(),
    candle.trades,
  ].join(' ');
}

describe('cluster candle projection', () => {
  let store: Store;
  let databaseUrl: string;
  const schema = `candles_${randomBytes(4).toString('hex')}`;

  before(async () => {
    const found = await reachablePostgres();
    if (!('url' in found)) throw new Error(found.failure);
    databaseUrl = found.url;
    store = await openStore({ databaseUrl, schema, logger: silentLogger });
  });

  after(async () => {
    await store?.close();
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await client.end();
  });

  async function storedRows(): Promise<string[]> {
    const rows = await store.database.query<Record<string, number | string>>(
      `SELECT symbol, interval, open_time_ms, close_time_ms, open, high, low, close, volume_qty,
              quote_volume::text AS quote_volume, trade_count
         FROM candles WHERE source = 'trades' ORDER BY symbol, interval, open_time_ms`,
    );
    return rows.map((row) =>
      [
        row.symbol,
        row.interval,
        row.open_time_ms,
        row.close_time_ms,
        row.open,
        row.high,
        row.low,
        row.close,
        row.volume_qty,
        row.quote_volume,
        row.trade_count,
      ]
        .map(String)
        .join(' '),
    );
  }

  it('writes the closed candles the single process writes, across a restart in the middle', async () => {
    const all = outcomes();
    const expected = singleProcessCandles(all).map(rowOf).sort();
    const intervals = new Set(expected.map((row) => row.split(' ')[1]));
    assert.deepEqual(
      [...intervals].sort(),
      ['15m', '1d', '1h', '1m', '1s', '1w', '5m'],
      'the run closes these',
    );
    assert.ok(expected.length > 100);

    const half = 401;
    const first = await CandleProjection.open(store.database, silentLogger, { flushIntervalMs: 1 });
    for (const outcome of all.slice(0, half)) first.offer(outcome);
    await first.close();
    assert.equal(first.projectedSeq, half);

    const second = await CandleProjection.open(store.database, silentLogger, { flushIntervalMs: 1 });
    assert.equal(second.projectedSeq, half, 'resumes at the stored sequence');
    // A reader restarting below the state's sequence: what is already in it is skipped.
    for (const outcome of all) second.offer(outcome);
    await second.close();
    assert.equal(second.projectedSeq, all.length);
    const stored = await storedRows();
    assert.deepEqual([...stored].sort(), expected);
    assert.equal(first.written + second.written, expected.length, 'each closed candle written once');
  });

  it('a projection from sequence 1 on the same database (a second projector) writes the same rows', async () => {
    const before = await storedRows();
    await CandleProjection.reset(store.database);
    const again = await CandleProjection.open(store.database, silentLogger, { flushIntervalMs: 1 });
    assert.equal(again.projectedSeq, 0);
    for (const outcome of outcomes()) again.offer(outcome);
    await again.close();
    assert.deepEqual(await storedRows(), before);
  });
});
