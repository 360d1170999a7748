// Trading on a Hoga exchange with the unmodified ccxt `binance` class (docs/BINANCE.md "Private
// API"): create an API key in the web UI or with `POST /api/v1/api-keys` (permissions read and
// trade), then run
//   HOGA_URL=http://127.0.0.1:8080 HOGA_API_KEY=... HOGA_API_SECRET=... node examples/ccxt-trading.mjs
// It prints the balances, places a limit sell far from the market, watches it over the WebSocket
// API's user data stream, cancels it and prints the open orders left.
import ccxt from 'ccxt';

const http = process.env.HOGA_URL ?? 'http://127.0.0.1:8080';
const rest = `${http}/api/v3`;
const wsBase = http.replace(/^http/, 'ws');
const exchange = new ccxt.pro.binance({
  apiKey: process.env.HOGA_API_KEY,
  secret: process.env.HOGA_API_SECRET,
  urls: {
    api: {
      public: rest,
      private: rest,
      v1: rest,
      v3: rest,
      sapi: rest,
      ws: { spot: `${wsBase}/binance/ws`, margin: `${wsBase}/binance/ws`, 'ws-api': { spot: `${wsBase}/binance/ws-api/v3` } },
    },
  },
  options: { defaultType: 'spot', fetchMarkets: { types: ['spot'] }, fetchMargins: false, fetchCurrencies: false },
});

try {
  if (wsBase.startsWith('ws:')) await exchange.loadHttpProxyAgent(); // ws:// needs ccxt's HTTP agent
  await exchange.loadMarkets();
  const symbol = process.env.HOGA_SYMBOL ?? exchange.symbols[0];
  const balance = await exchange.fetchBalance();
  console.log('balances', balance.total);
  const watching = exchange.watchOrders(symbol);
  const ticker = await exchange.fetchTicker(symbol);
  const market = exchange.market(symbol);
  const price = exchange.priceToPrecision(symbol, (ticker.last ?? 100) * 2);
  const order = await exchange.createOrder(symbol, 'limit', 'sell', market.limits.amount?.min ?? 0.001, price);
  console.log('placed', order.id, order.status, order.price);
  console.log('watched', (await watching).map((update) => [update.id, update.status]));
  await exchange.cancelOrder(order.id, symbol);
  console.log('open orders left', (await exchange.fetchOpenOrders(symbol)).length);
} finally {
  await exchange.close();
}
