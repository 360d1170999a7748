// 64-bit FNV-1a over a stream of bytes, numbers and strings, in pure integer arithmetic.
// The 64-bit state is kept as two unsigned 32-bit halves because JavaScript numbers hold only
// 53 exact bits; the FNV prime 2^40 + 0x1b3 is applied as `x * 0x1b3 + (x << 40)`.

const OFFSET_BASIS_HIGH = 0xcbf29ce4;
const OFFSET_BASIS_LOW = 0x84222325;
const PRIME_LOW = 0x1b3;
const TWO_POW_32 = 4_294_967_296;

export class Fnv64 {
  private high = OFFSET_BASIS_HIGH;
  private low = OFFSET_BASIS_LOW;

  byte(value: number): void {
    const low = (this.low ^ (value & 0xff)) >>> 0;
    const lowProduct = low * PRIME_LOW;
    const lowNext = lowProduct >>> 0;
    const carry = (lowProduct - lowNext) / TWO_POW_32;
    this.high = (Math.imul(this.high, PRIME_LOW) + carry + (low << 8)) >>> 0;
    this.low = lowNext;
  }

  /** Feeds an integer as 8 bytes (two's complement of its high word for negatives). */
  integer(value: number): void {
    const high = Math.floor(value / TWO_POW_32);
    const low = value - high * TWO_POW_32;
    this.word(high >>> 0);
    this.word(low >>> 0);
  }

  /** Feeds the length first so that adjacent strings cannot blur into each other. */
  text(value: string): void {
    this.integer(value.length);
    for (let index = 0; index < value.length; index++) {
      const code = value.charCodeAt(index);
      this.byte(code >>> 8);
      this.byte(code);
    }
  }

  hex(): string {
    return this.high.toString(16).padStart(8, '0') + this.low.toString(16).padStart(8, '0');
  }

  /** Four bytes, most significant first: byte() unrolled over locals (the state hash's hot loop). */
  private word(value: number): void {
    let high = this.high;
    let low = this.low;
    for (let shift = 24; shift >= 0; shift -= 8) {
      const mixed = (low ^ ((value >>> shift) & 0xff)) >>> 0;
      const product = mixed * PRIME_LOW;
      low = product >>> 0;
      high = (Math.imul(high, PRIME_LOW) + (product - low) / TWO_POW_32 + (mixed << 8)) >>> 0;
    }
    this.high = high;
    this.low = low;
  }
}
