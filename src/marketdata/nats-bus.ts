// The scaled-out MarketDataBus: market data published on NATS subjects, so builders in one
// process feed the hubs of every gateway. NATS keeps the order of one publisher's messages on a
// subject, so per-channel order holds. Each gateway's hub numbers channel messages itself; a
// client that moves to another gateway sees another epoch and gets a reset snapshot.
import { connect, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import { busListenersMax, type MarketDataBus } from './bus.js';
import type { ChannelPublisher } from './hub.js';

export const natsBusSubjectPrefixDefault = 'hoga.md';

/** Whitespace, wildcards and empty tokens cannot be in a NATS subject. */
const invalidSubjectPattern = /[\s*>]|\.\.|^\.|\.$/;

export interface NatsBusOptions {
  servers: string | string[];
  /** Subjects are `<prefix>.<channel>`: channel dots become subject tokens. */
  subjectPrefix?: string;
}

export class NatsMarketDataBus implements MarketDataBus {
  private readonly listeners: ChannelPublisher[] = [];
  private readonly prefix: string;
  private subscription: Subscription | undefined;
  /** Channels whose names cannot be NATS subjects (a symbol with a space, say): not published. */
  unpublishable = 0;

  private constructor(
    private readonly connection: NatsConnection,
    subjectPrefix: string,
  ) {
    this.prefix = `${subjectPrefix}.`;
  }

  static async connect(options: NatsBusOptions): Promise<NatsMarketDataBus> {
    const connection = await connect({ servers: options.servers });
    return new NatsMarketDataBus(connection, options.subjectPrefix ?? natsBusSubjectPrefixDefault);
  }

  publish(channel: string, data: unknown): void {
    if (invalidSubjectPattern.test(channel)) {
      this.unpublishable += 1;
      return;
    }
    this.connection.publish(this.prefix + channel, JSON.stringify(data));
  }

  /** Remote hubs may watch any channel: publishers cannot skip building messages. */
  isWatched(): boolean {
    return true;
  }

  subscribe(listener: ChannelPublisher): () => void {
    if (this.listeners.length >= busListenersMax) throw new Error('MARKETDATA_BUS_LISTENERS_MAX');
    this.listeners.push(listener);
    this.subscription ??= this.connection.subscribe(`${this.prefix}>`, {
      callback: (error, message) => {
        if (error !== null) return;
        const channel = message.subject.slice(this.prefix.length);
        // Parsed once, only when some local listener watches the channel.
        let data: unknown;
        for (const local of this.listeners) {
          if (!local.isWatched(channel)) continue;
          data ??= message.json();
          local.publish(channel, data);
        }
      },
    });
    return () => {
      const index = this.listeners.indexOf(listener);
      if (index >= 0) this.listeners.splice(index, 1);
    };
  }

  /** Resolves once everything published so far has reached the server. */
  flush(): Promise<void> {
    return this.connection.flush();
  }

  async close(): Promise<void> {
    await this.connection.drain();
  }
}
