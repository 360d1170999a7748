// fast-check properties over arbitrary command arrays (well-formed, half-formed and garbage,
// offerings, claims and fee coupons included):
// per asset, available + locked summed over every user equals accepted deposits minus accepted
// withdrawals after every command; no balance is ever negative; a rejected command changes
// nothing (stateHash before equals after); the engine's invariants hold and a snapshot restores
// to the same stateHash. HOGA_SEED=<n> reruns fast-check with that seed.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { Engine } from '../../src/core/engine.js';
import { defaultEngineLimits, type EngineLimits } from '../../src/core/types.js';
import { tinyLimits } from '../model/generator.js';

const users = [0, 1, 2, 3];
const assets = ['AAA', 'USD', 'BBB'];
const symbolNames = ['AAA/USD', 'BBB/USD', 'AAA/BBB', 'ZZZ'];
const commandsMax = 60;
const runsCount = 150;

const prefix: unknown[] = [
  {
    op: 'symbol',
    symbol: 'AAA/USD',
    base: 'AAA',
    quote: 'USD',
    lotSize: 1,
    tickSize: 5,
    makerFeeBps: 10,
    takerFeeBps: 20,
  },
  {
    op: 'symbol',
    symbol: 'BBB/USD',
    base: 'BBB',
    quote: 'USD',
    lotSize: 2,
    tickSize: 5,
    makerFeeBps: 0,
    takerFeeBps: 10_000,
  },
  ...users.flatMap((user) => assets.map((asset) => ({ op: 'deposit', user, asset, amount: 2000 }))),
];

const garbage = fc.oneof(
  fc.constant(undefined),
  fc.constant(null),
  fc.integer({ min: -3, max: 3 }),
  fc.string({ maxLength: 3 }),
  fc.double(),
  fc.boolean(),
);

/** Mostly a good value, sometimes garbage: enough validity that orders trade. */
function mostly<T>(arbitrary: fc.Arbitrary<T>): fc.Arbitrary<unknown> {
  return fc.oneof({ weight: 40, arbitrary }, { weight: 1, arbitrary: garbage });
}

const user = mostly(fc.constantFrom(...users));
const orderId = mostly(fc.integer({ min: 0, max: 25 }));
const amount = mostly(
  fc.oneof(
    fc.integer({ min: 1, max: 3000 }),
    fc.constant(Number.MAX_SAFE_INTEGER),
    fc.integer({ min: -2, max: 0 }),
  ),
);

/** Sequencer time: offerings open and close and coupons expire within this range. */
const commandTs = fc.integer({ min: 0, max: 60 });
const offeringId = mostly(fc.integer({ min: 0, max: 2 }));

/** Offerings (docs/ENGINE.md issue 7): no model here, only the model-free properties. */
const offering = fc.record(
  {
    op: fc.constant('offering'),
    id: offeringId,
    issuer: user,
    asset: mostly(fc.constantFrom(...assets)),
    quote: mostly(fc.constantFrom(...assets)),
    price: mostly(fc.integer({ min: 1, max: 50 })),
    unitSize: mostly(fc.integer({ min: 1, max: 5 })),
    units: mostly(fc.integer({ min: 1, max: 20 })),
    perUserMax: mostly(fc.integer({ min: 1, max: 5 })),
    startTs: mostly(fc.integer({ min: 0, max: 10 })),
    endTs: mostly(fc.integer({ min: 20, max: 60 })),
    coupon: mostly(
      fc.record({
        makerDiscountPct: mostly(fc.integer({ min: 0, max: 100 })),
        takerDiscountPct: mostly(fc.integer({ min: 0, max: 100 })),
        expiresTs: mostly(fc.integer({ min: 0, max: 60 })),
        uses: mostly(fc.integer({ min: 1, max: 4 })),
      }),
    ),
    ts: commandTs,
  },
  {
    requiredKeys: [
      'op',
      'id',
      'issuer',
      'asset',
      'quote',
      'price',
      'unitSize',
      'units',
      'perUserMax',
      'startTs',
      'endTs',
    ],
  },
);
const claim = fc.record({
  op: fc.constant('claim'),
  user,
  offering: offeringId,
  units: mostly(fc.integer({ min: 1, max: 3 })),
  ts: commandTs,
});
const closeOffering = fc.record({ op: fc.constant('closeOffering'), offering: offeringId, ts: commandTs });

