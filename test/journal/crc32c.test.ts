import assert from 'node:assert/strict';
import { test } from 'node:test';
import { crc32c } from '../../src/journal/crc32c.js';
import { seededRandom, seedFromEnvironment } from './helpers.js';

/** Bit-at-a-time definition, independent of the sliced tables. */
function crc32cBitwise(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return ~crc >>> 0;
}

test('crc32c matches the published check values', () => {
  assert.equal(crc32c(Buffer.from('123456789', 'ascii')), 0xe3069283);
  assert.equal(crc32c(new Uint8Array(0)), 0);
  // RFC 3720 (iSCSI) appendix B.4 vectors.
  assert.equal(crc32c(new Uint8Array(32)), 0x8a9136aa);
  assert.equal(crc32c(new Uint8Array(32).fill(0xff)), 0x62a8ab43);
  const ascending = Uint8Array.from({ length: 32 }, (_, index) => index);
  assert.equal(crc32c(ascending), 0x46dd794e);
});

test('crc32c equals the bitwise definition on random inputs, whole and in pieces', () => {
  const seed = seedFromEnvironment();
  const random = seededRandom(seed);
  for (let round = 0; round < 300; round++) {
    const bytes = Uint8Array.from({ length: Math.floor(random() * 200) }, () => Math.floor(random() * 256));
    const expected = crc32cBitwise(bytes);
    assert.equal(crc32c(bytes), expected, `seed ${seed} round ${round}`);
    const split = Math.floor(random() * (bytes.length + 1));
    assert.equal(
      crc32c(bytes, split, bytes.length, crc32c(bytes, 0, split)),
      expected,
      `seed ${seed} round ${round} split ${split}`,
    );
  }
});
