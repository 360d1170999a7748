// The gateway's settings, all bounded and all with defaults (src/config.ts fills them from flags and
// the environment; docs/CONFIGURATION.md lists them).
import type { AbnormalTrafficOptions } from './abnormal-traffic.js';
import type { ApiKeyOptions } from './api-keys.js';
import { owaspScryptCost, type PasswordHasherOptions } from './passwords.js';
import type { BucketOptions } from './rate-limits.js';
import type { SessionOptions } from './sessions.js';
import type { GatewayStateOptions } from './state.js';

export interface WebSocketOptions {
  heartbeatMs: number;
  authTimeoutMs: number;
  messageBytesMax: number;
  /**
   * Bad frames (unparseable, refused by the rate limit) a socket may send: a bucket of this many,
   * refilled at `badFramesPerSecond`; past it the socket is closed with 4009 TOO_MANY_BAD_FRAMES.
   */
  badFramesBurst: number;
  badFramesPerSecond: number;
}

/** `true`: always Secure (and the `__Host-` cookie name); `false`: never; `auto`: as the request came. */
export type CookieSecureMode = 'auto' | 'true' | 'false';

export interface OriginOptions {
  /**
   * Origins (`scheme://host[:port]`) allowed besides the request's own host, for cookie-authenticated
   * writes and cookie WebSocket upgrades (docs/API.md "Cross-site requests").
   */
  allowedOrigins: string[];
  cookieSecure: CookieSecureMode;
}

/** TCP connections (HTTP and WebSocket) and the Node server's timeouts (docs/CONFIGURATION.md). */
export interface ConnectionOptions {
  perIpMax: number;
  totalMax: number;
  /** The request line and headers must arrive within this. */
  headersTimeoutMs: number;
  /** The whole request, body included, must arrive within this. */
  requestTimeoutMs: number;
  /** An idle keep-alive connection is closed after this. */
  keepAliveTimeoutMs: number;
  /** A connection with no traffic at all for this long is closed (not WebSockets: heartbeats). */
  idleTimeoutMs: number;
}

export interface GatewayConfig {
  sessions: SessionOptions;
  passwords: PasswordHasherOptions;
  limits: {
    requestsPerIp: BucketOptions;
    ordersPerUser: BucketOptions;
    loginsPerUsername: BucketOptions;
    loginsPerIp: BucketOptions;
  };
  abnormal: AbnormalTrafficOptions;
  state: GatewayStateOptions;
  webSocket: WebSocketOptions;
  origins: OriginOptions;
  connections: ConnectionOptions;
  /** One log line per completed HTTP request (with its request id). */
  logRequests: boolean;
  bodyBytesMax: number;
  /** Trust X-Forwarded-For (only behind a reverse proxy you run). */
  trustProxy: boolean;
  usernameLengthMax: number;
  /** API keys (docs/API.md "API keys"); `replayEntriesMax` bounds the signatures remembered. */
  apiKeys: ApiKeyOptions & { replayEntriesMax: number };
}

const hourMs = 3_600_000;

export function defaultGatewayConfig(): GatewayConfig {
  return {
    sessions: {
      idleTimeoutMs: 2 * hourMs,
      absoluteTimeoutMs: 7 * 24 * hourMs,
      sessionsPerUserMax: 10,
      cacheEntriesMax: 100_000,
      touchIntervalMs: 60_000,
    },
    passwords: { cost: owaspScryptCost, concurrentHashesMax: 1, waitingHashesMax: 32 },
    limits: {
      requestsPerIp: { ratePerSecond: 2_000, burst: 4_000, bucketsMax: 100_000 },
      ordersPerUser: { ratePerSecond: 500, burst: 1_000, bucketsMax: 100_000 },
      loginsPerUsername: { ratePerSecond: 0.2, burst: 5, bucketsMax: 100_000 },
      loginsPerIp: { ratePerSecond: 1, burst: 20, bucketsMax: 100_000 },
    },
    abnormal: {
      windowMs: 1_000,
      smoothing: 0.1,
      multiple: 10,
      // Reachable under the per-user order limit (at most 1,500 orders in one 1 s window by
      // default): a user who spends the whole burst in one window is flagged (loadConfig checks it).
      ordersPerWindowFloor: 1_000,
      rejectsPerWindowFloor: 200,
      suspensionMs: 60_000,
      usersTrackedMax: 100_000,
    },
    state: {
      idempotency: { keysPerUserMax: 10_000, keyAgeMaxMs: 24 * hourMs },
      tracker: { finishedOrdersPerUserMax: 100, tradesPerUserMax: 100 },
      streams: { sendBufferBytesMax: 1 << 20, socketsPerUserMax: 20 },
    },
    webSocket: {
      heartbeatMs: 15_000,
      authTimeoutMs: 10_000,
      messageBytesMax: 16 * 1024,
      badFramesBurst: 100,
      badFramesPerSecond: 10,
    },
    origins: { allowedOrigins: [], cookieSecure: 'true' },
    connections: {
      perIpMax: 256,
      totalMax: 10_000,
      headersTimeoutMs: 10_000,
      requestTimeoutMs: 30_000,
      keepAliveTimeoutMs: 5_000,
      idleTimeoutMs: 60_000,
    },
    logRequests: true,
    bodyBytesMax: 64 * 1024,
    trustProxy: false,
    usernameLengthMax: 64,
    apiKeys: { perUserMax: 20, cacheEntriesMax: 100_000, recheckMs: 1_000, replayEntriesMax: 500_000 },
  };
}
