// The adapter interface every external quote source implements.
import type { Quote } from '../ingest.js';

/** Where a feed delivers: QuoteIngest. `push` is false when the ring is full. */
export interface QuoteTarget {
  push(quote: Quote): boolean;
  whenDrained(): Promise<void>;
}

export interface QuoteFeedStats {
  delivered: number;
  /** Lines that did not parse. */
  malformed: number;
  /** Times the feed waited for the ingest ring to drain. */
  waits: number;
  /** Connections made again after one was lost or failed (TCP only). */
  reconnects: number;
}

export interface QuoteFeed {
  /** Delivers quotes until the source ends or `stop` is called. */
  run(target: QuoteTarget): Promise<QuoteFeedStats>;
  /** The figures so far, while it runs (for /metrics). */
  stats(): QuoteFeedStats;
  stop(): void;
}

/**
 * Pushes a quote; when the ring is full, returns a promise that resolves once it got in (a feed
 * never drops a quote itself). Undefined means it went in at once, so the hot path makes no promise.
 */
export function deliver(target: QuoteTarget, quote: Quote, stats: QuoteFeedStats): Promise<void> | undefined {
  if (target.push(quote)) {
    stats.delivered += 1;
    return undefined;
  }
  return deliverLater(target, quote, stats);
}

async function deliverLater(target: QuoteTarget, quote: Quote, stats: QuoteFeedStats): Promise<void> {
  do {
    stats.waits += 1;
    await target.whenDrained();
  } while (!target.push(quote));
  stats.delivered += 1;
}
