// Browsers that logged in successfully before (the login guard's device cookies), keyed by the
// SHA-256 of the device token. In memory, least recently used first and bounded; a device older
// than `deviceMaxAgeMs` is forgotten. Cluster mode keeps them in Redis instead (src/cluster), so a
// device cookie issued by one gateway is known to all.
export interface TrustedDeviceOptions {
  devicesMax: number;
  deviceMaxAgeMs: number;
}

/** The port: which username a device was issued to, and remembering a new one. */
export interface TrustedDevices {
  /** The device's username, or undefined when unknown or too old. */
  usernameOf(deviceHash: string): string | undefined | Promise<string | undefined>;
  remember(deviceHash: string, username: string): void | Promise<void>;
}

interface Device {
  username: string;
  issuedAtMs: number;
}

export class LocalTrustedDevices implements TrustedDevices {
  /** Insertion order is least recently used first. */
  private readonly devices = new Map<string, Device>();

  constructor(
    private readonly options: TrustedDeviceOptions,
    private readonly clock: () => number,
  ) {}

  usernameOf(deviceHash: string): string | undefined {
    const device = this.devices.get(deviceHash);
    if (device === undefined) return undefined;
    this.devices.delete(deviceHash);
    if (this.clock() - device.issuedAtMs > this.options.deviceMaxAgeMs) return undefined;
    this.devices.set(deviceHash, device);
    return device.username;
  }

  remember(deviceHash: string, username: string): void {
    if (this.devices.size >= this.options.devicesMax) {
      const oldest = this.devices.keys().next().value;
      if (oldest !== undefined) this.devices.delete(oldest);
    }
    this.devices.set(deviceHash, { username, issuedAtMs: this.clock() });
  }
}
