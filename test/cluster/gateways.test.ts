// Two cluster gateways, one engine replica and the projector, in-process, on the real NATS server,
// PostgreSQL (a schema of its own) and Redis (a key prefix of its own): the gateways start together (migrations and admin seeding
// race), two users trade through different gateways, both gateways derive the same balances and
// number market data alike, the projector writes the history exactly once, and a rebuild from
// EVT sequence 1 gives the same rows; the projector writes the closed trade candles that market
// data closes for the same outcomes, and a gateway serves them.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import pg from 'pg';
import { pino } from 'pino';
import { type GatewayRole, startGatewayRole } from '../../src/cluster/gateway-role.js';
import { decodeOutcome } from '../../src/cluster/outcome-codec.js';
import { type ProjectorRole, startProjectorRole } from '../../src/cluster/projector-role.js';
import { type ClusterSettings, loadClusterSettings } from '../../src/cluster/settings.js';
import type { Candle } from '../../src/marketdata/candles.js';
import { MarketData } from '../../src/marketdata/marketdata.js';
import { Api, TestSocket, testConfig } from '../gateway/support/exchange.js';
import { dumpProjection, reachablePostgres } from '../store/backends.js';
import { removeKeys, testRedisSettings, testRedisUrl, uniquePrefix } from './redis-support.js';
import { type ClusterFixture, openClusterFixture, testNatsServers } from './support.js';

const logger = pino({ level: process.env.HOGA_TEST_LOG ?? 'silent' });

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5));
}

