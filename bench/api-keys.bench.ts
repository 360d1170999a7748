// Signed Binance order entry (`POST /api/v3/order` with an API key: form body, HMAC-SHA256 check,
// replay guard, Binance reply) against native `POST /api/v1/orders` with a session, on one
// in-process exchange, in alternating rounds so both see the same machine load; reports orders/s of
// each and their ratio. IOC buys into an empty book: every order is journaled and expires, nothing
// rests. Usage: node dist/bench/api-keys.bench.js [--orders N] [--concurrency C] [--rounds R]
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { loadConfig } from '../src/config.js';
import { startExchange } from '../src/main.js';

function argument(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  return at < 0 ? fallback : Number(process.argv[at + 1]);
}

const orders = argument('orders', 4_000);
const concurrency = argument('concurrency', 16);
const rounds = argument('rounds', 3);

async function json(url: string, init: RequestInit): Promise<any> {
  const response = await fetch(url, init);
  const body = await response.json();
  if (!response.ok) throw new Error(`${init.method} ${url}: ${response.status} ${JSON.stringify(body)}`);
  return body;
}

async function run(count: number, send: (index: number) => Promise<void>): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) await send(next++);
    }),
  );
  return (count * 1000) / (performance.now() - started);
}

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'hoga-bench-apikeys-'));
  const config = loadConfig(
    { host: '127.0.0.1', port: '0', dataDir, logLevel: 'silent', fsync: 'batch' },
    { HOGA_ADMIN_USER: 'admin', HOGA_ADMIN_PASSWORD: 'admin-password-1', HOGA_SCRYPT_COST_LOG2: '10' },
  );
  config.gateway.logRequests = false;
  // The bench measures the request path, not the limits: lift them.
  config.gateway.limits.ordersPerUser = { ratePerSecond: 1e9, burst: 1e9, bucketsMax: 1_000 };
  config.gateway.limits.requestsPerIp = { ratePerSecond: 1e9, burst: 1e9, bucketsMax: 1_000 };
  config.gateway.abnormal.ordersPerWindowFloor = 1e9;
  config.gateway.abnormal.rejectsPerWindowFloor = 1e9;
  const exchange = await startExchange(config, { logger: pino({ level: 'silent' }) });
  const url = exchange.url;
  try {
    const post = (path: string, body: unknown, token?: string) =>
      json(`${url}${path}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
        body: JSON.stringify(body),
      });
    const admin = (await post('/api/v1/auth/login', { username: 'admin', password: 'admin-password-1' }))
      .token;
    await post(
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
    const { userId } = await post('/api/v1/auth/register', {
      username: 'bencher',
      password: 'bencher-password',
    });
    await post('/api/v1/admin/deposits', { userId, asset: 'USD', amount: '100000000' }, admin);
    const token = (await post('/api/v1/auth/login', { username: 'bencher', password: 'bencher-password' }))
      .token;
    const key = await post('/api/v1/api-keys', { label: 'bench', permissions: ['read', 'trade'] }, token);

    const native = () =>
      run(orders, async () => {
        await post(
          '/api/v1/orders',
          { symbol: 'BTC-USD', side: 'buy', type: 'limit', tif: 'IOC', price: '1', qty: '0.001' },
          token,
        );
      });
    const signed = () =>
      run(orders, async (index) => {
        const text = `symbol=BTCUSD&side=BUY&type=LIMIT&timeInForce=IOC&price=1&quantity=0.001&newOrderRespType=RESULT&timestamp=${Date.now()}&n=${index}`;
        const signature = createHmac('sha256', key.secret).update(text).digest('hex');
        await json(`${url}/api/v3/order`, {
          method: 'POST',
          headers: { 'x-mbx-apikey': key.keyId, 'content-type': 'application/x-www-form-urlencoded' },
          body: `${text}&signature=${signature}`,
        });
      });
    await native();
    await signed();
    const results: Array<{ round: number; nativePerSecond: number; signedPerSecond: number; ratio: number }> =
      [];
    for (let round = 1; round <= rounds; round += 1) {
      const nativePerSecond = await native();
      const signedPerSecond = await signed();
      results.push({
        round,
        nativePerSecond: Math.round(nativePerSecond),
        signedPerSecond: Math.round(signedPerSecond),
        ratio: Math.round((signedPerSecond / nativePerSecond) * 100) / 100,
      });
      process.stdout.write(`${JSON.stringify(results.at(-1))}\n`);
    }
    const median = [...results].sort((left, right) => left.ratio - right.ratio)[
      Math.floor(results.length / 2)
    ];
    process.stdout.write(`${JSON.stringify({ orders, concurrency, rounds, medianRatio: median.ratio })}\n`);
  } finally {
    await exchange.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();
