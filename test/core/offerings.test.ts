// Offerings and coupons (docs/ENGINE.md "Offerings and coupons"): validation order, settlement,
// the oversell scenario, coupon fees checked by hand, snapshots, and a seeded random stream.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Engine } from '../../src/core/engine.js';
import type { EngineEvent, EngineLimits } from '../../src/core/types.js';
import { Random } from '../support/random.js';

const ISSUER = 100;
const START = 1_000;
const END = 2_000;

function run(engine: Engine, command: object): EngineEvent[] {
  const events = engine.apply(command).map((event) => ({ ...event }));
  engine.validateInternalState();
  return events;
}

function rejection(events: EngineEvent[]): string | undefined {
  const rejected = events.find((event) => event.ev === 'rejected');
  return rejected?.ev === 'rejected' ? rejected.reason : undefined;
}

/** An engine with a market IPO/USD, the issuer holding 1,000 IPO units of 10 minor units. */
function setup(limits?: Partial<EngineLimits>): Engine {
  const engine = new Engine(limits);
  run(engine, { op: 'deposit', user: ISSUER, asset: 'IPO', amount: 10_000 });
  run(engine, {
    op: 'symbol',
    symbol: 'IPO-USD',
    base: 'IPO',
    quote: 'USD',
    lotSize: 10,
    tickSize: 1,
    makerFeeBps: 20,
    takerFeeBps: 50,
  });
  return engine;
}

function offering(overrides: object = {}): object {
  return {
    op: 'offering',
    id: 1,
    issuer: ISSUER,
    asset: 'IPO',
    quote: 'USD',
    price: 500,
    unitSize: 10,
    units: 10,
    perUserMax: 4,
    startTs: START,
    endTs: END,
    coupon: { makerDiscountPct: 50, takerDiscountPct: 40, expiresTs: 5_000, uses: 2 },
    ...overrides,
  };
}

/** A limit order on IPO-USD (fields in `extra` win). */
function limit(
  user: number,
  id: number,
  side: 'buy' | 'sell',
  qty: number,
  price: number,
  extra: object = {},
): object {
  return { op: 'place', user, id, symbol: 'IPO-USD', side, type: 'limit', qty, price, ...extra };
}

function fund(engine: Engine, user: number, usd: number): void {
  run(engine, { op: 'deposit', user, asset: 'USD', amount: usd });
}

