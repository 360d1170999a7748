// Market-data benchmarks (npm run bench:marketdata):
// 1. Quote ingest with candle aggregation: simulated quotes pushed into the ring and drained in
//    batches (as the 1 ms timer does), with keys, dedupe, 8 candle intervals, bus publication and
//    closed candles to the writer. Reported against the 7.5k quotes/s peak of the field report.
// 2. Fan-out to N real WebSocket subscribers: a `ws` server with the hub in this process, the
//    clients in a child process; delay from publish to receipt on the shared monotonic clock
//    (process.hrtime, CLOCK_MONOTONIC on Linux). Baseline in the same run: a bare loop of
//    socket.send over the same sockets, without the hub.
//
//   npm run bench:marketdata -- [--quotes N] [--symbols N] [--clients N] [--messages N] [--rate N]
import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { WebSocket, WebSocketServer } from 'ws';
import {
  CandleWriter,
  ChannelHub,
  type ChannelName,
  type ChannelSource,
  InProcessBus,
  MemoryCandleSink,
  type Quote,
  QuoteIngest,
  SimulatedQuoteFeed,
} from '../src/marketdata/index.js';
import { parseBenchOptions } from './lib/args.js';
import { LatencyHistogram } from './lib/histogram.js';

const peakQuotesPerSecond = 7_500;
const benchChannel = 'trades.BENCH';

interface LatencyReport {
  count: number;
  p50Us: number;
  p99Us: number;
  maxUs: number;
}

async function benchIngest(quoteCount: number, symbolCount: number): Promise<void> {
  const feed = new SimulatedQuoteFeed({ seed: 42, symbolCount, quotesPerSecond: 1_000_000 });
  const quotes: Quote[] = Array.from({ length: quoteCount }, () => feed.next());
  const directory = await mkdtemp(join(tmpdir(), 'hoga-bench-'));
  const writer = new CandleWriter({
    sink: new MemoryCandleSink(),
    spillPath: join(directory, 'spill.ndjson'),
  });
  await writer.start();
  const hub = new ChannelHub({ limits: { subscriptionsPerConnectionMax: 2 * symbolCount } });
  const bus = new InProcessBus();
  bus.subscribe(hub);
  const ingest = new QuoteIngest({ publisher: bus, closedCandles: writer });
  hub.addSource(ingest);
  // Warm-up: one quote per symbol makes the symbols known, then one client subscribes to every
  // symbol's quotes and 1m candles, so encoding and sending are part of the measured work.
  const warmUp = new SimulatedQuoteFeed({ seed: 7, symbolCount, quotesPerSecond: 1_000_000, startNs: 0n });
  for (let index = 0; index < symbolCount; index += 1) ingest.push(warmUp.next());
  ingest.drain();
  const subscriber = hub.connect({ send: () => {}, bufferedAmount: 0, close: () => {} });
  for (let index = 0; index < symbolCount; index += 1) {
    subscriber?.handle({ op: 'subscribe', id: index, ch: `quotes.SIM${index}` });
    subscriber?.handle({ op: 'subscribe', id: index, ch: `quotecandles.SIM${index}.1m` });
  }
  const batch = 1_000;
  const cpuBefore = process.cpuUsage();
  const startedNs = process.hrtime.bigint();
  for (let start = 0; start < quotes.length; start += batch) {
    const end = Math.min(quotes.length, start + batch);
    for (let index = start; index < end; index += 1) ingest.push(quotes[index]);
    ingest.drain();
  }
  const elapsedNs = Number(process.hrtime.bigint() - startedNs);
  const cpu = process.cpuUsage(cpuBefore);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  await writer.close();
  await rm(directory, { recursive: true, force: true });
  const quotesPerSecond = Math.round((quoteCount / elapsedNs) * 1e9);
  const stats = ingest.stats();
  console.log(
    JSON.stringify({
      bench: 'quote-ingest',
      quotes: quoteCount,
      symbols: symbolCount,
      accepted: stats.accepted - symbolCount,
      messagesPublished: hub.stats().published,
      batches: stats.batches,
      closedCandlesWritten: writer.stats().written,
      seconds: elapsedNs / 1e9,
      quotesPerSecond,
      ratioTo7500PerSecond: Number((quotesPerSecond / peakQuotesPerSecond).toFixed(1)),
      // The machine is shared: throughput per CPU-second of this process is the steadier figure.
      cpuSeconds,
      quotesPerCpuSecond: Math.round(quoteCount / cpuSeconds),
      targetMet: quotesPerSecond >= 100_000,
    }),
  );
}

/** The child: opens the clients, subscribes, and records the delay of every message by path. */
async function runClients(url: string, clientCount: number, expected: number): Promise<void> {
  const delays = { bare: new LatencyHistogram(), hub: new LatencyHistogram() };
  let received = 0;
  for (let index = 0; index < clientCount; index += 1) {
    const socket = new WebSocket(url);
    socket.on('message', (data) => {
      const text = String(data);
      const marker = text.indexOf('"t":"');
      if (marker < 0) return;
      const sentNs = BigInt(text.slice(marker + 5, text.indexOf('"', marker + 5)));
      (text.includes('"p":"hub"') ? delays.hub : delays.bare).recordNs(
        Number(process.hrtime.bigint() - sentNs),
      );
      received += 1;
      if (received === expected) process.send?.({ bare: delays.bare.summary(), hub: delays.hub.summary() });
    });
    socket.on('open', () => socket.send(JSON.stringify({ op: 'subscribe', id: index, ch: benchChannel })));
    // Opening thousands at once overflows the listen backlog; pace in small groups.
    if (index % 200 === 199) await sleep(20);
  }
  process.send?.({ opened: clientCount });
}

