// Binance market streams on a real exchange: raw and combined sockets, live SUBSCRIBE /
// UNSUBSCRIBE / LIST_SUBSCRIPTIONS / SET_PROPERTY, Binance's event fields in decimal text, and
// Binance's WebSocket error codes.
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import WebSocket from 'ws';
import { startTestExchange, type TestExchange } from '../gateway/support/exchange.js';

let test: TestExchange;
let makerToken: string;
let takerToken: string;

class StreamSocket {
  readonly messages: any[] = [];
  private readonly watchers: Array<{ match: (message: any) => boolean; resolve: (message: any) => void }> =
    [];
  readonly closed: Promise<{ code: number; reason: string }>;

  constructor(readonly socket: WebSocket) {
    socket.on('message', (data) => {
      const message = JSON.parse(data.toString());
      this.messages.push(message);
      for (const watcher of [...this.watchers]) {
        if (!watcher.match(message)) continue;
        this.watchers.splice(this.watchers.indexOf(watcher), 1);
        watcher.resolve(message);
      }
    });
    this.closed = new Promise((resolve) => {
      socket.on('close', (code, reason) => resolve({ code, reason: reason.toString() }));
    });
  }

  static async open(path: string): Promise<StreamSocket> {
    const socket = new WebSocket(`${test.exchange.url.replace('http', 'ws')}${path}`);
    const client = new StreamSocket(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    return client;
  }

  /** The first message (already received or future) that matches. */
  next(match: (message: any) => boolean): Promise<any> {
    const seen = this.messages.find(match);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve) => this.watchers.push({ match, resolve }));
  }

  request(id: number, method: string, params?: unknown): Promise<any> {
    this.socket.send(JSON.stringify({ method, params, id }));
    return this.next((message) => message.id === id);
  }

  close(): void {
    this.socket.close();
  }
}

async function trade(price: string, qty: string): Promise<void> {
  const order = { symbol: 'BTC-USDT', type: 'limit', price, qty };
  await test.api.expect(200, 'POST', '/api/v1/orders', { ...order, side: 'sell' }, makerToken);
  await test.api.expect(200, 'POST', '/api/v1/orders', { ...order, side: 'buy' }, takerToken);
}

before(async () => {
  test = await startTestExchange();
  const admin = await test.api.adminToken();
  await test.api.createMarket(admin, 'BTC-USDT', 'BTC', 'USDT');
  const maker = await test.api.register('maker');
  const taker = await test.api.register('taker');
  await test.api.deposit(admin, maker, 'BTC', '100');
  await test.api.deposit(admin, taker, 'USDT', '1000000');
  makerToken = await test.api.login('maker');
  takerToken = await test.api.login('taker');
  await test.api.expect(
    200,
    'POST',
    '/api/v1/orders',
    { symbol: 'BTC-USDT', type: 'limit', side: 'buy', price: '90', qty: '0.5' },
    takerToken,
  );
});
after(() => test?.close());

it('a raw socket named by its path gets trade and aggTrade events in Binance fields', async () => {
  const socket = await StreamSocket.open('/binance/ws/btcusdt@trade/btcusdt@aggTrade');
  try {
    await trade('101.5', '0.25');
    const event = await socket.next((message) => message.e === 'trade');
    assert.deepEqual(
      [event.s, event.p, event.q, event.m, event.M],
      ['BTCUSDT', '101.50', '0.250', false, true],
    );
    assert.ok(Number.isInteger(event.t) && Number.isInteger(event.T) && Number.isInteger(event.E));
    const aggregate = await socket.next((message) => message.e === 'aggTrade');
    assert.deepEqual(
      [aggregate.a, aggregate.f, aggregate.l, aggregate.p],
      [event.t, event.t, event.t, '101.50'],
    );
  } finally {
    socket.close();
  }
});

