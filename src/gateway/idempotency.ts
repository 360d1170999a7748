// Idempotent order entry: (user, clientOrderId) → the first outcome. The `place` command journals
// its clientOrderId, and this index is filled from applied commands, live and during recovery
// replay, so it survives restarts. A request marks its key pending synchronously before it
// submits, so a concurrent duplicate awaits the first request's result instead of placing again.
// Bounded per user (oldest key dropped) and by age (keys older than `keyAgeMaxMs`, by command time).
import { DeferredArray } from '../journal/deferred-json.js';

export interface IdempotencyOptions {
  keysPerUserMax: number;
  keyAgeMaxMs: number;
}

interface Remembered<T> {
  result: T;
  atMs: number;
}

/** Snapshot form (once serialised): per user, [clientOrderId, first result, command time] oldest first. */
export type IdempotencyState<T> = Array<[user: number, keys: Array<[key: string, result: T, atMs: number]>]>;

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

  /**
   * The remembered results for a snapshot, captured inside the snapshot pause: which keys are kept
   * is copied there; a remembered result never changes after it is recorded, so the
   * [key, result, atMs] tuples are built while the snapshot is written (DeferredArray). Pending
   * (in-flight) keys are not state: their command is either applied before the snapshot's
   * sequence, and recorded, or after it, and replayed.
   */
  exportState(): DeferredArray {
    const users: Array<[number, string[], Remembered<T>[]]> = [];
    for (const [user, keys] of this.done)
      users.push([user, Array.from(keys.keys()), Array.from(keys.values())]);
    return new DeferredArray(users.length, (index) => {
      const [user, keys, remembered] = users[index];
      const entries: Array<[string, T, number]> = new Array(keys.length);
      for (let key = 0; key < keys.length; key++)
        entries[key] = [keys[key], remembered[key].result, remembered[key].atMs];
      return [user, entries];
    });
  }

  /** Replaces every remembered key (recovery, before any request); keeps the newest within the bound. */
  restoreState(state: unknown): void {
    if (!Array.isArray(state)) throw new Error('idempotency state must be an array');
    const done = new Map<number, Map<string, Remembered<T>>>();
    for (const entry of state as unknown[]) {
      const [user, entries] = entry as [unknown, unknown];
      if (!Number.isSafeInteger(user) || !Array.isArray(entries))
        throw new Error('idempotency state: [user, keys] expected');
      const keys = new Map<string, Remembered<T>>();
      for (const [key, result, atMs] of entries.slice(-this.options.keysPerUserMax) as unknown[][]) {
        if (
          typeof key !== 'string' ||
          !Number.isSafeInteger(atMs) ||
          result === null ||
          typeof result !== 'object'
        )
          throw new Error('idempotency state: [key, result, atMs] expected');
        keys.set(key, { result: result as T, atMs: atMs as number });
      }
      done.set(user as number, keys);
    }
    this.done.clear();
    for (const [user, keys] of done) this.done.set(user, keys);
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
