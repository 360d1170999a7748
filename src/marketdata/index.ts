// Market data: the library the gateway plugs in. Everything the gateway needs is exported here.
//
// Wiring (one place, e.g. the gateway's start-up):
//   const hub = new ChannelHub({ limits: { subscriptionsPerConnectionMax: 64 } });
//   const bus = new InProcessBus();   // scaled out: await NatsMarketDataBus.connect({ servers })
//   bus.subscribe(hub);
//   const writer = new CandleWriter({ sink, spillPath: './data/candles.spill.ndjson' });
//   await writer.start();
//   const market = new MarketData({ publisher: bus, closedCandles: writer, timezones: { AAPL: 'America/New_York' } });
//   const quotes = new QuoteIngest({ publisher: bus, closedCandles: writer });
//   hub.addSource(market); hub.addSource(quotes); hub.start(); quotes.start();
//   sequencer.onApplied((outcome) => market.onOutcome(outcome));      // replay included
//   market.start(100);   // after journal replay: flush tickers and in-progress candles every 100 ms
//   void new SimulatedQuoteFeed({ seed: 1, symbolCount: 10, quotesPerSecond: 1000 }).run(quotes);
// Shutdown: feed.stop(); quotes.stop(); market.stop(); hub.stop(); await writer.close();
// onOutcome throws DepthInvariantError (code DEPTH_INVARIANT) only if engine and market data
// disagree (a bug, or an engine restored from a snapshot without market.restoreSymbol).
//
// Per WebSocket (`ws` sockets satisfy ChannelClient as they are):
//   const connection = hub.connect(socket);    // undefined: refused, socket already closed (1013)
//   socket.on('message', (text) => { const request = JSON.parse(text);
//     if (!connection.handle(request)) { /* the gateway's own ops (orders, auth) */ } });
//   socket.on('close', () => connection.close());
// Or `connection.handleText(text)` when the socket carries only market data.
// The JSON protocol (requests, acks, error codes, data and snapshot messages) is in docs/MARKETDATA.md.
// REST reads: market.depth(symbol, levels), market.recentTrades(symbol), market.ticker(symbol, now),
// market.candle(symbol, interval).

export { InProcessBus, type MarketDataBus } from './bus.js';
export {
  type CandleSink,
  CandleWriter,
  type CandleWriterErrorCode,
  type CandleWriterOptions,
  MemoryCandleSink,
} from './candle-sink.js';
export {
  type Candle,
  type CandleInterval,
  type CandleJson,
  candleIntervals,
  candleKey,
  candleToJson,
  isCandleInterval,
} from './candles.js';
export {
  type ChannelKind,
  type ChannelName,
  channelName,
  parseChannel,
} from './channels.js';
export {
  type DepthDiff,
  DepthInvariantError,
  type DepthSnapshot,
  type Level,
  LocalDepthBook,
} from './depth.js';
export type { QuoteFeed, QuoteFeedStats, QuoteTarget } from './feeds/feed.js';
export { FileReplayFeed, type FileReplayOptions } from './feeds/file-replay.js';
export { formatQuoteCsv, formatQuoteJson, parseQuoteLine } from './feeds/quote-line.js';
export { type SimulatedFeedOptions, SimulatedQuoteFeed } from './feeds/simulated.js';
export { type TcpFeedOptions, TcpQuoteFeed } from './feeds/tcp.js';
export {
  type ChannelClient,
  type ChannelFormatter,
  ChannelHub,
  type ChannelPublisher,
  type ChannelSource,
  type ChannelUnits,
  channelUnits,
  defaultHubLimits,
  HubCloseCodes,
  HubConnection,
  type HubErrorCode,
  HubErrorCodes,
  type HubLimits,
} from './hub.js';
export {
  type Quote,
  QuoteIngest,
  type QuoteIngestOptions,
  type QuoteMessage,
  type QuoteRejection,
} from './ingest.js';
export { type ClosedCandleHandler, MarketData, type MarketDataOptions } from './marketdata.js';
export { type NatsBusOptions, NatsMarketDataBus } from './nats-bus.js';
export {
  decodeQuoteKey,
  encodeQuoteKey,
  QuoteDeduper,
  type QuoteKeyParts,
  SymbolQuoteKeys,
} from './quote-key.js';
export type { Ticker } from './ticker.js';
export type { TapeTrade } from './trades.js';
