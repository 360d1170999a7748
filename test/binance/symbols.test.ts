// Joined market names and stream names, without a server: which market a Binance symbol or stream
// names, in any case, and the Binance errors for what names none.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { BinanceError } from '../../src/binance/errors.js';
import { parseStreamName } from '../../src/binance/streams.js';
import { binanceSymbol, marketOf, marketsOf, selectedMarkets } from '../../src/binance/symbols.js';
import { joinedSymbolName, MarketRegistry } from '../../src/gateway/markets.js';
import type { CommandOutcome } from '../../src/ports.js';

let seq = 0;

function list(markets: MarketRegistry, symbol: string, base: string, quote: string): void {
  seq += 1;
  const engine = {
    op: 'symbol',
    symbol,
    base,
    quote,
    lotSize: 1,
    tickSize: 1,
    makerFeeBps: 0,
    takerFeeBps: 0,
  };
  const command = { ...engine, baseDecimals: 0, quoteDecimals: 0, lotSizeDecimal: '1', tickSizeDecimal: '1' };
  const added = { ...engine, ev: 'symbolAdded' };
  markets.apply({ seq, ts: seq, command, events: [added] } as unknown as CommandOutcome);
}

function registry(): MarketRegistry {
  const markets = new MarketRegistry();
  list(markets, 'ETH/USDT', 'ETH', 'USDT');
  list(markets, 'BTC-USDT', 'BTC', 'USDT');
  // A journal from before the collision check may hold a second market with a taken joined name.
  list(markets, 'BTCU-SDT', 'BTCU', 'SDT');
  return markets;
}

function binanceCode(run: () => unknown): number | undefined {
  try {
    run();
  } catch (error) {
    if (error instanceof BinanceError) return error.code;
    throw error;
  }
  return undefined;
}

it('joins base and quote upper case and resolves the name in any case to the first market listed', () => {
  const markets = registry();
  assert.equal(joinedSymbolName('btc', 'Usdt'), 'BTCUSDT');
  assert.equal(marketOf(markets, 'BTCUSDT').symbol, 'BTC-USDT');
  assert.equal(marketOf(markets, 'btcusdt').symbol, 'BTC-USDT');
  assert.equal(binanceSymbol(marketOf(markets, 'ETHUSDT')), 'ETHUSDT');
  assert.deepEqual(
    selectedMarkets(markets, {}).map((market) => market.symbol),
    ['BTC-USDT', 'ETH/USDT'],
    'sorted by joined name; the colliding second listing is not served',
  );
});

it('Binance errors for a missing, unknown or malformed symbol parameter', () => {
  const markets = registry();
  assert.equal(
    binanceCode(() => marketOf(markets, undefined)),
    -1102,
  );
  assert.equal(
    binanceCode(() => marketOf(markets, 'DOGEUSDT')),
    -1121,
  );
  assert.deepEqual(
    marketsOf(markets, '["ETHUSDT","BTCUSDT"]').map((market) => market.symbol),
    ['ETH/USDT', 'BTC-USDT'],
  );
  assert.equal(
    binanceCode(() => marketsOf(markets, 'ETHUSDT')),
    -1102,
  );
  assert.equal(
    binanceCode(() => marketsOf(markets, '[]')),
    -1102,
  );
  assert.equal(
    binanceCode(() => marketsOf(markets, '["ETHUSDT","NOPE"]')),
    -1121,
  );
});

it('parses every stream kind onto its Hoga channel and refuses the rest', () => {
  const markets = registry();
  const parsed = (name: string) => {
    const stream = parseStreamName(name, markets);
    return stream && [stream.name, stream.kind, stream.channel, stream.levels ?? stream.interval];
  };
  assert.deepEqual(parsed('btcusdt@depth'), ['btcusdt@depth', 'depth', 'depth.BTC-USDT', undefined]);
  assert.deepEqual(parsed('BTCUSDT@depth@100ms'), [
    'btcusdt@depth@100ms',
    'depth',
    'depth.BTC-USDT',
    undefined,
  ]);
  assert.deepEqual(parsed('btcusdt@depth10@1000ms'), [
    'btcusdt@depth10@1000ms',
    'partialDepth',
    'depth.BTC-USDT',
    10,
  ]);
  assert.deepEqual(parsed('ethusdt@trade'), ['ethusdt@trade', 'trade', 'trades.ETH/USDT', undefined]);
  assert.deepEqual(parsed('ethusdt@aggTrade')?.[1], 'aggTrade');
  assert.deepEqual(parsed('ethusdt@kline_4h'), ['ethusdt@kline_4h', 'kline', 'candles.ETH/USDT.4h', '4h']);
  assert.deepEqual(parsed('ethusdt@ticker')?.[2], 'ticker.ETH/USDT');
  assert.deepEqual(parsed('ethusdt@miniTicker')?.[1], 'miniTicker');
  assert.deepEqual(parsed('ethusdt@bookTicker')?.[2], 'depth.ETH/USDT');
  for (const bad of [
    'btcusdt@depth7',
    'btcusdt@depth@250ms',
    'btcusdt@kline_3m',
    'btcusdt@trades',
    'dogeusdt@trade',
    '@trade',
    'btcusdt',
    '',
  ])
    assert.equal(parseStreamName(bad, markets), undefined, bad);
});
