// Publishes to a JetStream stream and matches the PubAcks itself: every publish carries a reply
// subject under one inbox this publisher subscribes to once (`<inbox>.<n>`), and one timer sweeps
// the deadlines. The client's js.publish makes each publish a request with its own timer, its own
// mux entry and an Error built when that entry is cancelled after a success: most of the CPU a
// publish costs at a few thousand per second. The answers are the same as js.publish's: a PubAck,
// a JetStreamApiError (wrong last sequence 10071, …) or an error when no stream answers in time.
import { JetStreamApiError, type PubAck } from '@nats-io/jetstream';
import {
  createInbox,
  headers,
  type Msg,
  type NatsConnection,
  type Subscription,
} from '@nats-io/transport-node';
import { ClusterError } from './errors.js';

export interface AckedPublishOptions {
  /** Nats-Msg-Id: the stream stores a message with an id it has seen only once. */
  msgID?: string;
  /** Nats-Expected-Last-Sequence: stored only when the stream's last sequence is this. */
  expectLastSequence?: number;
  timeoutMs: number;
}

interface Waiting {
  resolve: (ack: PubAck) => void;
  reject: (error: Error) => void;
  deadline: number;
}

/** How often deadlines are checked: a publish times out between timeoutMs and timeoutMs + this. */
const sweepMs = 50;
const decoder = new TextDecoder();

export class AckedPublisher {
  private readonly inbox = createInbox();
  private readonly waiting = new Map<number, Waiting>();
  private readonly subscription: Subscription;
  private readonly sweeper: NodeJS.Timeout;
  private published = 0;
  private closed = false;

  constructor(private readonly nc: NatsConnection) {
    this.subscription = nc.subscribe(`${this.inbox}.*`, {
      callback: (error, message) => {
        if (error === null) this.answer(message);
      },
    });
    this.sweeper = setInterval(() => this.sweep(), sweepMs);
    this.sweeper.unref();
  }

  /** Publishes awaiting an answer (bounded by the callers: the replica's window, pendingMax). */
  get inFlight(): number {
    return this.waiting.size;
  }

  publish(subject: string, data: Uint8Array, options: AckedPublishOptions): Promise<PubAck> {
    if (this.closed) return Promise.reject(new ClusterError('PUBLISHER_CLOSED', 'the publisher is closed'));
    const token = ++this.published;
    const fields = headers();
    if (options.msgID !== undefined) fields.set('Nats-Msg-Id', options.msgID);
    if (options.expectLastSequence !== undefined)
      fields.set('Nats-Expected-Last-Sequence', String(options.expectLastSequence));
    return new Promise<PubAck>((resolve, reject) => {
      this.waiting.set(token, { resolve, reject, deadline: performance.now() + options.timeoutMs });
      try {
        this.nc.publish(subject, data, { reply: `${this.inbox}.${token}`, headers: fields });
      } catch (error) {
        this.waiting.delete(token);
        reject(error as Error);
      }
    });
  }

  private answer(message: Msg): void {
    const token = Number(message.subject.slice(this.inbox.length + 1));
    const waiting = this.waiting.get(token);
    if (waiting === undefined) return; // timed out already
    this.waiting.delete(token);
    if (message.data.length === 0 && message.headers?.code === 503) {
      waiting.reject(new ClusterError('NO_STREAM', 'no stream answered the publish (no responders)'));
      return;
    }
    let reply: Partial<PubAck> & { error?: ConstructorParameters<typeof JetStreamApiError>[0] };
    try {
      reply = JSON.parse(decoder.decode(message.data));
    } catch {
      waiting.reject(new ClusterError('PUBACK_UNREADABLE', 'the stream answered with something not JSON'));
      return;
    }
    if (reply.error !== undefined) {
      waiting.reject(new JetStreamApiError(reply.error));
    } else if (typeof reply.stream !== 'string' || reply.stream === '' || !Number.isSafeInteger(reply.seq)) {
      waiting.reject(new ClusterError('PUBACK_UNREADABLE', 'the stream answered without stream or seq'));
    } else {
      waiting.resolve({
        stream: reply.stream,
        seq: reply.seq as number,
        duplicate: reply.duplicate === true,
        domain: reply.domain,
      });
    }
  }

  private sweep(): void {
    const now = performance.now();
    for (const [token, waiting] of this.waiting) {
      if (waiting.deadline > now) continue;
      this.waiting.delete(token);
      waiting.reject(new ClusterError('PUBLISH_TIMEOUT', 'no PubAck within the timeout'));
    }
  }

  /** Rejects every publish still waiting; later answers are ignored. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.sweeper);
    if (!this.nc.isClosed()) this.subscription.unsubscribe();
    for (const waiting of this.waiting.values())
      waiting.reject(new ClusterError('PUBLISHER_CLOSED', 'the publisher closed before the PubAck'));
    this.waiting.clear();
  }
}
