// Token buckets per key (user id, IP, username): `ratePerSecond` refill up to `burst`. The map of
// buckets is bounded; when full, the least recently used bucket is dropped (a dropped bucket
// starts full again, which only ever errs toward letting a quiet client through).
export interface BucketOptions {
  ratePerSecond: number;
  burst: number;
  bucketsMax: number;
}

interface Bucket {
  tokens: number;
  updatedAtMs: number;
}

export type TakeResult = { ok: true } | { ok: false; retryAfterSeconds: number };

const allowed: TakeResult = { ok: true };

export class TokenBuckets {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly options: BucketOptions,
    private readonly clock: () => number,
  ) {}

  get size(): number {
    return this.buckets.size;
  }

  take(key: string, cost = 1): TakeResult {
    const nowMs = this.clock();
    const bucket = this.bucketOf(key, nowMs);
    const refill = ((nowMs - bucket.updatedAtMs) * this.options.ratePerSecond) / 1000;
    bucket.tokens = Math.min(this.options.burst, bucket.tokens + refill);
    bucket.updatedAtMs = nowMs;
    if (bucket.tokens >= cost) {
      bucket.tokens -= cost;
      return allowed;
    }
    const missing = cost - bucket.tokens;
    return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil(missing / this.options.ratePerSecond)) };
  }

  private bucketOf(key: string, nowMs: number): Bucket {
    const existing = this.buckets.get(key);
    if (existing !== undefined) {
      // Re-insert so iteration order is least recently used first.
      this.buckets.delete(key);
      this.buckets.set(key, existing);
      return existing;
    }
    if (this.buckets.size >= this.options.bucketsMax) {
      const oldest = this.buckets.keys().next().value;
      if (oldest !== undefined) this.buckets.delete(oldest);
    }
    const bucket = { tokens: this.options.burst, updatedAtMs: nowMs };
    this.buckets.set(key, bucket);
    return bucket;
  }
}
