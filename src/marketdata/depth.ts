// Level-2 depth per symbol, kept from engine events, with Binance-style update ids: every event
// that changes a level takes the next update id; a diff covers the ids [U, u] and carries the
// absolute quantity of each changed level (0 removes it). A client keeps an exact local book from
// one snapshot (`lastUpdateId`) plus the diffs after it (see LocalDepthBook).
import type { DepthView, EngineEvent, Side } from '../core/types.js';

export type Level = [price: number, qty: number];

export interface DepthSnapshot {
  symbol: string;
  lastUpdateId: number;
  /** Best first. */
  bids: Level[];
  asks: Level[];
}

export interface DepthDiff {
  symbol: string;
  /** First update id in this diff. */
  U: number;
  /** Last update id in this diff. */
  u: number;
  bids: Level[];
  asks: Level[];
}

/** Snapshot form of a DepthBook: levels unsorted, as kept. */
export interface DepthState {
  lastUpdateId: number;
  bids: Level[];
  asks: Level[];
}

/** Raised for an event that would leave a level negative: market data and engine disagree. */
export class DepthInvariantError extends Error {
  readonly code = 'DEPTH_INVARIANT';
}

export class DepthBook {
  lastUpdateId = 0;
  private readonly bids = new Map<number, number>();
  private readonly asks = new Map<number, number>();
  private readonly changedBids = new Set<number>();
  private readonly changedAsks = new Set<number>();
  private diffFirstId = 0;
  /**
   * Whether changes are collected for the next diff: set by the owner before each event, false
   * while nobody watches the channel (and during replay), because collecting costs Set work per
   * change and a new subscriber starts from a snapshot anyway.
   */
  diffWanted = true;
  private sortedCache: DepthSnapshot | undefined;

  constructor(readonly symbol: string) {}

  /** Applies one engine event of this symbol; returns whether the book changed. */
  apply(event: EngineEvent): boolean {
    switch (event.ev) {
      // Depth shows what the book shows: an iceberg's visible part, nothing of a pending stop order.
      case 'rested':
        return this.change(event.side, event.price, event.shownQty ?? event.qty);
      case 'refilled':
        return this.change(event.side, event.price, event.qty);
      case 'trade':
        return this.change(event.takerSide === 'buy' ? 'sell' : 'buy', event.price, -event.qty);
      case 'cancelled':
        return this.change(event.side, event.price, -(event.shownQty ?? event.qty));
      case 'amended':
        return this.change(event.side, event.price, -(event.shownReducedBy ?? event.reducedBy));
      default:
        return false;
    }
  }

  /** The levels changed since the last call, as one diff; undefined when nothing changed. */
  takeDiff(): DepthDiff | undefined {
    if (this.diffFirstId === 0) return undefined;
    const diff: DepthDiff = {
      symbol: this.symbol,
      U: this.diffFirstId,
      u: this.lastUpdateId,
      bids: levelsOf(this.changedBids, this.bids),
      asks: levelsOf(this.changedAsks, this.asks),
    };
    this.changedBids.clear();
    this.changedAsks.clear();
    this.diffFirstId = 0;
    return diff;
  }

  /** Forgets the levels changed since the last diff (collected while the channel was still watched). */
  discardDiff(): void {
    if (this.diffFirstId === 0) return;
    this.changedBids.clear();
    this.changedAsks.clear();
    this.diffFirstId = 0;
  }

  /** The best `levelsMax` levels per side. Sorting is cached until the next change. */
  snapshot(levelsMax: number): DepthSnapshot {
    if (this.sortedCache === undefined || this.sortedCache.lastUpdateId !== this.lastUpdateId) {
      this.sortedCache = {
        symbol: this.symbol,
        lastUpdateId: this.lastUpdateId,
        bids: [...this.bids].sort((left, right) => right[0] - left[0]),
        asks: [...this.asks].sort((left, right) => left[0] - right[0]),
      };
    }
    const sorted = this.sortedCache;
    return {
      symbol: this.symbol,
      lastUpdateId: sorted.lastUpdateId,
      bids: sorted.bids.slice(0, levelsMax),
      asks: sorted.asks.slice(0, levelsMax),
    };
  }

  /** The levels and the last update id, for a snapshot (taken between commands: no diff pending). */
  exportState(): DepthState {
    return { lastUpdateId: this.lastUpdateId, bids: [...this.bids], asks: [...this.asks] };
  }

