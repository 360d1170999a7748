// The compact payload must decode to exactly what the JSON form decodes to, for every shape of
// place, cancel and amend, and must refuse (fall back to JSON) anything JSON would change or
// that it cannot carry exactly.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import type { Command } from '../../src/core/types.js';
import { coreEngineFactory } from '../../src/journal/engine-factory.js';
import { JournalError } from '../../src/journal/errors.js';
import {
  compactPayloadBytesMax,
  decodeCommand,
  notCompact,
  writeCompactCommand,
} from '../../src/journal/payload.js';
import { encodeRecord } from '../../src/journal/record.js';
import { recover } from '../../src/journal/recovery.js';
import { encodeSegmentHeader, segmentFileName } from '../../src/journal/segment.js';
import { journalText } from '../../src/journal/sequencer.js';
import { recordingLogger, temporaryDirectory } from './helpers.js';

const word = fc.oneof(fc.nat({ max: 1_000 }), fc.nat(), fc.maxSafeNat(), fc.constant(0x1_0000_0000));
const maybe = <T>(value: fc.Arbitrary<T>) => fc.option(value, { nil: undefined });

const placeCommand = fc.record(
  {
    op: fc.constant('place' as const),
    user: word,
    id: fc.option(word, { nil: undefined }),
    symbol: fc.string({
      unit: fc.integer({ min: 0, max: 0x7f }).map((code) => String.fromCharCode(code)),
      maxLength: 255,
    }),
    side: fc.constantFrom('buy' as const, 'sell' as const),
    type: fc.constantFrom('limit' as const, 'market' as const),
    qty: word,
    price: maybe(word),
    tif: maybe(fc.constantFrom('GTC' as const, 'IOC' as const, 'FOK' as const)),
    postOnly: maybe(fc.boolean()),
    stp: maybe(
      fc.constantFrom('none' as const, 'expireMaker' as const, 'expireTaker' as const, 'expireBoth' as const),
    ),
    ts: maybe(word),
    stopPrice: maybe(word),
    trigger: maybe(fc.constantFrom('stopLoss' as const, 'takeProfit' as const)),
    displayQty: maybe(word),
  },
  { requiredKeys: ['op', 'user', 'symbol', 'side', 'type', 'qty'] },
);
const ocoCommand = fc.record(
  {
    op: fc.constant('oco' as const),
    user: word,
    symbol: fc.string({
      unit: fc.integer({ min: 0, max: 0x7f }).map((code) => String.fromCharCode(code)),
      maxLength: 255,
    }),
    side: fc.constantFrom('buy' as const, 'sell' as const),
    qty: word,
    id: word,
    price: word,
    stopId: word,
    stopPrice: word,
    stopLimitPrice: maybe(word),
    stp: maybe(
      fc.constantFrom('none' as const, 'expireMaker' as const, 'expireTaker' as const, 'expireBoth' as const),
    ),
    ts: maybe(word),
  },
  { requiredKeys: ['op', 'user', 'symbol', 'side', 'qty', 'id', 'price', 'stopId', 'stopPrice'] },
);
const cancelCommand = fc.record({ op: fc.constant('cancel' as const), user: word, id: word });
const amendCommand = fc.record({ op: fc.constant('amend' as const), user: word, id: word, qty: word });

function compactRoundTrip(command: Command, seq: number, ts: number): Command | undefined {
  const buffer = Buffer.alloc(compactPayloadBytesMax + 8);
  const bytes = writeCompactCommand(buffer, 3, command, seq, ts);
  if (bytes === notCompact) return undefined;
  assert.ok(bytes <= compactPayloadBytesMax);
  return decodeCommand(buffer, 3, 3 + bytes);
}

function jsonRoundTrip(command: Command, seq: number, ts: number): Command {
  const payload = Buffer.from(journalText(command, seq, ts) as string, 'utf8');
  return decodeCommand(payload, 0, payload.length);
}

test('every place (stop and iceberg fields included), oco, cancel and amend shape decodes from the compact form as from JSON', () => {
  fc.assert(
    fc.property(
      fc.oneof(placeCommand, ocoCommand, cancelCommand, amendCommand),
      word,
      word,
      (command, seq, ts) => {
        const compact = compactRoundTrip(command as Command, seq, ts);
        assert.notEqual(compact, undefined, 'a well-formed hot command is written compactly');
        assert.deepEqual(compact, jsonRoundTrip(command as Command, seq, ts));
      },
    ),
    { numRuns: 2_000 },
  );
});

