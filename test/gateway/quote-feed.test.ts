// External quote feeds in the running exchange (`--quote-feed`): a TCP feed's quotes reach
// `quotes.<sym>` subscribers over /ws, a simulated feed starts from its spec, and bad specs are
// refused at start-up with a clear message.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { createServer, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import { quoteFeedFromSpec } from '../../src/marketdata/feeds/from-spec.js';
import { formatQuoteCsv } from '../../src/marketdata/feeds/quote-line.js';
import { startTestExchange, TestSocket } from './support/exchange.js';

describe('quote feeds', () => {
  it('parses feed specs and names what is wrong', () => {
    assert.equal(quoteFeedFromSpec('simulated').ok, true);
    assert.equal(quoteFeedFromSpec('simulated:3:500:9').ok, true);
    assert.equal(quoteFeedFromSpec('file:/tmp/quotes.ndjson@10').ok, true);
    assert.equal(quoteFeedFromSpec('tcp:127.0.0.1:9000').ok, true);
    for (const bad of [
      '',
      'kafka:x',
      'simulated:0',
      'simulated:x',
      'file:',
      'file:a@0',
      'tcp:host',
      'tcp::1',
      'tcp:h:70000',
    ]) {
      const result = quoteFeedFromSpec(bad);
      assert.equal(result.ok, false, bad);
    }
  });

  it("a TCP feed's quotes stream on quotes.<sym> to WebSocket subscribers", async () => {
    const feeders = new Set<Socket>();
    const server = createServer((socket) => feeders.add(socket));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    const exchange = await startTestExchange((config) => {
      config.quoteFeed = `tcp:127.0.0.1:${port}`;
    });
    const socket = await TestSocket.open(exchange.api.url);
    try {
      const nowNs = BigInt(Date.now()) * 1_000_000n;
      const quote = { symbol: 'AAPL', country: 'US', timezone: 'America/New_York', price: 19_012, size: 3 };
      // The first quote makes the symbol known; subscribe, then send the one the test waits for.
      while (feeders.size === 0) await once(server, 'connection');
      const [feeder] = feeders;
      feeder.write(`${formatQuoteCsv({ ...quote, tsNs: nowNs })}\n`);
      let ack = await socket.request('subscribe', { ch: 'quotes.AAPL' });
      for (let attempt = 0; ack.ok !== true && attempt < 200; attempt++) {
        await new Promise((resolve) => setImmediate(resolve));
        ack = await socket.request('subscribe', { ch: 'quotes.AAPL' });
      }
      assert.equal(ack.ok, true, JSON.stringify(ack));
      feeder.write(`${formatQuoteCsv({ ...quote, price: 19_020, tsNs: nowNs + 1_000n })}\n`);
      const update = await socket.next(
        (message) => message.ch === 'quotes.AAPL' && !message.snapshot && message.data?.price === 19_020,
      );
      assert.equal(update.data.size, 3);
    } finally {
      socket.close();
      for (const feeder of feeders) feeder.destroy();
      server.close();
      await exchange.close();
    }
  });

  it('refuses a malformed feed setting at start-up', async () => {
    await assert.rejects(
      startTestExchange((config) => {
        config.quoteFeed = 'carrier-pigeon';
      }),
      /QUOTE_FEED_INVALID/,
    );
  });
});