it('a combined socket wraps each event as {stream, data}; depth diffs carry U and u', async () => {
  const socket = await StreamSocket.open('/binance/stream?streams=btcusdt@depth@100ms/btcusdt@kline_1m');
  try {
    await trade('102', '0.1');
    const diff = await socket.next((message) => message.stream === 'btcusdt@depth@100ms');
    assert.equal(diff.data.e, 'depthUpdate');
    assert.equal(diff.data.s, 'BTCUSDT');
    assert.ok(diff.data.U <= diff.data.u);
    // The first diff adds the ask the second command then takes.
    assert.deepEqual(diff.data.a, [['102.00', '0.100']]);
    const kline = await socket.next(
      (message) => message.stream === 'btcusdt@kline_1m' && message.data.k.c === '102.00',
    );
    assert.equal(kline.data.e, 'kline');
    assert.equal(kline.data.k.i, '1m');
    assert.equal(kline.data.k.T - kline.data.k.t, 59_999);
    assert.equal(kline.data.k.x, false);
  } finally {
    socket.close();
  }
});

it('latest-value streams start with the current state: depth5, bookTicker, ticker', async () => {
  const socket = await StreamSocket.open('/binance/ws/0');
  try {
    const reply = await socket.request(1, 'SUBSCRIBE', [
      'btcusdt@depth5',
      'btcusdt@bookTicker',
      'btcusdt@ticker',
    ]);
    assert.deepEqual(reply, { result: null, id: 1 });
    const partial = await socket.next((message) => 'lastUpdateId' in message);
    assert.deepEqual(partial.bids, [['90.00', '0.500']]);
    assert.deepEqual(partial.asks, []);
    const top = await socket.next((message) => 'u' in message && 'b' in message && !('e' in message));
    assert.deepEqual([top.s, top.b, top.B], ['BTCUSDT', '90.00', '0.500']);
    const ticker = await socket.next((message) => message.e === '24hrTicker');
    assert.equal(ticker.s, 'BTCUSDT');
    assert.ok(ticker.n >= 2);
    assert.equal(ticker.b, '90.00');
  } finally {
    socket.close();
  }
});

it('SUBSCRIBE, LIST_SUBSCRIPTIONS, UNSUBSCRIBE and the combined property, live', async () => {
  const socket = await StreamSocket.open('/binance/ws/btcusdt@trade');
  try {
    assert.deepEqual(await socket.request(1, 'LIST_SUBSCRIPTIONS'), { result: ['btcusdt@trade'], id: 1 });
    assert.deepEqual(await socket.request(2, 'SUBSCRIBE', ['BTCUSDT@aggTrade']), { result: null, id: 2 });
    assert.deepEqual(await socket.request(3, 'LIST_SUBSCRIPTIONS'), {
      result: ['btcusdt@trade', 'btcusdt@aggTrade'],
      id: 3,
    });
    assert.deepEqual(await socket.request(4, 'UNSUBSCRIBE', ['btcusdt@trade']), { result: null, id: 4 });
    assert.deepEqual(await socket.request(5, 'LIST_SUBSCRIPTIONS'), { result: ['btcusdt@aggTrade'], id: 5 });
    assert.deepEqual(await socket.request(6, 'GET_PROPERTY', ['combined']), { result: false, id: 6 });
    assert.deepEqual(await socket.request(7, 'SET_PROPERTY', ['combined', true]), { result: null, id: 7 });
    await trade('103', '0.01');
    const wrapped = await socket.next((message) => message.stream === 'btcusdt@aggTrade');
    assert.equal(wrapped.data.p, '103.00');
    assert.ok(!socket.messages.some((message) => message.e === 'trade' || message.data?.e === 'trade'));
  } finally {
    socket.close();
  }
});

it('bad requests get Binance WebSocket error codes; a bad stream in the path closes the socket', async () => {
  const socket = await StreamSocket.open('/binance/ws/0');
  try {
    socket.socket.send('{nope');
    const invalidJson = await socket.next((message) => message.error?.code === 3);
    assert.equal(invalidJson.id, null);
    const unknownStream = await socket.request(2, 'SUBSCRIBE', ['nopeusdt@trade']);
    assert.equal(unknownStream.error.code, 2);
    const unknownMethod = await socket.request(3, 'FLY');
    assert.equal(unknownMethod.error.code, 2);
    const badProperty = await socket.request(4, 'SET_PROPERTY', ['combined', 'yes']);
    assert.equal(badProperty.error.code, 1);
    assert.deepEqual(await socket.request(5, 'LIST_SUBSCRIPTIONS'), { result: [], id: 5 });
  } finally {
    socket.close();
  }
  const badPath = await StreamSocket.open('/binance/ws/btcusdt@depth7');
  const closed = await badPath.closed;
  assert.equal(closed.code, 1008);
});
