// Channel names: depth.<sym>, trades.<sym>, ticker.<sym>, candles.<sym>.<interval> (from trades),
// quotes.<sym>, quotecandles.<sym>.<interval> (from external quotes), and offerings.<id> (units
// left, published by the gateway's offerings state).
// The symbol is everything between the kind and (for candles) the last dot, so symbols may
// contain dots.
import { type CandleInterval, isCandleInterval } from './candles.js';

export const channelKinds = [
  'depth',
  'trades',
  'ticker',
  'candles',
  'quotes',
  'quotecandles',
  'offerings',
] as const;
export type ChannelKind = (typeof channelKinds)[number];

export const channelNameLengthMax = 96;

export interface ChannelName {
  name: string;
  kind: ChannelKind;
  symbol: string;
  /** Set for candles and quotecandles only. */
  interval?: CandleInterval;
}

/** Tickers and quotes are latest-value channels: a slow client gets the newest, not every one. */
export function isConflated(kind: ChannelKind): boolean {
  return kind === 'ticker' || kind === 'quotes' || kind === 'offerings';
}

export function parseChannel(name: string): ChannelName | undefined {
  if (name.length > channelNameLengthMax) return undefined;
  const kindEnd = name.indexOf('.');
  if (kindEnd <= 0) return undefined;
  const kind = name.slice(0, kindEnd);
  if (!(channelKinds as readonly string[]).includes(kind)) return undefined;
  let symbol = name.slice(kindEnd + 1);
  if (kind !== 'candles' && kind !== 'quotecandles') {
    return symbol.length === 0 ? undefined : { name, kind: kind as ChannelKind, symbol };
  }
  const intervalStart = symbol.lastIndexOf('.');
  if (intervalStart <= 0) return undefined;
  const interval = symbol.slice(intervalStart + 1);
  symbol = symbol.slice(0, intervalStart);
  if (!isCandleInterval(interval)) return undefined;
  return { name, kind, symbol, interval };
}

export function channelName(kind: Exclude<ChannelKind, 'candles' | 'quotecandles'>, symbol: string): string {
  return `${kind}.${symbol}`;
}
