// The decimals registry: which markets exist, in human units. It is rebuilt only from applied
// `symbol` commands (live and during replay), whose extra fields carry the admin's decimal spec;
// there is no second write path, so the registry always agrees with the engine.
import type { SymbolCommand } from '../core/types.js';
import type { CommandOutcome } from '../ports.js';
import { type MarketScale, type MarketSpec, marketScale } from './decimal.js';

/** The `symbol` command as the gateway journals it: engine fields plus the human spec. */
export interface DecimalSymbolCommand extends SymbolCommand {
  baseDecimals: number;
  quoteDecimals: number;
  lotSizeDecimal: string;
  tickSizeDecimal: string;
  /** IANA timezone: daily and weekly candles close at its local midnight. */
  timezone?: string;
}

export interface Market {
  symbol: string;
  base: string;
  quote: string;
  makerFeeBps: number;
  takerFeeBps: number;
  scale: MarketScale;
}

/** Snapshot form: each market with the decimal spec it was listed with, and every asset's decimals. */
export interface MarketRegistryState {
  markets: Array<Omit<Market, 'scale'> & { spec: MarketSpec }>;
  assetDecimals: Array<[asset: string, decimals: number]>;
}

/**
 * A market's name without a separator, upper case: `BTC` + `USDT` → `BTCUSDT`. Binance-compatible
 * clients name markets this way, so two markets whose joined names are equal (`BTC-USDT` and
 * `BTCU-SDT`, or two listings of one pair) cannot both be listed (SYMBOL_NAME_COLLISION).
 */
export function joinedSymbolName(base: string, quote: string): string {
  return `${base}${quote}`.toUpperCase();
}

export class MarketRegistry {
  private readonly markets = new Map<string, Market>();
  private readonly byJoinedName = new Map<string, Market>();
  private readonly assetDecimals = new Map<string, number>();

  market(symbol: string): Market | undefined {
    return this.markets.get(symbol);
  }

  /** The market whose base and quote join to `name` (any case), the first listed when a journal holds two. */
  marketByJoinedName(name: string): Market | undefined {
    return this.byJoinedName.get(name.toUpperCase());
  }

  all(): Market[] {
    return [...this.markets.values()];
  }

  decimalsOf(asset: string): number | undefined {
    return this.assetDecimals.get(asset);
  }

  /** Plain data for a snapshot; the scale (with its bigint decimals) is derived again on restore. */
  exportState(): MarketRegistryState {
    return {
      markets: this.all().map(({ scale, ...market }) => ({ ...market, spec: { ...scale.spec } })),
      assetDecimals: [...this.assetDecimals],
    };
  }

  /** Replaces the registry (recovery, before the tail replays); throws on a spec that does not scale. */
  restoreState(state: unknown): void {
    const { markets, assetDecimals } = state as Partial<MarketRegistryState>;
    if (!Array.isArray(markets) || !Array.isArray(assetDecimals))
      throw new Error('market registry state: markets and assetDecimals expected');
    const restored = new Map<string, Market>();
    for (const { spec, ...market } of markets) {
      const scale = marketScale(spec);
      if (!scale.ok) throw new Error(`market registry state: ${market.symbol}: ${scale.message}`);
      restored.set(market.symbol, { ...market, scale: scale.value });
    }
    this.markets.clear();
    this.byJoinedName.clear();
    for (const [symbol, market] of restored) this.add(symbol, market);
    this.assetDecimals.clear();
    for (const [asset, decimals] of assetDecimals) this.assetDecimals.set(asset, decimals);
  }

  /** Feeds the registry from one applied command; ignores everything but accepted symbols. */
  apply(outcome: CommandOutcome): void {
    const command = outcome.command as Partial<DecimalSymbolCommand>;
    if (command.op !== 'symbol' || !outcome.events.some((event) => event.ev === 'symbolAdded')) return;
    const spec: MarketSpec = {
      baseDecimals: command.baseDecimals as number,
      quoteDecimals: command.quoteDecimals as number,
      lotSize: command.lotSizeDecimal as string,
      tickSize: command.tickSizeDecimal as string,
    };
    const scale = marketScale(spec);
    // A symbol journaled without a decimal spec (by another tool) stays invisible to the gateway.
    if (!scale.ok) return;
    const symbol = command as DecimalSymbolCommand;
    this.assetDecimals.set(symbol.base, spec.baseDecimals);
    this.assetDecimals.set(symbol.quote, spec.quoteDecimals);
    this.add(symbol.symbol, {
      symbol: symbol.symbol,
      base: symbol.base,
      quote: symbol.quote,
      makerFeeBps: symbol.makerFeeBps,
      takerFeeBps: symbol.takerFeeBps,
      scale: scale.value,
    });
  }

  private add(symbol: string, market: Market): void {
    this.markets.set(symbol, market);
    const joined = joinedSymbolName(market.base, market.quote);
    if (!this.byJoinedName.has(joined)) this.byJoinedName.set(joined, market);
  }
}
