// Binance market names: base and quote joined without a separator (`BTC` + `USDT` → `BTCUSDT`),
// the form every Binance client sends. Hoga market names (`BTC-USDT`) may carry any separator, so
// the gateway refuses to list a market whose joined name another market already has
// (SYMBOL_NAME_COLLISION, src/gateway/admin.ts); here each joined name resolves to one market.
import { joinedSymbolName, type Market, type MarketRegistry } from '../gateway/markets.js';
import { badSymbol, mandatoryParam } from './errors.js';

/** The Binance name of a Hoga market. */
export function binanceSymbol(market: Pick<Market, 'base' | 'quote'>): string {
  return joinedSymbolName(market.base, market.quote);
}

/** The lower-case form stream names use (`btcusdt@trade`). */
export function streamSymbol(market: Pick<Market, 'base' | 'quote'>): string {
  return binanceSymbol(market).toLowerCase();
}

/** The market a `symbol` parameter names; -1102 when absent, -1121 when unknown. */
export function marketOf(markets: MarketRegistry, symbol: unknown, name = 'symbol'): Market {
  if (typeof symbol !== 'string' || symbol.length === 0) throw mandatoryParam(name);
  const market = markets.marketByJoinedName(symbol);
  if (market === undefined) throw badSymbol();
  return market;
}

/** Longest `symbols` list accepted (Binance takes a few hundred; every market fits well below). */
export const symbolsParamMax = 1_000;

/**
 * The markets a `symbols` parameter names: a JSON array of names (`["BTCUSDT","ETHUSDT"]`), as
 * Binance takes it. Malformed: -1102; an unknown name: -1121.
 */
export function marketsOf(markets: MarketRegistry, symbols: unknown): Market[] {
  if (typeof symbols !== 'string' || symbols.length === 0) throw mandatoryParam('symbols');
  let names: unknown;
  try {
    names = JSON.parse(symbols);
  } catch {
    throw mandatoryParam('symbols');
  }
  if (!Array.isArray(names) || names.length === 0 || names.length > symbolsParamMax)
    throw mandatoryParam('symbols');
  return names.map((name) => marketOf(markets, name, 'symbols'));
}

/** Every market in Binance-name order, or the ones `symbol` / `symbols` name. */
export function selectedMarkets(
  markets: MarketRegistry,
  query: { symbol?: unknown; symbols?: unknown },
): Market[] {
  if (query.symbol !== undefined) return [marketOf(markets, query.symbol)];
  if (query.symbols !== undefined) return marketsOf(markets, query.symbols);
  return markets
    .all()
    .filter((market) => markets.marketByJoinedName(binanceSymbol(market)) === market)
    .sort((left, right) => compare(binanceSymbol(left), binanceSymbol(right)));
}

function compare(left: string, right: string): number {
  return left < right ? -1 : left > right ? 1 : 0;
}
