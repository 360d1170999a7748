// The demo's markets and accounts, in human units. Converted to engine integers with the
// gateway's exact decimal conversion, so a demo market is listed exactly as an admin would list it.
import { amountToMinor, type MarketScale, marketScale } from '../gateway/decimal.js';
import type { DecimalSymbolCommand } from '../gateway/markets.js';

export interface DemoMarketSpec {
  symbol: string;
  base: string;
  quote: string;
  baseDecimals: number;
  quoteDecimals: number;
  lotSize: string;
  tickSize: string;
  makerFeeBps: number;
  takerFeeBps: number;
  /** Where the reference price starts, in quote units per base unit (a multiple of the tick). */
  startPrice: string;
  /** Of the simulated reference quotes (ISO 3166-1 alpha-2 and IANA zone). */
  country: string;
  timezone: string;
  /** Lots per maker order: uniformly in [lotsMin, lotsMax]. */
  lotsMin: number;
  lotsMax: number;
}

export const demoMarketSpecs: readonly DemoMarketSpec[] = [
  {
    symbol: 'BTC-USDT',
    base: 'BTC',
    quote: 'USDT',
    baseDecimals: 8,
    quoteDecimals: 6,
    lotSize: '0.0001',
    tickSize: '0.01',
    makerFeeBps: 2,
    takerFeeBps: 5,
    startPrice: '64250.00',
    country: 'KR',
    timezone: 'UTC',
    lotsMin: 5,
    lotsMax: 400,
  },
  {
    symbol: 'ETH-USDT',
    base: 'ETH',
    quote: 'USDT',
    baseDecimals: 8,
    quoteDecimals: 6,
    lotSize: '0.001',
    tickSize: '0.01',
    makerFeeBps: 2,
    takerFeeBps: 5,
    startPrice: '3180.00',
    country: 'KR',
    timezone: 'UTC',
    lotsMin: 10,
    lotsMax: 3_000,
  },
  {
    symbol: 'HOGA-KRW',
    base: 'HOGA',
    quote: 'KRW',
    baseDecimals: 0,
    quoteDecimals: 0,
    lotSize: '1',
    tickSize: '10',
    makerFeeBps: 0,
    takerFeeBps: 3,
    startPrice: '12340',
    country: 'KR',
    timezone: 'Asia/Seoul',
    lotsMin: 1,
    lotsMax: 250,
  },
];

/** What every demo account is funded with, per asset (human units). */
export const demoFunding: Readonly<Record<string, string>> = {
  BTC: '50',
  ETH: '800',
  USDT: '5000000',
  HOGA: '200000',
  KRW: '3000000000',
};

/**
 * What an account registered while demo mode runs starts with (human units): enough to try every
 * market at the demo's prices, much less than the demo's own accounts hold. Deposited once, at
 * registration, as deposit commands (journaled like an administrator's deposit).
 */
export const newcomerFunding: Readonly<Record<string, string>> = {
  BTC: '1',
  ETH: '10',
  USDT: '100000',
  HOGA: '1000',
  KRW: '20000000',
};

export interface DemoMarket {
  spec: DemoMarketSpec;
  scale: MarketScale;
  /** The reference price in ticks. */
  startTicks: number;
}

export function demoMarket(spec: DemoMarketSpec): DemoMarket {
  const scale = marketScale(spec);
  if (!scale.ok) throw new Error(`DEMO_MARKET_INVALID: ${spec.symbol} ${scale.field} ${scale.message}`);
  const start = amountToMinor(spec.startPrice, scale.value.tick.scale);
  if (!start.ok) throw new Error(`DEMO_MARKET_INVALID: ${spec.symbol} startPrice ${start.message}`);
  const tickUnits = Number(scale.value.tick.units);
  if (start.value % tickUnits !== 0)
    throw new Error(`DEMO_MARKET_INVALID: ${spec.symbol} startPrice off tick`);
  return { spec, scale: scale.value, startTicks: start.value / tickUnits };
}

/** The `symbol` command exactly as the admin route journals it (engine fields + decimal spec). */
export function symbolCommand(market: DemoMarket): DecimalSymbolCommand {
  const { spec, scale } = market;
  return {
    op: 'symbol',
    symbol: spec.symbol,
    base: spec.base,
    quote: spec.quote,
    lotSize: scale.lotSizeMinor,
    tickSize: scale.tickSizeMinor,
    makerFeeBps: spec.makerFeeBps,
    takerFeeBps: spec.takerFeeBps,
    baseDecimals: spec.baseDecimals,
    quoteDecimals: spec.quoteDecimals,
    lotSizeDecimal: spec.lotSize,
    tickSizeDecimal: spec.tickSize,
    timezone: spec.timezone,
  };
}

/** Funding target per asset in minor units (of `funding`: the demo's accounts by default). */
export function fundingMinor(
  asset: string,
  decimals: number,
  funding: Readonly<Record<string, string>> = demoFunding,
): number {
  const amount = funding[asset];
  if (amount === undefined) return 0;
  const minor = amountToMinor(amount, decimals);
  if (!minor.ok) throw new Error(`DEMO_FUNDING_INVALID: ${asset} ${minor.message}`);
  return minor.value;
}
