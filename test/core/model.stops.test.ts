// Stop, iceberg and OCO scenarios worked out by hand from the spec ("Stop orders, iceberg orders
// and OCO"): each is first checked line by line against the reference model (so the model is
// trusted before it judges the engine), then the engine's replay output must equal the model's.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { replayCommands } from '../../src/core/replay.js';
import { defaultEngineLimits, type EngineLimits } from '../../src/core/types.js';
import { type ReplayLine, runModel } from '../model/reference.js';

/** One lot is one unit of B, prices are in Q, no fees: every amount below is easy to check. */
const symbolS = {
  op: 'symbol',
  symbol: 'S',
  base: 'B',
  quote: 'Q',
  lotSize: 1,
  tickSize: 1,
  makerFeeBps: 0,
  takerFeeBps: 0,
};

function deposit(user: number, asset: string, amount: number): Record<string, unknown> {
  return { op: 'deposit', user, asset, amount };
}

function limit(user: number, id: number, side: string, qty: number, price: number, extra = {}) {
  return { op: 'place', user, id, symbol: 'S', side, type: 'limit', qty, price, ...extra };
}

function market(user: number, id: number, side: string, qty: number, extra = {}) {
  return { op: 'place', user, id, symbol: 'S', side, type: 'market', qty, ...extra };
}

function trade(taker: number, maker: number, price: number, qty: number): ReplayLine {
  return { ev: 'trade', symbol: 'S', taker, maker, price, qty, takerFee: 0, makerFee: 0 };
}

function balance(user: number, asset: string, available: number, locked: number): ReplayLine {
  return { ev: 'balance', user, asset, available, locked };
}

interface Scenario {
  name: string;
  commands: unknown[];
  limits?: Partial<EngineLimits>;
  /** The replay lines of the commands from `from` on (setup lines before it are not asserted). */
  from: number;
  expected: ReplayLine[];
}

/** Lines of commands with index >= from (balance lines always included). */
function linesFrom(
  lines: ReplayLine[],
  commands: readonly unknown[],
  from: number,
  limits: EngineLimits,
): ReplayLine[] {
  const model = runModel(commands.slice(0, from), limits);
  const setupLines = model.filter((line) => line.ev !== 'balance').length;
  return lines.slice(setupLines);
}

