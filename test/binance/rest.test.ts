// The Binance-compatible public REST API on a real exchange: shapes and units of every route,
// Binance's error codes, joined market names and their collisions, and request weights (the
// X-MBX-USED-WEIGHT-1M header, 429 with Retry-After, then 418 for an IP that keeps going).
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { startTestExchange, type TestExchange } from '../gateway/support/exchange.js';

let test: TestExchange;
let admin: string;
const weightPerMinute = 400;
/** The gateway clock: real time, frozen by the weights test so that no minute turns under it. */
let frozenMs: number | undefined;

before(async () => {
  test = await startTestExchange(
    (config) => {
      config.binanceWeightPerMinute = weightPerMinute;
    },
    { gatewayClock: () => frozenMs ?? Date.now() },
  );
  admin = await test.api.adminToken();
  await test.api.createMarket(admin, 'BTC-USDT', 'BTC', 'USDT');
  await test.api.createMarket(admin, 'ETH/USDT', 'ETH', 'USDT');
  const maker = await test.api.register('maker');
  const taker = await test.api.register('taker');
  await test.api.deposit(admin, maker, 'BTC', '10');
  await test.api.deposit(admin, taker, 'USDT', '100000');
  const makerToken = await test.api.login('maker');
  const takerToken = await test.api.login('taker');
  const place = (token: string, body: Record<string, unknown>) =>
    test.api.expect(200, 'POST', '/api/v1/orders', { symbol: 'BTC-USDT', type: 'limit', ...body }, token);
  await place(makerToken, { side: 'sell', price: '101.5', qty: '0.5' });
  await place(makerToken, { side: 'sell', price: '102', qty: '1.25' });
  await place(takerToken, { side: 'buy', price: '99.99', qty: '0.003' });
  await place(takerToken, { side: 'buy', price: '101.5', qty: '0.1' });
  await place(takerToken, { side: 'buy', price: '101.5', qty: '0.2' });
});
after(() => test?.close());

async function get(path: string) {
  return test.api.call('GET', `/api/v3${path}`);
}

it('ping and time', async () => {
  assert.deepEqual((await get('/ping')).body, {});
  const time = (await get('/time')).body;
  assert.ok(Number.isInteger(time.serverTime) && Math.abs(time.serverTime - Date.now()) < 3_600_000);
});

it('exchangeInfo lists each market under its joined name with Hoga filters and order types', async () => {
  const reply = await get('/exchangeInfo');
  assert.equal(reply.status, 200);
  const info = reply.body;
  assert.deepEqual(info.rateLimits, [
    { rateLimitType: 'REQUEST_WEIGHT', interval: 'MINUTE', intervalNum: 1, limit: weightPerMinute },
  ]);
  assert.deepEqual(
    info.symbols.map((symbol: any) => [
      symbol.symbol,
      symbol.baseAsset,
      symbol.quoteAsset,
      symbol.hogaSymbol,
    ]),
    [
      ['BTCUSDT', 'BTC', 'USDT', 'BTC-USDT'],
      ['ETHUSDT', 'ETH', 'USDT', 'ETH/USDT'],
    ],
  );
  const btc = info.symbols[0];
  assert.equal(btc.status, 'TRADING');
  assert.deepEqual(btc.orderTypes, [
    'LIMIT',
    'LIMIT_MAKER',
    'MARKET',
    'STOP_LOSS',
    'STOP_LOSS_LIMIT',
    'TAKE_PROFIT',
    'TAKE_PROFIT_LIMIT',
  ]);
  assert.equal(btc.icebergAllowed, true);
  assert.equal(btc.ocoAllowed, true);
  const filters = Object.fromEntries(btc.filters.map((filter: any) => [filter.filterType, filter]));
  assert.equal(filters.PRICE_FILTER.tickSize, '0.01');
  assert.equal(filters.PRICE_FILTER.minPrice, '0.01');
  assert.equal(filters.LOT_SIZE.stepSize, '0.001');
  assert.equal(filters.LOT_SIZE.minQty, '0.001');
  const one = await get('/exchangeInfo?symbol=ETHUSDT');
  assert.deepEqual(
    one.body.symbols.map((symbol: any) => symbol.symbol),
    ['ETHUSDT'],
  );
  const some = await get(`/exchangeInfo?symbols=${encodeURIComponent('["ETHUSDT","BTCUSDT"]')}`);
  assert.equal(some.body.symbols.length, 2);
});

