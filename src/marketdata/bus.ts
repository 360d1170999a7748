// The event bus between market-data producers (engine builders, quote ingest) and consumers
// (the channel hub, later a NATS bridge). The in-process default calls listeners synchronously,
// so per-channel order is publish order.
import type { ChannelPublisher } from './hub.js';

export interface MarketDataBus extends ChannelPublisher {
  /** Adds a consumer; returns the function that removes it. */
  subscribe(listener: ChannelPublisher): () => void;
}

export const busListenersMax = 64;

export class InProcessBus implements MarketDataBus {
  private readonly listeners: ChannelPublisher[] = [];

  subscribe(listener: ChannelPublisher): () => void {
    if (this.listeners.length >= busListenersMax) throw new Error('MARKETDATA_BUS_LISTENERS_MAX');
    this.listeners.push(listener);
    return () => {
      const index = this.listeners.indexOf(listener);
      if (index >= 0) this.listeners.splice(index, 1);
    };
  }

  /** Only to listeners that watch the channel: a hub keeps no state for channels nobody reads. */
  publish(channel: string, data: unknown): void {
    for (const listener of this.listeners) {
      if (listener.isWatched(channel)) listener.publish(channel, data);
    }
  }

  isWatched(channel: string): boolean {
    return this.listeners.some((listener) => listener.isWatched(channel));
  }
}
