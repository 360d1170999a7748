// A line-based TCP feed client: connects, reads NDJSON or CSV quotes one per line, and ends when
// the server closes the connection (or `stop` is called). Reconnecting is the caller's policy.
import { connect, type Socket } from 'node:net';
import { deliver, type QuoteFeed, type QuoteFeedStats, type QuoteTarget } from './feed.js';
import { parseQuoteLine, quoteLineBytesMax } from './quote-line.js';

export interface TcpFeedOptions {
  host: string;
  port: number;
}

export class TcpQuoteFeed implements QuoteFeed {
  private socket: Socket | undefined;
  /** Settles when lines held back by backpressure have been delivered. */
  private backlog: Promise<void> = Promise.resolve();

  constructor(private readonly options: TcpFeedOptions) {}

  run(target: QuoteTarget): Promise<QuoteFeedStats> {
    const stats: QuoteFeedStats = { delivered: 0, malformed: 0, waits: 0 };
    return new Promise((resolve, reject) => {
      const socket = connect({ host: this.options.host, port: this.options.port });
      this.socket = socket;
      socket.setEncoding('utf8');
      let partial = '';
      socket.on('data', (chunk: string) => {
        const lines = (partial + chunk).split('\n');
        partial = lines.pop() ?? '';
        // A line longer than the bound is dropped rather than buffered without limit.
        if (partial.length > quoteLineBytesMax) {
          stats.malformed += 1;
          partial = '';
        }
        this.deliverLines(socket, lines, target, stats);
      });
      socket.on('error', reject);
      socket.on('close', () => {
        void this.backlog.then(() => resolve(stats));
      });
    });
  }

  stop(): void {
    this.socket?.destroy();
  }

  /** Returns false when it paused the socket to wait for the ring; it resumes it itself later. */
  private deliverLines(socket: Socket, lines: string[], target: QuoteTarget, stats: QuoteFeedStats): boolean {
    for (let index = 0; index < lines.length; index += 1) {
      if (lines[index].trim().length === 0) continue;
      const quote = parseQuoteLine(lines[index]);
      if (typeof quote === 'string') {
        if (quote !== 'HEADER') stats.malformed += 1;
        continue;
      }
      const waiting = deliver(target, quote, stats);
      if (waiting !== undefined) {
        // Backpressure: stop reading until the ring drained, then carry on with the rest.
        socket.pause();
        this.backlog = waiting.then(() => {
          if (this.deliverLines(socket, lines.slice(index + 1), target, stats)) socket.resume();
        });
        return false;
      }
    }
    return true;
  }
}
