// Snapshots, hashing, invariant checks, queries and the scalable id collections of src/core.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { IdIndex, NumberMap, OrderIdSet } from '../../src/core/collections.js';
import { Engine } from '../../src/core/engine.js';
import { Fnv64 } from '../../src/core/hash.js';
import { basisPointsOf, floorDivide } from '../../src/core/numbers.js';
import { eventToJson, eventToLine } from '../../src/core/replay.js';

type Fields = Record<string, unknown>;

function build(): Engine {
  const engine = new Engine();
  const commands: Fields[] = [
    {
      op: 'symbol',
      symbol: 'S',
      base: 'B',
      quote: 'Q',
      lotSize: 10,
      tickSize: 5,
      makerFeeBps: 3,
      takerFeeBps: 7,
    },
    {
      op: 'symbol',
      symbol: 'T',
      base: 'C',
      quote: 'Q',
      lotSize: 1,
      tickSize: 1,
      makerFeeBps: 0,
      takerFeeBps: 0,
    },
    { op: 'deposit', user: 1, asset: 'Q', amount: 1_000_000 },
    { op: 'deposit', user: 2, asset: 'B', amount: 10_000 },
    { op: 'deposit', user: 3, asset: 'Q', amount: 50 },
    { op: 'withdraw', user: 3, asset: 'Q', amount: 50 },
  ];
  let id = 10;
  for (const price of [100, 105, 110]) {
    commands.push({ op: 'place', user: 1, id: id++, symbol: 'S', side: 'buy', type: 'limit', qty: 4, price });
    commands.push({
      op: 'place',
      user: 2,
      id: id++,
      symbol: 'S',
      side: 'sell',
      type: 'limit',
      qty: 3,
      price: price + 20,
    });
  }
  commands.push({
    op: 'place',
    user: 2,
    id: 5_000_000_000,
    symbol: 'S',
    side: 'sell',
    type: 'limit',
    qty: 5,
    price: 100,
  });
  commands.push({ op: 'amend', user: 1, id: 10, qty: 1 });
  for (const command of commands) {
    const events = engine.apply(command);
    assert.notEqual(events[0]?.ev, 'rejected', JSON.stringify(command));
  }
  engine.validateInternalState();
  return engine;
}

const probe: Fields[] = [
  { op: 'place', user: 1, id: 99, symbol: 'S', side: 'buy', type: 'limit', qty: 9, price: 130 },
  { op: 'place', user: 2, id: 100, symbol: 'S', side: 'sell', type: 'market', qty: 2 },
  { op: 'cancel', user: 1, id: 10 },
];

function runProbe(engine: Engine): string[] {
  return probe.flatMap((command) => engine.apply(command).map((event) => JSON.stringify(event)));
}

