// Quote feeds: the seeded simulator, NDJSON/CSV file replay with a speed factor, and the TCP
// line client, each delivering into a real QuoteIngest (with backpressure when its ring is full).
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { decimalToMinor, parseQuoteLine } from '../../src/marketdata/feeds/quote-line.js';
import { reconnectDelayMs } from '../../src/marketdata/feeds/tcp.js';
import {
  type ChannelPublisher,
  FileReplayFeed,
  formatQuoteCsv,
  formatQuoteJson,
  type Quote,
  QuoteIngest,
  SimulatedQuoteFeed,
  TcpQuoteFeed,
} from '../../src/marketdata/index.js';

const silent: ChannelPublisher = { publish: () => {}, isWatched: () => false };
const directory = await mkdtemp(join(tmpdir(), 'hoga-feeds-'));
after(() => rm(directory, { recursive: true, force: true }));

function recorded(count: number, spacingMs: number): Quote[] {
  const feed = new SimulatedQuoteFeed({
    seed: 99,
    symbolCount: 4,
    quotesPerSecond: 1_000 / spacingMs,
    startNs: 1_772_800_000_000_000_000n,
  });
  return Array.from({ length: count }, () => feed.next());
}

test('the simulated feed is a deterministic function of its seed', async () => {
  const first = recorded(50, 1);
  assert.deepEqual(recorded(50, 1), first);
  assert.ok(first.every((quote) => Number.isSafeInteger(quote.price) && quote.price > 0));
  const ingest = new QuoteIngest({ publisher: silent });
  ingest.start();
  const stats = await new SimulatedQuoteFeed({
    seed: 1,
    symbolCount: 5,
    quotesPerSecond: 50_000,
    quotesMax: 300,
    tickMs: 1,
  }).run(ingest);
  ingest.stop();
  assert.equal(stats.delivered, 300);
  assert.equal(ingest.stats().accepted, 300);
});

test('file replay reads NDJSON and CSV, skips a header, counts malformed lines', async () => {
  const quotes = recorded(200, 1);
  const jsonPath = join(directory, 'quotes.ndjson');
  const csvPath = join(directory, 'quotes.csv');
  await writeFile(jsonPath, `${quotes.map(formatQuoteJson).join('\n')}\n{"broken"\n`);
  await writeFile(
    csvPath,
    `tsNs,symbol,country,timezone,price,size\n${quotes.map(formatQuoteCsv).join('\r\n')}\n1,2,3\n`,
  );
  for (const path of [jsonPath, csvPath]) {
    const ingest = new QuoteIngest({ publisher: silent, queueMax: 16 });
    ingest.start();
    const stats = await new FileReplayFeed({ path, speed: Number.POSITIVE_INFINITY }).run(ingest);
    ingest.stop();
    assert.equal(stats.delivered, 200, path);
    assert.equal(stats.malformed, 1, path);
    assert.ok(stats.waits > 0, 'a 16-slot ring made the replay wait');
    assert.equal(ingest.stats().accepted, 200);
  }
});

test('file replay paces by the quotes own timestamps divided by the speed factor', async () => {
  const path = join(directory, 'paced.ndjson');
  await writeFile(path, recorded(41, 10).map(formatQuoteJson).join('\n'));
  const ingest = new QuoteIngest({ publisher: silent });
  ingest.start();
  const startedMs = performance.now();
  await new FileReplayFeed({ path, speed: 2 }).run(ingest);
  const elapsedMs = performance.now() - startedMs;
  ingest.stop();
  assert.ok(elapsedMs >= 190, `400 ms of quotes at speed 2 took ${elapsedMs} ms`);
});

