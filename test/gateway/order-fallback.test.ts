// GET /api/v1/orders/:orderId for a finished order the tracker no longer keeps (beyond
// finishedOrdersPerUserMax) answers from the SQL read model, for its owner only.
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { type Api, startTestExchange, type TestExchange } from './support/exchange.js';

let exchange: TestExchange;
let api: Api;

before(async () => {
  exchange = await startTestExchange((config) => {
    config.gateway.state.tracker = { finishedOrdersPerUserMax: 1, tradesPerUserMax: 1 };
  });
  api = exchange.api;
});

after(async () => {
  await exchange?.close();
});

async function readModelCaughtUp(): Promise<void> {
  const deadlineMs = Date.now() + 20_000;
  // The projector writes in batches a few ms apart: wait (bounded) until /readyz reports no lag.
  while ((await api.expect(200, 'GET', '/readyz')).readModelLag !== 0) {
    assert.ok(Date.now() < deadlineMs, 'read model caught up in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

it('an old finished order comes from the read model; someone else gets 404', async () => {
  const admin = await api.adminToken();
  await api.createMarket(admin);
  const aliceId = await api.register('alice');
  const alice = await api.login('alice');
  await api.register('mallory');
  const mallory = await api.login('mallory');
  await api.deposit(admin, aliceId, 'USD', '100000');
  const order = { symbol: 'BTC-USD', side: 'buy', type: 'limit', price: '100.00', qty: '0.5' };
  const first = await api.expect(200, 'POST', '/api/v1/orders', { ...order, clientOrderId: 'old-1' }, alice);
  const second = await api.expect(200, 'POST', '/api/v1/orders', order, alice);
  const fromMemory = await api.expect(200, 'GET', `/api/v1/orders/${first.orderId}`, undefined, alice);
  await api.expect(200, 'DELETE', `/api/v1/orders/${first.orderId}`, undefined, alice);
  await api.expect(200, 'DELETE', `/api/v1/orders/${second.orderId}`, undefined, alice);
  // With one finished order kept, the first one left the tracker when the second finished.
  const listed = await api.expect(200, 'GET', '/api/v1/orders', undefined, alice);
  assert.deepEqual(
    listed.map((each: { orderId: number }) => each.orderId),
    [second.orderId],
  );
  await readModelCaughtUp();
  const old = await api.expect(200, 'GET', `/api/v1/orders/${first.orderId}`, undefined, alice);
  const { clientOrderId: _kept, ...withoutClientOrderId } = fromMemory;
  assert.deepEqual(old, {
    ...withoutClientOrderId,
    remainingQty: '0.000',
    status: 'cancelled',
    updatedAtMs: old.updatedAtMs,
  });
  assert.ok(old.updatedAtMs >= fromMemory.updatedAtMs);
  await api.expect(404, 'GET', `/api/v1/orders/${first.orderId}`, undefined, mallory);
  await api.expect(404, 'GET', `/api/v1/orders/${second.orderId + 1000}`, undefined, alice);
});
