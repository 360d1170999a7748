// Login throttling that a third party cannot turn against a user. Unknown browsers pay the per-IP
// bucket first and the per-username bucket only when the IP bucket let them through, so a refused
// flood never drains a victim's username bucket. A browser that logged in successfully before
// carries a device cookie bound to that username: its logins skip both shared buckets (it has its
// own) and hash in the password pool's trusted lane, so neither a lockout of the name nor a flood
// of guesses from many IPs can keep the real user out (docs/API.md "Authentication and sessions").
import { randomBytes } from 'node:crypto';
import { GatewayError } from './errors.js';
import { type BucketOptions, type TakeResult, TokenBuckets } from './rate-limits.js';
import { hashToken } from './sessions.js';
import { andThen, type MaybePromise, type RateLimiter } from './shared-services.js';

export interface LoginGuardOptions {
  loginsPerIp: BucketOptions;
  loginsPerUsername: BucketOptions;
  /** Devices remembered (in memory; a restart forgets them and they take the ordinary path). */
  devicesMax: number;
  deviceMaxAgeMs: number;
}

interface Device {
  username: string;
  issuedAtMs: number;
}

export type LoginLane = 'trusted' | 'general';

/** Where the three bucket families live (cluster mode: shared by every gateway). */
export interface LoginLimiters {
  byIp: RateLimiter;
  byUsername: RateLimiter;
  byDevice: RateLimiter;
}

const deviceTokenBytes = 32;

export class LoginGuard {
  private readonly byIp: RateLimiter;
  private readonly byUsername: RateLimiter;
  /** A device's own bucket (same rate as a username's): a stolen device cookie still guesses slowly. */
  private readonly byDevice: RateLimiter;
  /** Keyed by the SHA-256 of the device token; insertion order is least recently used first. */
  private readonly devices = new Map<string, Device>();

  constructor(
    private readonly options: LoginGuardOptions,
    private readonly clock: () => number,
    limiters?: LoginLimiters,
  ) {
    this.byIp = limiters?.byIp ?? new TokenBuckets(options.loginsPerIp, clock);
    this.byUsername = limiters?.byUsername ?? new TokenBuckets(options.loginsPerUsername, clock);
    this.byDevice = limiters?.byDevice ?? new TokenBuckets(options.loginsPerUsername, clock);
  }

  /** Registrations: per IP only (the username is new). */
  admitRegistration(ip: string): MaybePromise<void> {
    return andThen(this.byIp.take(ip), refuseUnless);
  }

  /** Charges the buckets a login attempt must pass and says which hashing lane it takes. */
  admitLogin(ip: string, username: string, deviceToken: string | undefined): MaybePromise<LoginLane> {
    const name = username.toLowerCase();
    const deviceHash = deviceToken === undefined ? undefined : hashToken(deviceToken);
    if (deviceHash !== undefined && this.knows(deviceHash, name)) {
      return andThen(this.byDevice.take(deviceHash), (taken) => {
        refuseUnless(taken);
        return 'trusted' as const;
      });
    }
    // The username bucket is charged only once the IP bucket let the attempt through.
    return andThen(this.byIp.take(ip), (byIp) => {
      refuseUnless(byIp);
      return andThen(this.byUsername.take(name), (byName) => {
        refuseUnless(byName);
        return 'general' as const;
      });
    });
  }

  /** After a successful login: the device token to set (the same one when the device was known). */
  rememberDevice(username: string, deviceToken: string | undefined): string {
    const name = username.toLowerCase();
    if (deviceToken !== undefined && this.knows(hashToken(deviceToken), name)) return deviceToken;
    const token = randomBytes(deviceTokenBytes).toString('base64url');
    if (this.devices.size >= this.options.devicesMax) {
      const oldest = this.devices.keys().next().value;
      if (oldest !== undefined) this.devices.delete(oldest);
    }
    this.devices.set(hashToken(token), { username: name, issuedAtMs: this.clock() });
    return token;
  }

  private knows(deviceHash: string, username: string): boolean {
    const device = this.devices.get(deviceHash);
    if (device === undefined) return false;
    if (this.clock() - device.issuedAtMs > this.options.deviceMaxAgeMs) {
      this.devices.delete(deviceHash);
      return false;
    }
    if (device.username !== username) return false;
    this.devices.delete(deviceHash);
    this.devices.set(deviceHash, device);
    return true;
  }
}

function refuseUnless(taken: TakeResult): void {
  if (taken.ok) return;
  throw new GatewayError(429, 'RATE_LIMITED', 'too many login attempts', undefined, taken.retryAfterSeconds);
}
