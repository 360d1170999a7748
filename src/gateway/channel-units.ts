// The market-data channels' default units: the hub hands each published message and snapshot of
// depth, trades, ticker and candles channels to this formatter, which gives them the units REST
// uses (decimal strings in the market's units, times in ms). Channels of a symbol the registry does
// not know (quotes of a feed-only symbol) and other kinds pass through unchanged.
import type {
  CandleJson,
  ChannelFormatter,
  DepthDiff,
  DepthSnapshot,
  TapeTrade,
  Ticker,
} from '../marketdata/index.js';
import { candleItemJson, depthDiffJson, depthJson, publicTradeJson, tickerJson } from './market-views.js';
import type { Market, MarketRegistry } from './markets.js';

function candleJson(candle: CandleJson | null, market: Market) {
  if (candle === null) return null;
  return {
    symbol: candle.symbol,
    interval: candle.interval,
    source: candle.source,
    ...candleItemJson(candle, market),
    closed: candle.closed,
  };
}

export function channelFormatter(markets: MarketRegistry): ChannelFormatter {
  return (channel, data) => {
    const market = markets.market(channel.symbol);
    if (market === undefined || data === null || data === undefined) return data;
    switch (channel.kind) {
      case 'depth':
        return 'lastUpdateId' in (data as object)
          ? depthJson(data as DepthSnapshot, market)
          : depthDiffJson(data as DepthDiff, market);
      case 'trades':
        return Array.isArray(data)
          ? (data as TapeTrade[]).map((trade) => publicTradeJson(trade, market))
          : publicTradeJson(data as TapeTrade, market);
      case 'ticker':
        return tickerJson(data as Ticker, market);
      case 'candles':
        return candleJson(data as CandleJson, market);
      default:
        return data;
    }
  };
}