describe('snapshots and hashing', () => {
  it('exportState → JSON → fromState keeps the hash and the future behaviour', () => {
    const original = build();
    const restored = Engine.fromState(JSON.parse(JSON.stringify(original.exportState())));
    assert.equal(restored.stateHash(), original.stateHash());
    assert.deepEqual(restored.depth('S', 10), original.depth('S', 10));
    assert.deepEqual(runProbe(restored), runProbe(original));
    assert.equal(restored.stateHash(), original.stateHash());
    assert.equal(
      original.apply({
        op: 'place',
        user: 2,
        id: 5_000_000_000,
        symbol: 'S',
        side: 'sell',
        type: 'market',
        qty: 1,
      })[0].ev,
      'rejected',
    );
  });

  it('the hash changes with any part of the state and ignores history that left no trace', () => {
    const base = build().stateHash();
    assert.equal(build().stateHash(), base, 'deterministic');
    const variants: Fields[] = [
      { op: 'deposit', user: 4, asset: 'Q', amount: 1 },
      { op: 'amend', user: 1, id: 12, qty: 2 },
      { op: 'place', user: 1, id: 77, symbol: 'S', side: 'buy', type: 'limit', qty: 1, price: 5, tif: 'IOC' },
      {
        op: 'symbol',
        symbol: 'U',
        base: 'B',
        quote: 'C',
        lotSize: 1,
        tickSize: 1,
        makerFeeBps: 0,
        takerFeeBps: 0,
      },
    ];
    const hashes = new Set<string>([base]);
    for (const command of variants) {
      const engine = build();
      engine.apply(command);
      hashes.add(engine.stateHash());
    }
    assert.equal(hashes.size, variants.length + 1);
    const rejectedOnly = build();
    rejectedOnly.apply({ op: 'withdraw', user: 1, asset: 'Q', amount: 10 ** 12 });
    assert.equal(rejectedOnly.stateHash(), base, 'a rejection changes nothing');
  });

  it('fromState refuses malformed input and broken invariants, naming them', () => {
    assert.throws(() => Engine.fromState(null), /state must be an object/);
    assert.throws(() => Engine.fromState({ format: 'other' }), /format/);
    const state = build().exportState() as { accounts: [number, boolean, [string, number, number][]][] };
    const tampered = structuredClone(state);
    const user1 = tampered.accounts.find(([user]) => user === 1)!;
    const quote = user1[2].find(([asset]) => asset === 'Q')!;
    quote[2] += 1;
    quote[1] -= 1;
    assert.throws(() => Engine.fromState(tampered), /account 1 Q: locked \d+ but open orders reserve \d+/);
    const inflated = structuredClone(state);
    inflated.accounts.find(([user]) => user === 2)![2][0][1] += 1;
    assert.throws(() => Engine.fromState(inflated), /conservation of B/);
  });

  it('validateInternalState names a broken book order, FIFO, level total or negative balance', () => {
    // Reaches into the engine on purpose: these corruptions cannot be made through commands.
    interface Level {
      price: number;
      totalQty: number;
      head: { sequence: number; next: { sequence: number } | null };
      forward: Level[];
    }
    interface Internals {
      books: Map<string, { bids: { best(): Level } }>;
      accounts: { get(user: number): { balances: number[] } };
    }
    const corrupt = (change: (internals: Internals) => void, message: RegExp) => {
      const engine = build();
      engine.apply({
        op: 'place',
        user: 1,
        id: 500,
        symbol: 'S',
        side: 'buy',
        type: 'limit',
        qty: 1,
        price: 105,
      });
      engine.validateInternalState();
      change(engine as unknown as Internals);
      assert.throws(() => engine.validateInternalState(), message);
    };
    corrupt((internals) => {
      internals.books.get('S')!.bids.best().totalQty += 1;
    }, /level 105 total 5 but orders sum to 4/);
    corrupt((internals) => {
      const best = internals.books.get('S')!.bids.best();
      best.forward[0].price = 110;
    }, /bids: level 110 out of order after 105/);
    corrupt((internals) => {
      const head = internals.books.get('S')!.bids.best().head;
      head.sequence = head.next!.sequence + 1;
    }, /breaks FIFO/);
    corrupt((internals) => {
      internals.accounts.get(2).balances[0] = -1;
    }, /account 2 \w+: available -1 is negative/);
  });

  it('validateInternalState passes on a fresh engine and after restore', () => {
    new Engine().validateInternalState();
    Engine.fromState(new Engine().exportState()).validateInternalState();
    assert.equal(new Engine().stateHash(), Engine.fromState(new Engine().exportState()).stateHash());
  });
});

describe('queries', () => {
  it('depth, order, openOrders, balances and symbols', () => {
    const engine = build();
    // The sell of 5 at 100 took 4 lots at 110 and 1 at 105; the bid at 100 was amended to 1.
    assert.deepEqual(engine.depth('S', 2), {
      symbol: 'S',
      bids: [
        [105, 3],
        [100, 1],
      ],
      asks: [
        [120, 3],
        [125, 3],
      ],
    });
    assert.equal(engine.depth('missing', 5), undefined);
    assert.deepEqual(engine.order(10), {
      id: 10,
      user: 1,
      symbol: 'S',
      side: 'buy',
      price: 100,
      qty: 4,
      remaining: 1,
    });
    assert.equal(engine.order(14), undefined, 'filled orders are gone');
    assert.deepEqual(
      engine.openOrders(1).map((order) => order.id),
      [10, 12],
    );
    assert.deepEqual(engine.openOrders(99), []);
    assert.deepEqual(engine.balances(3), [], 'a user whose balances are all zero lists nothing');
    assert.deepEqual(engine.balance(7, 'Q'), { asset: 'Q', available: 0, locked: 0 });
    assert.deepEqual(
      engine.symbols().map((symbol) => symbol.symbol),
      ['S', 'T'],
    );
  });

  it('events are reused: a consumer must copy them before the next apply', () => {
    const engine = build();
    const first = engine.apply({ op: 'deposit', user: 1, asset: 'Q', amount: 1 });
    const kept = first[0];
    const second = engine.apply({ op: 'deposit', user: 2, asset: 'Q', amount: 2 });
    assert.equal(second, first, 'the same array');
    assert.equal(kept.ev === 'deposited' && kept.user, 2, 'the same object, overwritten');
  });
});

