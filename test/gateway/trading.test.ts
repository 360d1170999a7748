// TradingService against the real Engine behind a small in-memory sequencer: a full queue is a 503
// that places nothing and leaves the idempotency key free, and place results say what happened.
import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { Engine } from '../../src/core/engine.js';
import type { Command } from '../../src/core/types.js';
import { AbnormalTrafficDetector } from '../../src/gateway/abnormal-traffic.js';
import { defaultGatewayConfig } from '../../src/gateway/config.js';
import { GatewayError } from '../../src/gateway/errors.js';
import { TokenBuckets } from '../../src/gateway/rate-limits.js';
import { GatewayState } from '../../src/gateway/state.js';
import { type PlaceRequest, TradingService } from '../../src/gateway/trading.js';
import { MemorySequencer } from './support/memory-sequencer.js';

let sequencer: MemorySequencer;
let trading: TradingService;

const alice = 1;
const bob = 2;

function order(fields: Partial<PlaceRequest>): PlaceRequest {
  return { symbol: 'BTC-USD', side: 'buy', type: 'limit', price: '100', qty: '1', ...fields };
}

async function rejection(promise: Promise<unknown>): Promise<GatewayError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof GatewayError, String(error));
    return error;
  }
  assert.fail('expected a rejection');
}

beforeEach(async () => {
  const engine = new Engine();
  sequencer = new MemorySequencer(engine);
  const config = defaultGatewayConfig();
  const state = new GatewayState(config.state);
  state.useEngine(engine);
  sequencer.onApplied(state.apply);
  trading = new TradingService({
    sequencer,
    markets: state.markets,
    idempotency: state.idempotency,
    abnormal: new AbnormalTrafficDetector(config.abnormal, () => 0),
    orderBuckets: new TokenBuckets(config.limits.ordersPerUser, () => 0),
    observeEngineSeconds: () => {},
    balanceOf: (user, asset) => engine.balance(user, asset),
  });
  await sequencer.submit({
    op: 'symbol',
    symbol: 'BTC-USD',
    base: 'BTC',
    quote: 'USD',
    lotSize: 100_000,
    tickSize: 100,
    makerFeeBps: 0,
    takerFeeBps: 0,
    baseDecimals: 8,
    quoteDecimals: 5,
    lotSizeDecimal: '0.001',
    tickSizeDecimal: '1',
  } as Command);
  await sequencer.submit({ op: 'deposit', user: alice, asset: 'USD', amount: 10_000_000_000 });
  await sequencer.submit({ op: 'deposit', user: bob, asset: 'BTC', amount: 100_000_000 });
});

