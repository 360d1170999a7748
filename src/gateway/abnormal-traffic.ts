// Abnormal traffic: each user has a normal band for orders and rejects per window, an EWMA over
// past windows. A window whose count jumps past `multiple` times the baseline (and past an absolute
// floor, so a quiet user's first burst of ordinary trading is not flagged) suspends the user from
// trading for `suspensionMs`. Work is lazy (no timers): windows roll when the user next acts.
export interface AbnormalTrafficOptions {
  windowMs: number;
  /** Weight of the newest window in the baseline, 0..1. */
  smoothing: number;
  multiple: number;
  ordersPerWindowFloor: number;
  rejectsPerWindowFloor: number;
  suspensionMs: number;
  usersTrackedMax: number;
}

interface Band {
  window: number;
  orders: number;
  rejects: number;
  ordersBaseline: number;
  rejectsBaseline: number;
  suspendedUntilMs: number;
}

export interface Suspension {
  userId: number;
  untilMs: number;
  metric: 'orders' | 'rejects';
  count: number;
  baseline: number;
}

export class AbnormalTrafficDetector {
  private readonly bands = new Map<number, Band>();
  private readonly listeners: Array<(suspension: Suspension) => void> = [];

  constructor(
    private readonly options: AbnormalTrafficOptions,
    private readonly clock: () => number,
  ) {}

  onSuspended(listener: (suspension: Suspension) => void): void {
    this.listeners.push(listener);
  }

  /** Milliseconds left on the user's suspension, 0 when free to trade. */
  suspendedForMs(userId: number): number {
    const band = this.bands.get(userId);
    if (band === undefined) return 0;
    return Math.max(0, band.suspendedUntilMs - this.clock());
  }

  recordOrder(userId: number): void {
    const band = this.rolled(userId);
    band.orders += 1;
    this.check(userId, band, 'orders', band.orders, band.ordersBaseline, this.options.ordersPerWindowFloor);
  }

  recordReject(userId: number): void {
    const band = this.rolled(userId);
    band.rejects += 1;
    this.check(
      userId,
      band,
      'rejects',
      band.rejects,
      band.rejectsBaseline,
      this.options.rejectsPerWindowFloor,
    );
  }

  private check(
    userId: number,
    band: Band,
    metric: Suspension['metric'],
    count: number,
    baseline: number,
    floor: number,
  ): void {
    const nowMs = this.clock();
    if (band.suspendedUntilMs > nowMs) return;
    if (count <= floor || count <= baseline * this.options.multiple) return;
    band.suspendedUntilMs = nowMs + this.options.suspensionMs;
    const suspension = { userId, untilMs: band.suspendedUntilMs, metric, count, baseline };
    for (const listener of this.listeners) listener(suspension);
  }

  /** The user's band with every window since its last activity folded into the baseline. */
  private rolled(userId: number): Band {
    const window = Math.floor(this.clock() / this.options.windowMs);
    let band = this.bands.get(userId);
    if (band === undefined) {
      band = { window, orders: 0, rejects: 0, ordersBaseline: 0, rejectsBaseline: 0, suspendedUntilMs: 0 };
      this.insert(userId, band);
      return band;
    }
    const elapsed = window - band.window;
    if (elapsed > 0) {
      const keep = 1 - this.options.smoothing;
      // The window that just closed counts once; the empty ones after it decay the baseline.
      const decay = keep ** Math.min(elapsed - 1, 1000);
      band.ordersBaseline = (band.ordersBaseline * keep + band.orders * this.options.smoothing) * decay;
      band.rejectsBaseline = (band.rejectsBaseline * keep + band.rejects * this.options.smoothing) * decay;
      band.orders = 0;
      band.rejects = 0;
      band.window = window;
    }
    return band;
  }

  private insert(userId: number, band: Band): void {
    if (this.bands.size >= this.options.usersTrackedMax) this.bands.delete(this.evictable());
    this.bands.set(userId, band);
  }

  /** The oldest band that is not suspended (a suspension is forgotten early only if all are). */
  private evictable(): number {
    const nowMs = this.clock();
    for (const [userId, band] of this.bands) {
      if (band.suspendedUntilMs <= nowMs) return userId;
    }
    return this.bands.keys().next().value as number;
  }
}
