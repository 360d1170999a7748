// Integer-keyed collections that scale past V8's limit of 2^24 entries per Map or Set and do
// not allocate on the hot path.

/** Marks a free slot: keys are non-negative. */
const EMPTY_KEY = -1;
/** First size of the order index; NumberMap shards start smaller, as most engines hold few users. */
const TABLE_CAPACITY_MIN = 1_024;
const SHARD_CAPACITY_MIN = 64;
const TWO_POW_32 = 4_294_967_296;

/** Mixes all 53 bits of a non-negative safe integer into a 32-bit slot hash. */
function hashKey(key: number): number {
  const low = key >>> 0;
  const high = (key - low) / TWO_POW_32;
  let hash = Math.imul(low ^ Math.imul(high, 0x27d4eb2d), 0x9e3779b1);
  hash ^= hash >>> 15;
  return hash;
}

/** A V8 array holds at most about 2^27 elements: tables stop doubling at 2^26 slots. */
const TABLE_CAPACITY_MAX = 2 ** 26;
/** NumberMap shards, chosen by the top bits of the key hash: 16 x 2^25 keys at half load. */
const SHARD_BITS = 4;

/** One open-addressing table: linear probing, keys in a Float64Array; entries are never removed. */
class HashShard<V> {
  keys = new Float64Array(SHARD_CAPACITY_MIN).fill(EMPTY_KEY);
  values: (V | undefined)[] = new Array<V | undefined>(SHARD_CAPACITY_MIN).fill(undefined);
  mask = SHARD_CAPACITY_MIN - 1;
  count = 0;

  get(key: number, hash: number): V | undefined {
    const keys = this.keys;
    const mask = this.mask;
    let slot = hash & mask;
    for (;;) {
      const found = keys[slot];
      if (found === key) return this.values[slot];
      if (found === EMPTY_KEY) return undefined;
      slot = (slot + 1) & mask;
    }
  }

  /** Adds or replaces; true when the key is new. */
  set(key: number, hash: number, value: V): boolean {
    const keys = this.keys;
    const mask = this.mask;
    let slot = hash & mask;
    for (;;) {
      const found = keys[slot];
      if (found === key) {
        this.values[slot] = value;
        return false;
      }
      if (found === EMPTY_KEY) break;
      slot = (slot + 1) & mask;
    }
    if (this.count + 1 >= keys.length) throw new Error('NumberMap shard is full');
    keys[slot] = key;
    this.values[slot] = value;
    this.count++;
    if (this.count * 2 > keys.length && keys.length < TABLE_CAPACITY_MAX) this.grow();
    return true;
  }

  private grow(): void {
    const oldKeys = this.keys;
    const oldValues = this.values;
    const capacity = oldKeys.length * 2;
    this.keys = new Float64Array(capacity).fill(EMPTY_KEY);
    this.values = new Array<V | undefined>(capacity).fill(undefined);
    this.mask = capacity - 1;
    this.count = 0;
    for (let slot = 0; slot < oldKeys.length; slot++) {
      const key = oldKeys[slot];
      if (key !== EMPTY_KEY) this.set(key, hashKey(key), oldValues[slot] as V);
    }
  }
}

/**
 * A grow-only hash table keyed by non-negative safe integers (accounts, id pages), in shards of
 * open-addressing tables. Unlike a V8 Map (2^24 entries at most) it holds up to 2^29 keys and
 * allocates only when a shard doubles.
 */
export class NumberMap<V> {
  private readonly shards: HashShard<V>[] = [];
  private count = 0;

  constructor() {
    for (let index = 0; index < 1 << SHARD_BITS; index++) this.shards.push(new HashShard<V>());
  }

  get size(): number {
    return this.count;
  }

  get(key: number): V | undefined {
    const hash = hashKey(key);
    return this.shards[hash >>> (32 - SHARD_BITS)].get(key, hash);
  }

  /** Adds or replaces. */
  set(key: number, value: V): void {
    const hash = hashKey(key);
    if (this.shards[hash >>> (32 - SHARD_BITS)].set(key, hash, value)) this.count++;
  }

  forEach(visit: (value: V, key: number) => void): void {
    for (const shard of this.shards) {
      const keys = shard.keys;
      for (let slot = 0; slot < keys.length; slot++) {
        if (keys[slot] !== EMPTY_KEY) visit(shard.values[slot] as V, keys[slot]);
      }
    }
  }

  /** Every key, ascending. */
  sortedKeys(): number[] {
    const sorted = new Float64Array(this.count);
    let index = 0;
    this.forEach((_, key) => {
      sorted[index++] = key;
    });
    sorted.sort();
    return Array.from(sorted);
  }
}

/** Ids per page of the id set: a page is a bitmap of 256 bits. */
const PAGE_IDS = 256;
const PAGE_WORDS = PAGE_IDS / 32;

/**
 * The set of every order id ever accepted. Ids are usually dense (sequential per gateway), so
 * they are kept as 256-bit pages; the last page touched is cached because consecutive orders
 * tend to land on the same page.
 */
