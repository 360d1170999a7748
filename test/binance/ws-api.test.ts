// Binance's WebSocket API over a real exchange (issue 18): signed methods, user data events
// (executionReport, outboundAccountPosition, balanceUpdate), refusals, and a revoked key's socket
// closing.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { startTestExchange, type TestExchange } from '../gateway/support/exchange.js';
import { type ApiKey, createKey, SignedClient, sign } from './support/signed.js';

/** A ws-api client: requests paired with replies by id, events kept in order. */
class WsApi {
  readonly events: any[] = [];
  private readonly waiting = new Map<string, (reply: any) => void>();
  private readonly watchers: Array<{ match: (event: any) => boolean; resolve: (event: any) => void }> = [];
  private nextId = 1;
  readonly closed: Promise<{ code: number }>;

  private constructor(
    readonly socket: WebSocket,
    readonly key: ApiKey,
  ) {
    socket.on('message', (data) => {
      const message = JSON.parse(data.toString());
      if (message.event !== undefined) {
        this.events.push(message.event);
        for (const watcher of [...this.watchers])
          if (watcher.match(message.event)) {
            this.watchers.splice(this.watchers.indexOf(watcher), 1);
            watcher.resolve(message.event);
          }
        return;
      }
      this.waiting.get(String(message.id))?.(message);
    });
    this.closed = new Promise((resolve) => socket.on('close', (code) => resolve({ code })));
  }

  static async open(url: string, key: ApiKey): Promise<WsApi> {
    const socket = new WebSocket(`${url.replace('http', 'ws')}/binance/ws-api/v3`);
    await new Promise((resolve, reject) => {
      socket.once('open', resolve);
      socket.once('error', reject);
    });
    return new WsApi(socket, key);
  }

  request(method: string, params?: Record<string, unknown>): Promise<any> {
    const id = `r${this.nextId++}`;
    const reply = new Promise((resolve) => this.waiting.set(id, resolve));
    this.socket.send(JSON.stringify({ id, method, params }));
    return reply;
  }

  /** Signs like ccxt.pro: every parameter with apiKey and timestamp, sorted by name, not encoded. */
  signed(method: string, params: Record<string, string | number> = {}): Promise<any> {
    const all: Record<string, string | number> = { ...params, apiKey: this.key.keyId, timestamp: Date.now() };
    const payload = Object.keys(all)
      .sort()
      .map((name) => `${name}=${all[name]}`)
      .join('&');
    return this.request(method, { ...all, signature: sign(this.key.secret, payload) });
  }

  next(match: (event: any) => boolean): Promise<any> {
    const seen = this.events.find(match);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve) => this.watchers.push({ match, resolve }));
  }
}

