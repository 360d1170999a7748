// Acceptance: two unmodified ccxt `binance` clients, configured only through ccxt's documented
// `urls` and `options` plus an API key each, trade with each other on a real Hoga exchange:
// balances, every order kind ccxt creates, queries, cancels, fills and fees agree on both sides, and
// ccxt.pro's watchOrders (the WebSocket API's user data stream) sees the orders change.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import ccxt from 'ccxt';
import { startTestExchange, type TestExchange } from '../gateway/support/exchange.js';
import { createKey } from './support/signed.js';

/** docs/BINANCE.md "ccxt (trading)": the market-data settings plus the WebSocket API and a key. */
function hogaCcxtConfig(httpUrl: string, key: { keyId: string; secret: string }) {
  const rest = `${httpUrl}/api/v3`;
  const wsBase = httpUrl.replace(/^http/, 'ws');
  const ws = `${wsBase}/binance/ws`;
  return {
    apiKey: key.keyId,
    secret: key.secret,
    urls: {
      api: {
        public: rest,
        private: rest,
        v1: rest,
        v3: rest,
        sapi: rest,
        ws: { spot: ws, margin: ws, 'ws-api': { spot: `${wsBase}/binance/ws-api/v3` } },
      },
    },
    options: {
      defaultType: 'spot',
      fetchMarkets: { types: ['spot'] },
      fetchMargins: false,
      fetchCurrencies: false,
    },
  };
}

