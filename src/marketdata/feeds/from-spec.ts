// Chooses an external quote feed from one configuration string (`--quote-feed`, HOGA_QUOTE_FEED):
//   simulated[:SYMBOLS[:QUOTES_PER_SECOND[:SEED]]]   a seeded random walk (default 10 symbols, 1,000/s)
//   file:PATH[@SPEED]                                NDJSON or CSV replay (SPEED 1 = real time)
//   tcp:HOST:PORT                                    a line-based TCP feed (NDJSON or CSV lines),
//                                                    reconnecting with a capped exponential backoff
// Errors are values with a stable code, so a bad setting stops start-up with a clear message.

import type { QuoteFeed } from './feed.js';
import { FileReplayFeed, type FileReplayOptions } from './file-replay.js';
import { SimulatedQuoteFeed } from './simulated.js';
import { TcpQuoteFeed } from './tcp.js';

export type FeedSpecResult =
  | { ok: true; feed: QuoteFeed; description: string }
  | { ok: false; message: string };

const simulatedDefaults = { symbolCount: 10, quotesPerSecond: 1_000, seed: 1 };
/** Simulated symbols and rate stay within what one process ingests comfortably. */
const simulatedSymbolsMax = 1_000;
const simulatedQuotesPerSecondMax = 1_000_000;

function wholeNumber(text: string | undefined, fallback: number, max: number): number | undefined {
  if (text === undefined || text === '') return fallback;
  if (!/^[0-9]{1,9}$/.test(text)) return undefined;
  const value = Number(text);
  return value >= 1 && value <= max ? value : undefined;
}

function simulated(parts: string[]): FeedSpecResult {
  const symbolCount = wholeNumber(parts[0], simulatedDefaults.symbolCount, simulatedSymbolsMax);
  const quotesPerSecond = wholeNumber(
    parts[1],
    simulatedDefaults.quotesPerSecond,
    simulatedQuotesPerSecondMax,
  );
  const seed = wholeNumber(parts[2], simulatedDefaults.seed, 2 ** 31);
  if (symbolCount === undefined || quotesPerSecond === undefined || seed === undefined) {
    return { ok: false, message: 'simulated takes SYMBOLS, QUOTES_PER_SECOND and SEED as whole numbers' };
  }
  return {
    ok: true,
    feed: new SimulatedQuoteFeed({ seed, symbolCount, quotesPerSecond }),
    description: `simulated ${symbolCount} symbols at ${quotesPerSecond}/s (seed ${seed})`,
  };
}

function file(rest: string): FeedSpecResult {
  const at = rest.lastIndexOf('@');
  const path = at === -1 ? rest : rest.slice(0, at);
  const speedText = at === -1 ? undefined : rest.slice(at + 1);
  const speed = speedText === undefined ? 1 : Number(speedText);
  if (path === '' || !(speed > 0)) return { ok: false, message: 'file takes PATH[@SPEED] with SPEED > 0' };
  const options: FileReplayOptions = { path, speed };
  return { ok: true, feed: new FileReplayFeed(options), description: `file ${path} at ${speed}x` };
}

/** Hooks a feed reports through (the log). */
export interface FeedSpecHooks {
  onDisconnect?: (error: unknown, delayMs: number) => void;
}

function tcp(parts: string[], hooks: FeedSpecHooks): FeedSpecResult {
  const port = wholeNumber(parts[1], 0, 65_535);
  if (parts.length !== 2 || parts[0] === '' || port === undefined || port === 0) {
    return { ok: false, message: 'tcp takes HOST:PORT' };
  }
  return {
    ok: true,
    feed: new TcpQuoteFeed({ host: parts[0], port, onDisconnect: hooks.onDisconnect }),
    description: `tcp ${parts[0]}:${port}`,
  };
}

export function quoteFeedFromSpec(spec: string, hooks: FeedSpecHooks = {}): FeedSpecResult {
  const colon = spec.indexOf(':');
  const kind = colon === -1 ? spec : spec.slice(0, colon);
  const rest = colon === -1 ? '' : spec.slice(colon + 1);
  switch (kind) {
    case 'simulated':
      return simulated(rest === '' ? [] : rest.split(':'));
    case 'file':
      return file(rest);
    case 'tcp':
      return tcp(rest.split(':'), hooks);
    default:
      return {
        ok: false,
        message: 'the quote feed must be simulated[:...], file:PATH[@SPEED] or tcp:HOST:PORT',
      };
  }
}
