// Per-order cost of the gateway's admission checks (suspension, per-user order bucket, abnormal-
// traffic count: TradingService.admit) with the in-process adapters against the Redis adapters of
// cluster mode. The Redis is a redis-server of the bench's own on a free port (no persistence), so
// its `INFO cpu` counts only this bench. Reported per order: wall time and gateway CPU (process
// CPU time) for both, Redis CPU for Redis; Redis is measured one order at a time (latency: one
// round trip, one script) and with `--in-flight` orders outstanding (throughput, as many
// connections' worth of requests would be); and the same checks as three separate commands (suspension, bucket,
// count: two round trips) to show what the one script saves. Modes take turns in rounds so load
// from other processes falls on all.
//
//   npm run build && node dist/bench/redis-limits.bench.js [--orders N] [--rounds N] [--in-flight N] [--json]
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { pino } from 'pino';
import { defaultRedisSettings } from '../src/cluster/redis-config.js';
import { openRedisServices, type RedisServices } from '../src/cluster/redis-services.js';
import { defaultGatewayConfig } from '../src/gateway/config.js';
import { composedAdmission, inProcessServices, type SharedServices } from '../src/gateway/shared-services.js';
import { TradingService } from '../src/gateway/trading.js';
import { parseBenchOptions } from './lib/args.js';
import { BenchReporter } from './lib/report.js';
import { nowNs } from './lib/timer.js';

const options = parseBenchOptions('redis-limits', {
  orders: { kind: 'integer', default: 20_000, minimum: 1, description: 'orders per mode and round' },
  rounds: { kind: 'integer', default: 3, minimum: 1, description: 'rounds (modes take turns in each)' },
  'in-flight': {
    kind: 'integer',
    default: 64,
    minimum: 1,
    description: 'outstanding orders, pipelined mode',
  },
  users: {
    kind: 'integer',
    default: 10_000,
    minimum: 1,
    description: 'distinct users the orders spread over',
  },
  json: { kind: 'flag', description: 'print one machine-readable JSON line on stdout' },
});

const reporter = new BenchReporter(options.json);

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  server.close();
  await once(server, 'close');
  return port;
}

async function startRedis(port: number): Promise<ChildProcess> {
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  let output = '';
  await new Promise<void>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`redis-server exited with ${code}`)));
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Ready to accept connections')) resolve();
    });
  });
  child.removeAllListeners('exit');
  return child;
}

/** Limits far above the load: every order is admitted, so each one does the full work. */
function tradingOver(shared: SharedServices, fused = true): TradingService {
  const config = defaultGatewayConfig();
  const unlimited = { ratePerSecond: 1e9, burst: 1e9, bucketsMax: options.users * 2 };
  const abnormal = { ...config.abnormal, ordersPerWindowFloor: 1e9, usersTrackedMax: options.users * 2 };
  const abnormalTraffic = shared.abnormalTraffic(abnormal, Date.now);
  const orderBuckets = shared.rateLimiter('orders', unlimited, Date.now);
  return new TradingService({
    sequencer: undefined as never,
    markets: undefined as never,
    idempotency: undefined as never,
    abnormal: abnormalTraffic,
    orderBuckets,
    admission: fused
      ? shared.orderAdmission(orderBuckets, abnormalTraffic)
      : composedAdmission(orderBuckets, abnormalTraffic),
    observeEngineSeconds: () => {},
    balanceOf: () => ({ available: 0 }),
  });
}

async function redisCpuSeconds(services: RedisServices): Promise<number> {
  const info = await services.redis.info('cpu');
  return readField(info, 'used_cpu_sys') + readField(info, 'used_cpu_user');
}

function readField(info: string, name: string): number {
  const match = new RegExp(`^${name}:([0-9.]+)`, 'm').exec(info);
  return match === null ? 0 : Number(match[1]);
}

interface Sample {
  wallUs: number;
  gatewayCpuUs: number;
  redisCpuUs?: number;
}

