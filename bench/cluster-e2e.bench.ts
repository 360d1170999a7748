// End-to-end cost of the cluster (docs/CLUSTER.md, docs/BENCHMARKS.md): a whole cluster on
// loopback started by the `hoga cluster up` code (3 NATS nodes, R3 streams, Redis, 2 engines,
// projector, 2 gateways), paced open-loop order sends over HTTP (schedule-timed, so a stall is
// charged to every order that should have been sent meanwhile: no coordinated omission), first
// through 1 gateway then through 2. Reports orders/s, ack latency p50/p99/p99.9 and CPU µs per
// order of every process (/proc/<pid>/stat utime+stime before/after), then the catch-up rate of a
// fresh engine replica (empty data dir) over the filled command stream.
//
//   npm run build && node dist/bench/cluster-e2e.bench.js [--rate N] [--seconds N] [--users N] [--port-offset N]
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { pino } from 'pino';
import { EngineReplica } from '../src/cluster/engine-replica.js';
import { clusterLayout, gatewayUrls, LocalCluster, natsUrls } from '../src/cluster/local-cluster.js';
import { connectCluster } from '../src/cluster/nats.js';
import { streamNames } from '../src/cluster/streams.js';
import { Api } from '../test/gateway/support/exchange.js';
import { temporaryDirectory } from '../test/journal/helpers.js';
import { parseBenchOptions } from './lib/args.js';
import { LatencyHistogram } from './lib/histogram.js';
import { OpenLoopSchedule, realScheduleClock, runOpenLoop } from './lib/open-loop.js';
import { nowNs } from './lib/timer.js';

const options = parseBenchOptions('cluster-e2e', {
  rate: { kind: 'integer', default: 2_000, minimum: 1, description: 'orders per second offered' },
  seconds: { kind: 'integer', default: 10, minimum: 1, description: 'seconds of load per phase' },
  users: { kind: 'integer', default: 100, minimum: 2, description: 'users the orders spread over' },
  'in-flight': { kind: 'integer', default: 1_000, minimum: 1, description: 'outstanding orders at most' },
  'port-offset': {
    kind: 'integer',
    default: 700,
    minimum: 0,
    description: 'added to the default cluster ports',
  },
});

const clockTicks = 100; // USER_HZ: /proc/<pid>/stat counts CPU time in 1/100 s on Linux.

function cpuSeconds(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / clockTicks; // utime, stime
  } catch {
    return Number.NaN;
  }
}

