// Replays a recorded NDJSON or CSV quote file, paced by the quotes' own timestamps divided by a
// speed factor (Infinity: as fast as the ingest takes them).
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { deliver, type QuoteFeed, type QuoteFeedStats, type QuoteTarget } from './feed.js';
import { parseQuoteLine, type QuoteLineOptions } from './quote-line.js';

export interface FileReplayOptions extends QuoteLineOptions {
  path: string;
  /** 1 = real time, 10 = ten times faster, Infinity = no pacing. */
  speed?: number;
}

/** Pauses shorter than this are folded into the next one: timers are not that precise. */
const pauseMsMin = 2;

export class FileReplayFeed implements QuoteFeed {
  private stopped = false;
  private readonly counters: QuoteFeedStats = { delivered: 0, malformed: 0, waits: 0, reconnects: 0 };

  constructor(private readonly options: FileReplayOptions) {}

  async run(target: QuoteTarget): Promise<QuoteFeedStats> {
    const stats = this.counters;
    const speed = this.options.speed ?? 1;
    const lines = createInterface({
      input: createReadStream(this.options.path),
      crlfDelay: Number.POSITIVE_INFINITY,
    });
    let firstNs: bigint | undefined;
    const startedMs = performance.now();
    for await (const line of lines) {
      if (this.stopped) break;
      if (line.trim().length === 0) continue;
      const quote = parseQuoteLine(line, this.options);
      if (typeof quote === 'string') {
        if (quote !== 'HEADER') stats.malformed += 1;
        continue;
      }
      firstNs ??= quote.tsNs;
      if (Number.isFinite(speed)) {
        const dueMs = Number((quote.tsNs - firstNs) / 1_000_000n) / speed;
        const aheadMs = dueMs - (performance.now() - startedMs);
        if (aheadMs >= pauseMsMin) await sleep(aheadMs);
      }
      const waiting = deliver(target, quote, stats);
      if (waiting !== undefined) await waiting;
    }
    lines.close();
    return this.stats();
  }

  stats(): QuoteFeedStats {
    return { ...this.counters };
  }

  stop(): void {
    this.stopped = true;
  }
}