async function measure(
  orders: number,
  run: (count: number) => Promise<void> | void,
  redis?: RedisServices,
): Promise<Sample> {
  const redisBefore = redis === undefined ? 0 : await redisCpuSeconds(redis);
  const cpuBefore = process.cpuUsage();
  const startNs = nowNs();
  await run(orders);
  const wallNs = nowNs() - startNs;
  const cpu = process.cpuUsage(cpuBefore);
  const redisAfter = redis === undefined ? 0 : await redisCpuSeconds(redis);
  return {
    wallUs: wallNs / 1e3 / orders,
    gatewayCpuUs: (cpu.user + cpu.system) / orders,
    redisCpuUs: redis === undefined ? undefined : ((redisAfter - redisBefore) * 1e6) / orders,
  };
}

let nextUser = 0;
function user(): number {
  nextUser = (nextUser + 1) % options.users;
  return nextUser + 1;
}

function inProcessRun(trading: TradingService) {
  return (count: number) => {
    for (let index = 0; index < count; index += 1) {
      if (trading.admit(user()) !== undefined) throw new Error('the in-process admission answered later');
    }
  };
}

function sequentialRun(trading: TradingService) {
  return async (count: number) => {
    for (let index = 0; index < count; index += 1) await trading.admit(user());
  };
}

function pipelinedRun(trading: TradingService, inFlight: number) {
  return async (count: number) => {
    let issued = 0;
    const lane = async () => {
      while (issued < count) {
        issued += 1;
        await trading.admit(user());
      }
    };
    await Promise.all(Array.from({ length: Math.min(inFlight, count) }, lane));
  };
}

async function main(): Promise<void> {
  const port = await freePort();
  let redisServer: ChildProcess;
  try {
    redisServer = await startRedis(port);
  } catch (error) {
    reporter.line(`skipped: cannot start redis-server (${(error as Error).message})`);
    return;
  }
  const redis = await openRedisServices(
    { ...defaultRedisSettings, url: `redis://127.0.0.1:${port}`, prefix: 'bench:' },
    pino({ level: 'silent' }),
  );
  try {
    const local = tradingOver(inProcessServices());
    const shared = tradingOver(redis);
    const threeCommands = tradingOver(redis, false);
    const modes: Array<{
      name: string;
      run: (count: number) => Promise<void> | void;
      redis?: RedisServices;
    }> = [
      { name: 'in-process', run: inProcessRun(local) },
      { name: 'redis, one at a time', run: sequentialRun(shared), redis },
      {
        name: `redis, ${options['in-flight']} in flight`,
        run: pipelinedRun(shared, options['in-flight']),
        redis,
      },
      { name: 'redis 3 commands, one at a time', run: sequentialRun(threeCommands), redis },
      {
        name: `redis 3 commands, ${options['in-flight']} in flight`,
        run: pipelinedRun(threeCommands, options['in-flight']),
        redis,
      },
    ];
    // Warm-up: JIT, script cache (EVALSHA after the first EVAL), bucket keys.
    for (const mode of modes) await mode.run(Math.min(2_000, options.orders));
    const samples = new Map<string, Sample[]>(modes.map((mode) => [mode.name, []]));
    for (let round = 0; round < options.rounds; round += 1) {
      for (const mode of modes)
        samples.get(mode.name)?.push(await measure(options.orders, mode.run, mode.redis));
    }
    const median = (values: number[]) =>
      [...values].sort((left, right) => left - right)[Math.floor(values.length / 2)];
    const baseline = median((samples.get('in-process') ?? []).map((sample) => sample.gatewayCpuUs));
    const rows = modes.map((mode) => {
      const taken = samples.get(mode.name) ?? [];
      const gatewayCpuUs = median(taken.map((sample) => sample.gatewayCpuUs));
      return {
        mode: mode.name,
        'wall µs/order': median(taken.map((sample) => sample.wallUs)),
        'gateway CPU µs/order': gatewayCpuUs,
        'gateway CPU × in-process': gatewayCpuUs / baseline,
        'Redis CPU µs/order':
          mode.redis === undefined ? '-' : median(taken.map((sample) => sample.redisCpuUs ?? 0)),
      };
    });
    reporter.line(
      `admission checks per order (median of ${options.rounds} rounds of ${options.orders} orders, ${options.users} users)`,
    );
    reporter.table(rows);
    reporter.result({ bench: 'redis-limits', options, rows });
  } finally {
    await redis.close();
    redisServer.kill('SIGKILL');
  }
}

await main();