const scenarios: Scenario[] = [
  {
    name: 'a cascade through three stops: each activated stop-market buy triggers the next',
    commands: [
      symbolS,
      deposit(1, 'B', 100),
      deposit(2, 'Q', 10_000),
      deposit(3, 'Q', 10_000),
      limit(1, 1, 'sell', 1, 100),
      limit(1, 2, 'sell', 1, 101),
      limit(1, 3, 'sell', 1, 102),
      limit(1, 4, 'sell', 1, 103),
      limit(1, 5, 'sell', 5, 104),
      limit(2, 10, 'buy', 1, 100),
      market(3, 20, 'buy', 1, { stopPrice: 101, trigger: 'stopLoss' }),
      market(3, 21, 'buy', 1, { stopPrice: 102, trigger: 'stopLoss' }),
      market(3, 22, 'buy', 1, { stopPrice: 103, trigger: 'stopLoss' }),
      market(3, 23, 'buy', 1, { stopPrice: 100, trigger: 'stopLoss' }),
      limit(2, 11, 'buy', 1, 101),
    ],
    from: 9,
    expected: [
      trade(10, 1, 100, 1),
      { ev: 'rejected', cmd: 13, id: 23, reason: 'STOP_WOULD_TRIGGER' },
      trade(11, 2, 101, 1),
      { ev: 'triggered', id: 20 },
      trade(20, 3, 102, 1),
      { ev: 'triggered', id: 21 },
      trade(21, 4, 103, 1),
      { ev: 'triggered', id: 22 },
      trade(22, 5, 104, 1),
      balance(1, 'B', 91, 4),
      balance(1, 'Q', 510, 0),
      balance(2, 'B', 2, 0),
      balance(2, 'Q', 9799, 0),
      balance(3, 'B', 3, 0),
      balance(3, 'Q', 9691, 0),
    ],
  },
  {
    name: 'the lowest price inside one sweep triggers; activated orders run first in, first out',
    commands: [
      symbolS,
      deposit(1, 'B', 100),
      deposit(2, 'Q', 10_000),
      deposit(3, 'Q', 10_000),
      deposit(4, 'B', 10),
      limit(1, 1, 'sell', 1, 101),
      limit(2, 2, 'buy', 1, 101),
      // L = 101: neither condition holds yet.
      limit(3, 20, 'buy', 1, 100, { stopPrice: 100, trigger: 'takeProfit' }),
      market(4, 21, 'sell', 1, { stopPrice: 100, trigger: 'stopLoss' }),
      limit(1, 3, 'sell', 1, 100),
      limit(1, 4, 'sell', 1, 102),
      // Trades at 100 then 102: the last price 102 triggers neither, the lowest (100) both.
      limit(2, 11, 'buy', 2, 102),
    ],
    from: 5,
    expected: [
      trade(2, 1, 101, 1),
      trade(11, 3, 100, 1),
      trade(11, 4, 102, 1),
      { ev: 'triggered', id: 20 },
      { ev: 'triggered', id: 21 },
      // 20 (buy 1 at 100) finds no ask and rests; then 21 sells into it.
      trade(21, 20, 100, 1),
      balance(1, 'B', 97, 0),
      balance(1, 'Q', 303, 0),
      balance(2, 'B', 3, 0),
      balance(2, 'Q', 9697, 0),
      balance(3, 'B', 1, 0),
      balance(3, 'Q', 9900, 0),
      balance(4, 'B', 9, 0),
      balance(4, 'Q', 100, 0),
    ],
  },
  {
    name: 'an iceberg refilled twice in one sweep goes behind the order at its price each time',
    commands: [
      symbolS,
      deposit(1, 'B', 100),
      deposit(2, 'Q', 10_000),
      deposit(4, 'B', 10),
      limit(1, 1, 'sell', 5, 100, { displayQty: 2 }),
      limit(4, 2, 'sell', 1, 100),
      limit(2, 10, 'buy', 5, 100),
      { op: 'amend', user: 1, id: 1, qty: 1 },
      { op: 'cancel', user: 1, id: 1 },
    ],
    from: 4,
    expected: [
      trade(10, 1, 100, 2),
      trade(10, 2, 100, 1),
      trade(10, 1, 100, 2),
      { ev: 'rejected', cmd: 7, id: 1, reason: 'INVALID_QTY' },
      { ev: 'cancelled', id: 1, qty: 1, reason: 'USER' },
      balance(1, 'B', 96, 0),
      balance(1, 'Q', 400, 0),
      balance(2, 'B', 5, 0),
      balance(2, 'Q', 9500, 0),
      balance(4, 'B', 9, 0),
      balance(4, 'Q', 100, 0),
    ],
  },
  {
    name: "an OCO buy: leg A's first (partial) fill cancels leg B and releases the excess",
    commands: [
      symbolS,
      deposit(1, 'B', 100),
      deposit(2, 'Q', 10_000),
      {
        op: 'oco',
        user: 2,
        symbol: 'S',
        side: 'buy',
        qty: 4,
        id: 30,
        price: 95,
        stopId: 31,
        stopPrice: 105,
        stopLimitPrice: 110,
      },
      { op: 'amend', user: 2, id: 31, qty: 2 },
      limit(1, 40, 'sell', 1, 95),
      { op: 'amend', user: 2, id: 30, qty: 2 },
    ],
    from: 3,
    expected: [
      { ev: 'rejected', cmd: 4, id: 31, reason: 'NOT_AMENDABLE' },
      trade(40, 30, 95, 1),
      { ev: 'cancelled', id: 31, qty: 4, reason: 'OCO' },
      { ev: 'amended', id: 30, qty: 2 },
      balance(1, 'B', 99, 0),
      balance(1, 'Q', 95, 0),
      balance(2, 'B', 1, 0),
      balance(2, 'Q', 9715, 190),
    ],
  },
  {
    name: 'an OCO sell whose leg B triggers: leg A is cancelled right after, then B sells at market',
    commands: [
      symbolS,
      deposit(1, 'B', 100),
      deposit(2, 'Q', 10_000),
      deposit(3, 'B', 10),
      limit(1, 1, 'sell', 1, 100),
      limit(2, 2, 'buy', 1, 100),
      {
        op: 'oco',
        user: 3,
        symbol: 'S',
        side: 'sell',
        qty: 2,
        id: 30,
        price: 110,
        stopId: 31,
        stopPrice: 95,
      },
      limit(2, 3, 'buy', 1, 95),
      limit(2, 5, 'buy', 2, 90),
      market(1, 4, 'sell', 1),
    ],
    from: 6,
    expected: [
      trade(4, 3, 95, 1),
      { ev: 'triggered', id: 31 },
      { ev: 'cancelled', id: 30, qty: 2, reason: 'OCO' },
      trade(31, 5, 90, 2),
      balance(1, 'B', 98, 0),
      balance(1, 'Q', 195, 0),
      balance(2, 'B', 4, 0),
      balance(2, 'Q', 9625, 0),
      balance(3, 'B', 8, 0),
      balance(3, 'Q', 180, 0),
    ],
  },
  {
    name: 'STP cancels leg A of its own OCO, and leg B goes with it (reason OCO)',
    commands: [
      symbolS,
      deposit(1, 'B', 10),
      deposit(1, 'Q', 1000),
      {
        op: 'oco',
        user: 1,
        symbol: 'S',
        side: 'sell',
        qty: 2,
        id: 30,
        price: 110,
        stopId: 31,
        stopPrice: 90,
        stopLimitPrice: 85,
      },
      limit(1, 40, 'buy', 1, 110),
    ],
    from: 3,
    expected: [
      { ev: 'cancelled', id: 30, qty: 2, reason: 'STP' },
      { ev: 'cancelled', id: 31, qty: 2, reason: 'OCO' },
      balance(1, 'B', 10, 0),
      balance(1, 'Q', 890, 110),
    ],
  },
  {
    name: 'a stop-limit is placed into a full book (pending); activated, it cannot rest there and expires',
    limits: { ordersPerBookMax: 3 },
    commands: [
      symbolS,
      deposit(1, 'B', 100),
      deposit(1, 'Q', 1000),
      deposit(2, 'Q', 10_000),
      limit(1, 1, 'sell', 1, 100),
      limit(2, 2, 'buy', 1, 100),
      // Placed while the book is empty, and again once it is full: pending orders are not in it.
      limit(2, 3, 'buy', 3, 95, { trigger: 'takeProfit', stopPrice: 99 }),
      limit(1, 4, 'sell', 3, 98),
      limit(1, 5, 'sell', 1, 110),
      limit(1, 6, 'buy', 1, 30),
      limit(2, 7, 'buy', 1, 40, { trigger: 'takeProfit', stopPrice: 97 }),
      limit(2, 8, 'buy', 1, 97),
      market(2, 9, 'buy', 1),
    ],
    from: 6,
    expected: [
      { ev: 'rejected', cmd: 11, id: 8, reason: 'LIMIT_EXCEEDED' },
      trade(9, 4, 98, 1),
      { ev: 'triggered', id: 3 },
      // 3 finds no ask at <= 95 and the book holds 3 orders already: it expires instead of resting.
      { ev: 'expired', id: 3, qty: 3, reason: 'UNFILLED' },
      balance(1, 'B', 95, 3),
      balance(1, 'Q', 1168, 30),
      balance(2, 'B', 2, 0),
      balance(2, 'Q', 9762, 40),
    ],
  },
  {
    name: 'activated orders: a FOK that cannot fill expires whole, a stop-market buy runs out of funds',
    commands: [
      symbolS,
      deposit(1, 'B', 100),
      deposit(2, 'Q', 10_000),
      deposit(3, 'Q', 150),
      limit(1, 1, 'sell', 1, 100),
      limit(2, 2, 'buy', 1, 100),
      limit(2, 20, 'buy', 5, 105, { trigger: 'stopLoss', stopPrice: 101, tif: 'FOK' }),
      { op: 'amend', user: 2, id: 20, qty: 3 },
      market(3, 21, 'buy', 4, { trigger: 'stopLoss', stopPrice: 101 }),
      limit(1, 3, 'sell', 1, 101),
      limit(1, 4, 'sell', 2, 102),
      limit(2, 10, 'buy', 1, 101),
    ],
    from: 7,
    expected: [
      { ev: 'amended', id: 20, qty: 3 },
      trade(10, 3, 101, 1),
      { ev: 'triggered', id: 20 },
      { ev: 'triggered', id: 21 },
      // 20 needs 3 lots at <= 105 and finds 2: it expires whole, as amended.
      { ev: 'expired', id: 20, qty: 3, reason: 'FOK' },
      // 21 pays from available: 150 buys one lot at 102, then 48 buys nothing.
      trade(21, 4, 102, 1),
      { ev: 'expired', id: 21, qty: 3, reason: 'INSUFFICIENT_FUNDS' },
      balance(1, 'B', 96, 1),
      balance(1, 'Q', 303, 0),
      balance(2, 'B', 2, 0),
      balance(2, 'Q', 9799, 0),
      balance(3, 'B', 1, 0),
      balance(3, 'Q', 48, 0),
    ],
  },
  {
    name: 'an OCO buy with a stop-market leg B: the trigger releases everything, B pays as it fills',
    commands: [
      symbolS,
      deposit(1, 'B', 100),
      deposit(2, 'Q', 10_000),
      deposit(3, 'Q', 1000),
      limit(1, 1, 'sell', 1, 100),
      limit(2, 2, 'buy', 1, 100),
      { op: 'oco', user: 3, symbol: 'S', side: 'buy', qty: 2, id: 30, price: 90, stopId: 31, stopPrice: 105 },
      limit(1, 3, 'sell', 1, 105),
      limit(1, 4, 'sell', 5, 106),
      limit(2, 10, 'buy', 1, 105),
    ],
    from: 6,
    expected: [
      trade(10, 3, 105, 1),
      { ev: 'triggered', id: 31 },
      { ev: 'cancelled', id: 30, qty: 2, reason: 'OCO' },
      trade(31, 4, 106, 2),
      balance(1, 'B', 93, 3),
      balance(1, 'Q', 417, 0),
      balance(2, 'B', 2, 0),
      balance(2, 'Q', 9795, 0),
      balance(3, 'B', 2, 0),
      balance(3, 'Q', 788, 0),
    ],
  },
  {
    name: 'OCO validation: first failing check wins, and a rejected oco reports its id',
    commands: [
      symbolS,
      deposit(1, 'B', 100),
      deposit(2, 'Q', 100),
      limit(1, 1, 'sell', 1, 100),
      limit(2, 2, 'buy', 1, 100),
      limit(1, 3, 'sell', 1, 105),
      ...[
        { symbol: 'T', id: 'x' },
        { id: 1, user: -1 },
        { id: 7, stopId: 7, user: -1 },
        { stopId: 'y', qty: 0 },
        { qty: 0, price: 3.5 },
        { price: 98, stopLimitPrice: 0, stopPrice: 97 },
        { price: 98, stopPrice: 97 },
        { price: 105, stopPrice: 106 },
        { price: 98, stopPrice: 100 },
        { price: 98, stopPrice: 102 },
      ].map((fields) => ({
        op: 'oco',
        user: 2,
        symbol: 'S',
        side: 'buy',
        qty: 1,
        id: 50,
        price: 90,
        stopId: 51,
        stopPrice: 110,
        stopLimitPrice: 120,
        ...fields,
      })),
    ],
    // L = 100, the best ask is 105, and user 2 has no Q left for 1 x max(98, 120).
    from: 5,
    expected: [
      { ev: 'rejected', cmd: 6, id: 'x', reason: 'UNKNOWN_SYMBOL' },
      { ev: 'rejected', cmd: 7, id: 1, reason: 'DUPLICATE_ORDER_ID' },
      { ev: 'rejected', cmd: 8, id: 7, reason: 'DUPLICATE_ORDER_ID' },
      { ev: 'rejected', cmd: 9, id: 50, reason: 'INVALID_ORDER' },
      { ev: 'rejected', cmd: 10, id: 50, reason: 'INVALID_QTY' },
      { ev: 'rejected', cmd: 11, id: 50, reason: 'INVALID_PRICE' },
      { ev: 'rejected', cmd: 12, id: 50, reason: 'INVALID_STOP' },
      { ev: 'rejected', cmd: 13, id: 50, reason: 'POST_ONLY_WOULD_CROSS' },
      { ev: 'rejected', cmd: 14, id: 50, reason: 'STOP_WOULD_TRIGGER' },
      { ev: 'rejected', cmd: 15, id: 50, reason: 'INSUFFICIENT_FUNDS' },
      balance(1, 'B', 98, 1),
      balance(1, 'Q', 100, 0),
      balance(2, 'B', 1, 0),
    ],
  },
];

describe('stop, iceberg and OCO scenarios worked out by hand', () => {
  for (const scenario of scenarios) {
    it(scenario.name, () => {
      const limits = { ...defaultEngineLimits, ...scenario.limits };
      const modelLines = runModel(scenario.commands, limits);
      assert.deepEqual(
        linesFrom(modelLines, scenario.commands, scenario.from, limits),
        scenario.expected,
        'model',
      );
      const { lines } = replayCommands(scenario.commands, {
        limits,
        afterEach: (engine) => engine.validateInternalState(),
      });
      // Compared as JSON text, the replay output itself, so that key order counts.
      assert.deepEqual(
        lines.map((line) => JSON.stringify(line)),
        modelLines.map((line) => JSON.stringify(line)),
        'engine',
      );
    });
  }
});
