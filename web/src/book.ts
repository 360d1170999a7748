// A local level-2 book kept from a snapshot plus diffs, by the Binance rule: buffer diffs until
// the snapshot arrives, drop those with u <= lastUpdateId, the first applied one must satisfy
// U <= lastUpdateId + 1 <= u, and every later one must start at the previous u + 1. Anything else
// is a gap: the book says so and the caller resyncs. It is never shown stale.

import { compareDecimal, isZero } from './decimal.js';

export interface DepthDiff {
  /** First and last update ids covered by this diff. */
  U: number;
  u: number;
  /** [price, absolute qty]; qty "0" removes the level. */
  bids: Array<[string, string]>;
  asks: Array<[string, string]>;
}

export interface DepthLevel {
  price: string;
  qty: string;
}

/** Diffs held while waiting for a snapshot; past this the wait has failed and we resync. */
export const pendingDiffsMax = 1_000;
/** Levels kept per side; deeper levels are dropped (the view shows far fewer). */
export const levelsPerSideMax = 5_000;

export type ApplyOutcome = 'applied' | 'ignored' | 'gap';

export class LocalBook {
  private readonly bids = new Map<string, string>();
  private readonly asks = new Map<string, string>();
  private pending: DepthDiff[] = [];
  private lastUpdateId: number | undefined;

  get synced(): boolean {
    return this.lastUpdateId !== undefined;
  }

  reset(): void {
    this.bids.clear();
    this.asks.clear();
    this.pending = [];
    this.lastUpdateId = undefined;
  }

  /** Feeds one diff; before the snapshot it is buffered. */
  applyDiff(diff: DepthDiff): ApplyOutcome {
    if (this.lastUpdateId === undefined) {
      if (this.pending.length >= pendingDiffsMax) return 'gap';
      this.pending.push(diff);
      return 'ignored';
    }
    if (diff.u <= this.lastUpdateId) return 'ignored';
    if (diff.U > this.lastUpdateId + 1) return 'gap';
    this.applyLevels(diff);
    this.lastUpdateId = diff.u;
    return 'applied';
  }

  /** Loads a snapshot and replays buffered diffs; 'gap' when the buffer does not join it. */
  applySnapshot(
    lastUpdateId: number,
    bids: Array<[string, string]>,
    asks: Array<[string, string]>,
  ): ApplyOutcome {
    this.bids.clear();
    this.asks.clear();
    for (const [price, qty] of bids) if (!isZero(qty)) this.bids.set(price, qty);
    for (const [price, qty] of asks) if (!isZero(qty)) this.asks.set(price, qty);
    this.lastUpdateId = lastUpdateId;
    const buffered = this.pending;
    this.pending = [];
    for (const diff of buffered) {
      if (this.applyDiff(diff) === 'gap') return 'gap';
    }
    return 'applied';
  }

  private applyLevels(diff: DepthDiff): void {
    for (const [price, qty] of diff.bids) setLevel(this.bids, price, qty);
    for (const [price, qty] of diff.asks) setLevel(this.asks, price, qty);
    if (this.bids.size > levelsPerSideMax) trim(this.bids, -1);
    if (this.asks.size > levelsPerSideMax) trim(this.asks, 1);
  }

  /** Best `count` levels per side: bids highest first, asks lowest first. */
  top(count: number): { bids: DepthLevel[]; asks: DepthLevel[] } {
    return { bids: sortedLevels(this.bids, -1, count), asks: sortedLevels(this.asks, 1, count) };
  }
}

function setLevel(side: Map<string, string>, price: string, qty: string): void {
  if (isZero(qty)) side.delete(price);
  else side.set(price, qty);
}

function sortedLevels(side: Map<string, string>, direction: 1 | -1, count: number): DepthLevel[] {
  return [...side.entries()]
    .sort((a, b) => direction * compareDecimal(a[0], b[0]))
    .slice(0, count)
    .map(([price, qty]) => ({ price, qty }));
}

function trim(side: Map<string, string>, direction: 1 | -1): void {
  const keep = new Set(sortedLevels(side, direction, levelsPerSideMax).map((level) => level.price));
  for (const price of side.keys()) if (!keep.has(price)) side.delete(price);
}
