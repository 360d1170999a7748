// A line-based TCP feed client: connects, reads NDJSON or CSV quotes one per line, and ends when
// the server closes the connection (or `stop` is called). Reconnecting is the caller's policy.
// Reading with `for await` applies backpressure: no chunk is read while a quote waits for room.
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { deliver, type QuoteFeed, type QuoteFeedStats, type QuoteTarget } from './feed.js';
import { parseQuoteLine, quoteLineBytesMax } from './quote-line.js';

export interface TcpFeedOptions {
  host: string;
  port: number;
}

export class TcpQuoteFeed implements QuoteFeed {
  private socket: Socket | undefined;
  private stopped = false;

  constructor(private readonly options: TcpFeedOptions) {}

  async run(target: QuoteTarget): Promise<QuoteFeedStats> {
    const stats: QuoteFeedStats = { delivered: 0, malformed: 0, waits: 0 };
    const socket = connect({ host: this.options.host, port: this.options.port });
    this.socket = socket;
    socket.setEncoding('utf8');
    await once(socket, 'connect');
    let partial = '';
    try {
      for await (const chunk of socket as AsyncIterable<string>) {
        const lines = (partial + chunk).split('\n');
        partial = lines.pop() ?? '';
        // A line longer than the bound is dropped rather than buffered without limit.
        if (partial.length > quoteLineBytesMax) {
          stats.malformed += 1;
          partial = '';
        }
        for (const line of lines) await this.deliverLine(line, target, stats);
      }
    } catch (error) {
      if (!this.stopped) throw error;
    }
    await this.deliverLine(partial, target, stats);
    return stats;
  }

  stop(): void {
    this.stopped = true;
    this.socket?.destroy();
  }

  private async deliverLine(line: string, target: QuoteTarget, stats: QuoteFeedStats): Promise<void> {
    if (line.trim().length === 0) return;
    const quote = parseQuoteLine(line);
    if (typeof quote === 'string') {
      if (quote !== 'HEADER') stats.malformed += 1;
      return;
    }
    const waiting = deliver(target, quote, stats);
    if (waiting !== undefined) await waiting;
  }
}
