// A line-based TCP feed client: connects, reads NDJSON or CSV quotes one per line, and when the
// connection fails or the server closes it, connects again after an exponential backoff (capped,
// with jitter, so many clients of one restarted server do not come back in step), until `stop`.
// Reading with `for await` applies backpressure: no chunk is read while a quote waits for room.
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { deliver, type QuoteFeed, type QuoteFeedStats, type QuoteTarget } from './feed.js';
import { parseQuoteLine, type QuoteLineOptions, quoteLineBytesMax } from './quote-line.js';

export interface TcpFeedOptions extends QuoteLineOptions {
  host: string;
  port: number;
  /** The first reconnect delay; it doubles per failed attempt. */
  reconnectDelayMs?: number;
  /** The delay never passes this. */
  reconnectDelayMaxMs?: number;
  /** Reconnects in a row without a successful connection before `run` gives up (Infinity: never). */
  reconnectAttemptsMax?: number;
  /** An integer in [0, boundMs): the random half of each delay. Injectable for tests. */
  jitterMs?: (boundMs: number) => number;
  /** Told of every lost connection and the delay before the next attempt (for the log). */
  onDisconnect?: (error: unknown, delayMs: number) => void;
}

export const tcpFeedDefaults = {
  reconnectDelayMs: 100,
  reconnectDelayMaxMs: 30_000,
  reconnectAttemptsMax: Number.POSITIVE_INFINITY,
};

/** Equal jitter: half the capped exponential delay, plus a random part of the other half. */
export function reconnectDelayMs(
  attempt: number,
  firstMs: number,
  maxMs: number,
  jitterMs: (boundMs: number) => number,
): number {
  const cappedMs = Math.min(maxMs, firstMs * 2 ** Math.min(attempt, 30));
  const halfMs = Math.floor(cappedMs / 2);
  return cappedMs - halfMs + jitterMs(halfMs + 1);
}

function randomJitterMs(boundMs: number): number {
  return Math.floor(Math.random() * boundMs);
}

export class TcpQuoteFeed implements QuoteFeed {
  private socket: Socket | undefined;
  private stopped = false;
  /** Whether the current session got connected: then the backoff starts over. */
  private connected = false;
  private readonly waiting = new AbortController();
  private readonly counters: QuoteFeedStats = { delivered: 0, malformed: 0, waits: 0, reconnects: 0 };

  constructor(private readonly options: TcpFeedOptions) {}

  async run(target: QuoteTarget): Promise<QuoteFeedStats> {
    const firstMs = this.options.reconnectDelayMs ?? tcpFeedDefaults.reconnectDelayMs;
    const maxMs = this.options.reconnectDelayMaxMs ?? tcpFeedDefaults.reconnectDelayMaxMs;
    const attemptsMax = this.options.reconnectAttemptsMax ?? tcpFeedDefaults.reconnectAttemptsMax;
    const jitter = this.options.jitterMs ?? randomJitterMs;
    let attempt = 0;
    while (!this.stopped) {
      let failure: unknown;
      this.connected = false;
      try {
        await this.session(target);
      } catch (error) {
        failure = error;
      }
      if (this.connected) attempt = 0;
      if (this.stopped || attempt >= attemptsMax) break;
      const delayMs = reconnectDelayMs(attempt, firstMs, maxMs, jitter);
      attempt += 1;
      this.options.onDisconnect?.(failure, delayMs);
      await sleep(delayMs, undefined, { signal: this.waiting.signal }).catch(() => undefined);
      if (!this.stopped) this.counters.reconnects += 1;
    }
    return this.stats();
  }

  stats(): QuoteFeedStats {
    return { ...this.counters };
  }

  stop(): void {
    this.stopped = true;
    this.waiting.abort();
    // With an error, so a connection attempt still waiting for 'connect' ends too.
    this.socket?.destroy(new Error('QUOTE_FEED_STOPPED'));
  }

  /** One connection, read to its end. */
  private async session(target: QuoteTarget): Promise<void> {
    const socket = connect({ host: this.options.host, port: this.options.port });
    this.socket = socket;
    socket.setEncoding('utf8');
    try {
      await once(socket, 'connect');
    } catch (error) {
      socket.destroy();
      throw error;
    }
    this.connected = true;
    let partial = '';
    try {
      for await (const chunk of socket as AsyncIterable<string>) {
        const lines = (partial + chunk).split('\n');
        partial = lines.pop() ?? '';
        // A line longer than the bound is dropped rather than buffered without limit.
        if (partial.length > quoteLineBytesMax) {
          this.counters.malformed += 1;
          partial = '';
        }
        for (const line of lines) await this.deliverLine(line, target);
      }
    } catch (error) {
      // A broken connection's unfinished line may be cut anywhere: it is not delivered.
      if (!this.stopped) throw error;
      return;
    }
    await this.deliverLine(partial, target);
  }

  private async deliverLine(line: string, target: QuoteTarget): Promise<void> {
    if (line.trim().length === 0) return;
    const quote = parseQuoteLine(line, this.options);
    if (typeof quote === 'string') {
      if (quote !== 'HEADER') this.counters.malformed += 1;
      return;
    }
    const waiting = deliver(target, quote, this.counters);
    if (waiting !== undefined) await waiting;
  }
}
