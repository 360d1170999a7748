// The whole exchange, started in-process on port 0: trading flow, validation, BOLA, sessions,
// limits and suspension, over REST and WebSocket.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { type Api, startTestExchange, type TestExchange, TestSocket } from './support/exchange.js';

let exchange: TestExchange;
let api: Api;
let admin: string;
const users: Record<string, { id: number; token: string }> = {};

async function newUser(name: string): Promise<{ id: number; token: string }> {
  const id = await api.register(name);
  const token = await api.login(name);
  users[name] = { id, token };
  return users[name];
}

function place(token: string, order: Record<string, unknown>) {
  return api.call('POST', '/api/v1/orders', { symbol: 'BTC-USD', type: 'limit', ...order }, token);
}

/** The gateway's clock: the wall clock, except while a test holds it still to count a limit exactly. */
const gatewayClock = {
  heldAtMs: undefined as number | undefined,
  read: () => gatewayClock.heldAtMs ?? Date.now(),
};

before(async () => {
  exchange = await startTestExchange(
    (config) => {
      const gateway = config.gateway;
      gateway.sessions.sessionsPerUserMax = 3;
      gateway.webSocket.heartbeatMs = 200;
      gateway.limits.ordersPerUser = { ratePerSecond: 5, burst: 40, bucketsMax: 1_000 };
      gateway.limits.loginsPerIp = { ratePerSecond: 100, burst: 1_000, bucketsMax: 1_000 };
      gateway.abnormal = {
        ...gateway.abnormal,
        windowMs: 60_000,
        rejectsPerWindowFloor: 15,
        suspensionMs: 60_000,
      };
    },
    { gatewayClock: gatewayClock.read },
  );
  api = exchange.api;
  admin = await api.adminToken();
  await api.createMarket(admin);
  const alice = await newUser('alice');
  const bob = await newUser('bob');
  await api.deposit(admin, alice.id, 'USD', '100000');
  await api.deposit(admin, bob.id, 'BTC', '2');
});

after(async () => {
  await exchange?.close();
});