test('the TCP feed reads lines split across packets, and waits while the ring is full', async () => {
  const quotes = recorded(500, 1);
  const text = `${quotes.map(formatQuoteJson).join('\n')}\nnot a quote\n`;
  const server = createServer((socket) => {
    // Odd-sized writes split lines across chunks.
    for (let start = 0; start < text.length; start += 997) socket.write(text.slice(start, start + 997));
    socket.end();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  try {
    const ingest = new QuoteIngest({ publisher: silent, queueMax: 32 });
    ingest.start();
    const feed = new TcpQuoteFeed({
      host: '127.0.0.1',
      port: (server.address() as AddressInfo).port,
      reconnectAttemptsMax: 0,
    });
    const stats = await feed.run(ingest);
    ingest.stop();
    assert.equal(stats.delivered, 500);
    assert.equal(stats.malformed, 1);
    assert.ok(stats.waits > 0);
    assert.equal(ingest.stats().accepted, 500);
  } finally {
    server.close();
  }
});

test('decimal prices become minor units exactly; inexact ones are refused', () => {
  assert.equal(decimalToMinor('189.50', 2), 18_950);
  assert.equal(decimalToMinor('189.5', 2), 18_950);
  assert.equal(decimalToMinor('0.07', 2), 7);
  assert.equal(decimalToMinor('189.500', 2), 18_950, 'trailing zeros beyond the places are exact');
  assert.equal(decimalToMinor('0.29', 8), 29_000_000, 'no float: 0.29 * 1e8 would be 28999999.999999996');
  assert.equal(decimalToMinor('189.505', 2), undefined);
  assert.equal(decimalToMinor('-1.00', 2), undefined);
  assert.equal(decimalToMinor('99999999999999.99', 2), undefined, 'past 2^53 minor units');
  const base = { tsNs: 1n, symbol: 'AAPL', country: 'US', timezone: 'America/New_York', size: 100 };
  assert.deepEqual(parseQuoteLine('1,AAPL,US,America/New_York,189.50,100'), { ...base, price: 18_950 });
  assert.deepEqual(parseQuoteLine('1,AAPL,US,America/New_York,18950,100,T-1'), {
    ...base,
    price: 18_950,
    sourceId: 'T-1',
  });
  const json =
    '{"tsNs":"1","symbol":"AAPL","country":"US","timezone":"America/New_York","price":189.50,"size":100}';
  assert.deepEqual(parseQuoteLine(json), { ...base, price: 18_950 });
  assert.deepEqual(parseQuoteLine(json.replace('189.50', '"0.29"'), { priceDecimals: 4 }), {
    ...base,
    price: 2_900,
  });
  assert.equal(parseQuoteLine('1,AAPL,US,America/New_York,189.505,100'), 'BAD_PRICE');
  assert.equal(parseQuoteLine('1,AAPL,US,America/New_York,1e3,100'), 'BAD_PRICE');
});

test('reconnect delays double up to the cap, with jitter from the injected source', () => {
  const highest = (boundMs: number) => boundMs - 1;
  assert.deepEqual(
    [0, 1, 2, 3, 4, 40].map((attempt) => reconnectDelayMs(attempt, 100, 1_000, highest)),
    [100, 200, 400, 800, 1_000, 1_000],
  );
  assert.deepEqual(
    [0, 1, 2, 3, 4].map((attempt) => reconnectDelayMs(attempt, 100, 1_000, () => 0)),
    [50, 100, 200, 400, 500],
  );
});

test('the TCP feed reconnects after the server closes, and backs off while it is down', async () => {
  const quotes = recorded(40, 1);
  let connections = 0;
  const server = createServer((socket) => {
    connections += 1;
    // Each connection sends its half and closes, as a restarted upstream would.
    const part = connections === 1 ? quotes.slice(0, 20) : quotes.slice(20);
    socket.end(`${part.map(formatQuoteCsv).join('\n')}\n`);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const ingest = new QuoteIngest({ publisher: silent });
  ingest.start();
  const delays: number[] = [];
  const feed = new TcpQuoteFeed({
    host: '127.0.0.1',
    port: (server.address() as AddressInfo).port,
    reconnectDelayMs: 2,
    reconnectDelayMaxMs: 8,
    jitterMs: () => 0,
    onDisconnect: (_error, delayMs) => {
      delays.push(delayMs);
      // After the second connection the upstream goes away: the next attempts are refused.
      if (delays.length === 2) server.close();
      if (delays.length === 6) feed.stop();
    },
  });
  const stats = await feed.run(ingest);
  ingest.stop();
  assert.equal(stats.delivered, 40);
  assert.equal(ingest.stats().accepted, 40);
  assert.equal(connections, 2);
  assert.deepEqual(
    delays,
    [1, 1, 2, 4, 4, 4],
    'starts over after a good connection, then doubles to the cap',
  );
  assert.equal(stats.reconnects, 5);
});