describe('ccxt trading against Hoga', () => {
  let test: TestExchange;
  let alice: InstanceType<typeof ccxt.pro.binance>;
  let bob: InstanceType<typeof ccxt.pro.binance>;

  before(async () => {
    test = await startTestExchange();
    const admin = await test.api.adminToken();
    await test.api.createMarket(admin, 'BTC-USDT', 'BTC', 'USDT');
    const aliceId = await test.api.register('alice');
    const bobId = await test.api.register('bob');
    await test.api.deposit(admin, aliceId, 'BTC', '10');
    await test.api.deposit(admin, bobId, 'USDT', '100000');
    const aliceKey = await createKey(test.api, await test.api.login('alice'), {
      permissions: ['read', 'trade'],
    });
    const bobKey = await createKey(test.api, await test.api.login('bob'), { permissions: ['read', 'trade'] });
    alice = new ccxt.pro.binance(hogaCcxtConfig(test.exchange.url, aliceKey));
    bob = new ccxt.pro.binance(hogaCcxtConfig(test.exchange.url, bobKey));
    for (const client of [alice, bob]) {
      // ccxt opens ws:// (not wss://) URLs only through an HTTP agent, loaded by this documented call.
      await client.loadHttpProxyAgent();
      await client.loadMarkets();
    }
  });
  after(async () => {
    await alice?.close();
    await bob?.close();
    await test?.close();
  });

  it('fetchBalance', async () => {
    const balance = await alice.fetchBalance();
    assert.equal(balance.BTC.free, 10);
    assert.equal(balance.BTC.used, 0);
    assert.equal((await bob.fetchBalance()).USDT.total, 100000);
  });

  it('limit, post-only and market orders fill consistently on both sides, with fees', async () => {
    const ask = await alice.createOrder('BTC/USDT', 'limit', 'sell', 1, 100);
    assert.equal(ask.status, 'open');
    assert.equal(ask.amount, 1);
    const postOnly = await alice.createOrder('BTC/USDT', 'limit', 'sell', 0.5, 110, { postOnly: true });
    assert.equal(postOnly.status, 'open');
    const open = await alice.fetchOpenOrders('BTC/USDT');
    assert.deepEqual(open.map((order) => order.id).sort(), [ask.id, postOnly.id].sort());
    assert.equal((await alice.fetchBalance()).BTC.used, 1.5);

    // A post-only buy that would cross is refused the way Binance refuses it.
    await assert.rejects(
      bob.createOrder('BTC/USDT', 'limit', 'buy', 0.1, 100, { postOnly: true }),
      ccxt.OrderImmediatelyFillable,
    );

    const bought = await bob.createOrder('BTC/USDT', 'market', 'buy', 0.4);
    assert.equal(bought.status, 'closed');
    assert.equal(bought.filled, 0.4);
    assert.equal(bought.cost, 40);
    assert.equal(bought.trades.length, 1);
    // Taker fee 20 bps of what the buyer receives (BTC); maker 10 bps of what the seller receives (USDT).
    assert.deepEqual([bought.fee?.cost, bought.fee?.currency], [0.0008, 'BTC']);

    const after = await alice.fetchOrder(String(ask.id), 'BTC/USDT');
    assert.equal(after.status, 'open');
    assert.equal(after.filled, 0.4);
    assert.equal(after.remaining, 0.6);

    const aliceTrades = await alice.fetchMyTrades('BTC/USDT');
    const bobTrades = await bob.fetchMyTrades('BTC/USDT');
    assert.equal(aliceTrades.length, 1);
    assert.equal(aliceTrades[0].id, bobTrades[0].id);
    assert.deepEqual(
      [aliceTrades[0].side, aliceTrades[0].takerOrMaker, aliceTrades[0].price],
      ['sell', 'maker', 100],
    );
    assert.deepEqual(
      [bobTrades[0].side, bobTrades[0].takerOrMaker, bobTrades[0].amount],
      ['buy', 'taker', 0.4],
    );
    assert.deepEqual([aliceTrades[0].fee?.cost, aliceTrades[0].fee?.currency], [0.04, 'USDT']);

    const aliceBalance = await alice.fetchBalance();
    const bobBalance = await bob.fetchBalance();
    assert.equal(aliceBalance.USDT.free, 39.96);
    assert.equal(aliceBalance.BTC.total, 9.6);
    assert.equal(bobBalance.BTC.free, 0.3992);
    assert.equal(bobBalance.USDT.free, 99960);
  });

  it('cancelOrder, cancelAllOrders and fetchClosedOrders', async () => {
    const [first] = await alice.fetchOpenOrders('BTC/USDT');
    const cancelled = await alice.cancelOrder(String(first.id), 'BTC/USDT');
    assert.equal(cancelled.status, 'canceled');
    await alice.createOrder('BTC/USDT', 'limit', 'sell', 0.1, 120);
    await alice.cancelAllOrders('BTC/USDT');
    assert.deepEqual(await alice.fetchOpenOrders('BTC/USDT'), []);
    assert.equal((await alice.fetchBalance()).BTC.used, 0);
    // ccxt's "closed" is filled; Binance (and Hoga) call a partly filled then cancelled order CANCELED.
    const closed = await bob.fetchClosedOrders('BTC/USDT');
    assert.deepEqual(
      closed.map((order) => [order.status, order.filled]),
      [['closed', 0.4]],
    );
    const canceled = await alice.fetchCanceledOrders('BTC/USDT');
    assert.equal(canceled.length, 3);
    assert.ok(canceled.every((order) => order.status === 'canceled'));
    await assert.rejects(alice.cancelOrder(String(first.id), 'BTC/USDT'), ccxt.OrderNotFound);
  });

  it('ccxt.pro watchOrders sees orders placed and filled', async () => {
    const watching = alice.watchOrders('BTC/USDT');
    let resolved = false;
    void watching.then(() => {
      resolved = true;
    });
    // The user data subscription is made inside watchOrders, asynchronously: place orders until the
    // watch has seen one (the first usually suffices).
    const placed: string[] = [];
    while (!resolved)
      placed.push(String((await alice.createOrder('BTC/USDT', 'limit', 'sell', 0.01, 105)).id));
    const seen = await watching;
    assert.ok(seen.some((order) => placed.includes(String(order.id))));
    assert.ok(seen.every((order) => order.symbol === 'BTC/USDT'));
    // A watch resolves on the next update after it is called: call it before the fill.
    const filling = alice.watchOrders('BTC/USDT');
    await bob.createOrder('BTC/USDT', 'market', 'buy', 0.01 * placed.length);
    const filled = await filling;
    assert.ok(filled.some((order) => placed.includes(String(order.id)) && order.status === 'closed'));
    // Every placed order ends closed in ccxt.pro's order cache, fed only by the user data stream.
    type OrderCache = { hashmap: Record<string, Record<string, { status?: string; filled?: number }>> };
    const cachedOrder = (id: string) =>
      (alice.orders as unknown as OrderCache | undefined)?.hashmap['BTC/USDT']?.[id];
    let pending = placed;
    while (pending.length > 0) {
      pending = placed.filter((id) => cachedOrder(id)?.status !== 'closed');
      if (pending.length > 0) await alice.watchOrders('BTC/USDT');
    }
    assert.equal(cachedOrder(placed[0])?.filled, 0.01);
  });
});