describe('trading', () => {
  it('two users trade with each other: exact fills, fees and balances', async () => {
    const { alice, bob } = users;
    const sell = await place(bob.token, { side: 'sell', price: '50000.50', qty: '1' });
    assert.equal(sell.status, 200, JSON.stringify(sell.body));
    assert.equal(sell.body.status, 'resting');
    assert.equal(sell.body.restingQty, '1.000');
    const buy = await place(alice.token, { side: 'buy', price: '50001', qty: '0.4' });
    assert.equal(buy.body.status, 'filled');
    assert.deepEqual(buy.body.fills, [
      {
        tradeId: buy.body.fills[0].tradeId,
        price: '50000.50',
        qty: '0.400',
        fee: '0.00080000',
        feeAsset: 'BTC',
      },
    ]);
    const aliceBalances = await api.expect(200, 'GET', '/api/v1/balances', undefined, alice.token);
    assert.deepEqual(aliceBalances, [
      { asset: 'BTC', available: '0.39920000', locked: '0.00000000' },
      { asset: 'USD', available: '79999.800000', locked: '0.000000' },
    ]);
    const bobBalances = await api.expect(200, 'GET', '/api/v1/balances', undefined, bob.token);
    // Bob sold 0.4 at 50000.50 = 20000.2 USD, minus the 10 bps maker fee (20.0002).
    assert.deepEqual(bobBalances, [
      { asset: 'BTC', available: '1.00000000', locked: '0.60000000' },
      { asset: 'USD', available: '19980.199800', locked: '0.000000' },
    ]);
    const order = await api.expect(200, 'GET', `/api/v1/orders/${sell.body.orderId}`, undefined, bob.token);
    assert.equal(order.status, 'open');
    assert.equal(order.filledQty, '0.400');
    assert.equal(order.remainingQty, '0.600');
    const bobTrades = await api.expect(200, 'GET', '/api/v1/trades', undefined, bob.token);
    assert.equal(bobTrades[0].role, 'maker');
    assert.equal(bobTrades[0].fee, '20.000200');
    const amended = await api.expect(
      200,
      'PATCH',
      `/api/v1/orders/${sell.body.orderId}`,
      { qty: '0.5' },
      bob.token,
    );
    assert.equal(amended.remainingQty, '0.500');
    const cancelled = await api.expect(
      200,
      'DELETE',
      `/api/v1/orders/${sell.body.orderId}`,
      undefined,
      bob.token,
    );
    assert.equal(cancelled.cancelledQty, '0.500');
    const open = await api.expect(200, 'GET', '/api/v1/orders?status=open', undefined, bob.token);
    assert.deepEqual(open, []);
    const afterCancel = await api.expect(200, 'GET', '/api/v1/balances', undefined, bob.token);
    assert.equal(afterCancel[0].available, '1.60000000');
    assert.equal(afterCancel[0].locked, '0.00000000');
  });

  it('names the field of every validation error', async () => {
    const { alice } = users;
    const cases: Array<[Record<string, unknown>, number, string, string | undefined]> = [
      [{ side: 'buy', price: '1' }, 400, 'VALIDATION_FAILED', 'qty'],
      [{ side: 'buy', price: '1', qty: '0.0005' }, 400, 'INVALID_QTY', 'qty'],
      [{ side: 'buy', price: '1', qty: '0.0015' }, 400, 'INVALID_QTY', 'qty'],
      [{ side: 'buy', price: '1', qty: '-1' }, 400, 'INVALID_QTY', 'qty'],
      [{ side: 'buy', price: '1', qty: '1e3' }, 400, 'INVALID_QTY', 'qty'],
      [{ side: 'buy', price: '1', qty: '0' }, 400, 'INVALID_QTY', 'qty'],
      [{ side: 'buy', price: '1', qty: '99999999999999999' }, 400, 'INVALID_QTY', 'qty'],
      [{ side: 'buy', price: '50000.001', qty: '1' }, 400, 'INVALID_PRICE', 'price'],
      [{ side: 'buy', price: '0', qty: '1' }, 400, 'INVALID_PRICE', 'price'],
      [{ side: 'buy', price: '999999999999999', qty: '1' }, 400, 'INVALID_PRICE', 'price'],
      [{ side: 'buy', qty: '1' }, 400, 'INVALID_PRICE', 'price'],
      [{ side: 'buy', type: 'market', price: '1', qty: '1' }, 400, 'INVALID_PRICE', 'price'],
      [{ side: 'hold', price: '1', qty: '1' }, 400, 'VALIDATION_FAILED', 'side'],
      [{ side: 'buy', price: '1', qty: '1', tif: 'GTD' }, 400, 'VALIDATION_FAILED', 'tif'],
      [{ side: 'buy', price: '1', qty: '1', colour: 'red' }, 400, 'VALIDATION_FAILED', 'colour'],
      [
        { side: 'buy', price: '1', qty: '1', clientOrderId: 'bad id!' },
        400,
        'VALIDATION_FAILED',
        'clientOrderId',
      ],
      [{ side: 'buy', price: '1', qty: '1', symbol: 'NOPE' }, 400, 'UNKNOWN_SYMBOL', 'symbol'],
      [{ side: 'buy', price: '1', qty: '1', qty2: 1 }, 400, 'VALIDATION_FAILED', 'qty2'],
      [{ side: 'buy', price: '100000', qty: '10' }, 422, 'INSUFFICIENT_FUNDS', 'qty'],
      [{ side: 'buy', type: 'market', qty: '1', tif: 'GTC' }, 400, 'INVALID_TIF', 'tif'],
    ];
    for (const [order, status, code, field] of cases) {
      const reply = await place(alice.token, order);
      assert.equal(reply.status, status, `${JSON.stringify(order)} → ${JSON.stringify(reply.body)}`);
      assert.equal(reply.body.code, code, JSON.stringify(order));
      assert.equal(reply.body.field, field, JSON.stringify(order));
      assert.equal(typeof reply.body.message, 'string');
    }
    const notJson = await api.call('POST', '/api/v1/orders', '{"side":', alice.token);
    assert.equal(notJson.status, 400);
    assert.equal(notJson.body.code, 'VALIDATION_FAILED');
  });

  it('refuses bad accounts, admin requests and amounts with stable codes', async () => {
    const short = await api.call('POST', '/api/v1/auth/register', { username: 'zed', password: 'short' });
    assert.deepEqual(
      [short.status, short.body.code, short.body.field],
      [400, 'VALIDATION_FAILED', 'password'],
    );
    const taken = await api.call('POST', '/api/v1/auth/register', {
      username: 'alice',
      password: 'long enough',
    });
    assert.deepEqual(
      [taken.status, taken.body.code, taken.body.message, taken.body.field],
      [409, 'USERNAME_TAKEN', 'username already taken', 'username'],
    );
    const wrong = await api.call('POST', '/api/v1/auth/login', {
      username: 'alice',
      password: 'not the password',
    });
    assert.deepEqual([wrong.status, wrong.body.code], [401, 'INVALID_CREDENTIALS']);
    const anonymous = await api.call('GET', '/api/v1/balances');
    assert.deepEqual([anonymous.status, anonymous.body.code], [401, 'UNAUTHENTICATED']);
    const forged = await api.call('GET', '/api/v1/balances', undefined, 'not-a-token');
    assert.equal(forged.status, 401);
    const notAdmin = await api.call(
      'POST',
      '/api/v1/admin/deposits',
      { userId: 1, asset: 'USD', amount: '1' },
      users.alice.token,
    );
    assert.deepEqual([notAdmin.status, notAdmin.body.code], [403, 'FORBIDDEN']);
    const unknownAsset = await api.call(
      'POST',
      '/api/v1/admin/deposits',
      { userId: users.alice.id, asset: 'EUR', amount: '1' },
      admin,
    );
    assert.deepEqual(
      [unknownAsset.status, unknownAsset.body.code, unknownAsset.body.field],
      [400, 'UNKNOWN_ASSET', 'asset'],
    );
    const precise = await api.call(
      'POST',
      '/api/v1/admin/deposits',
      { userId: users.alice.id, asset: 'USD', amount: '1.0000001' },
      admin,
    );
    assert.deepEqual(
      [precise.status, precise.body.code, precise.body.field],
      [400, 'INVALID_AMOUNT', 'amount'],
    );
    const overdraw = await api.call(
      'POST',
      '/api/v1/admin/withdrawals',
      { userId: users.alice.id, asset: 'USD', amount: '1000000' },
      admin,
    );
    assert.deepEqual([overdraw.status, overdraw.body.code], [422, 'INSUFFICIENT_FUNDS']);
    const market = {
      symbol: 'ETH-USD',
      base: 'ETH',
      quote: 'USD',
      baseDecimals: 9,
      quoteDecimals: 2,
      lotSize: '0.1',
      tickSize: '0.1',
      makerFeeBps: 0,
      takerFeeBps: 0,
    };
    const offTick = await api.call('POST', '/api/v1/admin/symbols', market, admin);
    assert.deepEqual(
      [offTick.status, offTick.body.code, offTick.body.field],
      [400, 'ASSET_DECIMALS_MISMATCH', 'quoteDecimals'],
    );
    const noExactPrice = await api.call(
      'POST',
      '/api/v1/admin/symbols',
      { ...market, quoteDecimals: 6, tickSize: '0.0000001' },
      admin,
    );
    assert.deepEqual([noExactPrice.status, noExactPrice.body.field], [400, 'tickSize']);
    const duplicate = await api.call(
      'POST',
      '/api/v1/admin/symbols',
      { ...market, symbol: 'BTC-USD', base: 'BTC', baseDecimals: 8, quoteDecimals: 6 },
      admin,
    );
    assert.deepEqual([duplicate.status, duplicate.body.code], [422, 'DUPLICATE_SYMBOL']);
  });

  it("never shows one user another user's orders or sessions (BOLA)", async () => {
    const { alice, bob } = users;
    const order = await place(bob.token, { side: 'sell', price: '60000', qty: '0.1' });
    const id = order.body.orderId;
    for (const [method, body] of [
      ['GET', undefined],
      ['DELETE', undefined],
      ['PATCH', { qty: '0.05' }],
    ] as const) {
      const reply = await api.call(method, `/api/v1/orders/${id}`, body, alice.token);
      assert.deepEqual([reply.status, reply.body.code], [404, 'NOT_FOUND'], method);
    }
    const wsAlice = await TestSocket.open(api.url);
    await wsAlice.request('auth', { token: alice.token });
    const wsCancel = await wsAlice.request('cancel', { orderId: id });
    assert.equal(wsCancel.error.code, 'UNKNOWN_ORDER');
    wsAlice.close();
    const aliceOrders = await api.expect(200, 'GET', '/api/v1/orders', undefined, alice.token);
    assert.ok(aliceOrders.every((candidate: { orderId: number }) => candidate.orderId !== id));
    const bobSessions = await api.expect(200, 'GET', '/api/v1/sessions', undefined, bob.token);
    const reply = await api.call(
      'DELETE',
      `/api/v1/sessions/${bobSessions[0].sessionId}`,
      undefined,
      alice.token,
    );
    assert.equal(reply.status, 404);
    await api.expect(200, 'GET', `/api/v1/orders/${id}`, undefined, bob.token);
    await api.expect(200, 'DELETE', `/api/v1/orders/${id}`, undefined, bob.token);
  });

  it('places the same clientOrderId once, even when duplicates race', async () => {
    const { alice } = users;
    const order = { side: 'buy', price: '100', qty: '0.01', clientOrderId: 'race-1' };
    const replies = await Promise.all([
      place(alice.token, order),
      place(alice.token, order),
      place(alice.token, order),
    ]);
    for (const reply of replies) assert.equal(reply.status, 200);
    const ids = new Set(replies.map((reply) => reply.body.orderId));
    assert.equal(ids.size, 1);
    const open = await api.expect(200, 'GET', '/api/v1/orders?status=open', undefined, alice.token);
    assert.equal(
      open.filter((candidate: { clientOrderId?: string }) => candidate.clientOrderId === 'race-1').length,
      1,
    );
    const again = await place(alice.token, order);
    assert.deepEqual(again.body, replies[0].body);
  });

  it('answers 409 when a clientOrderId comes back with another order, on REST and WebSocket', async () => {
    const { alice } = users;
    const order = { side: 'buy', price: '100', qty: '0.01', clientOrderId: 'reused-1' };
    const first = await place(alice.token, order);
    assert.equal(first.status, 200);
    // The same order written differently (trailing zeros, the default tif spelled out) is a retry.
    const sameOrder = await place(alice.token, { ...order, price: '100.00', qty: '0.010', tif: 'GTC' });
    assert.deepEqual([sameOrder.status, sameOrder.body], [200, first.body]);
    for (const change of [
      { price: '101' },
      { qty: '0.02' },
      { side: 'sell' },
      { tif: 'IOC' },
      { stp: 'none' },
    ]) {
      const reply = await place(alice.token, { ...order, ...change });
      assert.deepEqual(
        [reply.status, reply.body.code, reply.body.field],
        [409, 'CLIENT_ORDER_ID_CONFLICT', 'clientOrderId'],
        JSON.stringify(change),
      );
    }
    const socket = await TestSocket.open(api.url);
    await socket.request('auth', { token: alice.token, private: false });
    const overSocket = { symbol: 'BTC-USD', type: 'limit', ...order };
    const retried = await socket.request('place', overSocket);
    assert.deepEqual(retried.result, first.body);
    const conflict = await socket.request('place', { ...overSocket, qty: '0.03' });
    assert.deepEqual(
      [conflict.ok, conflict.error.code, conflict.error.field],
      [false, 'CLIENT_ORDER_ID_CONFLICT', 'clientOrderId'],
    );
    socket.close();
    const open = await api.expect(200, 'GET', '/api/v1/orders?status=open', undefined, alice.token);
    assert.equal(
      open.filter((candidate: { clientOrderId?: string }) => candidate.clientOrderId === 'reused-1').length,
      1,
      'nothing placed by a conflict',
    );
  });
});