const orderFields = {
  op: fc.constant('place'),
  user,
  id: orderId,
  symbol: mostly(fc.constantFrom('AAA/USD', 'AAA/USD', 'BBB/USD', 'BBB/USD', ...symbolNames)),
  side: mostly(fc.constantFrom('buy', 'sell')),
  qty: mostly(fc.integer({ min: 1, max: 30 })),
  stp: mostly(fc.constantFrom('none', 'expireMaker', 'expireTaker', 'expireBoth')),
  ts: commandTs,
};
const price = mostly(fc.integer({ min: 8, max: 12 }).map((ticks) => ticks * 5));
const limitOrder = fc.record(
  {
    ...orderFields,
    type: fc.constant('limit'),
    price,
    tif: mostly(fc.constantFrom('GTC', 'IOC', 'FOK')),
    postOnly: mostly(fc.boolean()),
  },
  { requiredKeys: ['op', 'user', 'id', 'symbol', 'side', 'type', 'qty', 'price'] },
);
const marketOrder = fc.record(
  { ...orderFields, type: fc.constant('market'), tif: mostly(fc.constantFrom('IOC', 'FOK')) },
  { requiredKeys: ['op', 'user', 'id', 'symbol', 'side', 'type', 'qty'] },
);
/** Any field may be missing or odd: reaches every validation step. */
const wildOrder = fc.record({
  ...orderFields,
  type: mostly(fc.constantFrom('limit', 'market')),
  price,
  tif: mostly(fc.constantFrom('GTC', 'IOC', 'FOK')),
  postOnly: mostly(fc.boolean()),
});
/** Stop, iceberg and OCO orders (issue 17): pending orders, triggers, cascades and refills. */
const stopFields = {
  stopPrice: mostly(fc.integer({ min: 7, max: 13 }).map((ticks) => ticks * 5)),
  trigger: mostly(fc.constantFrom('stopLoss', 'takeProfit')),
};
const stopOrder = fc.oneof(
  limitOrder.chain((order) =>
    fc.record(stopFields).map((stop) => ({ ...order, ...stop, postOnly: undefined })),
  ),
  marketOrder.chain((order) => fc.record(stopFields).map((stop) => ({ ...order, ...stop }))),
);
const icebergOrder = limitOrder.chain((order) =>
  mostly(fc.integer({ min: 1, max: 8 })).map((displayQty) => ({ ...order, tif: 'GTC', displayQty })),
);
const ocoOrder = fc.record(
  {
    op: fc.constant('oco'),
    user,
    id: orderId,
    stopId: orderId,
    symbol: orderFields.symbol,
    side: orderFields.side,
    qty: orderFields.qty,
    price,
    stopPrice: stopFields.stopPrice,
    stopLimitPrice: price,
    stp: orderFields.stp,
    ts: commandTs,
  },
  { requiredKeys: ['op', 'user', 'id', 'stopId', 'symbol', 'side', 'qty', 'price', 'stopPrice'] },
);
const place = fc.oneof(
  { weight: 6, arbitrary: limitOrder },
  { weight: 2, arbitrary: marketOrder },
  { weight: 1, arbitrary: wildOrder },
  { weight: 3, arbitrary: stopOrder },
  { weight: 2, arbitrary: icebergOrder },
  { weight: 2, arbitrary: ocoOrder },
);

const command: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 10, arbitrary: place },
  { weight: 1, arbitrary: offering },
  { weight: 4, arbitrary: claim },
  { weight: 1, arbitrary: closeOffering },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('cancel'), user, id: orderId }) },
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant('amend'),
      user,
      id: orderId,
      qty: mostly(fc.integer({ min: 0, max: 8 })),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constantFrom('deposit', 'withdraw'),
      user,
      asset: mostly(fc.constantFrom(...assets)),
      amount,
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('symbol'),
      symbol: mostly(fc.constantFrom(...symbolNames)),
      base: mostly(fc.constantFrom(...assets)),
      quote: mostly(fc.constantFrom(...assets)),
      lotSize: mostly(fc.integer({ min: 1, max: 3 })),
      tickSize: mostly(fc.integer({ min: 1, max: 5 })),
      makerFeeBps: mostly(fc.integer({ min: 0, max: 10_000 })),
      takerFeeBps: mostly(fc.integer({ min: 0, max: 10_000 })),
    }),
  },
  { weight: 1, arbitrary: fc.anything() },
);

