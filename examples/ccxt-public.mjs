// Reads a running Hoga exchange's public market data with the unmodified ccxt `binance` class,
// configured only through ccxt's documented `urls` and `options` (docs/BINANCE.md "ccxt").
// Usage: node examples/ccxt-public.mjs [http://127.0.0.1:8080] [BTC/USDT]
import ccxt from 'ccxt';

const http = process.argv[2] ?? 'http://127.0.0.1:8080';
const wanted = process.argv[3];
const rest = `${http}/api/v3`;
const ws = `${http.replace(/^http/, 'ws')}/binance/ws`;

const exchange = new ccxt.pro.binance({
  urls: { api: { public: rest, private: rest, v1: rest, v3: rest, sapi: rest, ws: { spot: ws, margin: ws } } },
  options: { defaultType: 'spot', fetchMarkets: { types: ['spot'] }, fetchMargins: false, fetchCurrencies: false },
});
// ccxt opens ws:// (not wss://) URLs only through an HTTP agent.
if (ws.startsWith('ws://')) await exchange.loadHttpProxyAgent();

const markets = await exchange.loadMarkets();
const symbol = wanted ?? Object.keys(markets)[0];
if (symbol === undefined) {
  console.log('no markets listed yet');
  process.exit(0);
}
console.log('server time', new Date(await exchange.fetchTime()).toISOString());
console.log('markets', Object.keys(markets).join(', '));
const book = await exchange.fetchOrderBook(symbol, 5);
console.log(symbol, 'bids', book.bids, 'asks', book.asks);
const ticker = await exchange.fetchTicker(symbol);
console.log(symbol, 'last', ticker.last, '24h volume', ticker.baseVolume);
const trades = await exchange.fetchTrades(symbol, undefined, 5);
console.log(symbol, 'recent trades', trades.map((trade) => `${trade.side} ${trade.amount} @ ${trade.price}`));
const candles = await exchange.fetchOHLCV(symbol, '1m', undefined, 5);
console.log(symbol, '1m candles', candles);

// Live: the next three changes of the order book, kept in sync by ccxt from the depth stream.
for (let update = 0; update < 3; update++) {
  const live = await exchange.watchOrderBook(symbol);
  console.log('book', live.nonce, 'best bid', live.bids[0], 'best ask', live.asks[0]);
}
await exchange.close();
