// A small seeded pseudo-random generator for tests: xorshift128 over four 32-bit words, seeded
// through a splitmix-style scrambler so that nearby seeds give unrelated streams. Tests print the
// seed on failure, so any run reproduces exactly.

const uint32Range = 0x1_0000_0000;

/** Scrambles a 32-bit value so that seeds 1, 2, 3 start far apart. */
function scramble(value: number): number {
  let mixed = (value + 0x9e3779b9) >>> 0;
  mixed = Math.imul(mixed ^ (mixed >>> 16), 0x85ebca6b) >>> 0;
  mixed = Math.imul(mixed ^ (mixed >>> 13), 0xc2b2ae35) >>> 0;
  return (mixed ^ (mixed >>> 16)) >>> 0;
}

export class Random {
  private word0: number;
  private word1: number;
  private word2: number;
  private word3: number;

  constructor(readonly seed: number) {
    this.word0 = scramble(seed);
    this.word1 = scramble(this.word0);
    this.word2 = scramble(this.word1);
    this.word3 = scramble(this.word2);
    // xorshift128 must never be all zeros.
    if ((this.word0 | this.word1 | this.word2 | this.word3) === 0) this.word0 = 1;
  }

  /** A uniformly distributed unsigned 32-bit integer. */
  nextUint32(): number {
    let mixed = this.word0 ^ (this.word0 << 11);
    mixed ^= mixed >>> 8;
    this.word0 = this.word1;
    this.word1 = this.word2;
    this.word2 = this.word3;
    this.word3 = (this.word3 ^ (this.word3 >>> 19) ^ mixed) >>> 0;
    return this.word3;
  }

  /** A float in [0, 1). */
  fraction(): number {
    return this.nextUint32() / uint32Range;
  }

  /** An integer in [min, max], both inclusive; exact for any span of safe integers. */
  int(min: number, max: number): number {
    const span = max - min + 1;
    if (span <= uint32Range) return min + Math.floor(this.fraction() * span);
    const high = this.nextUint32() % Math.ceil(span / uint32Range);
    const value = high * uint32Range + this.nextUint32();
    return min + (value % span);
  }

  /** True with probability `probability`. */
  chance(probability: number): boolean {
    return this.fraction() < probability;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from an empty list');
    return items[this.int(0, items.length - 1)];
  }

  /** Picks a value with probability proportional to its weight. */
  weighted<T>(entries: ReadonlyArray<readonly [T, number]>): T {
    let total = 0;
    for (const [, weight] of entries) total += weight;
    let point = this.fraction() * total;
    for (const [value, weight] of entries) {
      point -= weight;
      if (point < 0) return value;
    }
    return entries[entries.length - 1][0];
  }
}
