// The trade tape: the latest trades per symbol, for channel snapshots.
import type { Side, TradeEvent } from '../core/types.js';

export interface TapeTrade {
  id: number;
  price: number;
  qty: number;
  /** The taker's side. */
  side: Side;
  /** Sequencer time, milliseconds since the epoch. */
  ts: number;
}

export const tapeTradesMax = 100;

export class TradeTape {
  private readonly ring: TapeTrade[] = [];
  private next = 0;

  constructor(private readonly tradesMax = tapeTradesMax) {}

  add(event: TradeEvent, atMs: number): TapeTrade {
    const trade: TapeTrade = {
      id: event.tradeId,
      price: event.price,
      qty: event.qty,
      side: event.takerSide,
      ts: atMs,
    };
    if (this.ring.length < this.tradesMax) this.ring.push(trade);
    else this.ring[this.next] = trade;
    this.next = (this.next + 1) % this.tradesMax;
    return trade;
  }

  /** Replaces the tape with trades given oldest first (a snapshot's `recent()`), within the bound. */
  restore(trades: readonly TapeTrade[]): void {
    this.ring.length = 0;
    for (const trade of trades.slice(-this.tradesMax)) this.ring.push({ ...trade });
    this.next = this.ring.length % this.tradesMax;
  }

  /** Oldest first. */
  recent(): TapeTrade[] {
    if (this.ring.length < this.tradesMax) return this.ring.slice();
    return [...this.ring.slice(this.next), ...this.ring.slice(0, this.next)];
  }
}
