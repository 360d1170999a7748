// Quote feeds: the seeded simulator, NDJSON/CSV file replay with a speed factor, and the TCP
// line client, each delivering into a real QuoteIngest (with backpressure when its ring is full).
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
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
    const feed = new TcpQuoteFeed({ host: '127.0.0.1', port: (server.address() as AddressInfo).port });
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
