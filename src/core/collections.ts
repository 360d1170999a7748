// Integer-keyed collections that scale past V8's limit of 2^24 entries per Map or Set.

/** Shards per map: 64 shards of 2^24 entries each hold 2^30 keys. */
const SHARD_COUNT = 64;

/** A map keyed by non-negative safe integers, sharded by key so it can exceed 2^24 entries. */
export class NumberMap<V> {
  private readonly shards: Map<number, V>[] = [];
  private count = 0;

  constructor() {
    for (let index = 0; index < SHARD_COUNT; index++) this.shards.push(new Map<number, V>());
  }

  get size(): number {
    return this.count;
  }

  get(key: number): V | undefined {
    return this.shards[key % SHARD_COUNT].get(key);
  }

  /** Adds or replaces. */
  set(key: number, value: V): void {
    const shard = this.shards[key % SHARD_COUNT];
    const sizeBefore = shard.size;
    shard.set(key, value);
    this.count += shard.size - sizeBefore;
  }

  delete(key: number): boolean {
    const deleted = this.shards[key % SHARD_COUNT].delete(key);
    if (deleted) this.count--;
    return deleted;
  }

  forEach(visit: (value: V, key: number) => void): void {
    for (const shard of this.shards) shard.forEach(visit);
  }

  /** Every key, ascending. */
  sortedKeys(): number[] {
    const keys = new Float64Array(this.count);
    let index = 0;
    for (const shard of this.shards) for (const key of shard.keys()) keys[index++] = key;
    keys.sort();
    return Array.from(keys);
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
