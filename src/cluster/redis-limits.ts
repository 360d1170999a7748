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
import {
  type AbnormalTraffic,
  type Admission,
  type OrderAdmission,
  type RateLimiter,
  sharedUnavailable,
} from '../gateway/shared-services.js';

/**
 * A bucket hash {t tokens, u updated ms}: refills since `u` (never backwards), takes `cost` when
 * there is enough, and returns 0 or the whole seconds until the missing tokens are back.
 */
const takeFunction = `
local function take(key, now, rate, burst, cost, ttl)
  local state = redis.call('HMGET', key, 't', 'u')
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
  redis.call('HSET', key, 't', tostring(tokens), 'u', tostring(updated))
  redis.call('PEXPIRE', key, ttl)
  return wait
end
`;

/**
 * A band hash {w window, o orders, r rejects, ob/rb baselines, s suspended until ms}: rolls the
 * windows since `w` into the baselines, counts one order (metric o) or reject (r), and suspends
 * when the count passes the floor and the band. Returns {started (0/1), until ms, count, baseline}.
 * ARGV from `first`: window ms, smoothing, multiple, orders floor, rejects floor, suspension ms,
 * idle TTL ms.
 */
const recordFunction = `
local function record(key, now, metric, first)
  local windowMs = tonumber(ARGV[first])
  local smoothing = tonumber(ARGV[first + 1])
  local multiple = tonumber(ARGV[first + 2])
  local floor = tonumber(ARGV[first + 3])
  if metric == 'r' then floor = tonumber(ARGV[first + 4]) end
  local suspensionMs = tonumber(ARGV[first + 5])
  local idleMs = tonumber(ARGV[first + 6])
  local window = math.floor(now / windowMs)
  local b = redis.call('HMGET', key, 'w', 'o', 'r', 'ob', 'rb', 's')
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
  redis.call('HSET', key, 'w', w, 'o', o, 'r', r, 'ob', tostring(ob), 'rb', tostring(rb), 's', s)
  redis.call('PEXPIRE', key, math.max(idleMs, s - now + windowMs))
  return {started, s, count, tostring(baseline)}
end
`;

/** KEYS[1] bucket; ARGV now ms, rate per s, burst, cost, TTL ms. */
const takeScript = `${takeFunction}
return take(KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), ARGV[5])
`;

/** KEYS[1] band; ARGV now ms, metric, then the band's settings. Returns {0} or {1, until, count, baseline}. */
const recordScript = `${recordFunction}
local result = record(KEYS[1], tonumber(ARGV[1]), ARGV[2], 3)
if result[1] == 1 then return result end
return {0}
`;

/**
 * One order's admission in one round trip: KEYS[1] band, KEYS[2] order bucket; ARGV now ms, rate,
 * burst, bucket TTL ms, then the band's settings. Returns {1, suspended ms left}, {2, retry after
 * seconds}, or {0} / {0, 1, until, count, baseline} when admitted (the latter started a suspension).
 */
const admitScript = `${takeFunction}${recordFunction}
local now = tonumber(ARGV[1])
local s = tonumber(redis.call('HGET', KEYS[1], 's')) or 0
if s > now then return {1, s - now} end
local wait = take(KEYS[2], now, tonumber(ARGV[2]), tonumber(ARGV[3]), 1, ARGV[4])
if wait > 0 then return {2, wait} end
local result = record(KEYS[1], now, 'o', 5)
if result[1] == 1 then return {0, 1, result[2], result[3], result[4]} end
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
  hogaAdmit(band: string, bucket: string, ...args: Array<string | number>): Promise<Array<number | string>>;
}

/** Registers the scripts on a client (EVALSHA, loaded again by ioredis after a Redis restart). */
export function defineLimitScripts(redis: Redis): void {
  redis.defineCommand('hogaTake', { numberOfKeys: 1, lua: takeScript });
  redis.defineCommand('hogaRecord', { numberOfKeys: 1, lua: recordScript });
  redis.defineCommand('hogaAdmit', { numberOfKeys: 2, lua: admitScript });
}

export class RedisRateLimiter implements RateLimiter {
  readonly keyPrefix: string;
  /** A bucket untouched this long is full again, so its key may go. */
  readonly ttlMs: number;

  constructor(
    private readonly redis: Redis,
    prefix: string,
    name: string,
    readonly options: BucketOptions,
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
  readonly keyPrefix: string;
  private readonly listeners: Array<(suspension: Suspension) => void> = [];
  /** The band's settings as the scripts take them (ARGV from `first` in recordFunction). */
  readonly settings: number[];

  constructor(
    private readonly redis: Redis,
    prefix: string,
    options: AbnormalTrafficOptions,
    readonly clock: () => number,
    private readonly logger: Logger,
  ) {
    this.keyPrefix = `${prefix}abn:`;
    this.settings = [
      options.windowMs,
      options.smoothing,
      options.multiple,
      options.ordersPerWindowFloor,
      options.rejectsPerWindowFloor,
      options.suspensionMs,
      options.windowMs * idleWindowsKept + options.suspensionMs,
    ];
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
    const reply = await (this.redis as unknown as LimitCommands).hogaRecord(
      this.keyPrefix + userId,
      this.clock(),
      metric === 'orders' ? 'o' : 'r',
      ...this.settings,
    );
    if (Number(reply[0]) === 1) this.announce(userId, metric, reply.slice(1));
  }

  /** `started`: until ms, count and baseline as the scripts return them. */
  announce(userId: number, metric: Suspension['metric'], started: Array<number | string>): void {
    const suspension: Suspension = {
      userId,
      untilMs: Number(started[0]),
      metric,
      count: Number(started[1]),
      baseline: Number(started[2]),
    };
    for (const listener of this.listeners) listener(suspension);
  }
}

/** The suspension check, the order bucket and the order count in one script: one round trip. */
export class RedisOrderAdmission implements OrderAdmission {
  constructor(
    private readonly redis: Redis,
    private readonly orders: RedisRateLimiter,
    private readonly abnormal: RedisAbnormalTraffic,
  ) {}

  async admit(userId: number): Promise<Admission> {
    const { orders, abnormal } = this;
    let reply: Array<number | string>;
    try {
      reply = await (this.redis as unknown as LimitCommands).hogaAdmit(
        abnormal.keyPrefix + userId,
        orders.keyPrefix + userId,
        abnormal.clock(),
        orders.options.ratePerSecond,
        orders.options.burst,
        orders.ttlMs,
        ...abnormal.settings,
      );
    } catch {
      throw sharedUnavailable('the shared order limit');
    }
    const verdict = Number(reply[0]);
    if (verdict === 1) return { ok: false, suspendedMs: Number(reply[1]) };
    if (verdict === 2) return { ok: false, suspendedMs: 0, retryAfterSeconds: Number(reply[1]) };
    if (Number(reply[1]) === 1) abnormal.announce(userId, 'orders', reply.slice(2));
    return admitted;
  }
}

const admitted: Admission = { ok: true };
