// A simulated feed: a seeded random walk per symbol, at a configured rate. Same seed, same quotes.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Quote } from '../ingest.js';
import { deliver, type QuoteFeed, type QuoteFeedStats, type QuoteTarget } from './feed.js';

export interface SimulatedFeedOptions {
  seed: number;
  symbolCount: number;
  quotesPerSecond: number;
  /** Stop after this many quotes (Infinity: until stopped). */
  quotesMax?: number;
  /** Exchange time of the first quote; quotes are spaced evenly at the configured rate. */
  startNs?: bigint;
  country?: string;
  timezone?: string;
  /** How often a batch is released; each carries quotesPerSecond * tickMs / 1000 quotes. */
  tickMs?: number;
}

/** xorshift32: integer-only, tiny, and enough for a test walk. */
export class SeededRandom {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0 || 0x9e3779b9;
  }

  /** An integer in [0, bound). */
  below(bound: number): number {
    let value = this.state;
    value ^= value << 13;
    value ^= value >>> 17;
    value ^= value << 5;
    this.state = value >>> 0;
    return this.state % bound;
  }
}

export class SimulatedQuoteFeed implements QuoteFeed {
  private readonly random: SeededRandom;
  private readonly prices: number[];
  private readonly symbols: string[];
  private readonly stepNs: bigint;
  private nextNs: bigint;
  private produced = 0;
  private stopped = false;
  private readonly counters: QuoteFeedStats = { delivered: 0, malformed: 0, waits: 0, reconnects: 0 };

  constructor(private readonly options: SimulatedFeedOptions) {
    this.random = new SeededRandom(options.seed);
    this.symbols = Array.from({ length: options.symbolCount }, (_, index) => `SIM${index}`);
    this.prices = this.symbols.map(() => 10_000 + this.random.below(90_000));
    this.stepNs = BigInt(Math.max(1, Math.floor(1e9 / options.quotesPerSecond)));
    this.nextNs = options.startNs ?? BigInt(Date.now()) * 1_000_000n;
  }

  /** The next quote of the walk, without pacing (benchmarks and tests). */
  next(): Quote {
    const index = this.produced % this.symbols.length;
    this.produced += 1;
    const price = Math.max(1, this.prices[index] + this.random.below(5) - 2);
    this.prices[index] = price;
    const tsNs = this.nextNs;
    this.nextNs += this.stepNs;
    return {
      symbol: this.symbols[index],
      country: this.options.country ?? 'US',
      timezone: this.options.timezone ?? 'America/New_York',
      tsNs,
      price,
      size: 1 + this.random.below(500),
    };
  }

  async run(target: QuoteTarget): Promise<QuoteFeedStats> {
    const stats = this.counters;
    const tickMs = this.options.tickMs ?? 10;
    const perTick = Math.max(1, Math.round((this.options.quotesPerSecond * tickMs) / 1_000));
    const quotesMax = this.options.quotesMax ?? Number.POSITIVE_INFINITY;
    while (!this.stopped && this.produced < quotesMax) {
      for (let index = 0; index < perTick && this.produced < quotesMax; index += 1) {
        const waiting = deliver(target, this.next(), stats);
        if (waiting !== undefined) await waiting;
      }
      await sleep(tickMs);
    }
    return this.stats();
  }

  stats(): QuoteFeedStats {
    return { ...this.counters };
  }

  stop(): void {
    this.stopped = true;
  }
}
