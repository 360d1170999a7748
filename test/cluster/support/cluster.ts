// A whole cluster for tests, started by the same code as `hoga cluster up` (LocalCluster) on free
// loopback ports, its own state directory and a PostgreSQL schema of its own; an order load that
// keeps clients trading through both gateways (a client whose gateway fails moves to the other and
// retries with the same clientOrderId); and the invariants checked after each fault.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import pg from 'pg';
import { pino } from 'pino';
import {
  clusterLayout,
  gatewayUrls,
  LocalCluster,
  type LocalClusterLayout,
  natsUrls,
} from '../../../src/cluster/local-cluster.js';
import { connectCluster } from '../../../src/cluster/nats.js';
import { startProjectorRole } from '../../../src/cluster/projector-role.js';
import { loadClusterSettings } from '../../../src/cluster/settings.js';
import { streamNames } from '../../../src/cluster/streams.js';
import { openStore, type Store } from '../../../src/store/store.js';
import { Api } from '../../gateway/support/exchange.js';
import { temporaryDirectory } from '../../journal/helpers.js';
import { dumpProjection, reachablePostgres } from '../../store/backends.js';

const silent = pino({ level: 'silent' });

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** A port offset whose every port is free now (ports of other runs differ by their random offset). */
export async function freeOffset(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const offset = 1_000 + 10 * Math.floor(Math.random() * 3_000);
    const layout = clusterLayout({ portOffset: offset });
    const ports = [
      ...layout.natsClientPorts,
      ...layout.natsRoutePorts,
      ...layout.natsMonitorPorts,
      layout.redisPort,
      ...layout.gatewayPorts,
    ];
    if ((await Promise.all(ports.map(portFree))).every(Boolean)) return offset;
  }
  throw new Error('no free port offset');
}

export interface TestCluster {
  cluster: LocalCluster;
  layout: LocalClusterLayout;
  apis: Api[];
  adminToken: string;
  close(): Promise<void>;
}