describe('replay lines', () => {
  it('eventToJson writes exactly JSON.stringify(eventToLine) for every kind of event', () => {
    const engine = build();
    const commands: unknown[] = [
      { op: 'amend', user: 1, id: 12, qty: 2 },
      ...probe,
      { op: 'place', user: 1, id: 'a "quoted" \\ id', symbol: 'S' },
      { op: 'place', user: 1, id: { nested: [1] }, symbol: 'S' },
      {
        op: 'place',
        user: 1,
        id: 300,
        symbol: 'S',
        side: 'buy',
        type: 'limit',
        qty: 1,
        price: 5,
        tif: 'FOK',
      },
      { op: 'place', user: 1, id: 301, symbol: 'S', side: 'buy', type: 'limit', qty: 1, price: 5 },
      'not a command',
    ];
    const kinds = new Set<string>();
    commands.forEach((command, index) => {
      for (const event of engine.apply(command)) {
        const line = eventToLine(event, index);
        assert.equal(eventToJson(event, index), line === null ? null : JSON.stringify(line));
        kinds.add(event.ev);
      }
    });
    for (const kind of ['trade', 'rejected', 'expired', 'cancelled', 'amended', 'accepted', 'rested']) {
      assert.ok(kinds.has(kind), kind);
    }
  });
});

describe('integer collections and arithmetic', () => {
  it('OrderIdSet handles dense, sparse and huge ids and lists them as ranges', () => {
    const ids = new OrderIdSet();
    const huge = Number.MAX_SAFE_INTEGER;
    for (const id of [0, 1, 2, 3, 255, 256, 2 ** 24 + 5, 2 ** 40, huge, 3]) ids.add(id);
    assert.equal(ids.size, 9);
    for (const id of [0, 3, 255, 256, 2 ** 24 + 5, 2 ** 40, huge]) assert.ok(ids.has(id), String(id));
    for (const id of [4, 254, 257, 2 ** 24 + 4, huge - 1]) assert.ok(!ids.has(id), String(id));
    assert.deepEqual(ids.ranges(), [0, 3, 255, 256, 2 ** 24 + 5, 2 ** 24 + 5, 2 ** 40, 2 ** 40, huge, huge]);
  });

  it('NumberMap counts, replaces, grows and sorts keys across shards', () => {
    const map = new NumberMap<string>();
    const keys = [5, 69, 133, 2 ** 35, 0, Number.MAX_SAFE_INTEGER];
    for (let key = 1_000; key < 21_000; key++) keys.push(key * 7);
    for (const key of keys) map.set(key, `v${key}`);
    map.set(69, 'again');
    assert.equal(map.size, keys.length);
    assert.equal(map.get(69), 'again');
    assert.equal(map.get(7 * 20_999), `v${7 * 20_999}`);
    assert.equal(map.get(6), undefined);
    assert.deepEqual(
      map.sortedKeys(),
      [...keys].sort((a, b) => a - b),
    );
  });

  it('IdIndex agrees with a Map under seeded random churn', () => {
    const seed = 20_261_124;
    let state = seed;
    const next = (bound: number) => {
      state = (Math.imul(state, 1_103_515_245) + 12_345) >>> 0;
      return state % bound;
    };
    const index = new IdIndex<{ id: number }>();
    const reference = new Map<number, { id: number }>();
    for (let step = 0; step < 60_000; step++) {
      const id = next(5_000) * (next(4) === 0 ? 2 ** 33 : 1);
      const present = reference.get(id);
      if (present === undefined) {
        const item = { id };
        index.add(item);
        reference.set(id, item);
      } else if (next(2) === 0) {
        assert.ok(index.remove(present), `seed ${seed} step ${step}`);
        reference.delete(id);
      }
      assert.equal(index.get(id), reference.get(id), `seed ${seed} step ${step}`);
    }
    assert.equal(index.size, reference.size);
    for (const [id, item] of reference) assert.equal(index.get(id), item, `seed ${seed}`);
    let visited = 0;
    index.forEach(() => {
      visited++;
    });
    assert.equal(visited, reference.size);
    assert.ok(!index.remove({ id: 1 }), 'an item that was never added');
  });

  it('floorDivide and basisPointsOf stay exact near MAX_SAFE_INTEGER', () => {
    const max = Number.MAX_SAFE_INTEGER;
    assert.equal(floorDivide(max, 3), Number((BigInt(max) / 3n).toString()));
    assert.equal(floorDivide(max - 1, max), 0);
    assert.equal(floorDivide(7, 7), 1);
    for (const [amount, bps] of [
      [max, 10_000],
      [max, 9_999],
      [max - 12_345, 1],
      [3_690, 10],
      [9_999, 1],
    ]) {
      const exact = Number((BigInt(amount) * BigInt(bps)) / 10_000n);
      assert.equal(basisPointsOf(amount, bps), exact, `${amount} * ${bps}`);
    }
  });

  it('Fnv64 matches the published FNV-1a 64 test vectors', () => {
    const digest = (bytes: number[]) => {
      const hash = new Fnv64();
      for (const byte of bytes) hash.byte(byte);
      return hash.hex();
    };
    assert.equal(digest([]), 'cbf29ce484222325');
    assert.equal(digest([0x61]), 'af63dc4c8601ec8c');
    assert.equal(digest([...'foobar'].map((char) => char.charCodeAt(0))), '85944171f73967e8');
  });
});