describe('history', () => {
  it('serves the complete paginated history from the read model once it has caught up', async () => {
    // Its own market and users: what it reads back does not depend on what earlier tests traded.
    await api.createMarket(admin, 'HIST-USD', 'HIST', 'USD');
    const maker = await newUser('history-maker');
    const taker = await newUser('history-taker');
    await api.deposit(admin, maker.id, 'HIST', '2');
    await api.deposit(admin, taker.id, 'USD', '1000');
    const onMarket = (order: Record<string, unknown>) => ({ symbol: 'HIST-USD', type: 'limit', ...order });
    await api.expect(
      200,
      'POST',
      '/api/v1/orders',
      onMarket({ side: 'sell', price: '60000', qty: '0.001' }),
      maker.token,
    );
    await api.expect(
      200,
      'POST',
      '/api/v1/orders',
      onMarket({ side: 'sell', price: '50000.50', qty: '0.002' }),
      maker.token,
    );
    const bought = await api.expect(
      200,
      'POST',
      '/api/v1/orders',
      onMarket({ side: 'buy', price: '50001', qty: '0.001' }),
      taker.token,
    );
    assert.equal(bought.status, 'filled');
    const deadlineMs = Date.now() + 20_000;
    // The projector writes in batches a few ms apart: wait (bounded) until /readyz reports no lag.
    while ((await api.expect(200, 'GET', '/readyz')).readModelLag !== 0) {
      assert.ok(Date.now() < deadlineMs, 'read model caught up in time');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const trades = await api.expect(200, 'GET', '/api/v1/history/trades?limit=1', undefined, maker.token);
    assert.equal(trades.items.length, 1);
    assert.equal(trades.items[0].role, 'maker');
    assert.equal(trades.items[0].price, '50000.50');
    const orders = await api.expect(200, 'GET', '/api/v1/history/orders?limit=1', undefined, maker.token);
    assert.equal(orders.items.length, 1);
    assert.equal(typeof orders.next, 'string');
    const second = await api.expect(
      200,
      'GET',
      `/api/v1/history/orders?limit=1&cursor=${encodeURIComponent(orders.next)}`,
      undefined,
      maker.token,
    );
    assert.notEqual(second.items[0].orderId, orders.items[0].orderId);
    const ledger = await api.expect(200, 'GET', '/api/v1/history/ledger', undefined, maker.token);
    assert.ok(
      ledger.items.some(
        (entry: { kind: string; amount: string }) =>
          entry.kind === 'deposit' && entry.amount === '2.00000000',
      ),
    );
    const takerTrades = await api.expect(200, 'GET', '/api/v1/history/trades', undefined, taker.token);
    assert.ok(takerTrades.items.every((trade: { tradeId: number }) => trade.tradeId !== undefined));
    assert.ok(
      !takerTrades.items.some(
        (trade: { role: string; orderId: number }) => trade.orderId === trades.items[0].orderId,
      ),
    );
  });
});

describe('WebSocket', () => {
  it('places and cancels with request ids and streams private updates in sequence', async () => {
    const { alice, bob } = users;
    const socket = await TestSocket.open(api.url);
    const auth = await socket.request('auth', { token: alice.token });
    assert.deepEqual(auth, { id: 1, ok: true, result: { userId: alice.id } });
    const placed = await socket.request('place', {
      symbol: 'BTC-USD',
      side: 'buy',
      type: 'limit',
      price: '40000',
      qty: '0.2',
    });
    assert.equal(placed.ok, true, JSON.stringify(placed));
    assert.equal(placed.result.status, 'resting');
    const orderId = placed.result.orderId;
    const restingUpdate = await socket.next(
      (message) => message.ch === 'orders' && message.data.orderId === orderId,
    );
    assert.equal(restingUpdate.data.status, 'open');
    // Bob sells into Alice's bid: Alice sees the fill on her socket.
    const sold = await place(bob.token, { side: 'sell', price: '40000', qty: '0.05' });
    assert.equal(sold.body.status, 'filled');
    const fill = await socket.next((message) => message.ch === 'fills' && message.data.orderId === orderId);
    assert.deepEqual([fill.data.role, fill.data.qty, fill.data.price], ['maker', '0.050', '40000.00']);
    const cancelled = await socket.request('cancel', { orderId });
    assert.equal(cancelled.result.cancelledQty, '0.150');
    await socket.next(
      (message) =>
        message.ch === 'orders' && message.data.orderId === orderId && message.data.status === 'cancelled',
    );
    const balance = await socket.next((message) => message.ch === 'balances' && message.data.asset === 'USD');
    assert.equal(typeof balance.data.available, 'string');
    const sequence = socket.pushes
      .filter(
        (message) =>
          message.seq !== undefined &&
          message.ch !== undefined &&
          ['orders', 'fills', 'balances'].includes(message.ch),
      )
      .map((message) => message.seq);
    assert.deepEqual(
      sequence,
      sequence.map((_, index) => index + 1),
    );
    const invalid = await socket.request('place', {
      symbol: 'BTC-USD',
      side: 'buy',
      type: 'limit',
      price: '1.001',
      qty: '1',
    });
    assert.deepEqual(
      [invalid.ok, invalid.error.code, invalid.error.field],
      [false, 'INVALID_PRICE', 'price'],
    );
    const badOp = await socket.request('launch');
    assert.equal(badOp.error.field, 'op');
    socket.close();
  });

  it('gives an order-entry socket (auth with private: false) replies only, until it turns pushes on', async () => {
    const { alice } = users;
    const orderEntry = await TestSocket.open(api.url);
    const auth = await orderEntry.request('auth', { token: alice.token, private: false });
    assert.deepEqual(auth.result, { userId: alice.id });
    const order = { symbol: 'BTC-USD', side: 'buy', type: 'limit', price: '30000', qty: '0.001' };
    const quiet = await orderEntry.request('place', order);
    assert.equal(quiet.result.status, 'resting', JSON.stringify(quiet));
    // A push is written before the reply of the command that caused it, on the same socket: none came.
    assert.deepEqual(orderEntry.pushes, []);
    const turnedOn = await orderEntry.request('private', { enabled: true });
    assert.deepEqual(turnedOn.result, { private: true });
    const loud = await orderEntry.request('place', order);
    const update = await orderEntry.next((message) => message.ch === 'orders');
    assert.equal(update.data.orderId, loud.result.orderId);
    // The envelope (op, id) is allowed beside a request's fields; anything else is still refused.
    const unknownField = await orderEntry.request('place', { ...order, colour: 'red' });
    assert.deepEqual([unknownField.ok, unknownField.error.code], [false, 'VALIDATION_FAILED']);
    const badToggle = await orderEntry.request('private', { enabled: 'yes' });
    assert.deepEqual([badToggle.ok, badToggle.error.code], [false, 'VALIDATION_FAILED']);
    for (const orderId of [quiet.result.orderId, loud.result.orderId]) {
      assert.equal((await orderEntry.request('cancel', { orderId })).ok, true);
    }
    orderEntry.close();
    const anonymous = await TestSocket.open(api.url);
    const refused = await anonymous.request('private', { enabled: false });
    assert.deepEqual([refused.ok, refused.error.code], [false, 'UNAUTHENTICATED']);
    anonymous.close();
  });

  it('hands public market-data subscriptions to the hub on the same socket, without a session', async () => {
    const socket = await TestSocket.open(api.url);
    const ack = await socket.request('subscribe', { ch: 'trades.BTC-USD' });
    assert.equal(ack.ok, true, JSON.stringify(ack));
    const traded = await place(users.bob.token, { side: 'sell', price: '40000', qty: '0.001' });
    const bought = await place(users.alice.token, { side: 'buy', price: '40000', qty: '0.001' });
    assert.equal(bought.body.status, 'filled', JSON.stringify([traded.body, bought.body]));
    // The snapshot sent on subscribe is skipped: wait for the live message of this trade.
    const tradeId = bought.body.fills[0].tradeId;
    const tape = await socket.next(
      (message) =>
        message.ch === 'trades.BTC-USD' &&
        message.snapshot !== true &&
        JSON.stringify(message.data).includes(`${tradeId}`),
    );
    assert.equal(typeof tape.seq, 'number');
    socket.close();
  });

  it('drops a peer that stops answering pings and keeps one that answers', async () => {
    const url = `${api.url.replace('http', 'ws')}/ws`;
    // Terminated at the second heartbeat after it connected: never sooner than one interval.
    const startedAt = Date.now();
    const dead = new WebSocket(url, {
      autoPong: false,
      headers: { authorization: `Bearer ${users.alice.token}` },
    });
    const deadClosed = new Promise<number>((resolve) => dead.on('close', (code) => resolve(code)));
    const alive = await TestSocket.open(api.url, { authorization: `Bearer ${users.alice.token}` });
    const closeCode = await deadClosed;
    assert.equal(closeCode, 1006, 'terminated without a close frame');
    assert.ok(Date.now() - startedAt >= 190, 'not before a missed heartbeat');
    const stillThere = await alive.request('ping');
    assert.equal(stillThere.ok, true);
    alive.close();
  });

  it('authenticates with the session cookie and refuses requests without a session', async () => {
    const anonymous = await TestSocket.open(api.url);
    const refused = await anonymous.request('place', {
      symbol: 'BTC-USD',
      side: 'buy',
      type: 'limit',
      price: '1',
      qty: '1',
    });
    assert.equal(refused.error.code, 'UNAUTHENTICATED');
    anonymous.close();
    const withCookie = await TestSocket.open(api.url, { cookie: `__Host-hoga_session=${users.alice.token}` });
    const ping = await withCookie.request('place', {
      symbol: 'BTC-USD',
      side: 'buy',
      type: 'limit',
      price: '1',
      qty: '0.001',
    });
    assert.equal(ping.ok, true, JSON.stringify(ping));
    withCookie.close();
  });
});

describe('sessions', () => {
  it('logout-all ends REST access and closes open WebSockets at once', async () => {
    const carol = await newUser('carol');
    const second = await api.login('carol');
    const socket = await TestSocket.open(api.url);
    await socket.request('auth', { token: carol.token });
    const startedAt = Date.now();
    const ended = await api.expect(200, 'POST', '/api/v1/auth/logout-all', undefined, second);
    assert.equal(ended.ended, 2);
    const closed = await socket.closed;
    assert.equal(closed.code, 4001);
    assert.ok(Date.now() - startedAt < 1_000, 'socket closed within a second');
    for (const token of [carol.token, second]) {
      const reply = await api.call('GET', '/api/v1/me', undefined, token);
      assert.equal(reply.status, 401);
    }
  });

  it('logout ends only its own session; a user can end another of their sessions', async () => {
    const dora = await newUser('dora');
    const laptop = await api.login('dora');
    const sessions = await api.expect(200, 'GET', '/api/v1/sessions', undefined, dora.token);
    assert.equal(sessions.length, 2);
    const other = sessions.find((session: { current: boolean }) => !session.current);
    await api.expect(200, 'DELETE', `/api/v1/sessions/${other.sessionId}`, undefined, dora.token);
    assert.equal((await api.call('GET', '/api/v1/me', undefined, laptop)).status, 401);
    const logout = await api.call('POST', '/api/v1/auth/logout', undefined, dora.token);
    assert.equal(logout.status, 200);
    assert.match(logout.headers.get('set-cookie') ?? '', /Max-Age=0/);
    assert.equal((await api.call('GET', '/api/v1/me', undefined, dora.token)).status, 401);
  });

  it('sets a Secure, HttpOnly, SameSite=Strict cookie holding a 256-bit token', async () => {
    await api.register('erin');
    const reply = await api.call('POST', '/api/v1/auth/login', {
      username: 'erin',
      password: 'erin-password',
    });
    const cookie = reply.headers.get('set-cookie') ?? '';
    assert.match(
      cookie,
      /^__Host-hoga_session=[A-Za-z0-9_-]{43}; Max-Age=[0-9]+; Path=\/; HttpOnly; Secure; SameSite=Strict(,|$)/,
    );
    assert.equal(Buffer.from(reply.body.token, 'base64url').length, 32);
  });

  it('ends the oldest session when a login passes the per-user cap', async () => {
    await api.register('fay');
    const tokens = [];
    for (let login = 0; login < 4; login += 1) tokens.push(await api.login('fay'));
    assert.equal((await api.call('GET', '/api/v1/me', undefined, tokens[0])).status, 401);
    for (const token of tokens.slice(1))
      assert.equal((await api.call('GET', '/api/v1/me', undefined, token)).status, 200);
    const sessions = await api.expect(200, 'GET', '/api/v1/sessions', undefined, tokens[3]);
    assert.equal(sessions.length, 3);
  });
});

describe('limits', () => {
  it('throttles logins per username before hashing, with Retry-After', async () => {
    const statuses = [];
    let retryAfter: string | null = null;
    for (let attempt = 0; attempt < 7; attempt += 1) {
      const reply = await api.call('POST', '/api/v1/auth/login', {
        username: 'nobody-here',
        password: 'wrong password',
      });
      statuses.push(reply.status);
      if (reply.status === 429) retryAfter = reply.headers.get('retry-after');
    }
    assert.deepEqual(statuses.slice(0, 5), [401, 401, 401, 401, 401]);
    assert.equal(statuses[6], 429);
    assert.ok(Number(retryAfter) >= 1);
  });

  it('rate-limits orders per user with 429 and Retry-After', async () => {
    const gus = await newUser('gus');
    await api.deposit(admin, gus.id, 'USD', '1000');
    const order = { side: 'buy', price: '1', qty: '0.001' };
    // The clock held still: no refill while the 80 run, so exactly the burst of 40 passes whatever
    // the machine's speed; then one second later, 5 more (the rate).
    gatewayClock.heldAtMs = Date.now();
    try {
      const replies = await Promise.all(Array.from({ length: 80 }, () => place(gus.token, order)));
      const limited = replies.filter((reply) => reply.status === 429);
      const placed = replies.filter((reply) => reply.status === 200).length;
      assert.equal(placed, 40, 'the burst is allowed, and nothing more');
      assert.equal(placed + limited.length, replies.length);
      assert.equal(limited[0].body.code, 'RATE_LIMITED');
      assert.ok(Number(limited[0].headers.get('retry-after')) >= 1);
      gatewayClock.heldAtMs += 1_000;
      const refilled = await Promise.all(Array.from({ length: 10 }, () => place(gus.token, order)));
      assert.equal(refilled.filter((reply) => reply.status === 200).length, 5, 'one second refills 5');
    } finally {
      gatewayClock.heldAtMs = undefined;
    }
  });

  it('suspends a user whose reject rate jumps far above normal, and audits it', async () => {
    const hal = await newUser('hal');
    const codes = [];
    for (let attempt = 0; attempt < 17; attempt += 1) {
      const reply = await place(hal.token, { side: 'buy', price: '100', qty: '1' });
      codes.push(reply.body.code);
    }
    assert.equal(codes[0], 'INSUFFICIENT_FUNDS');
    assert.equal(codes[16], 'SUSPENDED');
    const suspended = await place(hal.token, { side: 'buy', price: '100', qty: '1' });
    assert.equal(suspended.status, 403);
    assert.ok(Number(suspended.headers.get('retry-after')) > 0);
    const socket = await TestSocket.open(api.url);
    await socket.request('auth', { token: hal.token });
    const viaSocket = await socket.request('place', {
      symbol: 'BTC-USD',
      side: 'buy',
      type: 'limit',
      price: '1',
      qty: '1',
    });
    assert.equal(viaSocket.error.code, 'SUSPENDED');
    socket.close();
    const metrics = await api.call('GET', '/metrics');
    assert.match(metrics.body, /hoga_audit_events_total\{event="suspended"\} 1/);
    // Other users still trade.
    const other = await place(users.alice.token, { side: 'buy', price: '1', qty: '0.001' });
    assert.equal(other.status, 200);
  });
});

describe('operations', () => {
  it('serves health, readiness, metrics and the OpenAPI document', async () => {
    assert.deepEqual(await api.expect(200, 'GET', '/healthz'), { status: 'ok' });
    const ready = await api.expect(200, 'GET', '/readyz');
    assert.equal(ready.status, 'ready');
    assert.ok(ready.lastSeq > 0);
    const metrics = await api.call('GET', '/metrics');
    assert.match(metrics.body, /hoga_engine_submit_seconds_count \d+/);
    assert.match(metrics.body, /hoga_journal_fsync_seconds_count [1-9]\d*/);
    assert.match(metrics.body, /hoga_http_request_seconds_bucket\{.*route="\/api\/v1\/orders"/);
    const openapi = await api.expect(200, 'GET', '/docs/json');
    assert.ok(openapi.paths['/api/v1/orders']);
    assert.ok(openapi.paths['/api/v1/auth/login']);
    const missing = await api.call('GET', '/api/v1/nothing');
    assert.deepEqual([missing.status, missing.body.code], [404, 'NOT_FOUND']);
  });
});
