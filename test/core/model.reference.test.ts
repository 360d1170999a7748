// Self-test of the reference model on small scenarios worked out by hand from the spec, before
// it is trusted to judge the engine.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultEngineLimits } from '../../src/core/types.js';
import { runModel } from '../model/reference.js';

const symbolXY = {
  op: 'symbol',
  symbol: 'X/Y',
  base: 'X',
  quote: 'Y',
  lotSize: 100,
  tickSize: 5,
  makerFeeBps: 100,
  takerFeeBps: 200,
};

function run(commands: unknown[]): Record<string, unknown>[] {
  return runModel(commands, defaultEngineLimits);
}

function eventLines(commands: unknown[]): Record<string, unknown>[] {
  return run(commands).filter((line) => line.ev !== 'balance');
}

describe('reference model', () => {
  it('fills at the maker price, refunds a better price and charges fees in the received asset', () => {
    const lines = run([
      symbolXY,
      { op: 'deposit', user: 1, asset: 'X', amount: 1000 },
      { op: 'deposit', user: 2, asset: 'Y', amount: 10_000 },
      { op: 'place', user: 1, id: 10, symbol: 'X/Y', side: 'sell', type: 'limit', qty: 5, price: 100 },
      { op: 'place', user: 2, id: 11, symbol: 'X/Y', side: 'buy', type: 'limit', qty: 3, price: 105 },
    ]);
    assert.deepEqual(lines, [
      { ev: 'trade', symbol: 'X/Y', taker: 11, maker: 10, price: 100, qty: 3, takerFee: 6, makerFee: 3 },
      { ev: 'balance', user: 0, asset: 'X', available: 6, locked: 0 },
      { ev: 'balance', user: 0, asset: 'Y', available: 3, locked: 0 },
      { ev: 'balance', user: 1, asset: 'X', available: 500, locked: 200 },
      { ev: 'balance', user: 1, asset: 'Y', available: 297, locked: 0 },
      { ev: 'balance', user: 2, asset: 'X', available: 294, locked: 0 },
      { ev: 'balance', user: 2, asset: 'Y', available: 9700, locked: 0 },
    ]);
  });

  it('takes the first failing validation step and echoes the raw id', () => {
    const base = { op: 'place', user: 1, symbol: 'X/Y', side: 'buy', type: 'limit', qty: 1, price: 5 };
    const lines = eventLines([
      symbolXY,
      { op: 'deposit', user: 1, asset: 'Y', amount: 100 },
      { ...base, id: 1 },
      { ...base, id: 'x', symbol: 'Q', user: -1 },
      { ...base, id: 1, user: -1 },
      { ...base, id: 2, user: -1, tif: 'DAY' },
      { ...base, id: 2, tif: 'DAY', qty: 0 },
      { ...base, id: 2, qty: 0, price: 3 },
      { ...base, id: 2, price: 3 },
      { ...base, id: 2, type: 'market', price: 5 },
      { ...base, id: 2, type: 'market', price: null, tif: 'GTC' },
      { ...base, id: 2, postOnly: true, tif: 'IOC' },
      { ...base, id: 2, qty: 2 ** 40, price: 2 ** 20 * 5 },
      { ...base, id: 2, qty: 100 },
      { ...base, id: 2, qty: 19 },
      { ...base, id: 2, qty: 1 },
      null,
      { op: 'nope', id: 4 },
    ]);
    const reasons = lines.map((line) => [line.cmd, line.id, line.reason]);
    assert.deepEqual(reasons, [
      [3, 'x', 'UNKNOWN_SYMBOL'],
      [4, 1, 'DUPLICATE_ORDER_ID'],
      [5, 2, 'INVALID_ORDER'],
      [6, 2, 'INVALID_TIF'],
      [7, 2, 'INVALID_QTY'],
      [8, 2, 'INVALID_PRICE'],
      [9, 2, 'INVALID_PRICE'],
      [10, 2, 'INVALID_TIF'],
      [11, 2, 'INVALID_TIF'],
      [12, 2, 'LIMIT_EXCEEDED'],
      [13, 2, 'INSUFFICIENT_FUNDS'],
      [15, 2, 'DUPLICATE_ORDER_ID'],
      [16, null, 'UNKNOWN_COMMAND'],
      [17, null, 'UNKNOWN_COMMAND'],
    ]);
  });

  it('FOK with expireMaker skips own orders in the dry run and cancels them only when it fills', () => {
    const sell = { op: 'place', symbol: 'X/Y', side: 'sell', type: 'limit', qty: 2, price: 100 };
    const buy = { op: 'place', user: 1, symbol: 'X/Y', side: 'buy', type: 'limit', price: 100, tif: 'FOK' };
    const lines = eventLines([
      symbolXY,
      { op: 'deposit', user: 1, asset: 'X', amount: 1000 },
      { op: 'deposit', user: 1, asset: 'Y', amount: 1000 },
      { op: 'deposit', user: 2, asset: 'X', amount: 1000 },
      { ...sell, user: 1, id: 10 },
      { ...sell, user: 2, id: 11 },
      { ...buy, id: 12, qty: 3 },
      { ...buy, id: 13, qty: 2 },
    ]);
    assert.deepEqual(lines, [
      { ev: 'expired', id: 12, qty: 3, reason: 'FOK' },
      { ev: 'cancelled', id: 10, qty: 2, reason: 'STP' },
      { ev: 'trade', symbol: 'X/Y', taker: 13, maker: 11, price: 100, qty: 2, takerFee: 4, makerFee: 2 },
    ]);
  });

  it('a market buy pays from available and expires INSUFFICIENT_FUNDS when it cannot afford a lot', () => {
    const sell = { op: 'place', user: 1, symbol: 'X/Y', side: 'sell', type: 'limit', qty: 2 };
    const lines = eventLines([
      symbolXY,
      { op: 'deposit', user: 1, asset: 'X', amount: 1000 },
      { op: 'deposit', user: 2, asset: 'Y', amount: 250 },
      { ...sell, id: 1, price: 100 },
      { ...sell, id: 2, price: 120 },
      { op: 'place', user: 2, id: 3, symbol: 'X/Y', side: 'buy', type: 'market', qty: 5 },
      { op: 'place', user: 2, id: 4, symbol: 'X/Y', side: 'sell', type: 'market', qty: 1 },
    ]);
    assert.deepEqual(lines, [
      { ev: 'trade', symbol: 'X/Y', taker: 3, maker: 1, price: 100, qty: 2, takerFee: 4, makerFee: 2 },
      { ev: 'expired', id: 3, qty: 3, reason: 'INSUFFICIENT_FUNDS' },
      { ev: 'expired', id: 4, qty: 1, reason: 'UNFILLED' },
    ]);
  });

  it('expireBoth cancels the own maker then expires the taker; amend and cancel need the owner', () => {
    const lines = eventLines([
      symbolXY,
      { op: 'deposit', user: 1, asset: 'X', amount: 1000 },
      { op: 'deposit', user: 1, asset: 'Y', amount: 1000 },
      { op: 'place', user: 1, id: 1, symbol: 'X/Y', side: 'sell', type: 'limit', qty: 4, price: 100 },
      { op: 'place', user: 1, id: 5, symbol: 'X/Y', side: 'sell', type: 'limit', qty: 4, price: 105 },
      {
        op: 'place',
        user: 1,
        id: 2,
        symbol: 'X/Y',
        side: 'buy',
        type: 'limit',
        qty: 1,
        price: 100,
        postOnly: true,
      },
      { op: 'amend', user: 2, id: 1, qty: 1 },
      { op: 'amend', user: 1, id: 1, qty: 4 },
      { op: 'amend', user: 1, id: 1, qty: 3 },
      {
        op: 'place',
        user: 1,
        id: 3,
        symbol: 'X/Y',
        side: 'buy',
        type: 'limit',
        qty: 2,
        price: 100,
        stp: 'expireBoth',
      },
      { op: 'cancel', user: 1, id: 1 },
      { op: 'cancel', user: 2, id: 5 },
    ]);
    assert.deepEqual(lines, [
      { ev: 'rejected', cmd: 5, id: 2, reason: 'POST_ONLY_WOULD_CROSS' },
      { ev: 'rejected', cmd: 6, id: 1, reason: 'UNKNOWN_ORDER' },
      { ev: 'rejected', cmd: 7, id: 1, reason: 'INVALID_QTY' },
      { ev: 'amended', id: 1, qty: 3 },
      { ev: 'cancelled', id: 1, qty: 3, reason: 'STP' },
      { ev: 'expired', id: 3, qty: 2, reason: 'STP' },
      { ev: 'rejected', cmd: 10, id: 1, reason: 'UNKNOWN_ORDER' },
      { ev: 'rejected', cmd: 11, id: 5, reason: 'UNKNOWN_ORDER' },
    ]);
  });

  it('computes fees exactly where received * bps leaves the safe integers', () => {
    const received = 9_000_000_000_000_000;
    const lines = run([
      {
        op: 'symbol',
        symbol: 'W',
        base: 'B',
        quote: 'Q',
        lotSize: 1,
        tickSize: 1,
        makerFeeBps: 77,
        takerFeeBps: 0,
      },
      { op: 'deposit', user: 1, asset: 'B', amount: 1 },
      { op: 'deposit', user: 2, asset: 'Q', amount: received },
      { op: 'place', user: 1, id: 1, symbol: 'W', side: 'sell', type: 'limit', qty: 1, price: received },
      { op: 'place', user: 2, id: 2, symbol: 'W', side: 'buy', type: 'market', qty: 1 },
    ]);
    assert.deepEqual(lines[0], {
      ev: 'trade',
      symbol: 'W',
      taker: 2,
      maker: 1,
      price: received,
      qty: 1,
      takerFee: 0,
      makerFee: 69_300_000_000_000,
    });
  });

  it('sorts balance lines by user, then asset by code unit, and omits zero pairs', () => {
    const lines = run([
      { op: 'deposit', user: 3, asset: 'b', amount: 1 },
      { op: 'deposit', user: 3, asset: 'Z', amount: 1 },
      { op: 'deposit', user: 3, asset: 'Ā', amount: 1 },
      { op: 'deposit', user: 1, asset: 'a', amount: 2 },
      { op: 'withdraw', user: 1, asset: 'a', amount: 2 },
    ]);
    assert.deepEqual(
      lines.map((line) => [line.user, line.asset]),
      [
        [3, 'Z'],
        [3, 'b'],
        [3, 'Ā'],
      ],
    );
  });
});
