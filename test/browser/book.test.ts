// The UI's order book model (web/src/book.ts) and channel readers (web/src/channels.ts) against
// the real server side: a seeded random stream of engine commands goes through the Engine and
// MarketData into the channel hub; a client socket subscribes at a random moment, reads the
// wire messages exactly as the browser does, and after every command its ladder equals
// engine.depth(). A lost diff is detected as a gap, never applied.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Engine } from '../../src/core/engine.js';
import type { Command, EngineEvent } from '../../src/core/types.js';
import { SeededRandom } from '../../src/marketdata/feeds/simulated.js';
import { ChannelHub, MarketData } from '../../src/marketdata/index.js';
import { LocalBook } from '../../web/src/book.js';
import { readDepth } from '../../web/src/channels.js';
import { unitsFor } from '../../web/src/units.js';

const symbol = 'AAA-USD';
const users = [1, 2, 3];
const levelsAll = 1_000_000;
/** tick 0.01 USD on a lot of 1 AAA with 2 quote decimals: engine price = human price * 100. */
const info = {
  symbol,
  base: 'AAA',
  quote: 'USD',
  tickSize: '0.01',
  lotSize: '1',
  baseDecimals: 0,
  quoteDecimals: 2,
};

class WireClient {
  readonly messages: Array<Record<string, unknown>> = [];
  bufferedAmount = 0;
  send(data: string): void {
    this.messages.push(JSON.parse(data) as Record<string, unknown>);
  }
  close(): void {}
}

function randomCommand(random: SeededRandom, engine: Engine, id: number): Command {
  const user = users[random.below(users.length)];
  const roll = random.below(100);
  const open = engine.openOrders(user);
  if (roll < 20 && open.length > 0) return { op: 'cancel', user, id: open[random.below(open.length)].id };
  if (roll < 28 && open.length > 0) {
    const order = open[random.below(open.length)];
    if (order.remaining > 1)
      return { op: 'amend', user, id: order.id, qty: 1 + random.below(order.remaining - 1) };
  }
  const side = random.below(2) === 0 ? 'buy' : 'sell';
  const qty = 1 + random.below(9);
  if (roll < 35) return { op: 'place', user, id, symbol, side, type: 'market', qty, stp: 'none' };
  const price = 9_900 + random.below(21) * 10;
  return { op: 'place', user, id, symbol, side, type: 'limit', qty, price, tif: 'GTC', stp: 'none' };
}

/** engine.depth() in the UI's form: decimal strings, bids highest first, asks lowest first. */
function expectedLadder(engine: Engine) {
  const depth = engine.depth(symbol, levelsAll);
  assert.ok(depth);
  const units = unitsFor(info);
  const side = (levels: Array<[number, number]>) =>
    levels.map(([price, qty]) => ({ price: units.price(price), qty: units.qty(qty) }));
  return { bids: side(depth.bids), asks: side(depth.asks) };
}

function setup() {
  const engine = new Engine();
  const hub = new ChannelHub();
  const market = new MarketData({ publisher: hub });
  hub.addSource(market);
  let seq = 0;
  const apply = (command: Command) => {
    seq += 1;
    const events: EngineEvent[] = engine.apply(command).map((event) => ({ ...event }));
    market.onOutcome({ seq, ts: 1_700_000_000_000 + seq, command, events });
  };
  apply({
    op: 'symbol',
    symbol,
    base: 'AAA',
    quote: 'USD',
    lotSize: 1,
    tickSize: 1,
    makerFeeBps: 0,
    takerFeeBps: 0,
  });
  for (const user of users) {
    apply({ op: 'deposit', user, asset: 'AAA', amount: 1e9 });
    apply({ op: 'deposit', user, asset: 'USD', amount: 1e12 });
  }
  return { engine, hub, apply };
}

/** Feeds wire messages to the book as web/src/hooks.ts does; returns the first non-applied outcome. */
function feed(client: WireClient, book: LocalBook, skipDiffAt = -1): string {
  let outcome = 'applied';
  let diffs = 0;
  for (const message of client.messages.splice(0)) {
    if (message.op !== undefined || message.ch !== `depth.${symbol}`) continue;
    const depth = readDepth(message.data, unitsFor(info));
    if (depth.kind === 'snapshot') {
      book.applySnapshot(depth.lastUpdateId, depth.bids, depth.asks);
      continue;
    }
    diffs += 1;
    if (diffs === skipDiffAt) continue;
    const result = book.applyDiff(depth.diff);
    if (result !== 'applied' && outcome === 'applied') outcome = result;
  }
  return outcome;
}

describe('the UI order book against the server', () => {
  const seedBase = Number(process.env.HOGA_SEED ?? 20_261_124);

  it('equals engine.depth() after every command, from a snapshot plus U/u diffs', () => {
    for (let run = 0; run < 4; run += 1) {
      const seed = seedBase + run;
      const random = new SeededRandom(seed);
      const { engine, hub, apply } = setup();
      const client = new WireClient();
      const connection = hub.connect(client);
      assert.ok(connection);
      const commandCount = 600;
      const subscribeAt = random.below(commandCount / 2);
      let book: LocalBook | undefined;
      for (let index = 0; index < commandCount; index += 1) {
        if (index === subscribeAt) {
          book = new LocalBook();
          connection.handle({ op: 'subscribe', id: 1, ch: `depth.${symbol}` });
        }
        apply(randomCommand(random, engine, 1_000 + index));
        if (book === undefined) continue;
        assert.equal(feed(client, book), 'applied', `seed ${seed}, command ${index}`);
        assert.ok(book.synced);
        assert.deepEqual(book.top(levelsAll), expectedLadder(engine), `seed ${seed}, command ${index}`);
      }
    }
  });

  it('reports a gap when a diff is lost, instead of showing a wrong book', () => {
    const { hub, apply } = setup();
    const client = new WireClient();
    const connection = hub.connect(client);
    assert.ok(connection);
    const book = new LocalBook();
    connection.handle({ op: 'subscribe', id: 1, ch: `depth.${symbol}` });
    const rest = (id: number, price: number) =>
      apply({ op: 'place', user: 1, id, symbol, side: 'buy', type: 'limit', qty: 1, price, tif: 'GTC' });
    rest(1, 100);
    assert.equal(feed(client, book), 'applied');
    rest(2, 110);
    client.messages.splice(0); // this diff is lost on the way
    rest(3, 120);
    assert.equal(feed(client, book), 'gap');
    assert.deepEqual(
      book.top(10).bids.map((level) => level.price),
      ['1.00'],
      'the lost level is not invented and the later one is not applied',
    );
  });

  it('buffers diffs that arrive before the snapshot and drops those it already covers', () => {
    const book = new LocalBook();
    assert.equal(book.applyDiff({ U: 5, u: 6, bids: [['1.00', '3']], asks: [] }), 'ignored');
    assert.equal(book.applyDiff({ U: 7, u: 7, bids: [['1.00', '0']], asks: [['2.00', '4']] }), 'ignored');
    assert.equal(book.synced, false);
    assert.equal(book.applySnapshot(6, [['1.00', '3']], []), 'applied');
    assert.deepEqual(book.top(10), { bids: [], asks: [{ price: '2.00', qty: '4' }] });
    assert.equal(book.applyDiff({ U: 9, u: 9, bids: [], asks: [] }), 'gap');
  });
});
