// Visitors' sockets: an unauthenticated socket that subscribed to public market data outlives the
// auth timeout and keeps receiving; one that neither authenticated nor subscribed is closed with
// 4002 AUTH_TIMEOUT. Real exchange, real sockets, a short auth window.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { startTestExchange, type TestExchange, TestSocket } from './support/exchange.js';

const authTimeoutMs = 300;
const heartbeatMs = 200;
const authTimeoutCode = 4002;
let exchange: TestExchange;
let sellerToken: string;
let buyerToken: string;

before(async () => {
  exchange = await startTestExchange((config) => {
    config.gateway.webSocket.authTimeoutMs = authTimeoutMs;
    config.gateway.webSocket.heartbeatMs = heartbeatMs;
  });
  const { api } = exchange;
  const admin = await api.adminToken();
  await api.createMarket(admin);
  const seller = await api.register('seller');
  const buyer = await api.register('buyer');
  await api.deposit(admin, seller, 'BTC', '1');
  await api.deposit(admin, buyer, 'USD', '100000');
  sellerToken = await api.login('seller');
  buyerToken = await api.login('buyer');
});

after(async () => {
  await exchange?.close();
});

/** Opens an idle unauthenticated socket and resolves once the server closed it (one auth window). */
async function oneAuthWindow(): Promise<{ code: number; reason: string }> {
  const idle = await TestSocket.open(exchange.api.url);
  return idle.closed;
}

async function trade(price: string): Promise<number> {
  const order = { symbol: 'BTC-USD', type: 'limit', price, qty: '0.001' };
  await exchange.api.expect(200, 'POST', '/api/v1/orders', { ...order, side: 'sell' }, sellerToken);
  const bought = await exchange.api.expect(
    200,
    'POST',
    '/api/v1/orders',
    { ...order, side: 'buy' },
    buyerToken,
  );
  assert.equal(bought.status, 'filled', JSON.stringify(bought));
  return bought.fills[0].tradeId;
}

describe('visitor sockets and the auth timeout', () => {
  it('closes an idle unauthenticated socket with 4002 AUTH_TIMEOUT', async () => {
    const startedAt = Date.now();
    const closed = await oneAuthWindow();
    assert.deepEqual(closed, { code: authTimeoutCode, reason: 'AUTH_TIMEOUT' });
    assert.ok(Date.now() - startedAt >= authTimeoutMs - 10, 'not before the auth window ends');
  });

  it('keeps a subscribed visitor open past several auth windows and keeps delivering', async () => {
    const visitor = await TestSocket.open(exchange.api.url);
    let visitorClosed = false;
    void visitor.closed.then(() => {
      visitorClosed = true;
    });
    const ack = await visitor.request('subscribe', { ch: 'trades.BTC-USD' });
    assert.equal(ack.ok, true, JSON.stringify(ack));
    // Each idle socket opened after the visitor's is closed one full window later, so after three
    // of them the visitor's own window has been checked at least twice.
    for (let window = 0; window < 3; window++) {
      assert.equal((await oneAuthWindow()).code, authTimeoutCode);
      assert.equal(visitorClosed, false, `visitor closed after window ${window + 1}`);
    }
    const tradeId = await trade('40000');
    const tape = await visitor.next(
      (message) =>
        message.ch === 'trades.BTC-USD' &&
        message.snapshot !== true &&
        JSON.stringify(message.data).includes(`${tradeId}`),
    );
    assert.equal(typeof tape.seq, 'number');
    const stillThere = await visitor.request('ping');
    assert.equal(stillThere.ok, true);
    visitor.close();
  });

  it('closes a visitor with 4002 once it unsubscribed from everything', async () => {
    const visitor = await TestSocket.open(exchange.api.url);
    const ack = await visitor.request('subscribe', { ch: 'trades.BTC-USD' });
    assert.equal(ack.ok, true, JSON.stringify(ack));
    assert.equal((await oneAuthWindow()).code, authTimeoutCode);
    const left = await visitor.request('unsubscribe', { ch: 'trades.BTC-USD' });
    assert.equal(left.ok, true, JSON.stringify(left));
    const closed = await visitor.closed;
    assert.deepEqual(closed, { code: authTimeoutCode, reason: 'AUTH_TIMEOUT' });
  });

  it('still drops a subscribed visitor that stops answering pings', async () => {
    const dead = new WebSocket(`${exchange.api.url.replace('http', 'ws')}/ws`, { autoPong: false });
    const closeCode = new Promise<number>((resolve) => dead.on('close', (code) => resolve(code)));
    const acknowledged = new Promise<unknown>((resolve) =>
      dead.once('message', (data) => resolve(JSON.parse(`${data}`))),
    );
    await new Promise<void>((resolve, reject) => {
      dead.once('open', () => resolve());
      dead.once('error', reject);
    });
    dead.send(JSON.stringify({ op: 'subscribe', id: 1, ch: 'trades.BTC-USD' }));
    assert.equal(((await acknowledged) as { ok?: boolean }).ok, true);
    assert.equal(await closeCode, 1006, 'terminated without a close frame, not closed with 4002');
  });

  it('keeps an authenticated socket without subscriptions open past the window', async () => {
    const member = await TestSocket.open(exchange.api.url, { authorization: `Bearer ${buyerToken}` });
    assert.equal((await oneAuthWindow()).code, authTimeoutCode);
    assert.equal((await oneAuthWindow()).code, authTimeoutCode);
    const reply = await member.request('ping');
    assert.equal(reply.ok, true);
    member.close();
  });
});
