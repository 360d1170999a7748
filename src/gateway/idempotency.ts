// Idempotent order entry: (user, clientOrderId) → the first outcome. The `place` command journals
// its clientOrderId, and this index is filled from applied commands, live and during recovery
// replay, so it survives restarts. A request marks its key pending synchronously before it
// submits, so a concurrent duplicate awaits the first request's result instead of placing again.
// Bounded per user (oldest key dropped) and by age (keys older than `keyAgeMaxMs`, by command time).
// Each key also keeps the fingerprint of its request (the command's fields, normalised): the same
// key with a different request is a conflict, never the first request's result passed off as the
// new one's.
import { DeferredArray } from '../journal/deferred-json.js';

export interface IdempotencyOptions {
  keysPerUserMax: number;
  keyAgeMaxMs: number;
}

interface Remembered<T> {
  result: T;
  atMs: number;
  /** Undefined only for keys restored from a snapshot written before fingerprints were kept. */
  fingerprint: string | undefined;
}

interface Pending<T> {
  result: Promise<T>;
  fingerprint: string;
}

/**
 * Snapshot form (once serialised): per user, [clientOrderId, first result, command time, request
 * fingerprint] oldest first (snapshots from before fingerprints have three elements).
 */
export type IdempotencyState<T> = Array<
  [user: number, keys: Array<[key: string, result: T, atMs: number, fingerprint: string]>]
>;

/** The key is known with another request: answered as a conflict by the caller. */
export class IdempotencyConflict extends Error {
  constructor(readonly key: string) {
    super(`key ${key} was used for a different request`);
  }
}

export class IdempotencyIndex<T> {
  private readonly done = new Map<number, Map<string, Remembered<T>>>();
  private readonly pending = new Map<string, Pending<T>>();

  constructor(private readonly options: IdempotencyOptions) {}

  /**
   * The first result, or a promise of it while the first request is in flight, when the request
   * matches; undefined when the key is unknown. Throws `IdempotencyConflict` when it does not match.
   */
  lookup(user: number, clientOrderId: string, fingerprint: string): T | Promise<T> | undefined {
    const remembered = this.done.get(user)?.get(clientOrderId);
    const pending = remembered === undefined ? this.pending.get(pendingKey(user, clientOrderId)) : undefined;
    const known = remembered ?? pending;
    if (known === undefined) return undefined;
    // A key restored from an older snapshot has no fingerprint: treated as a retry, as before.
    if (known.fingerprint !== undefined && known.fingerprint !== fingerprint)
      throw new IdempotencyConflict(clientOrderId);
    return known.result;
  }

  /** Runs `place` unless the key is known; concurrent callers with the same key share one run. */
  run(user: number, clientOrderId: string, fingerprint: string, place: () => Promise<T>): Promise<T> {
    const known = this.lookup(user, clientOrderId, fingerprint);
    if (known !== undefined) return Promise.resolve(known);
    const key = pendingKey(user, clientOrderId);
    const running = place().finally(() => this.pending.delete(key));
    this.pending.set(key, { result: running, fingerprint });
    return running;
  }

  /** The result recorded under the key, if any (not one still in flight). */
  recorded(user: number, clientOrderId: string): T | undefined {
    return this.done.get(user)?.get(clientOrderId)?.result;
  }

  /** Records a result (idempotent: a key already recorded keeps its first result). */
  record(user: number, clientOrderId: string, result: T, atMs: number, fingerprint: string): void {
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
    keys.set(clientOrderId, { result, atMs, fingerprint });
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
      const entries: Array<[string, T, number, string | undefined]> = new Array(keys.length);
      for (let key = 0; key < keys.length; key++) {
        const { result, atMs, fingerprint } = remembered[key];
        entries[key] = [keys[key], result, atMs, fingerprint];
      }
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
      for (const [key, result, atMs, fingerprint] of entries.slice(
        -this.options.keysPerUserMax,
      ) as unknown[][]) {
        if (
          typeof key !== 'string' ||
          !Number.isSafeInteger(atMs) ||
          result === null ||
          typeof result !== 'object' ||
          (fingerprint !== undefined && fingerprint !== null && typeof fingerprint !== 'string')
        )
          throw new Error('idempotency state: [key, result, atMs, fingerprint] expected');
        keys.set(key, {
          result: result as T,
          atMs: atMs as number,
          fingerprint: typeof fingerprint === 'string' ? fingerprint : undefined,
        });
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