const out = (line: string) => process.stdout.write(`${line}\n`);
const directory = temporaryDirectory('bench-cluster');
const layout = clusterLayout({
  dir: directory.path,
  portOffset: options['port-offset'],
  dbSchema: `bench_${randomBytes(4).toString('hex')}`,
  roleEnvironment: {
    HOGA_SCRYPT_COST_LOG2: '10',
    HOGA_LOG_LEVEL: 'warn',
    // Every request of the bench comes from 127.0.0.1: the per-IP buckets would measure themselves.
    HOGA_LOGINS_PER_IP_PER_SECOND: '100000',
    HOGA_LOGINS_PER_IP_BURST: '100000',
    HOGA_REQUESTS_PER_IP_PER_SECOND: '1000000',
    HOGA_REQUESTS_PER_IP_BURST: '1000000',
    HOGA_CONNECTIONS_PER_IP_MAX: '5000',
  },
});
out(`cluster in ${layout.dir} (database ${layout.databaseUrl}, schema ${layout.dbSchema})`);
const cluster = await LocalCluster.up(layout, (line) => out(`  ${line}`)).catch((error: unknown) => {
  directory.remove();
  throw error;
});
try {
  const apis = gatewayUrls(layout).map((url) => new Api(url));
  const admin = await apis[0].login(layout.adminUser, layout.adminPassword);
  await apis[0].expect(
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
      makerFeeBps: 10,
      takerFeeBps: 20,
    },
    admin,
  );
  const tokens: string[] = [];
  for (let user = 0; user < options.users; user++) {
    const name = `bench${user}`;
    const id = await apis[0].register(name);
    await apis[0].deposit(admin, id, 'BTC', '1000');
    await apis[0].deposit(admin, id, 'USD', '1000000');
    tokens.push(await apis[0].login(name));
  }
  out(`${options.users} users ready; offered ${options.rate} orders/s for ${options.seconds} s per phase`);
  let sent = 0;
  for (const gateways of [1, 2]) {
    const before = cluster.state.components.map((component) => cpuSeconds(component.pid));
    const selfBefore = process.cpuUsage();
    const histogram = new LatencyHistogram();
    let failed = 0;
    const failures = new Map<string, number>();
    const started = nowNs();
    const schedule = new OpenLoopSchedule(options.rate, started, options.seconds * 1e9);
    await runOpenLoop({
      schedule,
      clock: realScheduleClock,
      inFlightMax: options['in-flight'],
      send: async (slot) => {
        const user = slot % options.users;
        const side = Math.floor(slot / options.users) % 2 === 0 ? 'buy' : 'sell';
        const n = sent++;
        const reply = await apis[slot % gateways]
          .call(
            'POST',
            '/api/v1/orders',
            {
              symbol: 'BTC-USD',
              side,
              type: 'limit',
              price: String(100 + (n % 5)),
              qty: '0.01',
              clientOrderId: `b${n}`,
            },
            tokens[user],
          )
          .catch(() => undefined);
        const ok = reply !== undefined && reply.status < 300;
        if (!ok) {
          const reason =
            reply === undefined ? 'connection error' : `${reply.status} ${reply.body?.code ?? ''}`;
          failures.set(reason, (failures.get(reason) ?? 0) + 1);
        }
        return ok;
      },
      record: (latencyNs, ok) => {
        if (ok) histogram.recordNs(latencyNs);
        else failed++;
      },
    });
    const elapsed = (nowNs() - started) / 1e9;
    const after = cluster.state.components.map((component) => cpuSeconds(component.pid));
    const self = process.cpuUsage(selfBefore);
    const done = histogram.count;
    const summary = histogram.summary();
    out(
      `\n${gateways} gateway(s): ${done} acked, ${failed} failed in ${elapsed.toFixed(1)} s = ` +
        `${Math.round(done / elapsed)} orders/s; ack latency p50 ${(summary.p50Us / 1000).toFixed(1)} ms, ` +
        `p99 ${(summary.p99Us / 1000).toFixed(1)} ms, p99.9 ${(summary.p999Us / 1000).toFixed(1)} ms`,
    );
    if (failures.size > 0)
      out(`  failures: ${[...failures].map(([reason, count]) => `${reason} ×${count}`).join(', ')}`);
    out('  CPU µs per acked order:');
    let total = 0;
    cluster.state.components.forEach((component, index) => {
      const perOrder = ((after[index] - before[index]) * 1e6) / Math.max(1, done);
      total += perOrder;
      out(`    ${component.name.padEnd(10)} ${Math.round(perOrder)}`);
    });
    const client = ((self.user + self.system) / Math.max(1, done)) | 0;
    out(`    ${'all roles'.padEnd(10)} ${Math.round(total)}  (+ load generator ${client})`);
  }

  // Catch-up: a fresh replica (empty data dir) replays the whole command stream.
  const connection = await connectCluster(natsUrls(layout), 'bench-catchup');
  const names = streamNames(layout.natsPrefix);
  const lastSeq = (await connection.jsm.streams.info(names.cmdStream)).state.last_seq;
  const fresh = temporaryDirectory('bench-catchup');
  const cpuBefore = process.cpuUsage();
  const started = nowNs();
  const replica = await EngineReplica.start({
    ...connection,
    names,
    dataDir: fresh.path,
    replicaName: 'catchup',
    hashEveryCommands: 1_000,
    snapshotEveryCommands: 0,
    heartbeatMs: 1_000,
    logger: pino({ level: 'warn' }),
  });
  while (replica.lastSeq < lastSeq) await new Promise((wake) => setTimeout(wake, 5));
  const seconds = (nowNs() - started) / 1e9;
  const cpu = process.cpuUsage(cpuBefore);
  out(
    `\ncatch-up: a fresh replica applied ${lastSeq} commands in ${seconds.toFixed(2)} s = ` +
      `${Math.round(lastSeq / seconds)} commands/s (${Math.round((cpu.user + cpu.system) / lastSeq)} µs CPU each, verify included)`,
  );
  await replica.close();
  await connection.close();
  fresh.remove();
} finally {
  await cluster.down(() => {}, true);
  directory.remove();
  const client = new pg.Client({ connectionString: layout.databaseUrl });
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS ${layout.dbSchema} CASCADE`);
  await client.end();
}
process.exit(0);
