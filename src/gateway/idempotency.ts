// Idempotent order entry: (user, clientOrderId) → the first outcome. The `place` command journals
// its clientOrderId, and this index is filled from applied commands, live and during recovery
// replay, so it survives restarts. A request marks its key pending synchronously before it
// submits, so a concurrent duplicate awaits the first request's result instead of placing again.
// Bounded per user (oldest key dropped) and by age (keys older than `keyAgeMaxMs`, by command time).
export interface IdempotencyOptions {
  keysPerUserMax: number;
  keyAgeMaxMs: number;
}

interface Remembered<T> {
  result: T;
  atMs: number;
}

export class IdempotencyIndex<T> {
  private readonly done = new Map<number, Map<string, Remembered<T>>>();
  private readonly pending = new Map<string, Promise<T>>();

  constructor(private readonly options: IdempotencyOptions) {}

  /** The first result, a promise of it while the first request is in flight, or undefined. */
  lookup(user: number, clientOrderId: string): T | Promise<T> | undefined {
    const remembered = this.done.get(user)?.get(clientOrderId);
    if (remembered !== undefined) return remembered.result;
    return this.pending.get(pendingKey(user, clientOrderId));
  }

  /** Runs `place` unless the key is known; concurrent callers with the same key share one run. */
  run(user: number, clientOrderId: string, place: () => Promise<T>): Promise<T> {
    const known = this.lookup(user, clientOrderId);
    if (known !== undefined) return Promise.resolve(known);
    const key = pendingKey(user, clientOrderId);
    const running = place().finally(() => this.pending.delete(key));
    this.pending.set(key, running);
    return running;
  }

  /** Records a result (idempotent: a key already recorded keeps its first result). */
  record(user: number, clientOrderId: string, result: T, atMs: number): void {
    let keys = this.done.get(user);
    if (keys === undefined) {
      keys = new Map();
      this.done.set(user, keys);
    }
    if (keys.has(clientOrderId)) return;
    this.dropExpired(keys, atMs);
    if (keys.size >= this.options.keysPerUserMax) {
      const oldest = keys.keys().next().value;
      if (oldest !== undefined) keys.delete(oldest);
    }
    keys.set(clientOrderId, { result, atMs });
  }

  private dropExpired(keys: Map<string, Remembered<T>>, nowMs: number): void {
    for (const [key, remembered] of keys) {
      if (nowMs - remembered.atMs <= this.options.keyAgeMaxMs) return;
      keys.delete(key);
    }
  }
}

function pendingKey(user: number, clientOrderId: string): string {
  return `${user}\u0000${clientOrderId}`;
}