class BenchSource implements ChannelSource {
  has(channel: ChannelName): boolean {
    return channel.name === benchChannel;
  }
  snapshot(): unknown {
    return null;
  }
}

function nextMessage(child: ChildProcess): Promise<Record<string, unknown>> {
  return new Promise((resolve) =>
    child.once('message', (message) => resolve(message as Record<string, unknown>)),
  );
}

async function benchFanOut(clientCount: number, messageCount: number, ratePerSecond: number): Promise<void> {
  const hub = new ChannelHub({ limits: { connectionsMax: clientCount + 10 } });
  hub.addSource(new BenchSource());
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0, backlog: 4_096 });
  const sockets: WebSocket[] = [];
  let subscribed = 0;
  server.on('connection', (socket) => {
    sockets.push(socket);
    const connection = hub.connect(socket);
    socket.on('message', (data) => {
      connection?.handleText(String(data));
      subscribed += 1;
    });
    socket.on('close', () => connection?.close());
  });
  await once(server, 'listening');
  const url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const child = fork(fileURLToPath(import.meta.url), [
    childMode,
    url,
    String(clientCount),
    String(messageCount),
  ]);
  await nextMessage(child);
  while (subscribed < clientCount) await sleep(50);
  // Baseline and hub messages alternate in one run, so both meet the same load on a shared machine.
  const gapMs = 1_000 / ratePerSecond;
  const publishCalls = { bare: new LatencyHistogram(), hub: new LatencyHistogram() };
  const done = nextMessage(child);
  const startedNs = process.hrtime.bigint();
  for (let index = 0; index < messageCount; index += 1) {
    const viaHub = index % 2 === 1;
    const sendStartedNs = process.hrtime.bigint();
    const t = sendStartedNs.toString();
    if (viaHub) hub.publish(benchChannel, { t, p: 'hub' });
    else {
      const text = `{"ch":"${benchChannel}","seq":0,"data":{"t":"${t}","p":"bare"}}`;
      for (const socket of sockets) socket.send(text);
    }
    (viaHub ? publishCalls.hub : publishCalls.bare).recordNs(Number(process.hrtime.bigint() - sendStartedNs));
    await sleep(gapMs);
  }
  const delays = (await done) as unknown as Record<'bare' | 'hub', LatencyReport>;
  const seconds = Number(process.hrtime.bigint() - startedNs) / 1e9;
  for (const path of ['bare', 'hub'] as const) {
    console.log(
      JSON.stringify({
        bench: 'fan-out',
        path: path === 'bare' ? 'baseline: bare ws send loop' : 'hub.publish',
        clients: clientCount,
        messages: messageCount / 2,
        ratePerSecond,
        seconds,
        deliveries: delays[path].count,
        delayP50Us: delays[path].p50Us,
        delayP99Us: delays[path].p99Us,
        delayMaxUs: delays[path].maxUs,
        publishCallP50Us: publishCalls[path].percentileUs(50),
        publishCallP99Us: publishCalls[path].percentileUs(99),
      }),
    );
  }
  console.log(
    JSON.stringify({
      bench: 'fan-out',
      hubToBaselineDelayP50: Number((delays.hub.p50Us / delays.bare.p50Us).toFixed(2)),
      hubToBaselineDelayP99: Number((delays.hub.p99Us / delays.bare.p99Us).toFixed(2)),
    }),
  );
  child.kill();
  for (const socket of sockets) socket.terminate();
  server.close();
}

/** The first argument of the forked child that holds the fan-out's client sockets. */
const childMode = 'child';

async function main(): Promise<void> {
  if (process.argv[2] === childMode) {
    const [url, clients, messages] = process.argv.slice(3);
    await runClients(url, Number(clients), Number(clients) * Number(messages));
    return;
  }
  const options = parseBenchOptions('marketdata', {
    quotes: { kind: 'integer', default: 2_000_000, minimum: 1, description: 'simulated quotes ingested' },
    symbols: { kind: 'integer', default: 200, minimum: 1, description: 'symbols the quotes spread over' },
    clients: {
      kind: 'integer',
      default: 5_000,
      minimum: 0,
      description: 'WebSocket subscribers; 0 skips the fan-out',
    },
    messages: {
      kind: 'integer',
      default: 100,
      minimum: 2,
      description: 'messages published, alternating bare and hub',
    },
    rate: { kind: 'integer', default: 10, minimum: 1, description: 'messages published per second' },
  });
  console.log(JSON.stringify({ machine: '2 cores, shared', node: process.version }));
  await benchIngest(options.quotes, options.symbols);
  if (options.clients > 0) await benchFanOut(options.clients, options.messages, options.rate);
}

await main();