  /** Replaces the book with a snapshot's: the next change takes lastUpdateId + 1, as before the restart. */
  restoreState(state: DepthState): void {
    if (
      !Number.isSafeInteger(state?.lastUpdateId) ||
      !Array.isArray(state.bids) ||
      !Array.isArray(state.asks)
    )
      throw new Error(`depth state of ${this.symbol}: lastUpdateId, bids and asks expected`);
    this.bids.clear();
    this.asks.clear();
    for (const [price, qty] of state.bids) this.bids.set(price, qty);
    for (const [price, qty] of state.asks) this.asks.set(price, qty);
    this.lastUpdateId = state.lastUpdateId;
    this.changedBids.clear();
    this.changedAsks.clear();
    this.diffFirstId = 0;
    this.sortedCache = undefined;
  }

  /** Replaces the book with the engine's (after a snapshot restore); update ids carry on. */
  restore(view: DepthView): void {
    this.bids.clear();
    this.asks.clear();
    for (const [price, qty] of view.bids) this.bids.set(price, qty);
    for (const [price, qty] of view.asks) this.asks.set(price, qty);
    this.lastUpdateId += 1;
  }

  private change(side: Side, price: number, deltaQty: number): boolean {
    if (deltaQty === 0) return false;
    const levels = side === 'buy' ? this.bids : this.asks;
    const qty = (levels.get(price) ?? 0) + deltaQty;
    if (qty < 0) {
      throw new DepthInvariantError(`${this.symbol} ${side} level ${price} would go to ${qty}`);
    }
    if (qty === 0) levels.delete(price);
    else levels.set(price, qty);
    this.lastUpdateId += 1;
    if (!this.diffWanted) return true;
    (side === 'buy' ? this.changedBids : this.changedAsks).add(price);
    if (this.diffFirstId === 0) this.diffFirstId = this.lastUpdateId;
    return true;
  }
}

function levelsOf(prices: Set<number>, levels: Map<number, number>): Level[] {
  const changed: Level[] = [];
  for (const price of prices) changed.push([price, levels.get(price) ?? 0]);
  return changed;
}

export type LocalDepthStatus = 'synced' | 'buffering' | 'gap';

/** The largest number of diffs a client buffers while it waits for a snapshot. */
export const bufferedDiffsMax = 10_000;

/**
 * A client's local book, kept the way Binance documents it: buffer diffs, take a snapshot, drop
 * diffs with u <= lastUpdateId, the first applied diff must straddle lastUpdateId + 1, and each
 * later diff must start at the previous u + 1. Any other diff means a gap: fetch a new snapshot.
 */
export class LocalDepthBook {
  status: LocalDepthStatus = 'buffering';
  private readonly bids = new Map<number, number>();
  private readonly asks = new Map<number, number>();
  private readonly buffered: DepthDiff[] = [];
  private lastUpdateId = 0;

  onDiff(diff: DepthDiff): void {
    if (this.status === 'buffering') {
      if (this.buffered.length >= bufferedDiffsMax) this.status = 'gap';
      else this.buffered.push(diff);
      return;
    }
    if (this.status === 'synced') this.applyDiff(diff);
  }

  onSnapshot(snapshot: DepthSnapshot): void {
    this.bids.clear();
    this.asks.clear();
    for (const [price, qty] of snapshot.bids) this.bids.set(price, qty);
    for (const [price, qty] of snapshot.asks) this.asks.set(price, qty);
    this.lastUpdateId = snapshot.lastUpdateId;
    this.status = 'synced';
    for (const diff of this.buffered.splice(0)) this.applyDiff(diff);
  }

  /** Starts over: buffer diffs until the next snapshot. */
  resync(): void {
    this.status = 'buffering';
    this.buffered.length = 0;
  }

  view(levelsMax: number): { bids: Level[]; asks: Level[] } {
    return {
      bids: [...this.bids].sort((left, right) => right[0] - left[0]).slice(0, levelsMax),
      asks: [...this.asks].sort((left, right) => left[0] - right[0]).slice(0, levelsMax),
    };
  }

  private applyDiff(diff: DepthDiff): void {
    if (this.status !== 'synced' || diff.u <= this.lastUpdateId) return;
    if (diff.U > this.lastUpdateId + 1) {
      this.status = 'gap';
      return;
    }
    for (const [price, qty] of diff.bids) setLevel(this.bids, price, qty);
    for (const [price, qty] of diff.asks) setLevel(this.asks, price, qty);
    this.lastUpdateId = diff.u;
  }
}

function setLevel(levels: Map<number, number>, price: number, qty: number): void {
  if (qty === 0) levels.delete(price);
  else levels.set(price, qty);
}