export class OrderIdSet {
  private readonly pages = new NumberMap<Uint32Array>();
  private cachedPageNumber = -1;
  private cachedPage: Uint32Array | undefined = undefined;
  private count = 0;

  get size(): number {
    return this.count;
  }

  has(id: number): boolean {
    const pageNumber = Math.floor(id / PAGE_IDS);
    const page = this.page(pageNumber);
    if (page === undefined) return false;
    const offset = id - pageNumber * PAGE_IDS;
    return (page[offset >>> 5] & (1 << (offset & 31))) !== 0;
  }

  add(id: number): void {
    const pageNumber = Math.floor(id / PAGE_IDS);
    let page = this.page(pageNumber);
    if (page === undefined) {
      page = new Uint32Array(PAGE_WORDS);
      this.pages.set(pageNumber, page);
      this.cachedPageNumber = pageNumber;
      this.cachedPage = page;
    }
    const offset = id - pageNumber * PAGE_IDS;
    const bit = 1 << (offset & 31);
    const word = offset >>> 5;
    if ((page[word] & bit) !== 0) return;
    page[word] |= bit;
    this.count++;
  }

  /** The ids as ascending inclusive ranges, flattened: [first, last, first, last, ...]. */
  ranges(): number[] {
    const ranges: number[] = [];
    for (const pageNumber of this.pages.sortedKeys()) {
      const page = this.pages.get(pageNumber)!;
      for (let offset = 0; offset < PAGE_IDS; offset++) {
        if ((page[offset >>> 5] & (1 << (offset & 31))) === 0) continue;
        const id = pageNumber * PAGE_IDS + offset;
        if (ranges.length > 0 && ranges[ranges.length - 1] === id - 1) ranges[ranges.length - 1] = id;
        else ranges.push(id, id);
      }
    }
    return ranges;
  }

  private page(pageNumber: number): Uint32Array | undefined {
    if (pageNumber === this.cachedPageNumber) return this.cachedPage;
    const page = this.pages.get(pageNumber);
    if (page !== undefined) {
      this.cachedPageNumber = pageNumber;
      this.cachedPage = page;
    }
    return page;
  }
}

/** The id-keyed items an IdIndex holds. */
export interface Identified {
  readonly id: number;
}

/**
 * Resting orders by id: open addressing over one array of the items themselves, compared by
 * their `id`. Against a key array plus a value array this saves one memory access per lookup,
 * insert and delete, which is what cancels on a large book pay for. Kept at most a quarter full
 * (up to 2^24 items) so probe runs stay short; holds up to 2^26 - 1 items.
 */
export class IdIndex<T extends Identified> {
  private slots: (T | undefined)[] = new Array<T | undefined>(TABLE_CAPACITY_MIN).fill(undefined);
  private mask = TABLE_CAPACITY_MIN - 1;
  private count = 0;

  get size(): number {
    return this.count;
  }

  get(id: number): T | undefined {
    const slots = this.slots;
    const mask = this.mask;
    let slot = hashKey(id) & mask;
    for (;;) {
      const item = slots[slot];
      if (item === undefined || item.id === id) return item;
      slot = (slot + 1) & mask;
    }
  }

  /** Adds an item whose id is not in the index yet. */
  add(item: T): void {
    const slots = this.slots;
    const mask = this.mask;
    let slot = hashKey(item.id) & mask;
    while (slots[slot] !== undefined) slot = (slot + 1) & mask;
    slots[slot] = item;
    this.count++;
    // Past 2^26 slots the table stops doubling; the engine's restingOrdersMax keeps it under half full.
    if (this.count * 4 > slots.length && slots.length < TABLE_CAPACITY_MAX) this.grow();
  }

  /** Removes this very item (found by identity, so probing reads no other item). */
  remove(item: T): boolean {
    const slots = this.slots;
    const mask = this.mask;
    let hole = hashKey(item.id) & mask;
    for (;;) {
      const found = slots[hole];
      if (found === item) break;
      if (found === undefined) return false;
      hole = (hole + 1) & mask;
    }
    let slot = hole;
    for (;;) {
      slot = (slot + 1) & mask;
      const moved = slots[slot];
      if (moved === undefined) break;
      const home = hashKey(moved.id) & mask;
      const movable = slot > hole ? home <= hole || home > slot : home <= hole && home > slot;
      if (!movable) continue;
      slots[hole] = moved;
      hole = slot;
    }
    slots[hole] = undefined;
    this.count--;
    return true;
  }

  forEach(visit: (item: T) => void): void {
    for (const item of this.slots) if (item !== undefined) visit(item);
  }

  private grow(): void {
    const old = this.slots;
    const capacity = old.length * 2;
    this.slots = new Array<T | undefined>(capacity).fill(undefined);
    this.mask = capacity - 1;
    this.count = 0;
    for (const item of old) if (item !== undefined) this.add(item);
  }
}
