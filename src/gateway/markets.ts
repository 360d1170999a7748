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

export class MarketRegistry {
  private readonly markets = new Map<string, Market>();
  private readonly assetDecimals = new Map<string, number>();

  market(symbol: string): Market | undefined {
    return this.markets.get(symbol);
  }

  all(): Market[] {
    return [...this.markets.values()];
  }

  decimalsOf(asset: string): number | undefined {
    return this.assetDecimals.get(asset);
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
    this.markets.set(symbol.symbol, {
      symbol: symbol.symbol,
      base: symbol.base,
      quote: symbol.quote,
      makerFeeBps: symbol.makerFeeBps,
      takerFeeBps: symbol.takerFeeBps,
      scale: scale.value,
    });
  }
}
