// In --demo the bots' reference quotes and the market's trades are different series: the trade
// candle channel carries only candles built from trades (before, it alternated with candles of
// the reference quotes, and the chart's last price flipped between the two), and the quote
// candles have their own channel.
import assert from 'node:assert/strict';
import { after, it } from 'node:test';
import { startDemo } from '../../src/demo/demo.js';
import { startTestExchange, type TestExchange, TestSocket } from './support/exchange.js';

const symbol = 'BTC-USDT';
let test: TestExchange | undefined;
after(() => test?.close());

interface WireCandle {
  source: string;
  close: number;
  openMs: number;
}

it('trade candles and reference-quote candles of a demo market never share a channel', async () => {
  test = await startTestExchange();
  const socket = await TestSocket.open(test.exchange.url);
  try {
    const demo = await startDemo(test.exchange, {
      stepMs: 20,
      stepsMax: 40,
      commandsPerSecondMax: 10_000,
      takerChancePercent: 100,
      quotes: test.exchange.quotes,
    });
    for (const ch of [`trades.${symbol}`, `candles.${symbol}.1m`, `quotecandles.${symbol}.1m`]) {
      let ack = await socket.request('subscribe', { ch });
      // The quote symbol exists once the first reference quote is drained.
      while (ack.ok !== true) {
        await test.exchange.quotes.whenDrained();
        ack = await socket.request('subscribe', { ch });
      }
    }
    await demo.done;
    const data = (ch: string) => socket.pushes.filter((message) => message.ch === ch && message.data);
    const tradePrices = new Set(
      data(`trades.${symbol}`)
        .flatMap((message) => [message.data].flat())
        .map((trade) => trade.price),
    );
    const tradeCandles = data(`candles.${symbol}.1m`).map((message) => message.data as WireCandle);
    const quoteCandles = data(`quotecandles.${symbol}.1m`).map((message) => message.data as WireCandle);
    assert.ok(
      tradePrices.size > 0 && tradeCandles.length > 0 && quoteCandles.length > 0,
      JSON.stringify([tradePrices.size, tradeCandles.length, quoteCandles.length, socket.pushes.length]),
    );
    assert.ok(tradeCandles.every((candle) => candle.source === 'trades' && tradePrices.has(candle.close)));
    assert.ok(quoteCandles.every((candle) => candle.source === 'quotes'));
  } finally {
    socket.close();
  }
});