it('a market whose joined name is taken cannot be listed (409 SYMBOL_NAME_COLLISION)', async () => {
  const reply = await test.api.call(
    'POST',
    '/api/v1/admin/symbols',
    {
      symbol: 'BTCU-SDT',
      base: 'BTCU',
      quote: 'SDT',
      baseDecimals: 8,
      quoteDecimals: 6,
      lotSize: '0.001',
      tickSize: '0.01',
      makerFeeBps: 0,
      takerFeeBps: 0,
    },
    admin,
  );
  assert.deepEqual(
    [reply.status, reply.body.code, reply.body.field],
    [409, 'SYMBOL_NAME_COLLISION', 'symbol'],
  );
  const markets = await test.api.expect(200, 'GET', '/api/v1/symbols');
  assert.ok(!markets.some((market: any) => market.symbol === 'BTCU-SDT'));
});

it('depth: lastUpdateId and decimal levels, best first', async () => {
  const depth = (await get('/depth?symbol=BTCUSDT&limit=5')).body;
  assert.deepEqual(Object.keys(depth).sort(), ['asks', 'bids', 'lastUpdateId']);
  assert.deepEqual(depth.bids, [['99.99', '0.003']]);
  assert.deepEqual(depth.asks, [
    ['101.50', '0.200'],
    ['102.00', '1.250'],
  ]);
  assert.ok(depth.lastUpdateId > 0);
});

it('trades and aggTrades: the tape in Binance fields', async () => {
  const trades = (await get('/trades?symbol=BTCUSDT')).body;
  assert.equal(trades.length, 2);
  assert.deepEqual(
    trades.map((trade: any) => [
      trade.price,
      trade.qty,
      trade.quoteQty,
      trade.isBuyerMaker,
      trade.isBestMatch,
    ]),
    [
      ['101.50', '0.100', '10.150000', false, true],
      ['101.50', '0.200', '20.300000', false, true],
    ],
  );
  const aggregates = (await get('/aggTrades?symbol=BTCUSDT&limit=1')).body;
  assert.deepEqual(aggregates, [
    {
      a: trades[1].id,
      p: '101.50',
      q: '0.200',
      f: trades[1].id,
      l: trades[1].id,
      T: trades[1].time,
      m: false,
      M: true,
    },
  ]);
  const fromFirst = (await get(`/aggTrades?symbol=BTCUSDT&fromId=${trades[0].id}&limit=1`)).body;
  assert.equal(fromFirst[0].a, trades[0].id);
});

it('klines and uiKlines end with the candle in progress', async () => {
  for (const path of ['/klines', '/uiKlines']) {
    const rows = (await get(`${path}?symbol=BTCUSDT&interval=1h`)).body;
    assert.equal(rows.length, 1, JSON.stringify(rows));
    const [openTime, open, high, low, close, volume, closeTime, quoteVolume, count] = rows[0];
    assert.equal(closeTime, openTime + 3_600_000 - 1);
    assert.deepEqual(
      [open, high, low, close, volume, quoteVolume, count],
      ['101.50', '101.50', '101.50', '101.50', '0.300', '30.450000', 2],
    );
    assert.equal(rows[0].length, 12);
  }
  const bad = await get('/klines?symbol=BTCUSDT&interval=3m');
  assert.deepEqual([bad.status, bad.body.code], [400, -1120]);
});