describe('offerings', () => {
  it('7 concurrent claims of 2 against 10 units: 5 succeed, 2 SOLD_OUT, 0 left, 5 coupons', () => {
    const engine = setup();
    run(engine, offering());
    const outcomes: string[] = [];
    let coupons = 0;
    for (let user = 1; user <= 7; user++) {
      fund(engine, user, 10_000);
      const events = run(engine, { op: 'claim', user, offering: 1, units: 2, ts: START + user });
      outcomes.push(rejection(events) ?? 'claimed');
      coupons += events.filter((event) => event.ev === 'couponIssued').length;
    }
    assert.deepEqual(outcomes, [
      'claimed',
      'claimed',
      'claimed',
      'claimed',
      'claimed',
      'SOLD_OUT',
      'SOLD_OUT',
    ]);
    assert.equal(engine.offering(1)?.left, 0);
    assert.equal(coupons, 5);
    assert.equal(engine.balance(ISSUER, 'USD').available, 5 * 2 * 500);
    assert.deepEqual(engine.balance(ISSUER, 'IPO'), { asset: 'IPO', available: 9_900, locked: 0 });
    assert.deepEqual(engine.balance(3, 'IPO'), { asset: 'IPO', available: 20, locked: 0 });
    assert.deepEqual(engine.balance(6, 'USD'), { asset: 'USD', available: 10_000, locked: 0 });
  });

  it('creation locks the units and checks its fields in order', () => {
    const engine = setup({ offeringsMax: 2 });
    assert.equal(rejection(run(engine, offering({ asset: 'NOPE' }))), 'INVALID_OFFERING');
    assert.equal(rejection(run(engine, offering({ startTs: END }))), 'INVALID_OFFERING');
    assert.equal(
      rejection(
        run(
          engine,
          offering({ coupon: { makerDiscountPct: 101, takerDiscountPct: 0, expiresTs: 1, uses: 1 } }),
        ),
      ),
      'INVALID_OFFERING',
    );
    assert.equal(rejection(run(engine, offering({ units: 2_000 }))), 'INSUFFICIENT_FUNDS');
    assert.equal(rejection(run(engine, offering({ price: Number.MAX_SAFE_INTEGER }))), 'LIMIT_EXCEEDED');
    assert.equal(rejection(run(engine, offering())), undefined);
    assert.deepEqual(engine.balance(ISSUER, 'IPO'), { asset: 'IPO', available: 9_900, locked: 100 });
    assert.equal(rejection(run(engine, offering())), 'DUPLICATE_OFFERING');
    assert.equal(rejection(run(engine, offering({ id: 2, coupon: null }))), undefined);
    assert.equal(rejection(run(engine, offering({ id: 3 }))), 'LIMIT_EXCEEDED');
  });

  it('claims are checked in the documented order and refused whole', () => {
    const engine = setup({ claimantsPerOfferingMax: 2 });
    run(engine, offering({ perUserMax: 6 }));
    fund(engine, 1, 2_000);
    fund(engine, 2, 100_000);
    fund(engine, 3, 100_000);
    fund(engine, 4, 100_000);
    const claim = (fields: object) =>
      rejection(run(engine, { op: 'claim', offering: 1, ts: START, ...fields }));
    assert.equal(claim({ offering: 9, user: 1, units: 1 }), 'UNKNOWN_OFFERING');
    assert.equal(claim({ user: 1, units: 0 }), 'INVALID_AMOUNT');
    assert.equal(claim({ user: -1, units: 1 }), 'INVALID_AMOUNT');
    assert.equal(claim({ user: 1, units: 1, ts: START - 1 }), 'OFFERING_NOT_OPEN');
    assert.equal(claim({ user: 1, units: 1, ts: END }), 'OFFERING_CLOSED');
    assert.equal(claim({ user: 1, units: 7 }), 'PER_USER_LIMIT');
    assert.equal(claim({ user: 1, units: 5 }), 'INSUFFICIENT_FUNDS');
    assert.equal(claim({ user: 1, units: 4 }), undefined);
    assert.equal(claim({ user: 1, units: 3 }), 'PER_USER_LIMIT');
    assert.equal(claim({ user: 2, units: 6 }), undefined);
    assert.equal(claim({ user: 3, units: 1 }), 'SOLD_OUT');
    const fresh = setup({ claimantsPerOfferingMax: 2 });
    run(fresh, offering());
    for (const user of [1, 2, 3]) fund(fresh, user, 10_000);
    assert.equal(
      rejection(run(fresh, { op: 'claim', user: 1, offering: 1, units: 1, ts: START })),
      undefined,
    );
    assert.equal(
      rejection(run(fresh, { op: 'claim', user: 2, offering: 1, units: 1, ts: START })),
      undefined,
    );
    assert.equal(
      rejection(run(fresh, { op: 'claim', user: 3, offering: 1, units: 1, ts: START })),
      'LIMIT_EXCEEDED',
    );
    assert.equal(
      rejection(run(fresh, { op: 'claim', user: 1, offering: 1, units: 1, ts: START })),
      undefined,
    );
  });

  it('a second claim by a winner issues no second coupon; closing returns the unsold units', () => {
    const engine = setup();
    run(engine, offering());
    fund(engine, 1, 10_000);
    const first = run(engine, { op: 'claim', user: 1, offering: 1, units: 1, ts: START });
    const second = run(engine, { op: 'claim', user: 1, offering: 1, units: 1, ts: START });
    assert.equal(first.filter((event) => event.ev === 'couponIssued').length, 1);
    assert.equal(second.filter((event) => event.ev === 'couponIssued').length, 0);
    assert.equal(engine.couponsOf(1).length, 1);
    assert.deepEqual(engine.claimsOf(1), [{ offering: 1, units: 2 }]);
    const closed = run(engine, { op: 'closeOffering', offering: 1, ts: START });
    assert.deepEqual(closed, [{ ev: 'offeringClosed', offering: 1, returnedUnits: 8 }]);
    assert.deepEqual(engine.balance(ISSUER, 'IPO'), { asset: 'IPO', available: 9_980, locked: 0 });
    assert.equal(rejection(run(engine, { op: 'closeOffering', offering: 1 })), 'OFFERING_CLOSED');
    assert.equal(
      rejection(run(engine, { op: 'claim', user: 1, offering: 1, units: 1, ts: START })),
      'OFFERING_CLOSED',
    );
    assert.deepEqual(engine.allocations(1), [{ user: 1, units: 2 }]);
  });

  it("a coupon's discount shows in later fees, by hand, until its uses or time run out", () => {
    const engine = setup();
    run(engine, offering());
    fund(engine, 1, 100_000);
    run(engine, { op: 'claim', user: 1, offering: 1, units: 4, ts: START });
    run(engine, { op: 'deposit', user: 1, asset: 'IPO', amount: 100 });
    fund(engine, 2, 100_000);
    // User 1 sells 2 lots (20 IPO) resting at 1,001 as maker; user 2 buys them as taker.
    run(engine, limit(1, 1, 'sell', 2, 1_001, { ts: 3_000 }));
    const trade1 = run(engine, limit(2, 2, 'buy', 2, 1_001, { ts: 3_000 })).find(
      (event) => event.ev === 'trade',
    );
    // Maker receives 2,002 USD: fee floor(2002 * 20 / 10000) = 4, minus floor(4 * 50 / 100) = 2 -> 2.
    // Taker (no coupon) receives 20 IPO: fee floor(20 * 50 / 10000) = 0.
    assert.equal(trade1?.ev === 'trade' && trade1.makerFee, 2);
    assert.equal(trade1?.ev === 'trade' && trade1.takerFee, 0);
    assert.equal(engine.couponsOf(1)[0].usesLeft, 1);
    // User 1 now takes as buyer of 1 lot from user 2 at 999: receives 10 IPO, fee floor(10*50/1e4)=0: no use spent.
    run(engine, limit(2, 3, 'sell', 1, 999, { ts: 3_000 }));
    run(engine, limit(1, 4, 'buy', 1, 999, { ts: 3_000 }));
    assert.equal(engine.couponsOf(1)[0].usesLeft, 1);
    // User 1 sells 2 lots as taker into user 2's bid at 1,500: receives 3,000 USD, fee floor(3000*50/1e4) = 15,
    // discount floor(15 * 40 / 100) = 6 -> 9.
    run(engine, limit(2, 5, 'buy', 2, 1_500, { ts: 3_000 }));
    const trade2 = run(engine, limit(1, 6, 'sell', 2, 1_500, { ts: 3_000, tif: 'IOC' })).find(
      (event) => event.ev === 'trade',
    );
    assert.equal(trade2?.ev === 'trade' && trade2.takerFee, 9);
    assert.equal(engine.couponsOf(1)[0].usesLeft, 0);
    // Uses spent: full fee again (15).
    run(engine, limit(2, 7, 'buy', 2, 1_500, { ts: 3_000 }));
    const trade3 = run(engine, limit(1, 8, 'sell', 2, 1_500, { ts: 3_000, tif: 'IOC' })).find(
      (event) => event.ev === 'trade',
    );
    assert.equal(trade3?.ev === 'trade' && trade3.takerFee, 15);
  });

  it('an expired coupon gives no discount, and a FOK dry run spends no use', () => {
    const engine = setup();
    run(engine, offering());
    fund(engine, 1, 100_000);
    fund(engine, 2, 100_000);
    run(engine, { op: 'claim', user: 1, offering: 1, units: 4, ts: START });
    run(engine, limit(2, 1, 'buy', 1, 1_500, { ts: 3_000 }));
    const expired = run(engine, limit(1, 2, 'sell', 2, 1_500, { ts: 3_000, tif: 'FOK' }));
    assert.equal(
      expired.some((event) => event.ev === 'expired' && event.reason === 'FOK'),
      true,
    );
    assert.equal(engine.couponsOf(1)[0].usesLeft, 2);
    const late = run(engine, limit(1, 3, 'sell', 1, 1_500, { ts: 5_000 })).find(
      (event) => event.ev === 'trade',
    );
    // 1,500 USD received, fee floor(1500*50/1e4) = 7, coupon expired at 5,000: full fee.
    assert.equal(late?.ev === 'trade' && late.takerFee, 7);
    assert.equal(engine.couponsOf(1)[0].usesLeft, 2);
  });

  it('snapshots carry offerings and coupons: same hash, same future', () => {
    const engine = setup();
    run(engine, offering());
    for (const user of [1, 2]) fund(engine, user, 100_000);
    run(engine, { op: 'claim', user: 1, offering: 1, units: 3, ts: START });
    const restored = Engine.fromState(JSON.parse(JSON.stringify(engine.exportState())));
    assert.equal(restored.stateHash(), engine.stateHash());
    const next = [
      { op: 'claim', user: 2, offering: 1, units: 4, ts: START },
      limit(2, 1, 'buy', 1, 1_500, { ts: 3_000 }),
      limit(1, 2, 'sell', 1, 1_500, { ts: 3_000 }),
      { op: 'closeOffering', offering: 1, ts: 3_000 },
    ];
    for (const command of next) assert.deepEqual(run(restored, command), run(engine, command));
    assert.equal(restored.stateHash(), engine.stateHash());
  });

  it('a seeded random stream of claims, closes and trades keeps every invariant and is deterministic', () => {
    const seed = Number(process.env.HOGA_SEED ?? 20261124);
    const commands = randomStream(seed, 20_000);
    const first = setup({ claimantsPerOfferingMax: 30 });
    const second = setup({ claimantsPerOfferingMax: 30 });
    const counts = new Map<string, number>();
    for (const [index, command] of commands.entries()) {
      const events = first.apply(command);
      for (const event of events) {
        const key = event.ev === 'rejected' ? event.reason : event.ev;
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
      second.apply(command);
      try {
        first.validateInternalState();
      } catch (error) {
        assert.fail(`seed ${seed}, command ${index} ${JSON.stringify(command)}: ${(error as Error).message}`);
      }
    }
    assert.equal(first.stateHash(), second.stateHash(), `seed ${seed}`);
    for (const expected of [
      'claimed',
      'couponIssued',
      'offeringClosed',
      'SOLD_OUT',
      'PER_USER_LIMIT',
      'trade',
    ]) {
      assert.ok(
        (counts.get(expected) ?? 0) > 0,
        `seed ${seed}: no ${expected} in ${JSON.stringify([...counts])}`,
      );
    }
    for (const view of first.offeringList()) {
      const allocated = (first.allocations(view.id) ?? []).reduce((sum, entry) => sum + entry.units, 0);
      assert.ok(allocated <= view.units, `seed ${seed}: offering ${view.id} oversold`);
      for (const entry of first.allocations(view.id) ?? []) assert.ok(entry.units <= view.perUserMax);
      assert.equal(first.couponsOf(0).length, 0);
    }
  });
});

function randomStream(seed: number, count: number): object[] {
  const random = new Random(seed);
  const commands: object[] = [];
  let ts = START;
  let orderId = 1;
  let offeringId = 1;
  for (let user = 1; user <= 40; user++)
    commands.push({ op: 'deposit', user, asset: 'USD', amount: 200_000 });
  for (let index = 0; index < count; index++) {
    ts += random.int(0, 3);
    const user = random.int(1, 40);
    const roll = random.int(0, 99);
    if (roll < 3) {
      const startTs = ts + random.int(-5, 20);
      commands.push(
        offering({
          id: offeringId++,
          units: random.int(1, 40),
          perUserMax: random.int(1, 6),
          startTs,
          endTs: startTs + random.int(1, 200),
          price: random.int(1, 900),
          coupon: random.chance(0.7)
            ? {
                makerDiscountPct: random.int(0, 100),
                takerDiscountPct: random.int(0, 100),
                expiresTs: ts + random.int(0, 3_000),
                uses: random.int(1, 5),
              }
            : null,
          ts,
        }),
      );
    } else if (roll < 45) {
      commands.push({
        op: 'claim',
        user,
        offering: random.int(1, Math.max(1, offeringId)),
        units: random.int(1, 5),
        ts,
      });
    } else if (roll < 47) {
      commands.push({ op: 'closeOffering', offering: random.int(1, Math.max(1, offeringId)), ts });
    } else {
      const side = random.chance(0.5) ? 'buy' : 'sell';
      commands.push({
        op: 'place',
        user,
        id: orderId++,
        symbol: 'IPO-USD',
        side,
        type: 'limit',
        qty: random.int(1, 3),
        price: random.int(900, 1_100),
        tif: random.chance(0.5) ? 'GTC' : random.chance(0.5) ? 'IOC' : 'FOK',
        stp: 'none',
        ts,
      });
    }
  }
  return commands;
}