/** Throws unless every balance is non-negative and each asset sums to its net deposits. */
function checkBalances(engine: Engine, supply: Map<string, bigint>, index: number): void {
  const totals = new Map<string, bigint>();
  for (const owner of users) {
    for (const balance of engine.balances(owner)) {
      assert.ok(
        balance.available >= 0 && balance.locked >= 0,
        `#${index}: negative balance ${JSON.stringify(balance)}`,
      );
      totals.set(
        balance.asset,
        (totals.get(balance.asset) ?? 0n) + BigInt(balance.available) + BigInt(balance.locked),
      );
    }
  }
  for (const asset of new Set([...supply.keys(), ...totals.keys()])) {
    assert.equal(totals.get(asset) ?? 0n, supply.get(asset) ?? 0n, `#${index}: conservation of ${asset}`);
  }
}

/** Events seen across all runs, so the test proves the arbitraries reach trades and rejections. */
const seen = new Map<string, number>();

/** Runs the commands; throws on the first broken property. */
function runProperties(commands: readonly unknown[], limits: EngineLimits): void {
  const engine = new Engine(limits);
  const supply = new Map<string, bigint>();
  commands.forEach((next, index) => {
    const hashBefore = engine.stateHash();
    const events = engine.apply(next);
    for (const event of events) seen.set(event.ev, (seen.get(event.ev) ?? 0) + 1);
    const rejected = events.some((event) => event.ev === 'rejected');
    if (rejected) {
      assert.equal(events.length, 1, `#${index}: a rejection comes alone`);
      assert.equal(
        engine.stateHash(),
        hashBefore,
        `#${index}: rejected ${JSON.stringify(next)} changed state`,
      );
    } else {
      const fields = next as { op?: unknown; asset?: string; amount?: number };
      const sign = fields.op === 'deposit' ? 1n : fields.op === 'withdraw' ? -1n : 0n;
      if (sign !== 0n) {
        const asset = fields.asset as string;
        supply.set(asset, (supply.get(asset) ?? 0n) + sign * BigInt(fields.amount as number));
      }
    }
    checkBalances(engine, supply, index);
    engine.validateInternalState();
  });
  // A snapshot of whatever state the commands left restores to the same hash.
  const restored = Engine.fromState(JSON.parse(JSON.stringify(engine.exportState())), limits);
  assert.equal(restored.stateHash(), engine.stateHash(), 'snapshot round trip');
}

function parameters(): fc.Parameters<[unknown[]]> {
  const seed = process.env.HOGA_SEED;
  return seed === undefined ? { numRuns: runsCount } : { numRuns: runsCount, seed: Number(seed) };
}

describe('conservation properties (fast-check)', () => {
  for (const [name, limits] of [
    ['default limits', defaultEngineLimits],
    ['tiny limits', tinyLimits],
  ] as const) {
    it(`conserves every asset, keeps balances non-negative and rejects without effect (${name})`, () => {
      fc.assert(
        fc.property(fc.array(command, { minLength: commandsMax / 2, maxLength: commandsMax }), (commands) => {
          runProperties([...prefix, ...commands], limits);
        }),
        parameters(),
      );
    });
  }

  it('exercised trades, rests, expiries, cancels, amends and rejections', (context) => {
    context.diagnostic([...seen.entries()].map(([kind, count]) => `${kind}=${count}`).join(' '));
    const kinds = ['trade', 'rested', 'expired', 'cancelled', 'amended', 'rejected', 'withdrawn'];
    const stopKinds = ['triggered', 'refilled'];
    for (const kind of [
      ...kinds,
      ...stopKinds,
      'offeringCreated',
      'claimed',
      'couponIssued',
      'offeringClosed',
    ]) {
      assert.ok((seen.get(kind) ?? 0) > 0, `no ${kind} event in any run`);
    }
  });
});
