// The gateway's settings, all bounded and all with defaults (src/config.ts fills them from flags and
// the environment; docs/CONFIGURATION.md lists them).
import type { AbnormalTrafficOptions } from './abnormal-traffic.js';
import { owaspScryptCost, type PasswordHasherOptions } from './passwords.js';
import type { BucketOptions } from './rate-limits.js';
import type { SessionOptions } from './sessions.js';
import type { GatewayStateOptions } from './state.js';

export interface WebSocketOptions {
  heartbeatMs: number;
  authTimeoutMs: number;
  messageBytesMax: number;
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
  bodyBytesMax: number;
  /** Trust X-Forwarded-For (only behind a reverse proxy you run). */
  trustProxy: boolean;
  usernameLengthMax: number;
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
      ordersPerWindowFloor: 2_000,
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
    },
    bodyBytesMax: 64 * 1024,
    trustProxy: false,
    usernameLengthMax: 64,
  };
}
