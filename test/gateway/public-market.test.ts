// Public market data over REST: time, depth, recent trades, tickers, best bid/ask and the candle
// in progress, all without a session and all in the market's decimal units.
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { startTestExchange, type TestExchange, TestSocket } from './support/exchange.js';

let test: TestExchange;
let clockMs = Date.UTC(2026, 0, 5, 10, 0, 0);

before(async () => {
  test = await startTestExchange(undefined, { gatewayClock: () => clockMs });
  const admin = await test.api.adminToken();
  await test.api.createMarket(admin);
  await test.api.createMarket(admin, 'ETH-USD', 'ETH', 'USD');
  const maker = await test.api.register('maker');
  const taker = await test.api.register('taker');
  await test.api.deposit(admin, maker, 'BTC', '10');
  await test.api.deposit(admin, taker, 'USD', '100000');
  const makerToken = await test.api.login('maker');
  const takerToken = await test.api.login('taker');
  const place = (token: string, body: Record<string, unknown>) =>
    test.api.expect(200, 'POST', '/api/v1/orders', { symbol: 'BTC-USD', type: 'limit', ...body }, token);
  await place(makerToken, { side: 'sell', price: '101.5', qty: '0.5' });
  await place(makerToken, { side: 'sell', price: '102', qty: '1.25' });
  await place(takerToken, { side: 'buy', price: '99.99', qty: '0.003' });
  // Two trades at 101.5: 0.1 and 0.2.
  await place(takerToken, { side: 'buy', price: '101.5', qty: '0.1' });
  await place(takerToken, { side: 'buy', price: '101.5', qty: '0.2' });
});
after(() => test?.close());

it('GET /api/v1/time answers the gateway clock in ms', async () => {
  const body = await test.api.expect(200, 'GET', '/api/v1/time');
  assert.deepEqual(body, { serverTimeMs: clockMs });
  clockMs += 1_000;
  assert.equal((await test.api.expect(200, 'GET', '/api/v1/time')).serverTimeMs, clockMs);
});

it('depth lists decimal levels best first with the update id, bounded by limit', async () => {
  const body = await test.api.expect(200, 'GET', '/api/v1/market/depth?symbol=BTC-USD');
  assert.deepEqual(body.bids, [['99.99', '0.003']]);
  assert.deepEqual(body.asks, [
    ['101.50', '0.200'],
    ['102.00', '1.250'],
  ]);
  assert.ok(Number.isInteger(body.lastUpdateId) && body.lastUpdateId >= 5, String(body.lastUpdateId));
  const one = await test.api.expect(200, 'GET', '/api/v1/market/depth?symbol=BTC-USD&limit=1');
  assert.deepEqual(one.asks, [['101.50', '0.200']]);
  const empty = await test.api.expect(200, 'GET', '/api/v1/market/depth?symbol=ETH-USD');
  assert.deepEqual([empty.bids, empty.asks], [[], []]);
});

it('recent trades are oldest first with the taker side, and limit keeps the newest', async () => {
  const trades = await test.api.expect(200, 'GET', '/api/v1/market/trades?symbol=BTC-USD');
  assert.equal(trades.length, 2);
  assert.deepEqual(
    trades.map((trade: any) => [trade.price, trade.qty, trade.side]),
    [
      ['101.50', '0.100', 'buy'],
      ['101.50', '0.200', 'buy'],
    ],
  );
  assert.ok(trades[0].tradeId < trades[1].tradeId);
  assert.ok(Number.isInteger(trades[0].atMs) && trades[0].atMs > 0);
  const newest = await test.api.expect(200, 'GET', '/api/v1/market/trades?symbol=BTC-USD&limit=1');
  assert.deepEqual(newest, [trades[1]]);
});

it('the ticker covers the last 24 hours, one market or all of them', async () => {
  const ticker = await test.api.expect(200, 'GET', '/api/v1/market/ticker?symbol=BTC-USD');
  // The ticker window is read on the gateway clock: set it to the trades' time.
  assert.equal(ticker.symbol, 'BTC-USD');
  const all = await test.api.expect(200, 'GET', '/api/v1/market/ticker');
  assert.deepEqual(
    all.map((entry: any) => entry.symbol),
    ['BTC-USD', 'ETH-USD'],
  );
  assert.deepEqual(all[1], {
    symbol: 'ETH-USD',
    open: '0.00',
    high: '0.00',
    low: '0.00',
    last: '0.00',
    volume: '0.000',
    quoteVolume: '0.000000',
    change: '0.00',
    changePercent: '0.00',
    trades: 0,
    lastTradeMs: 0,
  });
  const trades = await test.api.expect(200, 'GET', '/api/v1/market/trades?symbol=BTC-USD');
  clockMs = trades[1].atMs;
  const live = await test.api.expect(200, 'GET', '/api/v1/market/ticker?symbol=BTC-USD');
  assert.deepEqual(live, {
    symbol: 'BTC-USD',
    open: '101.50',
    high: '101.50',
    low: '101.50',
    last: '101.50',
    volume: '0.300',
    quoteVolume: '30.450000',
    change: '0.00',
    changePercent: '0.00',
    trades: 2,
    lastTradeMs: trades[1].atMs,
  });
  // A day later the window is empty: prices stay at the last trade, volumes are zero.
  clockMs = trades[1].atMs + 25 * 3_600_000;
  const later = await test.api.expect(200, 'GET', '/api/v1/market/ticker?symbol=BTC-USD');
  assert.deepEqual([later.last, later.volume, later.trades], ['101.50', '0.000', 0]);
});