describe('cluster gateways', () => {
  let fixture: ClusterFixture;
  let databaseUrl: string;
  let settings: ClusterSettings;
  let gateways: GatewayRole[] = [];
  let projector: ProjectorRole | undefined;
  const schema = `cluster_${randomBytes(4).toString('hex')}`;
  const redisPrefix = uniquePrefix();

  before(async () => {
    const found = await reachablePostgres();
    if (!('url' in found)) throw new Error(found.failure);
    databaseUrl = found.url;
    fixture = await openClusterFixture('gateways');
    await fixture.startReplica('a');
    settings = loadClusterSettings(
      {},
      {
        HOGA_NATS_SERVERS: testNatsServers.join(','),
        HOGA_NATS_PREFIX: fixture.prefix,
        HOGA_DATABASE_URL: databaseUrl,
        HOGA_DB_SCHEMA: schema,
      },
    );
    // Every gateway holds the same API key server key (a cluster gateway refuses to start without one).
    const config = testConfig('/nonexistent-cluster-gateway', (adjusted) => {
      adjusted.apiKeySecretKey = { ...adjusted.apiKeySecretKey, key: randomBytes(32).toString('hex') };
    });
    gateways = await Promise.all(
      ['g1', 'g2'].map((name) =>
        startGatewayRole({
          settings: { ...settings, replicaName: name },
          config,
          logger,
          webUi: false,
          redis: testRedisSettings(redisPrefix),
        }),
      ),
    );
    projector = await startProjectorRole({ settings, logger });
  });

  after(async () => {
    for (const gateway of gateways) await gateway.close();
    await projector?.close();
    await fixture?.close();
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await client.end();
    const redis = new Redis(testRedisUrl);
    await removeKeys(redis, redisPrefix);
    redis.disconnect();
  });

  it('two users trade through different gateways; both gateways agree; the projector writes the history once', async () => {
    const [one, two] = gateways.map((gateway) => new Api(gateway.url));
    const admin = await one.adminToken();
    await one.createMarket(admin);
    const aliceId = await one.register('alice');
    const bobId = await two.register('bob');
    const alice = await one.login('alice');
    const bob = await two.login('bob');
    await two.deposit(await two.adminToken(), aliceId, 'USD', '100000');
    await one.deposit(admin, bobId, 'BTC', '1');
    // Market data on both gateways, subscribed at different moments.
    const early = await TestSocket.open(gateways[0].url);
    const earlyAck = await early.request('subscribe', { ch: 'trades.BTC-USD' });
    const sell = await two.expect(
      200,
      'POST',
      '/api/v1/orders',
      { symbol: 'BTC-USD', type: 'limit', side: 'sell', price: '50000.50', qty: '1' },
      bob,
    );
    const late = await TestSocket.open(gateways[1].url);
    await late.request('subscribe', { ch: 'trades.BTC-USD' });
    const buy = await one.expect(
      200,
      'POST',
      '/api/v1/orders',
      { symbol: 'BTC-USD', type: 'limit', side: 'buy', price: '50001', qty: '0.4' },
      alice,
    );
    assert.equal(buy.status, 'filled');
    assert.equal(sell.status, 'resting');
    const lastSeq = gateways[0].sequencer.lastSeq;
    await until(() => gateways[1].sequencer.lastSeq >= lastSeq);
    for (const api of [one, two]) {
      assert.deepEqual(await api.expect(200, 'GET', '/api/v1/balances', undefined, alice), [
        { asset: 'BTC', available: '0.39920000', locked: '0.00000000' },
        { asset: 'USD', available: '79999.800000', locked: '0.000000' },
      ]);
      const order = await api.expect(200, 'GET', `/api/v1/orders/${sell.orderId}`, undefined, bob);
      assert.equal(order.filledQty, '0.400');
    }
    assert.equal(gateways[0].engine.stateHash(), gateways[1].engine.stateHash());
    const [earlyTrade, lateTrade] = await Promise.all(
      [early, late].map((socket) =>
        socket.next(
          (message) => message.ch === 'trades.BTC-USD' && 'data' in message && message.snapshot !== true,
        ),
      ),
    );
    assert.equal(earlyTrade.seq, lateTrade.seq, 'both gateways number the trade alike');
    assert.deepEqual(earlyTrade.data, lateTrade.data);
    early.close();
    late.close();

    // A client that saw the trade on gateway 1 resumes on gateway 2 without a reset.
    const resumed = await TestSocket.open(gateways[1].url);
    const ack = await resumed.request('subscribe', {
      ch: 'trades.BTC-USD',
      since: earlyTrade.seq,
      epoch: earlyAck.epoch,
    });
    assert.deepEqual([ack.ok, ack.seq, ack.epoch], [true, earlyTrade.seq, earlyAck.epoch]);
    // Its ack comes after anything the first subscription sent: no snapshot, no reset, no replay.
    await resumed.request('subscribe', { ch: 'depth.BTC-USD' });
    assert.deepEqual(
      resumed.pushes.filter((message) => message.ch === 'trades.BTC-USD'),
      [],
    );
    resumed.close();

    assert.ok(projector);
    await projector.projectedThrough(lastSeq);
    const before = await dumpProjection(projector.store);
    assert.equal(before.trades.length, 1);
    const history = await two.expect(200, 'GET', '/api/v1/history/trades', undefined, alice);
    assert.deepEqual(
      history.items.map((trade: { side: string; qty: string }) => [trade.side, trade.qty]),
      [['buy', '0.400']],
    );
    // A second projector on the same database repeats nothing; a rebuild gives the same rows.
    await projector.close();
    projector = await startProjectorRole({ settings, logger, rebuild: true });
    await projector.projectedThrough(lastSeq);
    assert.deepEqual(await dumpProjection(projector.store), before);
  });

  it('the projector writes closed trade candles: the rows market data would close, served by /api/v1/candles', async () => {
    const [one, two] = gateways.map((gateway) => new Api(gateway.url));
    const alice = await one.login('alice');
    await one.expect(
      200,
      'POST',
      '/api/v1/orders',
      { symbol: 'BTC-USD', type: 'limit', side: 'buy', price: '50001', qty: '0.1' },
      alice,
    );
    // An outcome in a later second closes the 1s candles of both trades (event time, no clock).
    const tradedSecond = Math.floor(Date.now() / 1_000);
    await until(() => Math.floor(Date.now() / 1_000) > tradedSecond);
    await one.deposit(await one.adminToken(), await one.register('carol'), 'USD', '1');
    const lastSeq = gateways[0].sequencer.lastSeq;
    assert.ok(projector);
    await projector.projectedThrough(lastSeq);

    // The single process's market data over the same outcomes, closed at the last one's time.
    const closed: Candle[] = [];
    const marketData = new MarketData({
      publisher: { publish: () => undefined, isWatched: () => false },
      closedCandles: { add: (candles) => closed.push(...candles) },
    });
    let lastTs = 0;
    for (let seq = 1; seq <= lastSeq; seq++) {
      const message = await fixture.connection.jsm.streams.getMessage(fixture.names.evtStream, { seq });
      assert.ok(message !== null);
      const outcome = decodeOutcome(message.data);
      marketData.onOutcome(outcome);
      lastTs = outcome.ts;
    }
    marketData.flush(lastTs);
    const expected = closed
      .map(
        (candle) =>
          `${candle.interval} ${candle.openMs} ${candle.open} ${candle.close} ${candle.volume} ${candle.trades}`,
      )
      .sort();
    assert.ok(
      expected.some((row) => row.startsWith('1s ')),
      'the 1s candles closed',
    );
    const rows = await projector.store.database.query<Record<string, string | number>>(
      `SELECT interval, open_time_ms, open, close, volume_qty, trade_count FROM candles
        WHERE symbol = 'BTC-USD' AND source = 'trades'`,
    );
    assert.deepEqual(
      rows
        .map((row) =>
          [row.interval, row.open_time_ms, row.open, row.close, row.volume_qty, row.trade_count]
            .map(String)
            .join(' '),
        )
        .sort(),
      expected,
    );
    const trades = closed
      .filter((candle) => candle.interval === '1s')
      .reduce((sum, candle) => sum + candle.trades, 0);
    assert.equal(trades, 2);
    const served = await two.expect(200, 'GET', '/api/v1/candles?symbol=BTC-USD&interval=1s');
    assert.equal(served.items.length, expected.filter((row) => row.startsWith('1s ')).length);
    assert.deepEqual(
      served.items.map((candle: { trades: number; closed: boolean }) => candle.closed),
      served.items.map(() => true),
    );
    assert.equal(
      served.items.reduce((sum: number, candle: { trades: number }) => sum + candle.trades, 0),
      2,
    );
  });
});