export async function startTestCluster(label: string): Promise<TestCluster> {
  const found = await reachablePostgres();
  if (!('url' in found)) throw new Error(found.failure);
  const directory = temporaryDirectory(`cluster-${label}`);
  const schema = `cluster_${label}_${randomBytes(4).toString('hex')}`;
  const layout = clusterLayout({
    dir: directory.path,
    portOffset: await freeOffset(),
    databaseUrl: found.url,
    dbSchema: schema,
    natsPrefix: `C${randomBytes(4).toString('hex')}`,
    roleEnvironment: { HOGA_SCRYPT_COST_LOG2: '10', HOGA_HASH_EVERY_COMMANDS: '50', HOGA_LOG_LEVEL: 'info' },
  });
  let cluster: LocalCluster;
  // The components are detached: if the test process dies, take them with it.
  const killAll = () => {
    for (const component of cluster?.state.components ?? []) {
      try {
        process.kill(component.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  };
  process.once('exit', killAll);
  try {
    cluster = await LocalCluster.up(layout);
  } catch (error) {
    directory.remove();
    throw error;
  }
  const apis = gatewayUrls(layout).map((url) => new Api(url));
  const adminToken = await apis[0].login(layout.adminUser, layout.adminPassword);
  return {
    cluster,
    layout,
    apis,
    adminToken,
    async close() {
      process.off('exit', killAll);
      await cluster.down(() => {}, true);
      const client = new pg.Client({ connectionString: found.url });
      await client.connect();
      for (const name of [schema, `${schema}_rebuild`])
        await client.query(`DROP SCHEMA IF EXISTS ${name} CASCADE`);
      await client.end();
    },
  };
}

/** Zero fees, so the sum of every user's balances equals the deposits exactly. */
export async function createFreeMarket(test: TestCluster): Promise<void> {
  await test.apis[0].expect(
    201,
    'POST',
    '/api/v1/admin/symbols',
    {
      symbol: 'BTC-USD',
      base: 'BTC',
      quote: 'USD',
      baseDecimals: 8,
      quoteDecimals: 6,
      lotSize: '0.001',
      tickSize: '0.01',
      makerFeeBps: 0,
      takerFeeBps: 0,
    },
    test.adminToken,
  );
}

export const depositPerUser = { BTC: 1_000n, USD: 1_000_000n };

interface Client {
  name: string;
  token: string;
  gateway: number;
  sent: number;
  /** clientOrderId → orderId of every acknowledged order. */
  acked: Map<string, number>;
}

/**
 * Clients placing small crossing limit orders, each through one gateway; on a connection error or
 * a 5xx it moves to the other gateway and retries the same clientOrderId until acknowledged.
 */
export class OrderLoad {
  readonly clients: Client[] = [];
  private running = false;
  private loops: Promise<void>[] = [];
  retries = 0;

  private constructor(private readonly test: TestCluster) {}

  static async open(test: TestCluster, clients: number): Promise<OrderLoad> {
    const load = new OrderLoad(test);
    for (let index = 0; index < clients; index++) {
      const name = `u${index}_${randomBytes(3).toString('hex')}`;
      const api = test.apis[index % test.apis.length];
      const userId = await api.register(name);
      for (const [asset, amount] of Object.entries(depositPerUser))
        await api.deposit(test.adminToken, userId, asset, String(amount));
      load.clients.push({
        name,
        token: await api.login(name),
        gateway: index % test.apis.length,
        sent: 0,
        acked: new Map(),
      });
    }
    return load;
  }

  get acknowledged(): number {
    return this.clients.reduce((sum, client) => sum + client.acked.size, 0);
  }

  start(): void {
    this.running = true;
    this.loops = this.clients.map((client, index) => this.loop(client, index));
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }

  /** Resolves once `count` more orders were acknowledged (the load keeps going meanwhile). */
  async moreAcknowledged(count: number): Promise<void> {
    const target = this.acknowledged + count;
    while (this.acknowledged < target) await new Promise((wake) => setTimeout(wake, 20));
  }

  private async loop(client: Client, index: number): Promise<void> {
    while (this.running) {
      const clientOrderId = `${client.name}-${client.sent++}`;
      const side = (client.sent + index) % 2 === 0 ? 'buy' : 'sell';
      const body = {
        symbol: 'BTC-USD',
        side,
        type: 'limit',
        price: String(100 + (client.sent % 3)),
        qty: '0.01',
        clientOrderId,
      };
      for (let attempt = 0; ; attempt++) {
        assert.ok(attempt < 1_000, `${clientOrderId}: never acknowledged`);
        const api = this.test.apis[client.gateway];
        const reply = await api.call('POST', '/api/v1/orders', body, client.token).catch(() => undefined);
        if (reply !== undefined && reply.status < 300) {
          client.acked.set(clientOrderId, reply.body.orderId);
          break;
        }
        if (reply !== undefined && reply.status < 500 && reply.status !== 429 && reply.status !== 401)
          assert.fail(`${clientOrderId}: ${reply.status} ${JSON.stringify(reply.body)}`);
        // Connection refused, 5xx, a session not yet known there: the other gateway, same clientOrderId.
        this.retries++;
        client.gateway = (client.gateway + 1) % this.test.apis.length;
        await new Promise((wake) => setTimeout(wake, 50));
      }
    }
  }
}

async function pages(api: Api, path: string, token: string): Promise<Array<Record<string, unknown>>> {
  const items: Array<Record<string, unknown>> = [];
  let cursor: string | undefined;
  do {
    const query = cursor === undefined ? '?limit=500' : `?limit=500&cursor=${encodeURIComponent(cursor)}`;
    const page = await api.expect(200, 'GET', `${path}${query}`, undefined, token);
    items.push(...page.items);
    cursor = page.next ?? undefined;
  } while (cursor !== undefined);
  return items;
}

async function tradeCandles(store: Store): Promise<string[]> {
  const rows = await store.database.query<{ row: string }>(
    `SELECT row_to_json(t)::text AS row FROM candles t WHERE source = 'trades'
      ORDER BY symbol, interval, open_time_ms`,
  );
  return rows.map((row) => row.row);
}

async function lastEvtSeq(layout: LocalClusterLayout): Promise<number> {
  const connection = await connectCluster(natsUrls(layout), 'test-invariants');
  try {
    const info = await connection.jsm.streams.info(streamNames(layout.natsPrefix).evtStream);
    return info.state.last_seq;
  } finally {
    await connection.close();
  }
}

/**
 * After the load stopped: every acknowledged order is in the history exactly once (and nothing
 * else is), balances are conserved per asset, both engines are alive (a hash mismatch stops one),
 * and the read model equals one rebuilt from the event stream.
 */
export async function checkInvariants(test: TestCluster, load: OrderLoad): Promise<void> {
  const { layout, apis } = test;
  for (const engine of ['engine-1', 'engine-2']) {
    const status = (await test.cluster.status()).find((candidate) => candidate.name === engine);
    assert.ok(status?.alive, `${engine} stopped (state hash or outcome mismatch?)`);
  }
  const evtSeq = await lastEvtSeq(layout);
  const live = await openStore({ databaseUrl: layout.databaseUrl, schema: layout.dbSchema, logger: silent });
  try {
    // The live projector catches up (polled, bounded by the test's own timeout).
    for (;;) {
      const rows = await live.database.query<{ seq: string }>(
        'SELECT max(seq)::text AS seq FROM projection_checkpoints',
      );
      if (Number(rows[0]?.seq ?? 0) >= evtSeq) break;
      await new Promise((wake) => setTimeout(wake, 50));
    }
    // Its trade candles too (their own state and checkpoint, committed a moment later).
    for (;;) {
      const rows = await live.database.query<{ seq: string }>(
        "SELECT seq::text AS seq FROM projection_states WHERE name = 'candles'",
      );
      if (Number(rows[0]?.seq ?? 0) >= evtSeq) break;
      await new Promise((wake) => setTimeout(wake, 50));
    }
    const totals = new Map<string, bigint>();
    for (const client of load.clients) {
      const api = apis[client.gateway];
      const history = await pages(api, '/api/v1/history/orders', client.token);
      const ids = history.map((order) => order.orderId as number);
      assert.equal(new Set(ids).size, ids.length, `${client.name}: an order twice in the history`);
      assert.deepEqual(
        [...ids].sort((a, b) => a - b),
        [...client.acked.values()].sort((a, b) => a - b),
        `${client.name}: history differs from the acknowledged orders`,
      );
      const balances = await api.expect(200, 'GET', '/api/v1/balances', undefined, client.token);
      for (const balance of balances as Array<{ asset: string; available: string; locked: string }>) {
        const scale = balance.asset === 'BTC' ? 8 : 6;
        const units = (text: string) => {
          const [whole, fraction = ''] = text.split('.');
          return BigInt(whole) * 10n ** BigInt(scale) + BigInt(fraction.padEnd(scale, '0'));
        };
        totals.set(
          balance.asset,
          (totals.get(balance.asset) ?? 0n) + units(balance.available) + units(balance.locked),
        );
      }
    }
    for (const [asset, perUser] of Object.entries(depositPerUser)) {
      const scale = asset === 'BTC' ? 8n : 6n;
      assert.equal(
        totals.get(asset),
        perUser * BigInt(load.clients.length) * 10n ** scale,
        `${asset} not conserved`,
      );
    }
    const settings = loadClusterSettings(
      {
        natsServers: natsUrls(layout).join(','),
        natsPrefix: layout.natsPrefix,
        streamReplicas: '3',
        databaseUrl: layout.databaseUrl,
        dbSchema: `${layout.dbSchema}_rebuild`,
        replicaName: 'rebuild',
      },
      {},
    );
    const rebuild = await startProjectorRole({ settings, logger: silent, rebuild: true });
    try {
      await rebuild.projectedThrough(evtSeq);
      const [liveDump, rebuiltDump] = [await dumpProjection(live), await dumpProjection(rebuild.store)];
      for (const table of Object.keys(liveDump)) {
        if (table === 'projection_checkpoints') continue;
        assert.deepEqual(
          liveDump[table],
          rebuiltDump[table],
          `read model table ${table} differs from a rebuild`,
        );
      }
      // Closed trade candles: a projector killed and restarted resumed its open candles exactly.
      assert.deepEqual(
        await tradeCandles(live),
        await tradeCandles(rebuild.store),
        'candles differ from a rebuild',
      );
    } finally {
      await rebuild.close();
    }
  } finally {
    await live.close();
  }
}
