// A market's IANA timezone travels with its listing (journaled on the symbol command): daily
// candles of a Seoul market open at Seoul midnight, and an unknown timezone is refused by name.
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { type Api, startTestExchange, type TestExchange, TestSocket } from './support/exchange.js';

let exchange: TestExchange;
let api: Api;

before(async () => {
  exchange = await startTestExchange();
  api = exchange.api;
});

after(async () => {
  await exchange.close();
});

const listing = {
  symbol: 'SEO-KRW',
  base: 'SEO',
  quote: 'KRW',
  baseDecimals: 0,
  quoteDecimals: 0,
  lotSize: '1',
  tickSize: '1',
  makerFeeBps: 0,
  takerFeeBps: 0,
};

it("daily candles close at the market's local midnight; a bad timezone is a 400 naming the field", async () => {
  const admin = await api.adminToken();
  const refused = await api.call(
    'POST',
    '/api/v1/admin/symbols',
    { ...listing, timezone: 'Mars/Olympus' },
    admin,
  );
  assert.equal(refused.status, 400);
  assert.equal(refused.body.field, 'timezone');
  await api.expect(201, 'POST', '/api/v1/admin/symbols', { ...listing, timezone: 'Asia/Seoul' }, admin);
  const sellerId = await api.register('seoul-seller');
  const buyerId = await api.register('seoul-buyer');
  await api.deposit(admin, sellerId, 'SEO', '10');
  await api.deposit(admin, buyerId, 'KRW', '100000');
  const seller = await api.login('seoul-seller');
  const buyer = await api.login('seoul-buyer');
  const order = { symbol: 'SEO-KRW', type: 'limit', price: '5000', qty: '1' };
  await api.expect(200, 'POST', '/api/v1/orders', { ...order, side: 'sell' }, seller);
  await api.expect(200, 'POST', '/api/v1/orders', { ...order, side: 'buy' }, buyer);
  const socket = await TestSocket.open(api.url);
  try {
    const ack = await socket.request('subscribe', { ch: 'candles.SEO-KRW.1d' });
    assert.equal(ack.ok, true, JSON.stringify(ack));
    const snapshot = await socket.next((message) => message.ch === 'candles.SEO-KRW.1d' && message.snapshot);
    const dayMs = 86_400_000;
    const seoulOffsetMs = 9 * 3_600_000;
    assert.equal((snapshot.data.openMs + seoulOffsetMs) % dayMs, 0, JSON.stringify(snapshot.data));
    assert.equal(snapshot.data.trades, 1);
    assert.equal(snapshot.data.closeMs - snapshot.data.openMs, dayMs);
  } finally {
    socket.close();
  }
});
