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
import { LocalTrustedDevices, type TrustedDevices } from './trusted-devices.js';

export interface LoginGuardOptions {
  loginsPerIp: BucketOptions;
  loginsPerUsername: BucketOptions;
  /** Devices remembered (in memory unless shared; a restart forgets them and they take the ordinary path). */
  devicesMax: number;
  deviceMaxAgeMs: number;
}

export type LoginLane = 'trusted' | 'general';

/** Where the three bucket families and the known devices live (cluster mode: shared by every gateway). */
export interface LoginLimiters {
  byIp: RateLimiter;
  byUsername: RateLimiter;
  byDevice: RateLimiter;
  devices?: TrustedDevices;
}

const deviceTokenBytes = 32;

export class LoginGuard {
  private readonly byIp: RateLimiter;
  private readonly byUsername: RateLimiter;
  /** A device's own bucket (same rate as a username's): a stolen device cookie still guesses slowly. */
  private readonly byDevice: RateLimiter;
  private readonly devices: TrustedDevices;

  constructor(options: LoginGuardOptions, clock: () => number, limiters?: LoginLimiters) {
    this.byIp = limiters?.byIp ?? new TokenBuckets(options.loginsPerIp, clock);
    this.byUsername = limiters?.byUsername ?? new TokenBuckets(options.loginsPerUsername, clock);
    this.byDevice = limiters?.byDevice ?? new TokenBuckets(options.loginsPerUsername, clock);
    this.devices = limiters?.devices ?? new LocalTrustedDevices(options, clock);
  }

  /** Registrations: per IP only (the username is new). */
  admitRegistration(ip: string): MaybePromise<void> {
    return andThen(this.byIp.take(ip), refuseUnless);
  }

  /** Charges the buckets a login attempt must pass and says which hashing lane it takes. */
  admitLogin(ip: string, username: string, deviceToken: string | undefined): MaybePromise<LoginLane> {
    const name = username.toLowerCase();
    if (deviceToken === undefined) return this.admitGeneral(ip, name);
    const deviceHash = hashToken(deviceToken);
    return andThen(this.devices.usernameOf(deviceHash), (known) => {
      if (known !== name) return this.admitGeneral(ip, name);
      return andThen(this.byDevice.take(deviceHash), (taken) => {
        refuseUnless(taken);
        return 'trusted' as const;
      });
    });
  }

  /** After a successful login: the device token to set (the same one when the device was known). */
  rememberDevice(username: string, deviceToken: string | undefined): MaybePromise<string> {
    const name = username.toLowerCase();
    const issue = (): MaybePromise<string> => {
      const token = randomBytes(deviceTokenBytes).toString('base64url');
      return andThen(this.devices.remember(hashToken(token), name), () => token);
    };
    if (deviceToken === undefined) return issue();
    return andThen(this.devices.usernameOf(hashToken(deviceToken)), (known) =>
      known === name ? deviceToken : issue(),
    );
  }

  /** An unknown browser: the IP bucket first, the username bucket only once the IP one let it through. */
  private admitGeneral(ip: string, name: string): MaybePromise<LoginLane> {
    return andThen(this.byIp.take(ip), (byIp) => {
      refuseUnless(byIp);
      return andThen(this.byUsername.take(name), (byName) => {
        refuseUnless(byName);
        return 'general' as const;
      });
    });
  }
}

function refuseUnless(taken: TakeResult): void {
  if (taken.ok) return;
  throw new GatewayError('RATE_LIMITED', 'too many login attempts', undefined, taken.retryAfterSeconds);
}