it('bookTicker gives the best bid and ask, null on an empty side', async () => {
  const one = await test.api.expect(200, 'GET', '/api/v1/market/bookTicker?symbol=BTC-USD');
  assert.deepEqual(
    [one.bidPrice, one.bidQty, one.askPrice, one.askQty],
    ['99.99', '0.003', '101.50', '0.200'],
  );
  const all = await test.api.expect(200, 'GET', '/api/v1/market/bookTicker');
  assert.equal(all.length, 2);
  assert.deepEqual([all[1].symbol, all[1].bidPrice, all[1].askPrice], ['ETH-USD', null, null]);
});

it('candles with includeOpen=true end with the candle in progress, flagged closed: false', async () => {
  const closedOnly = await test.api.expect(200, 'GET', '/api/v1/candles?symbol=BTC-USD&interval=1h');
  assert.ok(closedOnly.items.every((candle: any) => candle.closed === true));
  const withOpen = await test.api.expect(
    200,
    'GET',
    '/api/v1/candles?symbol=BTC-USD&interval=1h&includeOpen=true',
  );
  const open = withOpen.items.at(-1);
  assert.equal(withOpen.items.length, closedOnly.items.length + 1);
  assert.deepEqual(
    [open.closed, open.open, open.close, open.volume, open.quoteVolume, open.trades],
    [false, '101.50', '101.50', '0.300', '30.450000', 2],
  );
  assert.equal(open.closeMs - open.openMs, 3_600_000);
  const beforeIt = await test.api.expect(
    200,
    'GET',
    `/api/v1/candles?symbol=BTC-USD&interval=1h&includeOpen=true&to=${open.openMs}`,
  );
  assert.ok(beforeIt.items.every((candle: any) => candle.closed === true));
});

it('bad input gets a stable code', async () => {
  const unknown = await test.api.call('GET', '/api/v1/market/depth?symbol=NOPE');
  assert.deepEqual(
    [unknown.status, unknown.body.code, unknown.body.field],
    [400, 'UNKNOWN_SYMBOL', 'symbol'],
  );
  const tooMany = await test.api.call('GET', '/api/v1/market/depth?symbol=BTC-USD&limit=1001');
  assert.deepEqual(
    [tooMany.status, tooMany.body.code, tooMany.body.field],
    [400, 'VALIDATION_FAILED', 'limit'],
  );
  const missing = await test.api.call('GET', '/api/v1/market/trades');
  assert.deepEqual([missing.status, missing.body.code], [400, 'VALIDATION_FAILED']);
  const unknownTicker = await test.api.call('GET', '/api/v1/market/ticker?symbol=NOPE');
  assert.equal(unknownTicker.body.code, 'UNKNOWN_SYMBOL');
  const badFlag = await test.api.call('GET', '/api/v1/candles?symbol=BTC-USD&interval=1m&includeOpen=yes');
  assert.equal(badFlag.body.code, 'VALIDATION_FAILED');
});

it('WebSocket channels carry the same decimal units as REST; "units":"engine" keeps the integers', async () => {
  const socket = await TestSocket.open(test.exchange.url);
  try {
    const snapshotOf = async (ch: string, units?: string) => {
      const ack = await socket.request('subscribe', units === undefined ? { ch } : { ch, units });
      assert.equal(ack.ok, true, JSON.stringify(ack));
      assert.equal(ack.units, units ?? 'decimal');
      const message = await socket.next((pushed) => pushed.ch === ch && pushed.snapshot === true);
      // Taken out, so that the same channel's next snapshot (another units) is not this one.
      socket.pushes.splice(socket.pushes.indexOf(message), 1);
      return message.data;
    };
    const depth = await snapshotOf('depth.BTC-USD');
    const rest = await test.api.expect(200, 'GET', '/api/v1/market/depth?symbol=BTC-USD&limit=1000');
    assert.deepEqual(depth, rest);
    const trades = await snapshotOf('trades.BTC-USD');
    assert.deepEqual(trades, await test.api.expect(200, 'GET', '/api/v1/market/trades?symbol=BTC-USD'));
    const ticker = await snapshotOf('ticker.BTC-USD');
    assert.deepEqual(
      [ticker.symbol, ticker.last, ticker.volume, ticker.quoteVolume],
      ['BTC-USD', '101.50', '0.300', '30.450000'],
    );
    const candle = await snapshotOf('candles.BTC-USD.1h');
    assert.deepEqual(
      [
        candle.symbol,
        candle.interval,
        candle.open,
        candle.volume,
        candle.quoteVolume,
        candle.trades,
        candle.closed,
      ],
      ['BTC-USD', '1h', '101.50', '0.300', '30.450000', 2, false],
    );
    const engineTrades = await snapshotOf('trades.BTC-USD', 'engine');
    // Engine units: quote minor units (micro USD) per 0.001 BTC lot, and lots.
    assert.deepEqual(
      engineTrades.map((trade: { price: number; qty: number }) => [trade.price, trade.qty]),
      [
        [101_500, 100],
        [101_500, 200],
      ],
    );
  } finally {
    socket.close();
  }
});
