// Acceptance: the unmodified ccxt `binance` class (REST) and ccxt.pro `binance` (WebSocket) read
// a real Hoga exchange's public market data, configured only through ccxt's documented `urls` and
// `options` (no subclass, no patching): the same settings docs/BINANCE.md gives users.
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import ccxt from 'ccxt';
import { startTestExchange, type TestExchange } from '../gateway/support/exchange.js';

let test: TestExchange;
let makerToken: string;
let takerToken: string;

/** The ccxt settings for a Hoga exchange at `httpUrl` (docs/BINANCE.md "ccxt"). */
function hogaCcxtConfig(httpUrl: string) {
  const rest = `${httpUrl}/api/v3`;
  const ws = `${httpUrl.replace(/^http/, 'ws')}/binance/ws`;
  return {
    urls: {
      api: {
        public: rest,
        private: rest,
        v1: rest,
        v3: rest,
        sapi: rest,
        ws: { spot: ws, margin: ws },
      },
    },
    options: {
      defaultType: 'spot',
      fetchMarkets: { types: ['spot'] },
      fetchMargins: false,
      fetchCurrencies: false,
    },
  };
}

async function place(token: string, body: Record<string, unknown>): Promise<void> {
  await test.api.expect(200, 'POST', '/api/v1/orders', { symbol: 'BTC-USDT', type: 'limit', ...body }, token);
}

before(async () => {
  test = await startTestExchange();
  const admin = await test.api.adminToken();
  await test.api.createMarket(admin, 'BTC-USDT', 'BTC', 'USDT');
  await test.api.createMarket(admin, 'ETH-USDT', 'ETH', 'USDT');
  const maker = await test.api.register('maker');
  const taker = await test.api.register('taker');
  await test.api.deposit(admin, maker, 'BTC', '100');
  await test.api.deposit(admin, taker, 'USDT', '1000000');
  makerToken = await test.api.login('maker');
  takerToken = await test.api.login('taker');
  await place(makerToken, { side: 'sell', price: '101.5', qty: '0.5' });
  await place(makerToken, { side: 'sell', price: '102', qty: '1.25' });
  await place(takerToken, { side: 'buy', price: '99.99', qty: '0.003' });
  await place(takerToken, { side: 'buy', price: '101.5', qty: '0.1' });
});
after(() => test?.close());

it('ccxt REST: loadMarkets, fetchTime, fetchOrderBook, fetchTicker(s), fetchTrades, fetchOHLCV', async () => {
  const exchange = new ccxt.binance(hogaCcxtConfig(test.exchange.url));
  const markets = await exchange.loadMarkets();
  assert.deepEqual(Object.keys(markets).sort(), ['BTC/USDT', 'ETH/USDT']);
  const btc = exchange.market('BTC/USDT');
  assert.equal(btc.id, 'BTCUSDT');
  assert.equal(btc.spot, true);
  assert.equal(btc.active, true);
  assert.equal(btc.precision.price, 0.01);
  assert.equal(btc.precision.amount, 0.001);
  assert.equal(btc.limits.amount?.min, 0.001);

  const time = await exchange.fetchTime();
  assert.ok(typeof time === 'number' && Math.abs(time - Date.now()) < 3_600_000);

  const book = await exchange.fetchOrderBook('BTC/USDT');
  assert.deepEqual(book.bids, [[99.99, 0.003]]);
  assert.deepEqual(book.asks, [
    [101.5, 0.4],
    [102, 1.25],
  ]);
  assert.ok(typeof book.nonce === 'number' && book.nonce > 0);

  const ticker = await exchange.fetchTicker('BTC/USDT');
  assert.deepEqual(
    [ticker.symbol, ticker.last, ticker.open, ticker.baseVolume, ticker.quoteVolume, ticker.bid, ticker.ask],
    ['BTC/USDT', 101.5, 101.5, 0.1, 10.15, 99.99, 101.5],
  );
  const tickers = await exchange.fetchTickers();
  assert.deepEqual(Object.keys(tickers).sort(), ['BTC/USDT', 'ETH/USDT']);

  const trades = await exchange.fetchTrades('BTC/USDT');
  assert.equal(trades.length, 1);
  assert.deepEqual([trades[0].price, trades[0].amount, trades[0].side], [101.5, 0.1, 'buy']);

  const candles = await exchange.fetchOHLCV('BTC/USDT', '1m');
  assert.equal(candles.length, 1);
  const [openTime, ...values] = candles[0] ?? [];
  assert.deepEqual(values, [101.5, 101.5, 101.5, 101.5, 0.1]);
  assert.equal(Number(openTime) % 60_000, 0);
});

it('ccxt.pro WebSocket: watchOrderBook, watchTrades, watchOHLCV, watchTicker follow live trading', async () => {
  const exchange = new ccxt.pro.binance(hogaCcxtConfig(test.exchange.url));
  try {
    // ccxt opens ws:// (not wss://) URLs only through an HTTP agent, loaded once by this documented call.
    await exchange.loadHttpProxyAgent();
    await exchange.loadMarkets();
    // The order book: a REST snapshot synchronised with the depth diffs by update id.
    const watchedBook = exchange.watchOrderBook('BTC/USDT');
    const watchedTrades = exchange.watchTrades('BTC/USDT');
    const watchedCandles = exchange.watchOHLCV('BTC/USDT', '1m');
    const watchedTicker = exchange.watchTicker('BTC/USDT');
    // Each watch resolves on its stream's next message: keep trading until all three have one.
    let price = 101;
    const settled = Promise.all([watchedBook, watchedTrades, watchedCandles, watchedTicker]);
    let done = false;
    void settled.finally(() => {
      done = true;
    });
    while (!done) {
      await place(makerToken, { side: 'sell', price: String(price), qty: '0.01' });
      await place(takerToken, { side: 'buy', price: String(price), qty: '0.01' });
      price -= 0.5;
      await Promise.race([settled, new Promise((resolve) => setImmediate(resolve))]);
    }
    await settled;
    // Once the socket has caught up with the server's last change, the local book equals the
    // server's. The local nonce is read synchronously: below the target, a diff is still on its
    // way and the next watchOrderBook resolves with it.
    const rest = await test.api.expect(200, 'GET', '/api/v3/depth?symbol=BTCUSDT&limit=1000');
    const nonce = () => exchange.orderbooks['BTC/USDT']?.nonce ?? 0;
    while (nonce() < rest.lastUpdateId) await exchange.watchOrderBook('BTC/USDT');
    assert.equal(nonce(), rest.lastUpdateId);
    const local = exchange.orderbooks['BTC/USDT'];
    const numeric = (levels: string[][]) => levels.map(([p, q]) => [Number(p), Number(q)]);
    assert.deepEqual(Array.from(local?.bids ?? []), numeric(rest.bids));
    assert.deepEqual(Array.from(local?.asks ?? []), numeric(rest.asks));

    const trades = await watchedTrades;
    assert.ok(trades.length >= 1);
    assert.equal(trades[0].symbol, 'BTC/USDT');
    assert.equal(trades[0].side, 'buy');
    assert.equal(trades[0].amount, 0.01);
    const ticker = await watchedTicker;
    assert.equal(ticker.symbol, 'BTC/USDT');
    assert.ok(typeof ticker.last === 'number' && ticker.last > 0, JSON.stringify(ticker.info));
    const candles = await watchedCandles;
    assert.ok(candles.length >= 1);
    const last = candles.at(-1) ?? [];
    assert.equal(Number(last[0]) % 60_000, 0);
    assert.ok(Number(last[5]) >= 0.01, JSON.stringify(last));
  } finally {
    await exchange.close();
  }
});
