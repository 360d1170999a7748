// The MarketDataBus contract, run against every adapter: the in-process bus and NATS (a real
// server at 127.0.0.1:4222; missing, it fails under CI and is skipped loudly otherwise).
import assert from 'node:assert/strict';
import { connect as connectTcp } from 'node:net';
import { after, describe, test } from 'node:test';
import {
  type ChannelPublisher,
  InProcessBus,
  type MarketDataBus,
  NatsMarketDataBus,
} from '../../src/marketdata/index.js';

const natsUrl = '127.0.0.1:4222';

function natsReachable(): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connectTcp({ host: '127.0.0.1', port: 4222 });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** A listener that records deliveries and lets the test await a count. */
class RecordingListener implements ChannelPublisher {
  readonly received: Array<[string, unknown]> = [];
  private waiting: { count: number; resolve: () => void } | undefined;

  constructor(private readonly watched: (channel: string) => boolean = () => true) {}

  publish(channel: string, data: unknown): void {
    this.received.push([channel, data]);
    if (this.waiting !== undefined && this.received.length >= this.waiting.count) this.waiting.resolve();
  }

  isWatched(channel: string): boolean {
    return this.watched(channel);
  }

  until(count: number): Promise<void> {
    if (this.received.length >= count) return Promise.resolve();
    return new Promise((resolve) => {
      this.waiting = { count, resolve };
    });
  }
}

interface Adapter {
  name: string;
  open(): Promise<MarketDataBus & { flush?: () => Promise<void>; close?: () => Promise<void> }>;
}

const natsUp = await natsReachable();
if (!natsUp && process.env.CI === 'true')
  throw new Error(`NATS is not reachable at ${natsUrl} (required under CI)`);
if (!natsUp) process.stderr.write(`SKIPPING the NATS bus contract: no server at ${natsUrl}\n`);

let prefixCounter = 0;
const adapters: Adapter[] = [
  { name: 'InProcessBus', open: async () => new InProcessBus() },
  {
    name: 'NatsMarketDataBus',
    // A fresh subject prefix per test, so parallel runs never see each other's messages.
    open: () =>
      NatsMarketDataBus.connect({
        servers: natsUrl,
        subjectPrefix: `test.md.${process.pid}.${prefixCounter++}`,
      }),
  },
];

for (const adapter of adapters) {
  const skip = adapter.name === 'NatsMarketDataBus' && !natsUp;
  describe(`MarketDataBus contract: ${adapter.name}`, { skip }, () => {
    const opened: Array<{ close?: () => Promise<void> }> = [];
    after(async () => {
      for (const bus of opened) await bus.close?.();
    });

    test('delivers every message, in publish order per channel, to every listener', async () => {
      const bus = await adapter.open();
      opened.push(bus);
      const first = new RecordingListener();
      const second = new RecordingListener();
      bus.subscribe(first);
      bus.subscribe(second);
      await bus.flush?.();
      const channels = ['trades.BTC-USD', 'depth.BTC-USD', 'candles.ETH-USD.1m'];
      for (let index = 0; index < 600; index += 1) bus.publish(channels[index % 3], { index });
      await bus.flush?.();
      await Promise.all([first.until(600), second.until(600)]);
      for (const listener of [first, second]) {
        for (const channel of channels) {
          const indexes = listener.received
            .filter(([name]) => name === channel)
            .map(([, data]) => (data as { index: number }).index);
          assert.equal(indexes.length, 200);
          assert.deepEqual(
            indexes,
            [...indexes].sort((left, right) => left - right),
            `${channel} in order`,
          );
        }
      }
    });

    test('only channels a listener watches reach it, and removed listeners get nothing', async () => {
      const bus = await adapter.open();
      opened.push(bus);
      const tickersOnly = new RecordingListener((channel) => channel.startsWith('ticker.'));
      const everything = new RecordingListener();
      const removed = new RecordingListener();
      bus.subscribe(tickersOnly);
      bus.subscribe(everything);
      const remove = bus.subscribe(removed);
      remove();
      await bus.flush?.();
      bus.publish('trades.X', { n: 1 });
      bus.publish('ticker.X', { n: 2 });
      await bus.flush?.();
      await everything.until(2);
      assert.deepEqual(tickersOnly.received, [['ticker.X', { n: 2 }]]);
      assert.deepEqual(removed.received, []);
    });
  });
}
