// Request weights, Binance style: every route costs a weight (some depend on the parameters), each
// IP may spend `weightPerMinuteMax` per clock minute, the weight used so far is told in the
// `X-MBX-USED-WEIGHT-1M` header, a request over the limit gets 429 (-1003) with `Retry-After` (the
// seconds to the next minute), and an IP that keeps sending after `strikesBeforeBan` 429s in one
// minute is banned: 418 with `Retry-After` for `banMs`, doubling with each ban up to `banMsMax`.
// Bounded: at most `ipsMax` IPs are tracked (the oldest entry makes room).
import { BinanceCodes, BinanceError } from './errors.js';

export interface WeightOptions {
  weightPerMinuteMax: number;
  strikesBeforeBan: number;
  banMs: number;
  banMsMax: number;
  ipsMax: number;
}

export const defaultWeightOptions: WeightOptions = {
  weightPerMinuteMax: 6_000,
  strikesBeforeBan: 10,
  banMs: 120_000,
  banMsMax: 3 * 86_400_000,
  ipsMax: 100_000,
};

export const usedWeightHeader = 'x-mbx-used-weight-1m';

interface IpWeight {
  minute: number;
  used: number;
  /** 429 replies in `minute`. */
  strikes: number;
  bannedUntilMs: number;
  bans: number;
}

export type Charged = { ok: true; used: number } | { ok: false; used: number; error: BinanceError };

const minuteMs = 60_000;

export class RequestWeights {
  readonly options: WeightOptions;
  private readonly ips = new Map<string, IpWeight>();

  constructor(
    options: Partial<WeightOptions> = {},
    private readonly clock: () => number = Date.now,
  ) {
    this.options = { ...defaultWeightOptions, ...options };
  }

  get trackedIps(): number {
    return this.ips.size;
  }

  /** Spends `weight` for `ip`, or says why not (the weight is not spent then). */
  charge(ip: string, weight: number): Charged {
    const nowMs = this.clock();
    const minute = Math.floor(nowMs / minuteMs);
    const entry = this.entryFor(ip, minute);
    if (entry.bannedUntilMs > nowMs) {
      const untilMs = entry.bannedUntilMs;
      const error = new BinanceError(
        418,
        BinanceCodes.TOO_MANY_REQUESTS,
        `Way too much request weight used; IP banned until ${untilMs}. Please use WebSocket Streams for live updates to avoid bans.`,
        Math.max(1, Math.ceil((untilMs - nowMs) / 1_000)),
      );
      return { ok: false, used: entry.used, error };
    }
    if (entry.used + weight <= this.options.weightPerMinuteMax) {
      entry.used += weight;
      return { ok: true, used: entry.used };
    }
    entry.strikes += 1;
    if (entry.strikes > this.options.strikesBeforeBan) {
      entry.bans += 1;
      const banMs = Math.min(this.options.banMsMax, this.options.banMs * 2 ** Math.min(entry.bans - 1, 30));
      entry.bannedUntilMs = nowMs + banMs;
      return this.charge(ip, weight);
    }
    const error = new BinanceError(
      429,
      BinanceCodes.TOO_MANY_REQUESTS,
      `Too much request weight used; current limit is ${this.options.weightPerMinuteMax} request weight per 1 MINUTE. Please use WebSocket Streams for live updates to avoid polling the API.`,
      Math.max(1, Math.ceil(((minute + 1) * minuteMs - nowMs) / 1_000)),
    );
    return { ok: false, used: entry.used, error };
  }

  private entryFor(ip: string, minute: number): IpWeight {
    let entry = this.ips.get(ip);
    if (entry === undefined) {
      if (this.ips.size >= this.options.ipsMax) {
        const oldest = this.ips.keys().next().value as string;
        this.ips.delete(oldest);
      }
      entry = { minute, used: 0, strikes: 0, bannedUntilMs: 0, bans: 0 };
      this.ips.set(ip, entry);
    } else if (entry.minute !== minute) {
      entry.minute = minute;
      entry.used = 0;
      entry.strikes = 0;
    }
    return entry;
  }
}

/** Binance's weight of `GET /api/v3/depth` by `limit`. */
export function depthWeight(limit: number): number {
  if (limit <= 100) return 5;
  if (limit <= 500) return 25;
  if (limit <= 1_000) return 50;
  return 250;
}

/** Binance's weight of the ticker routes: per symbol, or for all of them. */
export function tickerWeight(
  query: { symbol?: unknown; symbols?: unknown },
  one: number,
  all: number,
): number {
  if (query.symbol !== undefined) return one;
  if (typeof query.symbols === 'string') {
    const count = query.symbols.split(',').length;
    return count <= 20 ? one : count <= 100 ? Math.max(one, Math.floor(all / 2)) : all;
  }
  return all;
}
