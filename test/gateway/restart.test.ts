// Restart on the same data directory: the journal replays into the gateway's state, so a retried
// clientOrderId returns the first result and never places twice; markets, balances, orders and
// sessions are all still there.
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { startTestExchange, type TestExchange } from './support/exchange.js';

let exchange: TestExchange;

before(async () => {
  exchange = await startTestExchange();
});

after(async () => {
  await exchange?.close();
});

it('a retried clientOrderId after a restart returns the first result and places nothing', async () => {
  const { api } = exchange;
  const admin = await api.adminToken();
  await api.createMarket(admin);
  const userId = await api.register('ivy');
  const token = await api.login('ivy');
  await api.deposit(admin, userId, 'USD', '1000');
  const order = {
    symbol: 'BTC-USD',
    side: 'buy',
    type: 'limit',
    price: '100',
    qty: '1',
    clientOrderId: 'retry-me',
  };
  const first = await api.expect(200, 'POST', '/api/v1/orders', order, token);
  const rejectedOrder = { ...order, qty: '100', clientOrderId: 'too-big' };
  const firstReject = await api.call('POST', '/api/v1/orders', rejectedOrder, token);
  assert.equal(firstReject.body.code, 'INSUFFICIENT_FUNDS');
  const balancesBefore = await api.expect(200, 'GET', '/api/v1/balances', undefined, token);
  const lastSeqBefore = exchange.exchange.sequencer.lastSeq;

  await exchange.restart();
  const restarted = exchange.api;

  // The session lives in the read model: the same token still works.
  const retried = await restarted.expect(200, 'POST', '/api/v1/orders', order, token);
  assert.deepEqual(retried, first);
  // The request each key was used for is replayed too: another order under it is a conflict.
  const reused = await restarted.call('POST', '/api/v1/orders', { ...order, price: '99' }, token);
  assert.deepEqual([reused.status, reused.body.code], [409, 'CLIENT_ORDER_ID_CONFLICT']);
  const reusedReject = await restarted.call('POST', '/api/v1/orders', { ...rejectedOrder, qty: '99' }, token);
  assert.deepEqual([reusedReject.status, reusedReject.body.code], [409, 'CLIENT_ORDER_ID_CONFLICT']);
  // A reject is an outcome too: the retry gets the same reject, and a deposit does not change that.
  await restarted.deposit(admin, userId, 'USD', '100000');
  const retriedReject = await restarted.call('POST', '/api/v1/orders', rejectedOrder, token);
  assert.equal(retriedReject.body.code, 'INSUFFICIENT_FUNDS');
  const open = await restarted.expect(200, 'GET', '/api/v1/orders?status=open', undefined, token);
  assert.deepEqual(
    open.map((candidate: { orderId: number }) => candidate.orderId),
    [first.orderId],
  );
  const balancesAfter = await restarted.expect(200, 'GET', '/api/v1/balances', undefined, token);
  assert.equal(
    balancesAfter.find((balance: { asset: string }) => balance.asset === 'USD').locked,
    balancesBefore[0].locked,
  );
  // Only the deposit was journaled after the restart.
  assert.equal(exchange.exchange.sequencer.lastSeq, lastSeqBefore + 1);
  const symbols = await restarted.expect(200, 'GET', '/api/v1/symbols');
  assert.equal(symbols[0].tickSize, '0.01');
});
