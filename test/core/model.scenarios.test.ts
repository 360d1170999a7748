// Engine versus reference model on hand-made edge scenarios that random streams reach rarely:
// FOK dry runs where the taker's own fills or fee income change its funds mid-sweep, exact bounds,
// odd ids echoed in rejections, name lengths, absent-as-null fields. Each scenario also asserts
// the edge it was built for, so a scenario that stops reaching its edge fails.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { replayCommands } from '../../src/core/replay.js';
import { defaultEngineLimits, type EngineLimits } from '../../src/core/types.js';
import { type ReplayLine, runModel } from '../model/reference.js';

const symbolXY = {
  op: 'symbol',
  symbol: 'X/Y',
  base: 'X',
  quote: 'Y',
  lotSize: 10,
  tickSize: 5,
  makerFeeBps: 100,
  takerFeeBps: 200,
};
const feeFree = { ...symbolXY, makerFeeBps: 0, takerFeeBps: 0 };

function limitOrder(fields: Record<string, unknown>): Record<string, unknown> {
  return { op: 'place', symbol: 'X/Y', type: 'limit', ...fields };
}

function deposit(user: number, asset: string, amount: number): Record<string, unknown> {
  return { op: 'deposit', user, asset, amount };
}

interface Scenario {
  name: string;
  commands: unknown[];
  limits?: Partial<EngineLimits>;
  /** What the scenario is for, checked on the model's output. */
  expect: (lines: ReplayLine[]) => void;
}

const count = (lines: ReplayLine[], ev: string, reason?: string): number =>
  lines.filter((line) => line.ev === ev && (reason === undefined || line.reason === reason)).length;

