// Binance's private spot REST API over a real exchange (issue 18): signed requests with API keys,
// orders of every type, queries, cancels, and refusals with Binance codes that change nothing.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestExchange, type TestExchange } from '../gateway/support/exchange.js';
import { createKey, SignedClient, sign } from './support/signed.js';

describe('Binance private REST', () => {
  let test: TestExchange;
  let maker: SignedClient;
  let taker: SignedClient;
  let readOnly: SignedClient;
  let makerId: number;

  before(async () => {
    test = await startTestExchange();
    const admin = await test.api.adminToken();
    await test.api.createMarket(admin, 'BTC-USD', 'BTC', 'USD');
    makerId = await test.api.register('maker');
    const takerId = await test.api.register('taker');
    for (const user of [makerId, takerId]) {
      await test.api.deposit(admin, user, 'BTC', '10');
      await test.api.deposit(admin, user, 'USD', '100000');
    }
    const makerToken = await test.api.login('maker');
    const takerToken = await test.api.login('taker');
    maker = new SignedClient(
      test.exchange.url,
      await createKey(test.api, makerToken, { permissions: ['read', 'trade'] }),
    );
    taker = new SignedClient(
      test.exchange.url,
      await createKey(test.api, takerToken, { permissions: ['read', 'trade'] }),
    );
    readOnly = new SignedClient(
      test.exchange.url,
      await createKey(test.api, makerToken, { permissions: ['read'] }),
    );
  });
  after(async () => test.close());

  /** Balances as numbers (the replies carry every decimal of the asset: "10.00000000"). */
  async function balances(client: SignedClient): Promise<Record<string, { free: number; locked: number }>> {
    const reply = await client.call('GET', '/api/v3/account');
    assert.equal(reply.status, 200, JSON.stringify(reply.body));
    return Object.fromEntries(
      reply.body.balances.map((entry: any) => [
        entry.asset,
        { free: Number(entry.free), locked: Number(entry.locked) },
      ]),
    );
  }

  it('reports the account', async () => {
    const reply = await maker.call('GET', '/api/v3/account');
    assert.equal(reply.status, 200);
    assert.equal(reply.body.accountType, 'SPOT');
    assert.equal(reply.body.uid, makerId);
    assert.deepEqual(await balances(maker), {
      BTC: { free: 10, locked: 0 },
      USD: { free: 100000, locked: 0 },
    });
  });

  it('places, finds, fills and cancels orders, consistent on both sides', async () => {
    const placed = await maker.call('POST', '/api/v3/order', {
      symbol: 'BTCUSD',
      side: 'SELL',
      type: 'LIMIT',
      timeInForce: 'GTC',
      quantity: '2',
      price: '100',
      newClientOrderId: 'maker-1',
    });
    assert.equal(placed.status, 200, JSON.stringify(placed.body));
    assert.equal(placed.body.status, 'NEW');
    assert.equal(placed.body.clientOrderId, 'maker-1');
    assert.deepEqual(placed.body.fills, []);
    assert.deepEqual((await balances(maker)).BTC, { free: 8, locked: 2 });

    const open = await maker.call('GET', '/api/v3/openOrders', { symbol: 'BTCUSD' });
    assert.deepEqual(
      open.body.map((order: any) => order.orderId),
      [placed.body.orderId],
    );
    const byClientId = await maker.call('GET', '/api/v3/order', {
      symbol: 'BTCUSD',
      origClientOrderId: 'maker-1',
    });
    assert.equal(byClientId.body.orderId, placed.body.orderId);

    const bought = await taker.call('POST', '/api/v3/order', {
      symbol: 'BTCUSD',
      side: 'BUY',
      type: 'MARKET',
      quantity: '0.5',
    });
    assert.equal(bought.status, 200, JSON.stringify(bought.body));
    assert.equal(bought.body.status, 'FILLED');
    assert.equal(Number(bought.body.executedQty), 0.5);
    assert.equal(Number(bought.body.cummulativeQuoteQty), 50);
    assert.equal(bought.body.fills.length, 1);
    assert.equal(bought.body.fills[0].commissionAsset, 'BTC');
    // Taker fee 20 bps of 0.5 BTC; maker fee 10 bps of 50 USD.
    assert.equal(Number(bought.body.fills[0].commission), 0.001);
    assert.deepEqual((await balances(taker)).BTC, { free: 10.499, locked: 0 });
    assert.deepEqual((await balances(maker)).USD, { free: 100049.95, locked: 0 });

    const partly = await maker.call('GET', '/api/v3/order', {
      symbol: 'BTCUSD',
      orderId: placed.body.orderId,
    });
    assert.equal(partly.body.status, 'PARTIALLY_FILLED');
    assert.equal(Number(partly.body.executedQty), 0.5);
    assert.equal(Number(partly.body.cummulativeQuoteQty), 50);

    const makerTrades = await maker.call('GET', '/api/v3/myTrades', { symbol: 'BTCUSD' });
    assert.equal(makerTrades.body.length, 1);
    assert.equal(makerTrades.body[0].isMaker, true);
    assert.equal(makerTrades.body[0].isBuyer, false);
    assert.equal(Number(makerTrades.body[0].commission), 0.05);
    const takerTrades = await taker.call('GET', '/api/v3/myTrades', { symbol: 'BTCUSD' });
    assert.equal(takerTrades.body[0].id, makerTrades.body[0].id);
    assert.equal(takerTrades.body[0].isMaker, false);

    const cancelled = await maker.call('DELETE', '/api/v3/order', {
      symbol: 'BTCUSD',
      origClientOrderId: 'maker-1',
    });
    assert.equal(cancelled.status, 200, JSON.stringify(cancelled.body));
    assert.equal(cancelled.body.status, 'CANCELED');
    assert.equal(cancelled.body.origClientOrderId, 'maker-1');
    assert.deepEqual((await balances(maker)).BTC, { free: 9.5, locked: 0 });
    const again = await maker.call('DELETE', '/api/v3/order', {
      symbol: 'BTCUSD',
      orderId: placed.body.orderId,
    });
    assert.equal(again.status, 400);
    assert.equal(again.body.code, -2011);

    const all = await maker.call('GET', '/api/v3/allOrders', { symbol: 'BTCUSD' });
    assert.equal(all.body.at(-1).orderId, placed.body.orderId);
    assert.equal(all.body.at(-1).status, 'CANCELED');
  });

  it('places post-only, stop and iceberg orders, tests without placing, and cancels all of a symbol', async () => {
    const before = await balances(maker);
    const tested = await maker.call('POST', '/api/v3/order/test', {
      symbol: 'BTCUSD',
      side: 'BUY',
      type: 'LIMIT',
      timeInForce: 'GTC',
      quantity: '1',
      price: '10',
    });
    assert.equal(tested.status, 200);
    assert.deepEqual(tested.body, {});
    assert.deepEqual(await balances(maker), before);

    const kinds: Array<Record<string, string>> = [
      { type: 'LIMIT_MAKER', quantity: '1', price: '10' },
      { type: 'STOP_LOSS_LIMIT', quantity: '1', price: '300', stopPrice: '290', timeInForce: 'GTC' },
      { type: 'TAKE_PROFIT', quantity: '1', stopPrice: '5' },
      {
        type: 'LIMIT',
        quantity: '2',
        price: '11',
        icebergQty: '0.5',
        timeInForce: 'GTC',
        newOrderRespType: 'RESULT',
      },
    ];
    const ids: number[] = [];
    for (const kind of kinds) {
      const reply = await maker.call('POST', '/api/v3/order', { symbol: 'BTCUSD', side: 'BUY', ...kind });
      assert.equal(reply.status, 200, `${kind.type}: ${JSON.stringify(reply.body)}`);
      ids.push(reply.body.orderId);
    }
    const open = await maker.call('GET', '/api/v3/openOrders', { symbol: 'BTCUSD' });
    assert.deepEqual(
      open.body.map((order: any) => order.type),
      ['LIMIT', 'STOP_LOSS_LIMIT', 'TAKE_PROFIT', 'LIMIT'],
    );
    assert.equal(Number(open.body[3].icebergQty), 0.5);
    assert.equal(Number(open.body[1].stopPrice), 290);

    const crossing = await maker.call('POST', '/api/v3/order', {
      symbol: 'BTCUSD',
      side: 'BUY',
      type: 'LIMIT_MAKER',
      quantity: '1',
      price: '1000',
    });
    // Nothing rests on the ask side now, so a post-only buy at 1000 only crosses if an ask exists.
    assert.ok(crossing.status === 200 || crossing.body.code === -2010);
    if (crossing.status === 200) ids.push(crossing.body.orderId);

    const cancelled = await maker.call('DELETE', '/api/v3/openOrders', { symbol: 'BTCUSD' });
    assert.equal(cancelled.status, 200, JSON.stringify(cancelled.body));
    assert.deepEqual(cancelled.body.map((order: any) => order.orderId).sort(), [...ids].sort());
    assert.deepEqual((await maker.call('GET', '/api/v3/openOrders', { symbol: 'BTCUSD' })).body, []);
    assert.deepEqual(await balances(maker), before);
  });

  it('refuses with Binance codes and places nothing', async () => {
    const before = await balances(maker);
    const order = {
      symbol: 'BTCUSD',
      side: 'BUY',
      type: 'LIMIT',
      timeInForce: 'GTC',
      quantity: '1',
      price: '10',
    };
    const cases: Array<[string, () => Promise<{ status: number; body: any }>, number, number]> = [
      ['read-only key', () => readOnly.call('POST', '/api/v3/order', order), 401, -2015],
      ['unknown symbol', () => maker.call('POST', '/api/v3/order', { ...order, symbol: 'NOPE' }), 400, -1121],
      ['bad side', () => maker.call('POST', '/api/v3/order', { ...order, side: 'UP' }), 400, -1117],
      ['bad type', () => maker.call('POST', '/api/v3/order', { ...order, type: 'TRAILING' }), 400, -1116],
      ['no quantity', () => maker.call('POST', '/api/v3/order', { ...order, quantity: '' }), 400, -1102],
      ['off tick', () => maker.call('POST', '/api/v3/order', { ...order, price: '10.001' }), 400, -1013],
      ['too poor', () => maker.call('POST', '/api/v3/order', { ...order, quantity: '100000' }), 400, -2010],
      [
        'unknown order',
        () => maker.call('GET', '/api/v3/order', { symbol: 'BTCUSD', orderId: 999999 }),
        400,
        -2013,
      ],
      [
        'bad signature',
        () =>
          maker.raw(
            'POST',
            '/api/v3/order',
            `symbol=BTCUSD&timestamp=${Date.now()}&signature=${'0'.repeat(64)}`,
          ),
        400,
        -1022,
      ],
      ['unsigned', () => maker.raw('GET', '/api/v3/account', `timestamp=${Date.now()}`), 400, -1102],
      ['no key', () => maker.raw('GET', '/api/v3/account', `timestamp=${Date.now()}`, ''), 401, -2014],
    ];
    for (const [name, call, status, code] of cases) {
      const reply = await call();
      assert.equal(reply.status, status, `${name}: ${JSON.stringify(reply.body)}`);
      assert.equal(reply.body.code, code, `${name}: ${JSON.stringify(reply.body)}`);
      assert.equal(typeof reply.body.msg, 'string');
    }
    // A replay of a valid signed order is refused and places nothing twice.
    const text = new URLSearchParams({ ...order, timestamp: String(Date.now()) }).toString();
    const signed = `${text}&signature=${sign(maker.key.secret, text)}`;
    const first = await maker.raw('POST', '/api/v3/order/test', signed);
    assert.equal(first.status, 200);
    const replay = await maker.raw('POST', '/api/v3/order/test', signed);
    assert.equal(replay.body.code, -1021);
    assert.deepEqual(await balances(maker), before);
  });
  it('places an OCO order list (LIMIT_MAKER above, STOP_LOSS_LIMIT below) and cancels both legs', async () => {
    const before = await balances(maker);
    const list = await maker.call('POST', '/api/v3/orderList/oco', {
      symbol: 'BTCUSD',
      side: 'SELL',
      quantity: '1',
      aboveType: 'LIMIT_MAKER',
      abovePrice: '200',
      belowType: 'STOP_LOSS_LIMIT',
      belowStopPrice: '50',
      belowPrice: '49',
      belowTimeInForce: 'GTC',
      listClientOrderId: 'oco-1',
    });
    assert.equal(list.status, 200, JSON.stringify(list.body));
    assert.equal(list.body.contingencyType, 'OCO');
    assert.equal(list.body.listClientOrderId, 'oco-1');
    assert.equal(list.body.orders.length, 2);
    const open = await maker.call('GET', '/api/v3/openOrders', { symbol: 'BTCUSD' });
    assert.deepEqual(open.body.map((order: any) => [order.type, order.orderListId]).sort(), [
      ['LIMIT', list.body.orderListId],
      ['STOP_LOSS_LIMIT', list.body.orderListId],
    ]);
    const wrongType = await maker.call('POST', '/api/v3/orderList/oco', {
      symbol: 'BTCUSD',
      side: 'SELL',
      quantity: '1',
      aboveType: 'LIMIT',
      abovePrice: '200',
      belowType: 'STOP_LOSS',
      belowStopPrice: '50',
    });
    assert.equal(wrongType.body.code, -1106);
    const cancelled = await maker.call('DELETE', '/api/v3/openOrders', { symbol: 'BTCUSD' });
    assert.equal(cancelled.status, 200, JSON.stringify(cancelled.body));
    assert.deepEqual((await maker.call('GET', '/api/v3/openOrders', { symbol: 'BTCUSD' })).body, []);
    assert.deepEqual(await balances(maker), before);
  });
});
