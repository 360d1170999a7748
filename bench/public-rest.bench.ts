// Public market-data REST: requests per second of the read routes (Hoga's /api/v1/market and the
// Binance-compatible /api/v3) against `hoga start` in a child process, with a book of `--levels`
// bids, `--clients` keep-alive clients in a closed loop. Every route takes turns with a baseline
// (`GET /api/v1/symbols`, a small JSON reply from memory) in `--rounds` slices, so the loaded
// machine's changes hit both alike; the figure to read is each route's ratio to the baseline.
//
//   npm run build && node dist/bench/public-rest.bench.js [--clients N] [--seconds N] [--rounds N] [--levels N]
import http from 'node:http';
import { benchSymbol, httpSender } from './gateway/clients.js';
import { setUpExchange, startExchange } from './gateway/exchange.js';
import { parseBenchOptions } from './lib/args.js';
import { formatNumber } from './lib/report.js';

const options = parseBenchOptions('public-rest', {
  clients: { kind: 'integer', default: 16, minimum: 1, description: 'concurrent keep-alive clients' },
  seconds: { kind: 'integer', default: 2, minimum: 1, description: 'seconds per route per round' },
  rounds: { kind: 'integer', default: 3, minimum: 1, description: 'alternating slices per route' },
  levels: { kind: 'integer', default: 200, minimum: 1, description: 'bid levels in the book' },
});

const baseline = '/api/v1/symbols';
const binanceSymbol = benchSymbol.replace('-', '');
const routes = [
  `/api/v1/market/depth?symbol=${benchSymbol}&limit=100`,
  `/api/v3/depth?symbol=${binanceSymbol}&limit=100`,
  `/api/v1/market/ticker?symbol=${benchSymbol}`,
  `/api/v3/ticker/24hr?symbol=${binanceSymbol}`,
  `/api/v1/market/trades?symbol=${benchSymbol}`,
  `/api/v3/klines?symbol=${binanceSymbol}&interval=1m&limit=100`,
  '/api/v3/exchangeInfo',
];

/** Requests answered with 200 by `clients` closed loops on `path` during `seconds`. */
async function slice(port: number, path: string, clients: number, seconds: number): Promise<number> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: clients });
  const endAt = performance.now() + seconds * 1_000;
  let answered = 0;
  let failed = 0;
  const get = () =>
    new Promise<void>((resolve, reject) => {
      const request = http.get({ host: '127.0.0.1', port, path, agent }, (response) => {
        response.resume();
        response.on('end', () => {
          if (response.statusCode === 200) answered += 1;
          else failed += 1;
          resolve();
        });
      });
      request.on('error', reject);
    });
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (performance.now() < endAt) await get();
    }),
  );
  agent.destroy();
  if (failed > 0) throw new Error(`${path}: ${failed} replies were not 200`);
  return answered / seconds;
}

const exchange = await startExchange([]);
try {
  const [token] = await setUpExchange(exchange.port, 1);
  const { send, agent } = httpSender(exchange.port, token);
  for (let level = 0; level < options.levels; level += 1) {
    const price = (100 + level * 0.01).toFixed(2);
    const reply = await send({
      method: 'POST',
      path: '/api/v1/orders',
      body: { symbol: benchSymbol, side: 'buy', type: 'limit', price, qty: '0.001' },
    });
    if (reply.httpStatus !== 200) throw new Error(`seeding the book failed: ${JSON.stringify(reply)}`);
  }
  agent.destroy();
  const totals = new Map<string, { route: number; baseline: number }>();
  for (let round = 0; round < options.rounds; round += 1) {
    for (const route of routes) {
      const base = await slice(exchange.port, baseline, options.clients, options.seconds);
      const measured = await slice(exchange.port, route, options.clients, options.seconds);
      const total = totals.get(route) ?? { route: 0, baseline: 0 };
      total.route += measured;
      total.baseline += base;
      totals.set(route, total);
    }
  }
  process.stdout.write(
    `public REST, ${options.clients} clients, ${options.levels} bid levels, ${options.rounds} x ${options.seconds} s per route\n`,
  );
  for (const [route, total] of totals) {
    const perSecond = total.route / options.rounds;
    const ratio = total.route / total.baseline;
    process.stdout.write(
      `  ${route.padEnd(64)} ${formatNumber(perSecond).padStart(7)} req/s  ${ratio.toFixed(2)} x baseline (${formatNumber(total.baseline / options.rounds)} req/s)\n`,
    );
  }
} finally {
  await exchange.stop();
}