describe('Binance WebSocket API', () => {
  let test: TestExchange;
  let adminToken: string;
  let makerKey: ApiKey;
  let takerKey: ApiKey;
  let makerToken: string;
  let makerId: number;

  before(async () => {
    test = await startTestExchange();
    adminToken = await test.api.adminToken();
    await test.api.createMarket(adminToken, 'BTC-USD', 'BTC', 'USD');
    makerId = await test.api.register('wsmaker');
    const takerId = await test.api.register('wstaker');
    for (const user of [makerId, takerId]) {
      await test.api.deposit(adminToken, user, 'BTC', '10');
      await test.api.deposit(adminToken, user, 'USD', '100000');
    }
    makerToken = await test.api.login('wsmaker');
    makerKey = await createKey(test.api, makerToken, { permissions: ['read', 'trade'] });
    takerKey = await createKey(test.api, await test.api.login('wstaker'), { permissions: ['read', 'trade'] });
  });
  after(async () => test.close());

  it('answers ping and time, and refuses unknown methods and bad signatures', async () => {
    const client = await WsApi.open(test.exchange.url, makerKey);
    assert.deepEqual(await client.request('ping'), { id: 'r1', status: 200, result: {} });
    const time = await client.request('time');
    assert.equal(typeof time.result.serverTime, 'number');
    const unknown = await client.request('order.fly');
    assert.equal(unknown.status, 400);
    assert.equal(unknown.error.code, -1100);
    const forged = await client.request('account.status', {
      apiKey: makerKey.keyId,
      timestamp: Date.now(),
      signature: '0'.repeat(64),
    });
    assert.equal(forged.error.code, -1022);
    const noKey = await client.request('account.status', {
      timestamp: Date.now(),
      signature: '0'.repeat(64),
    });
    assert.equal(noKey.error.code, -2014);
    client.socket.close();
  });

  it('trades over the socket and pushes both sides their execution reports and balances', async () => {
    const maker = await WsApi.open(test.exchange.url, makerKey);
    const taker = await WsApi.open(test.exchange.url, takerKey);
    const subscribed = await maker.signed('userDataStream.subscribe.signature');
    assert.equal(subscribed.status, 200, JSON.stringify(subscribed));
    assert.equal(subscribed.result.subscriptionId, 0);
    assert.equal((await taker.signed('userDataStream.subscribe.signature')).status, 200);

    const placed = await maker.signed('order.place', {
      symbol: 'BTCUSD',
      side: 'SELL',
      type: 'LIMIT',
      timeInForce: 'GTC',
      quantity: '1',
      price: '100',
      newClientOrderId: 'ws-maker-1',
    });
    assert.equal(placed.status, 200, JSON.stringify(placed));
    assert.equal(placed.result.status, 'NEW');
    const orderId = placed.result.orderId;
    const created = await maker.next((event) => event.e === 'executionReport' && event.i === orderId);
    assert.equal(created.x, 'NEW');
    assert.equal(created.c, 'ws-maker-1');
    assert.equal(created.s, 'BTCUSD');

    // The taker buys over REST: both sockets hear of it.
    const bought = await new SignedClient(test.exchange.url, takerKey).call('POST', '/api/v3/order', {
      symbol: 'BTCUSD',
      side: 'BUY',
      type: 'MARKET',
      quantity: '0.4',
    });
    assert.equal(bought.status, 200, JSON.stringify(bought.body));
    const makerFill = await maker.next((event) => event.e === 'executionReport' && event.x === 'TRADE');
    assert.equal(makerFill.X, 'PARTIALLY_FILLED');
    assert.equal(Number(makerFill.l), 0.4);
    assert.equal(Number(makerFill.z), 0.4);
    assert.equal(Number(makerFill.Z), 40);
    assert.equal(makerFill.m, true);
    assert.equal(makerFill.N, 'USD');
    assert.equal(Number(makerFill.n), 0.04);
    const takerFill = await taker.next((event) => event.e === 'executionReport' && event.x === 'TRADE');
    assert.equal(takerFill.X, 'FILLED');
    assert.equal(takerFill.t, makerFill.t);
    assert.equal(takerFill.m, false);
    const position = await maker.next(
      (event) =>
        event.e === 'outboundAccountPosition' && event.B.some((entry: any) => Number(entry.l) === 0.6),
    );
    const btc = position.B.find((entry: any) => entry.a === 'BTC');
    assert.equal(Number(btc.f), 9);

    const status = await maker.signed('order.status', { symbol: 'BTCUSD', orderId });
    assert.equal(status.result.status, 'PARTIALLY_FILLED');
    const open = await maker.signed('openOrders.status', { symbol: 'BTCUSD' });
    assert.deepEqual(
      open.result.map((order: any) => order.orderId),
      [orderId],
    );
    const cancelled = await maker.signed('order.cancel', {
      symbol: 'BTCUSD',
      origClientOrderId: 'ws-maker-1',
    });
    assert.equal(cancelled.result.status, 'CANCELED');
    const cancelReport = await maker.next((event) => event.e === 'executionReport' && event.x === 'CANCELED');
    assert.equal(cancelReport.C, 'ws-maker-1');
    assert.equal(cancelReport.X, 'CANCELED');
    const account = await maker.signed('account.status');
    assert.equal(Number(account.result.balances.find((entry: any) => entry.asset === 'BTC').locked), 0);

    await test.api.deposit(adminToken, makerId, 'USD', '5');
    const deposit = await maker.next((event) => event.e === 'balanceUpdate');
    assert.equal(deposit.a, 'USD');
    assert.equal(Number(deposit.d), 5);
    maker.socket.close();
    taker.socket.close();
  });

  it('closes the sockets of a key when it is revoked', async () => {
    const key = await createKey(test.api, makerToken, { permissions: ['read'] });
    const client = await WsApi.open(test.exchange.url, key);
    assert.equal((await client.signed('userDataStream.subscribe.signature')).status, 200);
    const refused = await client.signed('order.place', {
      symbol: 'BTCUSD',
      side: 'BUY',
      type: 'MARKET',
      quantity: '1',
    });
    assert.equal(refused.error.code, -2015);
    await test.api.expect(200, 'DELETE', `/api/v1/api-keys/${key.keyId}`, undefined, makerToken);
    assert.equal((await client.closed).code, 4001);
  });
});