const scenarios: Scenario[] = [
  {
    name: 'market-buy FOK, stp none: its own fill pays it back so the dry run can afford the next lot',
    commands: [
      feeFree,
      deposit(1, 'X', 1000),
      deposit(1, 'Y', 100),
      deposit(2, 'X', 1000),
      limitOrder({ user: 1, id: 1, side: 'sell', qty: 1, price: 100 }),
      limitOrder({ user: 2, id: 2, side: 'sell', qty: 1, price: 100 }),
      {
        op: 'place',
        user: 1,
        id: 3,
        symbol: 'X/Y',
        side: 'buy',
        type: 'market',
        qty: 2,
        tif: 'FOK',
        stp: 'none',
      },
    ],
    expect: (lines) => assert.equal(count(lines, 'trade'), 2),
  },
  {
    name: 'market-buy FOK, stp none, with a maker fee: the refund falls short and the FOK expires',
    commands: [
      symbolXY,
      deposit(1, 'X', 1000),
      deposit(1, 'Y', 100),
      deposit(2, 'X', 1000),
      limitOrder({ user: 1, id: 1, side: 'sell', qty: 1, price: 100 }),
      limitOrder({ user: 2, id: 2, side: 'sell', qty: 1, price: 100 }),
      {
        op: 'place',
        user: 1,
        id: 3,
        symbol: 'X/Y',
        side: 'buy',
        type: 'market',
        qty: 2,
        tif: 'FOK',
        stp: 'none',
      },
    ],
    expect: (lines) => assert.equal(count(lines, 'expired', 'FOK'), 1),
  },
  {
    name: 'the fee account buys at market: maker fees it earns mid-sweep pay for the next lot',
    commands: [
      { ...symbolXY, makerFeeBps: 10_000, takerFeeBps: 0 },
      deposit(2, 'X', 1000),
      deposit(0, 'Y', 100),
      limitOrder({ user: 2, id: 1, side: 'sell', qty: 1, price: 100 }),
      limitOrder({ user: 2, id: 2, side: 'sell', qty: 1, price: 100 }),
      { op: 'place', user: 0, id: 3, symbol: 'X/Y', side: 'buy', type: 'market', qty: 2, tif: 'FOK' },
    ],
    expect: (lines) => assert.equal(count(lines, 'trade'), 2),
  },
  {
    name: 'FOK dry run with each STP mode against an own order between two others',
    commands: [
      symbolXY,
      deposit(1, 'X', 1000),
      deposit(1, 'Y', 10_000),
      deposit(2, 'X', 1000),
      limitOrder({ user: 2, id: 1, side: 'sell', qty: 1, price: 100 }),
      limitOrder({ user: 1, id: 2, side: 'sell', qty: 1, price: 100 }),
      limitOrder({ user: 2, id: 4, side: 'sell', qty: 1, price: 100 }),
      limitOrder({ user: 1, id: 5, side: 'buy', qty: 2, price: 100, tif: 'FOK', stp: 'expireTaker' }),
      limitOrder({ user: 1, id: 6, side: 'buy', qty: 2, price: 100, tif: 'FOK', stp: 'expireBoth' }),
      limitOrder({ user: 1, id: 7, side: 'buy', qty: 2, price: 100, tif: 'FOK', stp: 'expireMaker' }),
    ],
    expect: (lines) => {
      assert.equal(count(lines, 'expired', 'FOK'), 2);
      assert.equal(count(lines, 'cancelled', 'STP'), 1);
    },
  },
  {
    name: 'a FOK sized exactly to the liquidity after an amend fills; one more lot expires',
    commands: [
      symbolXY,
      deposit(1, 'Y', 100_000),
      deposit(2, 'X', 10_000),
      limitOrder({ user: 2, id: 1, side: 'sell', qty: 5, price: 100 }),
      limitOrder({ user: 2, id: 2, side: 'sell', qty: 5, price: 105 }),
      { op: 'amend', user: 2, id: 1, qty: 2 },
      limitOrder({ user: 1, id: 3, side: 'buy', qty: 8, price: 105, tif: 'FOK' }),
      limitOrder({ user: 1, id: 4, side: 'buy', qty: 7, price: 105, tif: 'FOK' }),
    ],
    expect: (lines) => {
      assert.equal(count(lines, 'expired', 'FOK'), 1);
      assert.equal(count(lines, 'trade'), 2);
    },
  },
  {
    name: 'total supply may reach MAX_SAFE_INTEGER exactly, not pass it',
    commands: [
      deposit(1, 'A', Number.MAX_SAFE_INTEGER - 1),
      deposit(2, 'A', 1),
      deposit(2, 'A', 1),
      { op: 'withdraw', user: 1, asset: 'A', amount: 5 },
      deposit(2, 'A', 5),
      deposit(2, 'A', 1),
    ],
    expect: (lines) => assert.equal(count(lines, 'rejected', 'LIMIT_EXCEEDED'), 2),
  },
  {
    name: 'rejections echo ids of any JSON type, and null for other ops',
    commands: [
      symbolXY,
      { op: 'place', user: 1, id: { a: 1 }, symbol: 'X/Y' },
      { op: 'cancel', user: 1, id: [1] },
      { op: 'amend', user: 1, id: true, qty: 1 },
      { op: 'place', user: 1, id: 'z', symbol: 'nope' },
      { op: 'place', user: 1, symbol: 'X/Y' },
      { op: 'deposit', id: 5 },
      { op: 'frobnicate', id: 6 },
    ],
    expect: (lines) => assert.deepEqual(lines[0].id, { a: 1 }),
  },
  {
    name: 'names of 32 characters are valid, 33 and empty are not',
    commands: [
      { ...symbolXY, symbol: 'S'.repeat(32), base: 'B'.repeat(32), quote: 'Q' },
      { ...symbolXY, symbol: 'S'.repeat(33) },
      { ...symbolXY, symbol: '' },
      deposit(1, 'D'.repeat(32), 1),
      deposit(1, 'D'.repeat(33), 1),
      { ...symbolXY, base: 'Y' },
    ],
    expect: (lines) => assert.equal(count(lines, 'rejected', 'INVALID_SYMBOL'), 3),
  },
  {
    name: 'null fields count as absent and unknown fields are ignored',
    commands: [
      symbolXY,
      { ...deposit(1, 'Y', 10_000), extra: 1 },
      deposit(2, 'X', 10_000),
      limitOrder({ user: 2, id: 1, side: 'sell', qty: 3, price: 100, tif: null, stp: null, postOnly: null }),
      {
        op: 'place',
        user: 1,
        id: 2,
        symbol: 'X/Y',
        side: 'buy',
        type: 'market',
        qty: 1,
        price: null,
        tif: null,
      },
      { op: 'place', user: 1, id: 3, symbol: 'X/Y', side: 'buy', type: 'market', qty: 1, postOnly: false },
      limitOrder({ user: 1, id: 4, side: 'buy', qty: 1, price: 100, tif: 'IOC', postOnly: false }),
      { op: 'amend', user: 2, id: 99, qty: 1, extra: true },
    ],
    expect: (lines) => assert.equal(count(lines, 'trade'), 3),
  },
  {
    name: 'bounds: only GTC limits count against open-order bounds; ids count for every order',
    limits: { openOrdersPerUserMax: 1, ordersPerBookMax: 2, orderIdsMax: 6 },
    commands: [
      symbolXY,
      deposit(1, 'Y', 100_000),
      deposit(2, 'Y', 100_000),
      deposit(3, 'Y', 100_000),
      limitOrder({ user: 1, id: 1, side: 'buy', qty: 1, price: 50 }),
      limitOrder({ user: 1, id: 2, side: 'buy', qty: 1, price: 50 }),
      limitOrder({ user: 1, id: 3, side: 'buy', qty: 1, price: 50, tif: 'IOC' }),
      limitOrder({ user: 2, id: 4, side: 'buy', qty: 1, price: 50 }),
      limitOrder({ user: 3, id: 5, side: 'buy', qty: 1, price: 50 }),
      { op: 'cancel', user: 2, id: 4 },
      limitOrder({ user: 3, id: 6, side: 'buy', qty: 1, price: 50 }),
      limitOrder({ user: 3, id: 7, side: 'buy', qty: 1, price: 50, tif: 'FOK' }),
      { op: 'place', user: 2, id: 8, symbol: 'X/Y', side: 'buy', type: 'market', qty: 1 },
      limitOrder({ user: 2, id: 9, side: 'buy', qty: 1, price: 50, tif: 'IOC' }),
    ],
    // id 2 (user bound), id 5 (book bound), id 9 (six ids used).
    expect: (lines) => assert.equal(count(lines, 'rejected', 'LIMIT_EXCEEDED'), 3),
  },
  {
    name: 'bounds: restingOrdersMax counts resting orders over all books',
    limits: { restingOrdersMax: 2 },
    commands: [
      symbolXY,
      { ...symbolXY, symbol: 'X/Y2' },
      deposit(1, 'Y', 100_000),
      limitOrder({ user: 1, id: 1, side: 'buy', qty: 1, price: 50 }),
      limitOrder({ user: 1, id: 2, side: 'buy', qty: 1, price: 50, symbol: 'X/Y2' }),
      limitOrder({ user: 1, id: 3, side: 'buy', qty: 1, price: 50, symbol: 'X/Y2' }),
      limitOrder({ user: 1, id: 4, side: 'buy', qty: 1, price: 50, tif: 'IOC' }),
      { op: 'cancel', user: 1, id: 1 },
      limitOrder({ user: 1, id: 5, side: 'buy', qty: 1, price: 50, symbol: 'X/Y2' }),
    ],
    expect: (lines) =>
      assert.deepEqual(
        lines.filter((line) => line.ev === 'rejected').map((line) => line.id),
        [3],
      ),
  },
  {
    name: 'bounds on symbols, assets and depositing users',
    limits: { symbolsMax: 1, assetsMax: 3, usersMax: 2 },
    commands: [
      symbolXY,
      { ...symbolXY, symbol: 'Z' },
      deposit(1, 'Y', 1),
      deposit(2, 'W', 1),
      deposit(3, 'Y', 1),
      deposit(2, 'V', 1),
      deposit(0, 'X', 1),
      { op: 'withdraw', user: 2, asset: 'W', amount: 1 },
      deposit(2, 'W', 1),
    ],
    expect: (lines) => assert.equal(count(lines, 'rejected', 'LIMIT_EXCEEDED'), 4),
  },
  {
    name: 'fill bound: an order whose sweep (iceberg refills counted) would pass it is rejected, its id stays free',
    limits: { fillsPerCommandMax: 2 },
    commands: [
      feeFree,
      deposit(1, 'X', 1000),
      deposit(2, 'Y', 100_000),
      limitOrder({ user: 1, id: 1, side: 'sell', qty: 6, price: 100, displayQty: 1 }),
      limitOrder({ user: 2, id: 2, side: 'buy', qty: 3, price: 100 }),
      { op: 'place', user: 2, id: 2, symbol: 'X/Y', side: 'buy', type: 'market', qty: 3 },
      limitOrder({ user: 2, id: 2, side: 'buy', qty: 2, price: 100 }),
    ],
    expect: (lines) => {
      assert.equal(count(lines, 'rejected', 'LIMIT_EXCEEDED'), 2);
      assert.equal(count(lines, 'trade'), 2);
    },
  },
  {
    name: 'fill bound: activated stop orders past the command budget expire UNFILLED (a FOK one too), one within it runs',
    limits: { fillsPerCommandMax: 3 },
    commands: [
      feeFree,
      deposit(1, 'X', 1000),
      deposit(2, 'Y', 100_000),
      deposit(3, 'Y', 100_000),
      limitOrder({ user: 1, id: 1, side: 'sell', qty: 1, price: 100 }),
      limitOrder({ user: 1, id: 2, side: 'sell', qty: 1, price: 105 }),
      limitOrder({ user: 1, id: 3, side: 'sell', qty: 1, price: 110 }),
      limitOrder({ user: 1, id: 4, side: 'sell', qty: 1, price: 115 }),
      limitOrder({ user: 3, id: 30, side: 'buy', qty: 3, price: 115, stopPrice: 100, trigger: 'stopLoss' }),
      limitOrder({
        user: 3,
        id: 31,
        side: 'buy',
        qty: 3,
        price: 115,
        tif: 'FOK',
        stopPrice: 100,
        trigger: 'stopLoss',
      }),
      {
        op: 'place',
        user: 3,
        id: 32,
        symbol: 'X/Y',
        side: 'buy',
        type: 'market',
        qty: 1,
        stopPrice: 100,
        trigger: 'stopLoss',
      },
      limitOrder({ user: 2, id: 10, side: 'buy', qty: 1, price: 100 }),
    ],
    expect: (lines) => {
      assert.equal(count(lines, 'triggered'), 3);
      assert.deepEqual(
        lines.filter((line) => line.ev === 'expired').map((line) => [line.id, line.qty, line.reason]),
        [
          [30, 3, 'UNFILLED'],
          [31, 3, 'UNFILLED'],
        ],
      );
      assert.equal(count(lines, 'trade'), 2);
    },
  },
];

describe('engine versus reference model on edge scenarios', () => {
  for (const scenario of scenarios) {
    it(scenario.name, () => {
      const limits = { ...defaultEngineLimits, ...scenario.limits };
      const expected = runModel(scenario.commands, limits);
      scenario.expect(expected);
      const { lines } = replayCommands(scenario.commands, {
        limits,
        afterEach: (engine) => engine.validateInternalState(),
      });
      // Compared as JSON text, the replay output itself, so that key order counts.
      assert.deepEqual(
        lines.map((line) => JSON.stringify(line)),
        expected.map((line) => JSON.stringify(line)),
      );
    });
  }
});
