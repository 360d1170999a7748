// A small seeded PRNG for benchmark workloads: the same seed gives the same stream on every machine,
// so two runs (or two engines in one run) see identical commands. xoshiro128** over 32-bit integers,
// seeded through splitmix32 so that nearby seeds still give unrelated streams.

const uint32Range = 4_294_967_296;

function splitmix32(state: number): number {
  state = (state + 0x9e3779b9) | 0;
  let mixed = state;
  mixed = Math.imul(mixed ^ (mixed >>> 16), 0x85ebca6b);
  mixed = Math.imul(mixed ^ (mixed >>> 13), 0xc2b2ae35);
  return (mixed ^ (mixed >>> 16)) >>> 0;
}

export class SeededRandom {
  readonly seed: number;
  private state0: number;
  private state1: number;
  private state2: number;
  private state3: number;

  constructor(seed: number) {
    if (!Number.isSafeInteger(seed)) throw new Error(`seed must be a safe integer, got ${seed}`);
    this.seed = seed;
    // Fold the high bits in too, so seeds above 2^32 are not silently truncated.
    let mix = (seed ^ Math.floor(seed / uint32Range)) | 0;
    mix = splitmix32(mix);
    this.state0 = mix;
    mix = splitmix32(mix);
    this.state1 = mix;
    mix = splitmix32(mix);
    this.state2 = mix;
    mix = splitmix32(mix);
    this.state3 = mix;
    // xoshiro must not start from the all-zero state.
    if ((this.state0 | this.state1 | this.state2 | this.state3) === 0) this.state3 = 1;
  }

  /** The next 32 random bits as an unsigned integer. */
  nextUint32(): number {
    const result = Math.imul(rotateLeft(Math.imul(this.state1, 5), 7), 9) >>> 0;
    const shifted = this.state1 << 9;
    this.state2 ^= this.state0;
    this.state3 ^= this.state1;
    this.state1 ^= this.state2;
    this.state0 ^= this.state3;
    this.state2 ^= shifted;
    this.state3 = rotateLeft(this.state3, 11);
    return result;
  }

  /** A uniform integer in [0, bound). The bias is below 2^-32 * bound, negligible for workloads. */
  below(bound: number): number {
    if (!Number.isSafeInteger(bound) || bound <= 0 || bound > uint32Range) {
      throw new Error(`bound must be an integer in 1..2^32, got ${bound}`);
    }
    return Math.floor((this.nextUint32() / uint32Range) * bound);
  }

  /** A uniform integer in [minimum, maximum], both inclusive. */
  between(minimum: number, maximum: number): number {
    return minimum + this.below(maximum - minimum + 1);
  }

  /** True with probability numerator / denominator. */
  chance(numerator: number, denominator: number): boolean {
    return this.below(denominator) < numerator;
  }
}

function rotateLeft(value: number, bits: number): number {
  return (value << bits) | (value >>> (32 - bits));
}
