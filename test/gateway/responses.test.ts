// A response schema drops every field it does not list: the views' fullest outputs (every
// optional field set) must come out of the compiled serializer exactly as JSON.stringify writes them.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TSchema } from '@sinclair/typebox';
import Fastify from 'fastify';
import { marketScale } from '../../src/gateway/decimal.js';
import type { Market, MarketRegistry } from '../../src/gateway/markets.js';
import { offeringJson } from '../../src/gateway/offerings-state.js';
import {
  BalancesReply,
  ClaimReply,
  MarketReply,
  OfferingReply,
  OrderReply,
  PlaceReply,
  TradesReply,
} from '../../src/gateway/responses.js';
import type { PlaceResult } from '../../src/gateway/trading.js';
import { balanceJson, marketJson, orderJson, tradeJson } from '../../src/gateway/views.js';

/** The serializer Fastify compiles for a route answering 200 with `schema`. */
async function serializerFor(schema: TSchema): Promise<(value: unknown) => string> {
  const app = Fastify();
  let serializer: ((value: unknown) => string) | undefined;
  app.get('/', { schema: { response: { 200: schema } } }, async (_request, reply) => {
    serializer = reply.getSerializationFunction('200') as (value: unknown) => string;
    return reply.send([]);
  });
  await app.inject({ method: 'GET', url: '/' });
  await app.close();
  assert.ok(serializer !== undefined);
  return serializer;
}

async function assertKept(schema: TSchema, value: unknown): Promise<void> {
  const serialize = await serializerFor(schema);
  assert.deepEqual(JSON.parse(serialize(value)), JSON.parse(JSON.stringify(value)));
}

const scale = marketScale({ baseDecimals: 8, quoteDecimals: 6, lotSize: '0.001', tickSize: '0.01' });
if (!scale.ok) throw new Error(scale.message);
const market: Market = {
  symbol: 'BTC-USD',
  base: 'BTC',
  quote: 'USD',
  makerFeeBps: 10,
  takerFeeBps: 20,
  scale: scale.value,
};
const markets = { decimalsOf: (asset: string) => (asset === 'BTC' ? 8 : 6), market: () => market };

describe('response schemas keep every field the views send', () => {
  it('an order with every optional field', async () => {
    const order = orderJson(
      {
        id: 7,
        user: 1,
        symbol: 'BTC-USD',
        side: 'buy',
        type: 'limit',
        tif: 'GTC',
        price: 5_000_000,
        qty: 1_000,
        filled: 250,
        remaining: 750,
        status: 'open',
        clientOrderId: 'c-1',
        createdAtMs: 1,
        updatedAtMs: 2,
        stopPrice: 4_900_000,
        trigger: 'stopLoss',
        triggeredAtMs: 3,
        displayQty: 100,
        visibleQty: 50,
        ocoId: 8,
      },
      market,
    );
    assert.equal(Object.keys(order).length, 19, 'every field is set');
    await assertKept(OrderReply, order);
  });

  it('a place result with every optional field, and its fills', async () => {
    const result: Required<PlaceResult> = {
      orderId: 7,
      stopOrderId: 8,
      clientOrderId: 'c-1',
      symbol: 'BTC-USD',
      status: 'partiallyFilled',
      rejectCode: 'INSUFFICIENT_FUNDS',
      filledQty: '0.5',
      restingQty: '0.5',
      expiredQty: '0',
      expireReason: 'STP',
      fills: [{ tradeId: 1, price: '50000.00', qty: '0.500', fee: '0.00050000', feeAsset: 'BTC' }],
      seq: 9,
      ts: 10,
    };
    await assertKept(PlaceReply, result);
  });

  it('trades, balances, markets, offerings and claims', async () => {
    const trade = {
      tradeId: 1,
      orderId: 7,
      symbol: 'BTC-USD',
      side: 'sell' as const,
      role: 'maker' as const,
    };
    await assertKept(TradesReply, [
      tradeJson({ ...trade, price: 5_000_000, qty: 10, fee: 3, atMs: 4 }, market),
    ]);
    await assertKept(BalancesReply, [
      balanceJson({ asset: 'BTC', available: 5, locked: 6 }, markets as unknown as MarketRegistry),
    ]);
    await assertKept(MarketReply, marketJson(market));
    const offering = {
      id: 3,
      issuer: 1,
      asset: 'BTC',
      quote: 'USD',
      price: 100,
      unitSize: 1_000,
      units: 10,
      left: 4,
      perUserMax: 2,
      startTs: 1,
      endTs: 2,
      closed: false,
      claimants: 3,
      coupon: { makerDiscountPct: 10, takerDiscountPct: 20, expiresTs: 5, uses: 3 },
    };
    await assertKept(OfferingReply, offeringJson(offering, markets as unknown as MarketRegistry));
    await assertKept(ClaimReply, {
      seq: 1,
      offeringId: 3,
      units: 2,
      paid: '2.00',
      left: 4,
      couponIssued: true,
      clientClaimId: 'k',
    });
  });
});