describe('TradingService', () => {
  it('converts stop, iceberg and OCO fields exactly and gives every place command one shape', async () => {
    const shape = [
      'op',
      'user',
      'symbol',
      'side',
      'type',
      'qty',
      'price',
      'tif',
      'postOnly',
      'stp',
      'stopPrice',
      'trigger',
      'displayQty',
      'clientOrderId',
    ];
    await trading.place(alice, order({ price: '100', qty: '0.5' }));
    const plain = sequencer.submitted.at(-1) as unknown as Record<string, unknown>;
    assert.deepEqual(Object.keys(plain), shape);
    assert.deepEqual([plain.stopPrice, plain.trigger, plain.displayQty], [undefined, undefined, undefined]);
    const stop = await trading.place(
      alice,
      order({ price: '101', qty: '0.25', stopPrice: '150', trigger: 'stopLoss' }),
    );
    assert.equal(stop.status, 'pending');
    const stopCommand = sequencer.submitted.at(-1) as unknown as Record<string, unknown>;
    assert.deepEqual(Object.keys(stopCommand), shape);
    // Tick 1 USD is 100 quote minor units per 0.001 lot: 150 USD is 15,000; 0.25 is 250 lots.
    assert.deepEqual(
      [stopCommand.stopPrice, stopCommand.trigger, stopCommand.qty],
      [15_000, 'stopLoss', 250],
    );
    await trading.place(bob, order({ side: 'sell', price: '200', qty: '0.5', displayQty: '0.125' }));
    assert.equal((sequencer.submitted.at(-1) as { displayQty?: number }).displayQty, 125);
    const oco = await trading.placeOco(bob, {
      symbol: 'BTC-USD',
      side: 'sell',
      qty: '0.1',
      price: '300',
      stopPrice: '90',
      stopLimitPrice: '89',
    });
    assert.equal(oco.stopOrderId, oco.orderId + 2 ** 52);
    const ocoCommand = sequencer.submitted.at(-1) as unknown as Record<string, unknown>;
    assert.deepEqual(
      [ocoCommand.op, ocoCommand.qty, ocoCommand.price, ocoCommand.stopPrice, ocoCommand.stopLimitPrice],
      ['oco', 100, 30_000, 9_000, 8_900],
    );
    assert.equal('id' in ocoCommand || 'stopId' in ocoCommand, false);
  });

  it('answers a full queue with 503 QUEUE_FULL at once, places nothing, and lets the key be retried', async () => {
    sequencer.full = true;
    const seqBefore = sequencer.lastSeq;
    const error = await rejection(trading.place(alice, order({ clientOrderId: 'k1' })));
    assert.deepEqual([error.statusCode, error.code, error.retryAfterSeconds], [503, 'QUEUE_FULL', 1]);
    assert.equal(sequencer.lastSeq, seqBefore);
    sequencer.full = false;
    const placed = await trading.place(alice, order({ clientOrderId: 'k1' }));
    assert.equal(placed.status, 'resting');
    const again = await trading.place(alice, order({ clientOrderId: 'k1' }));
    assert.deepEqual(again, placed);
    assert.equal(sequencer.lastSeq, seqBefore + 1);
  });

  it('reports partial fills, expiries and rejects from the order’s own events', async () => {
    await trading.place(bob, order({ side: 'sell', price: '100', qty: '0.4' }));
    const ioc = await trading.place(alice, order({ price: '100', qty: '1', tif: 'IOC' }));
    assert.deepEqual(
      [ioc.status, ioc.filledQty, ioc.expiredQty, ioc.expireReason, ioc.fills.length],
      ['expired', '0.400', '0.600', 'UNFILLED', 1],
    );
    assert.deepEqual(ioc.fills[0], {
      tradeId: ioc.fills[0].tradeId,
      price: '100',
      qty: '0.400',
      fee: '0.00000000',
      feeAsset: 'BTC',
    });
    await trading.place(bob, order({ side: 'sell', price: '101', qty: '0.2' }));
    const fok = await trading.place(alice, order({ price: '101', qty: '0.5', tif: 'FOK' }));
    assert.deepEqual([fok.status, fok.expireReason, fok.filledQty], ['expired', 'FOK', '0.000']);
    const partial = await trading.place(alice, order({ price: '101', qty: '0.5' }));
    assert.deepEqual(
      [partial.status, partial.filledQty, partial.restingQty],
      ['partiallyFilled', '0.200', '0.300'],
    );
    await trading.place(bob, order({ side: 'sell', price: '105', qty: '0.1' }));
    const crossing = await rejection(
      trading.place(alice, order({ price: '105', qty: '0.1', postOnly: true })),
    );
    assert.deepEqual([crossing.statusCode, crossing.code], [422, 'POST_ONLY_WOULD_CROSS']);
    const market = await trading.place(alice, order({ type: 'market', price: undefined, qty: '0.1' }));
    assert.deepEqual([market.status, market.filledQty], ['filled', '0.100']);
  });

  it('cancels and amends only the caller’s resting orders', async () => {
    const resting = await trading.place(alice, order({ price: '90', qty: '1' }));
    const notMine = await rejection(trading.cancel(bob, resting.orderId));
    assert.deepEqual([notMine.statusCode, notMine.code], [404, 'UNKNOWN_ORDER']);
    const bigger = await rejection(trading.amend(alice, resting.orderId, 'BTC-USD', '2'));
    assert.deepEqual([bigger.statusCode, bigger.code, bigger.field], [400, 'INVALID_QTY', 'qty']);
    assert.match(bigger.message, /amend only reduces/);
    assert.match(bigger.message, /cancel the order and place a new one/);
    const amended = await trading.amend(alice, resting.orderId, 'BTC-USD', '0.5');
    assert.equal(amended.remainingQty, '0.500');
    const cancelled = await trading.cancel(alice, resting.orderId);
    assert.equal(cancelled.cancelledQty, '0.500');
  });

  it('says what a refused order needs and what is available, in the asset’s decimals', async () => {
    // alice has 100000.00000 USD; a buy of 1500 BTC at 100 needs 150000.00000 USD.
    const buy = await rejection(trading.place(alice, order({ price: '100', qty: '1500' })));
    assert.deepEqual([buy.statusCode, buy.code, buy.field], [422, 'INSUFFICIENT_FUNDS', 'qty']);
    assert.deepEqual(buy.details, { asset: 'USD', required: '150000.00000', available: '100000.00000' });
    assert.match(buy.message, /needs 150000\.00000 USD and 100000\.00000 USD is available/);
    await trading.place(alice, order({ price: '90', qty: '1000' }));
    const less = await rejection(
      trading.place(alice, order({ price: '100', qty: '101', clientOrderId: 'c1' })),
    );
    assert.deepEqual(less.details, { asset: 'USD', required: '10100.00000', available: '10000.00000' });
    // bob sells more BTC than he has: the base asset, in its 8 decimals.
    const sell = await rejection(trading.place(bob, order({ side: 'sell', price: '100', qty: '1.5' })));
    assert.deepEqual(sell.details, { asset: 'BTC', required: '1.50000000', available: '1.00000000' });
    assert.deepEqual(sell.body().details, sell.details);
  });
});