test('a place without id takes the sequence as id, and the sequencer ts replaces the caller ts', () => {
  const place = {
    op: 'place',
    user: 1,
    symbol: 'BTC-KRW',
    side: 'buy',
    type: 'limit',
    qty: 2,
    ts: 5,
  } as unknown as Command;
  assert.deepEqual(compactRoundTrip(place, 77, 1_790_000_000_000), {
    op: 'place',
    user: 1,
    id: 77,
    symbol: 'BTC-KRW',
    side: 'buy',
    type: 'limit',
    qty: 2,
    ts: 1_790_000_000_000,
  });
  const nullId = { ...place, id: null } as unknown as Command;
  assert.deepEqual(compactRoundTrip(nullId, 78, 1), jsonRoundTrip(nullId, 78, 1));
  const negativeZero = { op: 'cancel', user: -0, id: 3 } as Command;
  assert.ok(Object.is((compactRoundTrip(negativeZero, 1, 1) as { user: number }).user, 0));
});

test('commands JSON would change or the compact form cannot carry are left to JSON', () => {
  const place = {
    op: 'place',
    user: 1,
    id: 2,
    symbol: 'BTC-KRW',
    side: 'buy',
    type: 'limit',
    qty: 3,
    price: 4,
  };
  const refused: unknown[] = [
    { ...place, extra: 1 },
    { ...place, user: -1 },
    { ...place, qty: 1.5 },
    { ...place, price: Number.MAX_SAFE_INTEGER + 1 },
    { ...place, price: null },
    { ...place, qty: '3' },
    { ...place, side: 'BUY' },
    { ...place, type: 'stop' },
    { ...place, tif: 'GTD' },
    { ...place, postOnly: 1 },
    { ...place, stp: 'cancelNewest' },
    { ...place, symbol: 'BTC-원' },
    { ...place, symbol: 'X'.repeat(256) },
    { ...place, symbol: 7 },
    { ...place, stopPrice: -1, trigger: 'stopLoss' },
    { ...place, stopPrice: 5, trigger: 'stop' },
    { ...place, stopPrice: null, trigger: null },
    { ...place, displayQty: 1.5 },
    { ...place, displayQty: null },
    { op: 'oco', user: 1, symbol: 'X', side: 'buy', qty: 1, price: 10, stopId: 6, stopPrice: 35 },
    {
      op: 'oco',
      user: 1,
      symbol: 'X',
      side: 'buy',
      qty: 1,
      id: 5,
      price: 10,
      stopId: 6,
      stopPrice: 35,
      note: 1,
    },
    {
      op: 'oco',
      user: 1,
      symbol: 'X',
      side: 'buy',
      qty: 1,
      id: 5,
      price: 10,
      stopId: 6,
      stopPrice: 35,
      stopLimitPrice: null,
    },
    { op: 'oco', user: 1, symbol: 'X', side: 'BUY', qty: 1, id: 5, price: 10, stopId: 6, stopPrice: 35 },
    { op: 'cancel', user: 1, id: null },
    { op: 'cancel', user: 1, id: 2, qty: 3 },
    { op: 'amend', user: 1, id: 2, qty: Number.NaN },
    { op: 'amend', user: 1, id: 2 },
    { op: 'deposit', user: 1, asset: 'KRW', amount: 5 },
    null,
  ];
  const buffer = Buffer.alloc(compactPayloadBytesMax);
  for (const command of refused)
    assert.equal(
      writeCompactCommand(buffer, 0, command as Command, 1, 1),
      notCompact,
      JSON.stringify(command),
    );
  // Undefined values vanish in JSON, so they do not stop the compact form.
  assert.deepEqual(
    compactRoundTrip({ ...place, tif: undefined, note: undefined } as unknown as Command, 1, 1),
    jsonRoundTrip({ ...place, tif: undefined, note: undefined } as unknown as Command, 1, 1),
  );
});

