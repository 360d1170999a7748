import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  decodeRecord,
  encodeRecord,
  endsWrite,
  recordHeaderBytes,
  recordPayloadBytesMax,
  startsWrite,
} from '../../src/journal/record.js';
import { seededRandom, seedFromEnvironment } from './helpers.js';

test('records round trip sequence and payload, including large sequences and non-ASCII text', () => {
  const seed = seedFromEnvironment();
  const random = seededRandom(seed);
  const sequences = [1, 2 ** 32 - 1, 2 ** 32, 2 ** 32 + 1, Number.MAX_SAFE_INTEGER];
  for (let round = 0; round < 200; round++)
    sequences.push(Math.floor(random() * Number.MAX_SAFE_INTEGER) + 1);
  for (const seq of sequences) {
    const payload = JSON.stringify({
      op: 'deposit',
      user: seq % 1000,
      asset: random() < 0.5 ? '원화' : 'BTC',
      amount: seq,
    });
    const flags = (random() < 0.5 ? startsWrite : 0) | (random() < 0.5 ? endsWrite : 0);
    const bytes = encodeRecord(seq, payload, flags);
    const decoded = decodeRecord(bytes, 0, bytes.length);
    assert.ok(decoded.ok, `seed ${seed} seq ${seq}`);
    assert.equal(decoded.seq, seq);
    assert.equal(decoded.startsWrite, (flags & startsWrite) !== 0);
    assert.equal(decoded.endsWrite, (flags & endsWrite) !== 0);
    assert.equal(decoded.recordEnd, bytes.length);
    assert.equal(bytes.toString('utf8', decoded.payloadStart, decoded.payloadEnd), payload);
  }
});

test('records back to back decode one after another', () => {
  const payloads = ['{"a":1}', '', '{"op":"cancel","user":3,"id":9}'];
  const joined = Buffer.concat(payloads.map((payload, index) => encodeRecord(index + 10, payload)));
  let offset = 0;
  payloads.forEach((payload, index) => {
    const decoded = decodeRecord(joined, offset, joined.length);
    assert.ok(decoded.ok);
    assert.equal(decoded.seq, index + 10);
    assert.equal(joined.toString('utf8', decoded.payloadStart, decoded.payloadEnd), payload);
    offset = decoded.recordEnd;
  });
  assert.equal(offset, joined.length);
});

test('a record cut short is truncated, a wrong checksum or absurd length is reported', () => {
  const bytes = encodeRecord(7, '{"op":"deposit","user":1,"asset":"BTC","amount":5}');
  for (let end = 0; end < bytes.length; end++) {
    assert.deepEqual(decodeRecord(bytes, 0, end), { ok: false, problem: 'truncated' }, `cut at ${end}`);
  }
  for (let bit = 0; bit < bytes.length * 8; bit++) {
    const flipped = Buffer.from(bytes);
    flipped[bit >> 3] ^= 1 << (bit & 7);
    const decoded = decodeRecord(flipped, 0, flipped.length);
    assert.equal(decoded.ok, false, `bit ${bit} flipped was accepted`);
  }
  const huge = Buffer.from(bytes);
  huge.writeUInt32LE(recordPayloadBytesMax + 1, 0);
  assert.deepEqual(decodeRecord(huge, 0, huge.length), { ok: false, problem: 'badLength' });
  assert.equal(recordHeaderBytes, 16);
});
