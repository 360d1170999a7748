// The outcomes already stored in `<prefix>_EVT`, read in bulk for an engine replica that is behind:
// one ordered consumer delivers them in sequence order instead of a failed fenced append plus one
// direct get per command (two round trips each). The replica takes each sequence once, in order;
// what the consumer delivers ahead of the replica waits in a bounded buffer (the consumer is held
// while it is full), so memory stays bounded however far behind the replica is.
import type { JetStreamClient } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import { ClusterError } from './errors.js';
import { StreamReader } from './stream-reader.js';

export interface StoredOutcomesOptions {
  js: JetStreamClient;
  nc: NatsConnection;
  evtStream: string;
  fromSeq: number;
  heartbeatMs: number;
  logger: Logger;
  /** Outcomes delivered but not taken yet, at most. */
  bufferedMax?: number;
}

interface Waiter {
  resolve: (data: Uint8Array) => void;
  reject: (error: Error) => void;
}

export class StoredOutcomes {
  private readonly buffered = new Map<number, Uint8Array>();
  private readonly waiters = new Map<number, Waiter>();
  private readonly bufferedMax: number;
  private readonly reader: StreamReader;
  private spaceFreed: (() => void) | undefined;
  private closed = false;
  /** Outcomes handed to the replica. */
  taken = 0;

  constructor(options: StoredOutcomesOptions) {
    this.bufferedMax = options.bufferedMax ?? 4_096;
    this.reader = new StreamReader({
      js: options.js,
      nc: options.nc,
      stream: options.evtStream,
      fromSeq: options.fromSeq,
      heartbeatMs: options.heartbeatMs,
      logger: options.logger,
      handle: (message) => this.deliver(message.seq, message.data),
    });
  }

  private async deliver(seq: number, data: Uint8Array): Promise<void> {
    const waiter = this.waiters.get(seq);
    if (waiter !== undefined) {
      this.waiters.delete(seq);
      this.taken++;
      waiter.resolve(data);
      return;
    }
    this.buffered.set(seq, data);
    // Hold the consumer until the replica takes something (it takes in order, so it frees space).
    while (this.buffered.size >= this.bufferedMax && !this.closed) {
      await new Promise<void>((resolve) => {
        this.spaceFreed = resolve;
      });
    }
  }

  /** The stored outcome at `seq` (every sequence is taken once, in increasing order). */
  take(seq: number): Promise<Uint8Array> {
    if (this.closed) return Promise.reject(closedError());
    const data = this.buffered.get(seq);
    if (data !== undefined) {
      this.buffered.delete(seq);
      this.taken++;
      const freed = this.spaceFreed;
      this.spaceFreed = undefined;
      freed?.();
      return Promise.resolve(data);
    }
    return new Promise<Uint8Array>((resolve, reject) => {
      this.waiters.set(seq, { resolve, reject });
    });
  }

  /** Stops the consumer; takes still waiting fail (the replica is stopping). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.spaceFreed?.();
    this.spaceFreed = undefined;
    for (const waiter of this.waiters.values()) waiter.reject(closedError());
    this.waiters.clear();
    this.buffered.clear();
    await this.reader.close();
  }
}

function closedError(): ClusterError {
  return new ClusterError('STORED_OUTCOMES_CLOSED', 'the stored outcomes reader was closed');
}
