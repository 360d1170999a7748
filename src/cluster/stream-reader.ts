// Reads one stream in order from a given sequence, for as long as it runs, across NATS node
// failures. An ordered consumer alone did not recover after the node it was bound to was
// SIGKILLed, so this reader watches it: `consume()` with an idle heartbeat, and after two missed
// heartbeats, a consumer error or the end of the message iterator, a new ordered consumer starts
// at the last processed sequence + 1. The handler runs one message at a time (it may be async);
// messages below the next expected sequence (a redelivery after a recreate) are skipped, so the
// handler sees every sequence exactly once and in order.
import { type ConsumerMessages, DeliverPolicy, type JetStreamClient } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Logger } from 'pino';

export interface StreamMessage {
  seq: number;
  data: Uint8Array;
  /** When the stream stored the message, ms since the epoch. */
  timeMs: number;
  /** Nats-Msg-Id header, or undefined. */
  msgId: string | undefined;
}

export interface StreamReaderOptions {
  js: JetStreamClient;
  /** The connection under `js`: a reconnect (to another node) recreates the consumer at once. */
  nc?: NatsConnection;
  stream: string;
  /** First sequence to deliver. */
  fromSeq: number;
  heartbeatMs: number;
  logger: Logger;
  handle: (message: StreamMessage) => void | Promise<void>;
  /** Messages the server may push ahead of the handler. */
  bufferedMessagesMax?: number;
}

/** Wait before recreating after a failure, doubling up to the maximum (a node restarting). */
const retryDelayMsMin = 100;
const retryDelayMsMax = 2_000;

export class StreamReader {
  private nextSeq: number;
  private closed = false;
  private messages: ConsumerMessages | undefined;
  private readonly running: Promise<void>;
  private stopRetryWait: (() => void) | undefined;
  /** Consumers created so far (1 + recreations). */
  consumersCreated = 0;

  constructor(private readonly options: StreamReaderOptions) {
    this.nextSeq = options.fromSeq;
    this.running = this.run();
    if (options.nc !== undefined) void this.watchReconnects(options.nc);
  }

  /**
   * After a reconnect the consumer may have lived on the node that died (its pull requests then
   * go nowhere, and heartbeats are not tracked while disconnected): start a new one.
   */
  private async watchReconnects(nc: NatsConnection): Promise<void> {
    for await (const status of nc.status()) {
      if (this.closed) return;
      if (status.type === 'reconnect') {
        this.options.logger.warn(
          { stream: this.options.stream, nextSeq: this.nextSeq },
          'reconnected; recreating the consumer',
        );
        this.messages?.stop();
      }
    }
  }

  /** The next sequence the handler will see. */
  get position(): number {
    return this.nextSeq;
  }

  private async run(): Promise<void> {
    let delayMs = retryDelayMsMin;
    while (!this.closed) {
      try {
        await this.readOnce();
        delayMs = retryDelayMsMin;
      } catch (error) {
        if (this.closed) return;
        this.options.logger.warn(
          { err: error, stream: this.options.stream, nextSeq: this.nextSeq },
          'stream reader failed; recreating the consumer',
        );
      }
      if (this.closed) return;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delayMs);
        this.stopRetryWait = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      delayMs = Math.min(delayMs * 2, retryDelayMsMax);
    }
  }

  private async readOnce(): Promise<void> {
    const { js, stream, heartbeatMs, logger } = this.options;
    const consumer = await js.consumers.get(stream, {
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: this.nextSeq,
    });
    this.consumersCreated++;
    const messages = await consumer.consume({
      idle_heartbeat: heartbeatMs,
      max_messages: this.options.bufferedMessagesMax ?? 1_024,
      expires: Math.max(heartbeatMs * 5, 1_000),
    });
    this.messages = messages;
    if (this.closed) {
      messages.stop();
      return;
    }
    // Watches the consumer: two missed heartbeats end this consumer (the loop makes a new one).
    (async () => {
      for await (const status of messages.status()) {
        if (status.type === 'heartbeats_missed' && status.count >= 2) {
          logger.warn({ stream, nextSeq: this.nextSeq }, 'stream heartbeats missed; recreating the consumer');
          messages.stop();
          return;
        }
      }
    })().catch(() => {});
    for await (const message of messages) {
      if (this.closed) break;
      const seq = message.seq;
      if (seq < this.nextSeq) continue;
      if (seq > this.nextSeq) {
        // A gap means this consumer cannot be trusted: start over at the missing sequence.
        logger.warn({ stream, seq, expected: this.nextSeq }, 'stream gap; recreating the consumer');
        messages.stop();
        break;
      }
      await this.options.handle({
        seq,
        data: message.data,
        timeMs: Number(message.timestampNanos / 1_000_000n),
        msgId: message.headers?.get('Nats-Msg-Id') || undefined,
      });
      this.nextSeq = seq + 1;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.messages?.stop();
    this.stopRetryWait?.();
    await this.running;
  }
}
