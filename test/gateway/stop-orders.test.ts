// Stop, iceberg and OCO orders through the whole exchange (REST and WebSocket): the new fields are
// converted exactly, every validation error names its field, retries are idempotent, open orders
// show pending stops, iceberg parts and OCO links, depth shows only visible parts, and all of it
// survives a restart by journal replay and one from a snapshot.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Api, startTestExchange, type TestExchange, TestSocket } from './support/exchange.js';

let exchange: TestExchange;
let api: Api;
let admin: string;
const users: Record<string, { id: number; token: string }> = {};
const legBOffset = 2 ** 52;

async function newUser(name: string): Promise<{ id: number; token: string }> {
  const id = await api.register(name);
  const token = await api.login(name);
  users[name] = { id, token };
  return users[name];
}

function place(token: string, order: Record<string, unknown>) {
  return api.call('POST', '/api/v1/orders', { symbol: 'BTC-USD', type: 'limit', ...order }, token);
}

function placeOco(token: string, order: Record<string, unknown>) {
  return api.call('POST', '/api/v1/orders/oco', { symbol: 'BTC-USD', ...order }, token);
}

async function openOrders(token: string): Promise<any[]> {
  return api.expect(200, 'GET', '/api/v1/orders?status=open', undefined, token);
}

async function waitForReadModel(): Promise<void> {
  const deadlineMs = Date.now() + 20_000;
  while ((await api.expect(200, 'GET', '/readyz')).readModelLag !== 0) {
    assert.ok(Date.now() < deadlineMs, 'read model caught up in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

before(async () => {
  exchange = await startTestExchange();
  api = exchange.api;
  admin = await api.adminToken();
  await api.createMarket(admin);
  const alice = await newUser('alice');
  const bob = await newUser('bob');
  await api.deposit(admin, alice.id, 'USD', '100000');
  await api.deposit(admin, bob.id, 'BTC', '5');
  // A first trade gives the symbol a last price of 50000.
  await api.expect(200, 'POST', '/api/v1/orders', order('sell', '50000', '0.01'), bob.token);
  const first = await api.expect(200, 'POST', '/api/v1/orders', order('buy', '50000', '0.01'), alice.token);
  assert.equal(first.status, 'filled');
});

function order(side: string, price: string, qty: string) {
  return { symbol: 'BTC-USD', type: 'limit', side, price, qty };
}

after(async () => {
  await exchange?.close();
});

describe('stop, iceberg and OCO order entry', () => {
  it('names the field of every invalid stop, iceberg and OCO request', async () => {
    const { alice, bob } = users;
    const cases: Array<[Promise<{ status: number; body: any }>, number, string, string]> = [
      [
        place(alice.token, { side: 'buy', price: '50200', qty: '0.1', stopPrice: '50100' }),
        400,
        'INVALID_STOP',
        'trigger',
      ],
      [
        place(alice.token, { side: 'buy', price: '50200', qty: '0.1', trigger: 'stopLoss' }),
        400,
        'INVALID_STOP',
        'stopPrice',
      ],
      [
        place(alice.token, {
          side: 'buy',
          price: '50200',
          qty: '0.1',
          stopPrice: '50100.001',
          trigger: 'stopLoss',
        }),
        400,
        'INVALID_STOP',
        'stopPrice',
      ],
      [
        place(alice.token, { side: 'buy', price: '50200', qty: '0.1', stopPrice: '50100', trigger: 'up' }),
        400,
        'VALIDATION_FAILED',
        'trigger',
      ],
      [
        place(alice.token, {
          side: 'buy',
          price: '50200',
          qty: '0.1',
          stopPrice: '50100',
          trigger: 'stopLoss',
          postOnly: true,
        }),
        400,
        'INVALID_STOP',
        'postOnly',
      ],
      [
        place(bob.token, { side: 'sell', price: '51000', qty: '0.5', displayQty: '0.0001' }),
        400,
        'INVALID_QTY',
        'displayQty',
      ],
      [
        place(bob.token, { side: 'sell', price: '51000', qty: '0.5', displayQty: '0.5' }),
        400,
        'INVALID_QTY',
        'displayQty',
      ],
      [
        place(bob.token, { side: 'sell', price: '51000', qty: '0.5', displayQty: '0.1', tif: 'IOC' }),
        400,
        'INVALID_TIF',
        'displayQty',
      ],
      [
        place(bob.token, { side: 'sell', type: 'market', qty: '0.5', displayQty: '0.1' }),
        400,
        'INVALID_TIF',
        'displayQty',
      ],
      // The last price is 50000: a buy stop-loss at 49000 would trigger at once.
      [
        place(alice.token, {
          side: 'buy',
          price: '50200',
          qty: '0.1',
          stopPrice: '49000',
          trigger: 'stopLoss',
        }),
        422,
        'STOP_WOULD_TRIGGER',
        'stopPrice',
      ],
      [
        placeOco(bob.token, { side: 'sell', qty: '0.2', price: '52000', stopPrice: '53000' }),
        400,
        'INVALID_STOP',
        'stopPrice',
      ],
      [
        placeOco(bob.token, { side: 'sell', qty: '0.2', price: '52000.001', stopPrice: '49000' }),
        400,
        'INVALID_PRICE',
        'price',
      ],
      [
        placeOco(bob.token, {
          side: 'sell',
          qty: '0.2',
          price: '52000',
          stopPrice: '49000',
          stopLimitPrice: 'x',
        }),
        400,
        'INVALID_PRICE',
        'stopLimitPrice',
      ],
      [
        placeOco(bob.token, { side: 'sell', qty: '0', price: '52000', stopPrice: '49000' }),
        400,
        'INVALID_QTY',
        'qty',
      ],
      [
        placeOco(bob.token, { side: 'sell', qty: '0.2', price: '52000' }),
        400,
        'VALIDATION_FAILED',
        'stopPrice',
      ],
      [
        placeOco(bob.token, { side: 'sell', qty: '0.2', price: '52000', stopPrice: '49000', type: 'limit' }),
        400,
        'VALIDATION_FAILED',
        'type',
      ],
    ];
    for (const [index, [reply, status, code, field]] of cases.entries()) {
      const { status: got, body } = await reply;
      assert.deepEqual(
        [got, body.code, body.field],
        [status, code, field],
        `case ${index}: ${JSON.stringify(body)}`,
      );
    }
    assert.deepEqual(await openOrders(alice.token), []);
    assert.deepEqual(await openOrders(bob.token), []);
  });

  it('places a stop-limit, an iceberg and an OCO pair and shows them in open orders', async () => {
    const { alice, bob } = users;
    const stop = { side: 'buy', price: '50200', qty: '0.1', stopPrice: '50100', trigger: 'stopLoss' };
    const placed = await place(alice.token, { ...stop, clientOrderId: 'stop-1' });
    assert.equal(placed.status, 200, JSON.stringify(placed.body));
    assert.deepEqual(
      [placed.body.status, placed.body.restingQty, placed.body.filledQty],
      ['pending', '0.000', '0.000'],
    );
    // The retry answers the first result and places nothing; another order under the key is a 409.
    const retried = await place(alice.token, { ...stop, stopPrice: '50100.00', clientOrderId: 'stop-1' });
    assert.deepEqual(retried.body, placed.body);
    const conflict = await place(alice.token, { ...stop, stopPrice: '50150', clientOrderId: 'stop-1' });
    assert.deepEqual([conflict.status, conflict.body.code], [409, 'CLIENT_ORDER_ID_CONFLICT']);
    const [pending] = await openOrders(alice.token);
    assert.equal(pending.orderId, placed.body.orderId);
    assert.deepEqual(
      [pending.status, pending.stopPrice, pending.trigger, pending.price, pending.remainingQty],
      ['pending', '50100.00', 'stopLoss', '50200.00', '0.100'],
    );

    const iceberg = await place(bob.token, { side: 'sell', price: '51000', qty: '0.5', displayQty: '0.1' });
    assert.equal(iceberg.body.status, 'resting', JSON.stringify(iceberg.body));
    const oco = await placeOco(bob.token, {
      side: 'sell',
      qty: '0.2',
      price: '52000',
      stopPrice: '49000',
      stopLimitPrice: '48900',
      clientOrderId: 'oco-1',
    });
    assert.equal(oco.status, 200, JSON.stringify(oco.body));
    assert.equal(oco.body.stopOrderId, oco.body.orderId + legBOffset);
    assert.deepEqual([oco.body.status, oco.body.restingQty], ['resting', '0.200']);
    const ocoRetry = await placeOco(bob.token, {
      side: 'sell',
      qty: '0.200',
      price: '52000.0',
      stopPrice: '49000',
      stopLimitPrice: '48900',
      clientOrderId: 'oco-1',
    });
    assert.deepEqual(ocoRetry.body, oco.body);
    const ocoAsPlace = await place(bob.token, {
      side: 'sell',
      price: '52000',
      qty: '0.2',
      clientOrderId: 'oco-1',
    });
    assert.equal(ocoAsPlace.status, 409);

    const bobs = new Map((await openOrders(bob.token)).map((entry) => [entry.orderId, entry]));
    assert.equal(bobs.size, 3);
    const shown = bobs.get(iceberg.body.orderId);
    assert.deepEqual([shown.status, shown.displayQty, shown.visibleQty], ['open', '0.100', '0.100']);
    const legA = bobs.get(oco.body.orderId);
    const legB = bobs.get(oco.body.stopOrderId);
    assert.deepEqual([legA.status, legA.price, legA.ocoId], ['open', '52000.00', oco.body.stopOrderId]);
    assert.deepEqual(
      [legB.status, legB.price, legB.stopPrice, legB.trigger, legB.ocoId],
      ['pending', '48900.00', '49000.00', 'stopLoss', oco.body.orderId],
    );
    // The single order route finds leg B by its large id.
    const one = await api.expect(200, 'GET', `/api/v1/orders/${oco.body.stopOrderId}`, undefined, bob.token);
    assert.equal(one.stopPrice, '49000.00');
  });

  it('shows only the visible part of an iceberg in depth', async () => {
    const socket = await TestSocket.open(api.url);
    const ack = await socket.request('subscribe', { ch: 'depth.BTC-USD' });
    assert.equal(ack.ok, true, JSON.stringify(ack));
    const snapshot = await socket.next(
      (message) => message.ch === 'depth.BTC-USD' && message.snapshot === true,
    );
    // 0.1 of the iceberg's 0.5 at 51000 and leg A's 0.2 at 52000; no pending order (leg B, Alice's
    // stop) anywhere. Decimal strings by default.
    assert.deepEqual(snapshot.data.asks, [
      ['51000.00', '0.100'],
      ['52000.00', '0.200'],
    ]);
    assert.deepEqual(snapshot.data.bids, []);
    // Engine units on request: quote minor units (micro USD) per 0.001 BTC lot, and lots.
    const engineAck = await socket.request('subscribe', { ch: 'depth.BTC-USD', units: 'engine' });
    assert.equal(engineAck.units, 'engine', JSON.stringify(engineAck));
    const engine = await socket.next(
      (message) =>
        message.ch === 'depth.BTC-USD' &&
        message.snapshot === true &&
        Array.isArray(message.data.asks[0]) &&
        typeof message.data.asks[0][0] === 'number',
    );
    assert.deepEqual(engine.data.asks, [
      [51_000_000, 100],
      [52_000_000, 200],
    ]);
    socket.close();
  });

  it('triggers the stop by a trade through its price, pushes it, and resolves the OCO on a fill', async () => {
    const { alice, bob } = users;
    const socket = await TestSocket.open(api.url);
    await socket.request('auth', { token: alice.token });
    const [stop] = await openOrders(alice.token);
    // Alice buys 0.05 from the iceberg at 51000: the last price passes 50100 and her stop triggers;
    // it runs as a buy limit at 50200, finds no ask that low and rests.
    const taker = await socket.request('place', order('buy', '51000', '0.05'));
    assert.equal(taker.result.status, 'filled', JSON.stringify(taker));
    const pushed = await socket.next(
      (message) =>
        message.ch === 'orders' && message.data.orderId === stop.orderId && message.data.status === 'open',
    );
    assert.equal(typeof pushed.data.triggeredAtMs, 'number');
    const alices = await openOrders(alice.token);
    const rested = alices.find((entry) => entry.orderId === stop.orderId);
    assert.deepEqual([rested.status, rested.remainingQty, rested.stopPrice], ['open', '0.100', '50100.00']);
    const bobs = new Map((await openOrders(bob.token)).map((entry) => [entry.orderId, entry]));
    const iceberg = [...bobs.values()].find((entry) => entry.displayQty !== undefined);
    assert.deepEqual([iceberg.remainingQty, iceberg.visibleQty], ['0.450', '0.050']);

    // An OCO over WebSocket, then Alice's buy reaches leg A: its first fill cancels leg B (OCO).
    const bobSocket = await TestSocket.open(api.url);
    await bobSocket.request('auth', { token: bob.token });
    const oco = await bobSocket.request('oco', {
      symbol: 'BTC-USD',
      side: 'sell',
      qty: '0.1',
      price: '51500',
      stopPrice: '49500',
    });
    assert.equal(oco.ok, true, JSON.stringify(oco));
    const badOco = await bobSocket.request('oco', {
      symbol: 'BTC-USD',
      side: 'sell',
      qty: '0.1',
      price: '51500',
    });
    assert.deepEqual([badOco.error.code, badOco.error.field], ['VALIDATION_FAILED', 'stopPrice']);
    const lift = await place(alice.token, { side: 'buy', price: '51500', qty: '0.5' });
    assert.equal(lift.body.status, 'filled', JSON.stringify(lift.body));
    const legBUpdate = await bobSocket.next(
      (message) =>
        message.ch === 'orders' &&
        message.data.orderId === oco.result.stopOrderId &&
        message.data.status !== 'pending',
    );
    assert.deepEqual([legBUpdate.data.status, legBUpdate.data.ocoId], ['cancelled', undefined]);
    const legA = await api.expect(200, 'GET', `/api/v1/orders/${oco.result.orderId}`, undefined, bob.token);
    // The sweep took the iceberg's 0.45 at 51000 (refilled part by part), then 0.05 of leg A.
    assert.deepEqual([legA.status, legA.remainingQty, legA.ocoId], ['open', '0.050', undefined]);
    assert.deepEqual(
      lift.body.fills.map((fill: { price: string; qty: string }) => [fill.price, fill.qty]),
      [
        ['51000.00', '0.050'],
        ['51000.00', '0.100'],
        ['51000.00', '0.100'],
        ['51000.00', '0.100'],
        ['51000.00', '0.100'],
        ['51500.00', '0.050'],
      ],
    );
    socket.close();
    bobSocket.close();
  });

  it('keeps open stop, iceberg and OCO orders across a restart by replay and from a snapshot', async () => {
    const { alice, bob } = users;
    const before = [await openOrders(alice.token), await openOrders(bob.token)];
    assert.ok(before[1].some((entry) => entry.status === 'pending'));
    await exchange.restart();
    api = exchange.api;
    const replayed = [await openOrders(alice.token), await openOrders(bob.token)];
    assert.deepEqual(replayed, before);
    await api.expect(201, 'POST', '/api/v1/admin/snapshots', undefined, await api.adminToken());
    await exchange.restart();
    api = exchange.api;
    const restored = [await openOrders(alice.token), await openOrders(bob.token)];
    assert.deepEqual(restored, before);
    // The retried OCO answers its first result after both restarts.
    const retried = await placeOco(bob.token, {
      side: 'sell',
      qty: '0.2',
      price: '52000',
      stopPrice: '49000',
      stopLimitPrice: '48900',
      clientOrderId: 'oco-1',
    });
    assert.equal(retried.body.stopOrderId, retried.body.orderId + legBOffset);
  });

  it('keeps stop prices, triggers, display sizes, OCO links and reasons in the order history', async () => {
    const { alice, bob } = users;
    await waitForReadModel();
    const history = async (token: string) =>
      (await api.expect(200, 'GET', '/api/v1/history/orders?limit=50', undefined, token)).items;
    const open = new Map((await openOrders(bob.token)).map((entry) => [entry.orderId, entry]));
    const bobs = await history(bob.token);
    const pendingLegB = bobs.find((entry: any) => entry.status === 'pending');
    assert.deepEqual(
      [pendingLegB.stopPrice, pendingLegB.trigger, pendingLegB.price],
      ['49000.00', 'stopLoss', '48900.00'],
    );
    assert.equal(open.get(pendingLegB.ocoId)?.ocoId, pendingLegB.orderId);
    const iceberg = bobs.find((entry: any) => entry.displayQty !== undefined);
    assert.deepEqual([iceberg.displayQty, iceberg.status], ['0.100', 'filled']);
    const resolved = bobs.find((entry: any) => entry.reason === 'OCO');
    assert.deepEqual(
      [resolved.status, resolved.stopPrice, resolved.ocoId],
      ['cancelled', '49500.00', undefined],
    );
    const [stop] = (await history(alice.token)).filter((entry: any) => entry.stopPrice !== undefined);
    assert.deepEqual([stop.status, stop.trigger, typeof stop.triggeredAtMs], ['open', 'stopLoss', 'number']);
    // The stop's own events: accepted while pending, then triggered, then resting at its limit.
    const events = await api.expect(
      200,
      'GET',
      `/api/v1/history/orders/${stop.orderId}/events`,
      undefined,
      alice.token,
    );
    const kinds = events.items.map((event: any) => event.kind);
    assert.equal(events.symbol, stop.symbol);
    assert.ok(kinds.indexOf('triggered') > kinds.indexOf('accepted'), kinds.join(','));
    assert.ok(kinds.includes('rested'), kinds.join(','));
    // Another user's order is answered like a missing one.
    await api.expect(404, 'GET', `/api/v1/history/orders/${stop.orderId}/events`, undefined, bob.token);
  });
});