test('a payload in neither form is refused, not misread', () => {
  const buffer = Buffer.alloc(64);
  const cancelBytes = writeCompactCommand(buffer, 0, { op: 'cancel', user: 1, id: 2 }, 1, 1);
  assert.throws(() => decodeCommand(buffer, 0, cancelBytes - 1), /unknown payload format/);
  buffer[0] = 9;
  assert.throws(() => decodeCommand(buffer, 0, cancelBytes), /unknown payload format/);
  const placeBytes = writeCompactCommand(
    buffer,
    0,
    { op: 'place', user: 1, id: 2, symbol: 'AB', side: 'sell', type: 'market', qty: 3 },
    1,
    1,
  );
  assert.throws(() => decodeCommand(buffer, 0, placeBytes + 1), /malformed compact place/);
});

test('recovery refuses a record whose checksum holds but whose payload is in neither form', () => {
  const directory = temporaryDirectory('payload-unknown');
  const good = encodeRecord(1, JSON.stringify({ op: 'deposit', user: 1, asset: 'KRW', amount: 5, ts: 1 }));
  const unknown = encodeRecord(2, '\u0009unknown');
  writeFileSync(
    join(directory.path, segmentFileName(1)),
    Buffer.concat([encodeSegmentHeader(1), good, unknown]),
  );
  assert.throws(
    () => recover(directory.path, { engines: coreEngineFactory(), logger: recordingLogger().logger }),
    (error: unknown) =>
      error instanceof JournalError && error.code === 'JOURNAL_CORRUPT' && /sequence 2/.test(error.message),
  );
  directory.remove();
});

test('stop, iceberg and oco commands are written compactly and survive recovery with their new fields', () => {
  const stop = {
    op: 'place',
    user: 1,
    id: 3,
    symbol: 'X',
    side: 'buy',
    type: 'limit',
    qty: 2,
    price: 20,
    stopPrice: 30,
    trigger: 'stopLoss',
  } as Command;
  const iceberg = {
    op: 'place',
    user: 2,
    id: 4,
    symbol: 'X',
    side: 'sell',
    type: 'limit',
    qty: 9,
    price: 40,
    displayQty: 2,
  } as Command;
  const oco = {
    op: 'oco',
    user: 1,
    symbol: 'X',
    side: 'buy',
    qty: 1,
    id: 5,
    price: 10,
    stopId: 6,
    stopPrice: 35,
    stopLimitPrice: 36,
  } as Command;
  const buffer = Buffer.alloc(compactPayloadBytesMax);
  const plain = { ...stop, stopPrice: undefined, trigger: undefined } as unknown as Command;
  const plainBytes = writeCompactCommand(buffer, 0, plain, 1, 1);
  for (const command of [stop, iceberg, oco]) {
    const bytes = writeCompactCommand(buffer, 0, command, 1, 7);
    assert.notEqual(bytes, notCompact, `${JSON.stringify(command)} is compact`);
    assert.ok(bytes < JSON.stringify(command).length, 'the compact form is shorter than JSON');
    assert.deepEqual(decodeCommand(buffer, 0, bytes), { ...command, ts: 7 });
    assert.deepEqual(jsonRoundTrip(command, 1, 7), { ...command, ts: 7 });
  }
  // A plain order keeps the original layout, so segments written before stay readable.
  assert.equal(plainBytes, 4 + 5 * 8 + 1);
  const setup = [
    {
      op: 'symbol',
      symbol: 'X',
      base: 'B',
      quote: 'Q',
      lotSize: 1,
      tickSize: 1,
      makerFeeBps: 0,
      takerFeeBps: 0,
    },
    { op: 'deposit', user: 1, asset: 'Q', amount: 1_000 },
    { op: 'deposit', user: 2, asset: 'B', amount: 1_000 },
  ] as Command[];
  const directory = temporaryDirectory('payload-stops');
  const records = [...setup, stop, iceberg, oco].map((command, index) =>
    encodeRecord(index + 1, journalText(command, index + 1, 1) as string),
  );
  writeFileSync(
    join(directory.path, segmentFileName(1)),
    Buffer.concat([encodeSegmentHeader(1), ...records]),
  );
  const { engine } = recover(directory.path, {
    engines: coreEngineFactory(),
    logger: recordingLogger().logger,
  });
  assert.deepEqual(
    engine.openOrders(1).map((order) => [order.id, order.stopPrice, order.trigger, order.ocoId]),
    [
      [3, 30, 'stopLoss', undefined],
      [5, undefined, undefined, 6],
      [6, 35, 'stopLoss', 5],
    ],
  );
  assert.deepEqual(engine.depth('X', 5), { symbol: 'X', bids: [[10, 1]], asks: [[40, 2]] });
  directory.remove();
});