it('tickers: 24hr, price and bookTicker, one market or all', async () => {
  const ticker = (await get('/ticker/24hr?symbol=BTCUSDT')).body;
  assert.equal(ticker.symbol, 'BTCUSDT');
  assert.deepEqual(
    [
      ticker.openPrice,
      ticker.lastPrice,
      ticker.volume,
      ticker.quoteVolume,
      ticker.count,
      ticker.weightedAvgPrice,
    ],
    ['101.50', '101.50', '0.300', '30.450000', 2, '101.50'],
  );
  assert.deepEqual(
    [ticker.bidPrice, ticker.bidQty, ticker.askPrice, ticker.askQty, ticker.lastQty],
    ['99.99', '0.003', '101.50', '0.200', '0.200'],
  );
  assert.equal(ticker.closeTime - ticker.openTime, 86_400_000);
  const all = (await get('/ticker/24hr')).body;
  assert.deepEqual(
    all.map((entry: any) => entry.symbol),
    ['BTCUSDT', 'ETHUSDT'],
  );
  assert.deepEqual((await get('/ticker/price?symbol=BTCUSDT')).body, { symbol: 'BTCUSDT', price: '101.50' });
  assert.equal((await get('/ticker/price')).body.length, 2);
  assert.deepEqual((await get('/ticker/bookTicker?symbol=BTCUSDT')).body, {
    symbol: 'BTCUSDT',
    bidPrice: '99.99',
    bidQty: '0.003',
    askPrice: '101.50',
    askQty: '0.200',
  });
});

it('errors come in Binance shape with Binance codes', async () => {
  const unknown = await get('/depth?symbol=NOPE');
  assert.deepEqual([unknown.status, unknown.body], [400, { code: -1121, msg: 'Invalid symbol.' }]);
  const missing = await get('/depth');
  assert.deepEqual([missing.status, missing.body.code], [400, -1102]);
  const badLimit = await get('/depth?symbol=BTCUSDT&limit=ten');
  assert.deepEqual([badLimit.status, badLimit.body.code], [400, -1100]);
  const badSymbols = await get('/ticker/price?symbols=notjson');
  assert.deepEqual([badSymbols.status, badSymbols.body.code], [400, -1102]);
});

it('weights: the header counts, then 429 with Retry-After, then 418 for an IP that keeps going', async () => {
  // Early in a minute, so that Retry-After is the rest of that minute.
  frozenMs = (Math.floor(Date.now() / 60_000) + 1) * 60_000 + 5_000;
  const first = await get('/ping');
  assert.equal(first.headers.get('x-mbx-used-weight-1m'), '1');
  const second = await get('/exchangeInfo');
  assert.equal(second.headers.get('x-mbx-used-weight-1m'), '21');
  const depth = await get('/depth?symbol=BTCUSDT&limit=500');
  assert.equal(depth.headers.get('x-mbx-used-weight-1m'), '46');
  let reply = second;
  while (reply.status === 200) reply = await get('/exchangeInfo');
  assert.equal(reply.status, 429);
  assert.equal(reply.body.code, -1003);
  const retryAfter = Number(reply.headers.get('retry-after'));
  assert.equal(retryAfter, 55);
  assert.equal(
    reply.headers.get('x-mbx-used-weight-1m'),
    String(weightPerMinute - ((weightPerMinute - 46) % 20)),
  );
  // Ten 429s in one minute are tolerated; the eleventh refusal is a ban.
  let strikes = 1;
  while (reply.status === 429) {
    reply = await get('/exchangeInfo');
    strikes += 1;
  }
  assert.equal(strikes, 11);
  assert.equal(reply.status, 418);
  assert.equal(reply.body.code, -1003);
  assert.match(reply.body.msg, /IP banned until \d+/);
  assert.equal(reply.headers.get('retry-after'), '120');
  // Banned for every route, also in the next minute, until the ban ends.
  frozenMs += 60_000;
  assert.equal((await get('/ping')).status, 418);
  frozenMs += 60_001;
  const free = await get('/ping');
  assert.deepEqual([free.status, free.headers.get('x-mbx-used-weight-1m')], [200, '1']);
  frozenMs = undefined;
});
