// Token buckets and abnormal-traffic bands on Redis, shared by every gateway of a cluster. Each
// check is one Lua script (atomic, one round trip) over one hash with a TTL, so an idle key
// disappears on its own. Time is the calling gateway's clock passed as an argument, not Redis
// `TIME`: tests drive it with an injected clock exactly as the in-process adapters, and a script
// that takes time as input replicates as is. Gateways' clocks are NTP-synchronised; a gateway whose
// clock is behind never rewinds a bucket (a hash's time only moves forward), it only refills a
// little late. Any Redis error or timeout fails closed: SERVICE_UNAVAILABLE (503, Retry-After 1).
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { AbnormalTrafficOptions, Suspension } from '../gateway/abnormal-traffic.js';
import type { BucketOptions, TakeResult } from '../gateway/rate-limits.js';
import { type AbnormalTraffic, type RateLimiter, sharedUnavailable } from '../gateway/shared-services.js';

/** KEYS[1] bucket hash {t tokens, u updated ms}; ARGV now ms, rate per s, burst, cost, TTL ms. */
const takeScript = `
local now = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local burst = tonumber(ARGV[3])
local cost = tonumber(ARGV[4])
local state = redis.call('HMGET', KEYS[1], 't', 'u')
local tokens = tonumber(state[1])
local updated = tonumber(state[2])
if tokens == nil or updated == nil then
  tokens = burst
  updated = now
end
if now > updated then
  tokens = math.min(burst, tokens + (now - updated) * rate / 1000)
  updated = now
end
local wait = 0
if tokens >= cost then
  tokens = tokens - cost
else
  wait = math.max(1, math.ceil((cost - tokens) / rate))
end
redis.call('HSET', KEYS[1], 't', tostring(tokens), 'u', tostring(updated))
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return wait
`;

/**
 * KEYS[1] band hash {w window, o orders, r rejects, ob/rb baselines, s suspended until ms}; ARGV
 * now ms, metric (o or r), window ms, smoothing, multiple, floor, suspension ms, idle TTL ms.
 * Returns {0} or, when this record started a suspension, {1, until ms, count, baseline}.
 */
const recordScript = `
local now = tonumber(ARGV[1])
local metric = ARGV[2]
local windowMs = tonumber(ARGV[3])
local smoothing = tonumber(ARGV[4])
local multiple = tonumber(ARGV[5])
local floor = tonumber(ARGV[6])
local suspensionMs = tonumber(ARGV[7])
local idleMs = tonumber(ARGV[8])
local window = math.floor(now / windowMs)
local b = redis.call('HMGET', KEYS[1], 'w', 'o', 'r', 'ob', 'rb', 's')
local w = tonumber(b[1])
local o = tonumber(b[2]) or 0
local r = tonumber(b[3]) or 0
local ob = tonumber(b[4]) or 0
local rb = tonumber(b[5]) or 0
local s = tonumber(b[6]) or 0
if w == nil then
  w = window
elseif window > w then
  local keep = 1 - smoothing
  local decay = keep ^ math.min(window - w - 1, 1000)
  ob = (ob * keep + o * smoothing) * decay
  rb = (rb * keep + r * smoothing) * decay
  o = 0
  r = 0
  w = window
end
local count
local baseline
if metric == 'o' then
  o = o + 1
  count = o
  baseline = ob
else
  r = r + 1
  count = r
  baseline = rb
end
local started = 0
if s <= now and count > floor and count > baseline * multiple then
  s = now + suspensionMs
  started = 1
end
redis.call('HSET', KEYS[1], 'w', w, 'o', o, 'r', r, 'ob', tostring(ob), 'rb', tostring(rb), 's', s)
redis.call('PEXPIRE', KEYS[1], math.max(idleMs, s - now + windowMs))
if started == 1 then
  return {1, s, count, tostring(baseline)}
end
return {0}
`;

interface LimitCommands {
  hogaTake(
    key: string,
    nowMs: number,
    rate: number,
    burst: number,
    cost: number,
    ttlMs: number,
  ): Promise<number>;
  hogaRecord(key: string, ...args: Array<string | number>): Promise<Array<number | string>>;
}

/** Registers the scripts on a client (EVALSHA, loaded again by ioredis after a Redis restart). */
export function defineLimitScripts(redis: Redis): void {
  redis.defineCommand('hogaTake', { numberOfKeys: 1, lua: takeScript });
  redis.defineCommand('hogaRecord', { numberOfKeys: 1, lua: recordScript });
}

export class RedisRateLimiter implements RateLimiter {
  private readonly keyPrefix: string;
  /** A bucket untouched this long is full again, so its key may go. */
  private readonly ttlMs: number;

  constructor(
    private readonly redis: Redis,
    prefix: string,
    name: string,
    private readonly options: BucketOptions,
    private readonly clock: () => number,
  ) {
    this.keyPrefix = `${prefix}rl:${name}:`;
    this.ttlMs = Math.ceil((options.burst * 1000) / options.ratePerSecond) + 1_000;
  }

  async take(key: string, cost = 1): Promise<TakeResult> {
    let wait: number;
    try {
      wait = await (this.redis as unknown as LimitCommands).hogaTake(
        this.keyPrefix + key,
        this.clock(),
        this.options.ratePerSecond,
        this.options.burst,
        cost,
        this.ttlMs,
      );
    } catch {
      throw sharedUnavailable('the shared rate limit');
    }
    return wait === 0 ? { ok: true } : { ok: false, retryAfterSeconds: Number(wait) };
  }
}

/** How many windows an idle band is kept: its baseline has decayed to about nothing by then. */
const idleWindowsKept = 64;

export class RedisAbnormalTraffic implements AbnormalTraffic {
  private readonly keyPrefix: string;
  private readonly listeners: Array<(suspension: Suspension) => void> = [];
  private readonly idleMs: number;

  constructor(
    private readonly redis: Redis,
    prefix: string,
    private readonly options: AbnormalTrafficOptions,
    private readonly clock: () => number,
    private readonly logger: Logger,
  ) {
    this.keyPrefix = `${prefix}abn:`;
    this.idleMs = options.windowMs * idleWindowsKept + options.suspensionMs;
  }

  onSuspended(listener: (suspension: Suspension) => void): void {
    this.listeners.push(listener);
  }

  async suspendedForMs(userId: number): Promise<number> {
    let until: string | null;
    try {
      until = await this.redis.hget(this.keyPrefix + userId, 's');
    } catch {
      throw sharedUnavailable('the shared abnormal-traffic check');
    }
    return until === null ? 0 : Math.max(0, Number(until) - this.clock());
  }

  async recordOrder(userId: number): Promise<void> {
    try {
      await this.record(userId, 'orders');
    } catch {
      throw sharedUnavailable('the shared abnormal-traffic check');
    }
  }

  async recordReject(userId: number): Promise<void> {
    try {
      await this.record(userId, 'rejects');
    } catch (error) {
      this.logger.warn({ err: error, userId }, 'could not count a reject in Redis');
    }
  }

  private async record(userId: number, metric: Suspension['metric']): Promise<void> {
    const { options } = this;
    const reply = await (this.redis as unknown as LimitCommands).hogaRecord(
      this.keyPrefix + userId,
      this.clock(),
      metric === 'orders' ? 'o' : 'r',
      options.windowMs,
      options.smoothing,
      options.multiple,
      metric === 'orders' ? options.ordersPerWindowFloor : options.rejectsPerWindowFloor,
      options.suspensionMs,
      this.idleMs,
    );
    if (Number(reply[0]) !== 1) return;
    const suspension: Suspension = {
      userId,
      untilMs: Number(reply[1]),
      metric,
      count: Number(reply[2]),
      baseline: Number(reply[3]),
    };
    for (const listener of this.listeners) listener(suspension);
  }
}
