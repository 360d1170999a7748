// Depth from engine events: a client keeps a local book from one snapshot plus U/u diffs (the
// Binance procedure) under a seeded random stream of real engine commands, and after every
// command its book equals engine.depth().
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Engine } from '../../src/core/engine.js';
import type { Command, EngineEvent } from '../../src/core/types.js';
import { SeededRandom } from '../../src/marketdata/feeds/simulated.js';
import {
  ChannelHub,
  type ChannelPublisher,
  type DepthDiff,
  type DepthSnapshot,
  LocalDepthBook,
  MarketData,
} from '../../src/marketdata/index.js';
import type { CommandOutcome } from '../../src/ports.js';
import { RecordingClient } from './support.js';

const levelsAll = 1_000_000;
const symbols = ['AAA-USD', 'BBB-USD'];
const users = [1, 2, 3, 4];

/** Taps depth diffs on their way to the hub, as a client that buffers before its snapshot. */
class DiffTap implements ChannelPublisher {
  readonly diffs: DepthDiff[] = [];
  constructor(private readonly next: ChannelPublisher) {}
  publish(channel: string, data: unknown): void {
    if (channel === 'depth.AAA-USD') this.diffs.push(data as DepthDiff);
    this.next.publish(channel, data);
  }
  isWatched(channel: string): boolean {
    return channel === 'depth.AAA-USD' || this.next.isWatched(channel);
  }
}

function setupCommands(): Command[] {
  const commands: Command[] = symbols.map((symbol) => ({
    op: 'symbol',
    symbol,
    base: symbol.slice(0, 3),
    quote: 'USD',
    lotSize: 1,
    tickSize: 1,
    makerFeeBps: 1,
    takerFeeBps: 2,
  }));
  for (const user of users) {
    for (const asset of ['AAA', 'BBB', 'USD']) commands.push({ op: 'deposit', user, asset, amount: 1e12 });
  }
  return commands;
}

function randomCommand(random: SeededRandom, engine: Engine, nextId: () => number): Command {
  const user = users[random.below(users.length)];
  const roll = random.below(100);
  const open = engine.openOrders(user);
  if (roll < 15 && open.length > 0) return { op: 'cancel', user, id: open[random.below(open.length)].id };
  if (roll < 25 && open.length > 0) {
    const order = open[random.below(open.length)];
    if (order.remaining > 1)
      return { op: 'amend', user, id: order.id, qty: 1 + random.below(order.remaining - 1) };
  }
  const symbol = symbols[random.below(symbols.length)];
  const side = random.below(2) === 0 ? 'buy' : 'sell';
  const stp = (['none', 'expireMaker', 'expireTaker', 'expireBoth'] as const)[random.below(4)];
  const qty = 1 + random.below(20);
  if (roll < 32) return { op: 'place', user, id: nextId(), symbol, side, type: 'market', qty, stp };
  const price = 990 + random.below(21);
  const tif = (['GTC', 'GTC', 'GTC', 'IOC', 'FOK'] as const)[random.below(5)];
  return { op: 'place', user, id: nextId(), symbol, side, type: 'limit', qty, price, tif, stp };
}

function copyEvents(events: readonly EngineEvent[]): EngineEvent[] {
  return events.map((event) => ({ ...event }));
}

function runScenario(seed: number, commandCount: number): void {
  const random = new SeededRandom(seed);
  const engine = new Engine();
  const hub = new ChannelHub();
  const tap = new DiffTap(hub);
  const market = new MarketData({ publisher: tap });
  hub.addSource(market);
  let seq = 0;
  let orderId = 1;
  const apply = (command: Command): void => {
    seq += 1;
    const outcome: CommandOutcome = { seq, ts: 1_700_000_000_000 + seq, command, events: [] };
    outcome.events = copyEvents(engine.apply(command));
    market.onOutcome(outcome);
  };
  for (const command of setupCommands()) apply(command);

  const local = new LocalDepthBook();
  const snapshotAt = random.below(commandCount / 2);
  const wsSubscribeAt = random.below(commandCount);
  const wsClient = new RecordingClient();
  const wsConnection = hub.connect(wsClient);
  assert.ok(wsConnection);
  let wsLocal: LocalDepthBook | undefined;
  let pendingSnapshot: DepthSnapshot | undefined;
  let delivered = 0;
  for (let index = 0; index < commandCount; index += 1) {
    apply(randomCommand(random, engine, () => orderId++));
    // The REST snapshot is taken now but arrives after a few more diffs, as it would over HTTP.
    if (index === snapshotAt) pendingSnapshot = market.depth('AAA-USD', levelsAll);
    for (; delivered < tap.diffs.length; delivered += 1) local.onDiff(tap.diffs[delivered]);
    if (pendingSnapshot !== undefined && index >= snapshotAt + 3) {
      local.onSnapshot(pendingSnapshot);
      pendingSnapshot = undefined;
    }
    if (index === wsSubscribeAt) {
      wsLocal = new LocalDepthBook();
      wsConnection.handle({ op: 'subscribe', id: 1, ch: 'depth.AAA-USD' });
    }
    if (wsLocal !== undefined) feedFromWire(wsClient, wsLocal);
    const expected = engine.depth('AAA-USD', levelsAll);
    assert.ok(expected);
    if (local.status === 'synced') {
      assert.deepEqual(
        local.view(levelsAll),
        { bids: expected.bids, asks: expected.asks },
        `command ${index}`,
      );
    }
    if (wsLocal !== undefined) {
      assert.equal(wsLocal.status, 'synced');
      assert.deepEqual(
        wsLocal.view(levelsAll),
        { bids: expected.bids, asks: expected.asks },
        `ws, command ${index}`,
      );
    }
  }
  assert.equal(local.status, 'synced');
}

function feedFromWire(client: RecordingClient, book: LocalDepthBook): void {
  for (const message of client.take()) {
    if (message.op !== undefined || message.ch === undefined) continue;
    if (message.snapshot) book.onSnapshot(message.data as DepthSnapshot);
    else book.onDiff(message.data as DepthDiff);
  }
}

test('a local book from snapshot + U/u diffs equals engine.depth() after every command', () => {
  const seedBase = Number(process.env.HOGA_SEED ?? 20_261_124);
  for (let run = 0; run < 6; run += 1) {
    const seed = seedBase + run;
    try {
      runScenario(seed, 1_500);
    } catch (error) {
      throw new Error(`seed ${seed}: ${(error as Error).message}`, { cause: error });
    }
  }
});

test('a dropped diff is detected as a gap, never applied silently', () => {
  const hub = new ChannelHub();
  const tap = new DiffTap(hub);
  const market = new MarketData({ publisher: tap });
  const engine = new Engine();
  let seq = 0;
  const apply = (command: Command): void => {
    seq += 1;
    market.onOutcome({ seq, ts: seq, command, events: copyEvents(engine.apply(command)) });
  };
  for (const command of setupCommands()) apply(command);
  const local = new LocalDepthBook();
  local.onSnapshot(market.depth('AAA-USD', levelsAll) as DepthSnapshot);
  for (let id = 1; id <= 3; id += 1) {
    apply({
      op: 'place',
      user: 1,
      id,
      symbol: 'AAA-USD',
      side: 'buy',
      type: 'limit',
      qty: 5,
      price: 900 + id,
    });
  }
  assert.equal(tap.diffs.length, 3);
  local.onDiff(tap.diffs[0]);
  local.onDiff(tap.diffs[2]);
  assert.equal(local.status, 'gap');
  assert.deepEqual(local.view(10).bids, [[901, 5]]);
});

test('a trade reduces the maker side at the maker price and the diff carries absolute quantities', () => {
  const hub = new ChannelHub();
  const tap = new DiffTap(hub);
  const market = new MarketData({ publisher: tap });
  const engine = new Engine();
  let seq = 0;
  const apply = (command: Command): void => {
    seq += 1;
    market.onOutcome({ seq, ts: seq, command, events: copyEvents(engine.apply(command)) });
  };
  for (const command of setupCommands()) apply(command);
  apply({ op: 'place', user: 1, id: 1, symbol: 'AAA-USD', side: 'sell', type: 'limit', qty: 5, price: 1000 });
  apply({ op: 'place', user: 1, id: 2, symbol: 'AAA-USD', side: 'sell', type: 'limit', qty: 5, price: 1001 });
  apply({ op: 'place', user: 2, id: 3, symbol: 'AAA-USD', side: 'buy', type: 'limit', qty: 7, price: 1001 });
  const last = tap.diffs.at(-1) as DepthDiff;
  assert.deepEqual(
    last.asks.sort((left, right) => left[0] - right[0]),
    [
      [1000, 0],
      [1001, 3],
    ],
  );
  assert.deepEqual(last.bids, []);
  assert.equal(last.u - last.U + 1, 2);
  assert.equal(last.U, tap.diffs.at(-2)?.u === undefined ? 1 : (tap.diffs.at(-2) as DepthDiff).u + 1);
});

test('after a dropped connection, since (or a reset snapshot) brings the local book back to engine.depth()', () => {
  const seed = Number(process.env.HOGA_SEED ?? 7_031);
  for (const [historyMax, offlineCommands] of [
    [512, 20],
    [8, 200],
  ]) {
    const random = new SeededRandom(seed + historyMax);
    const engine = new Engine();
    const hub = new ChannelHub({ limits: { historyMax } });
    const market = new MarketData({ publisher: hub });
    hub.addSource(market);
    let seq = 0;
    let orderId = 1;
    const apply = (command: Command): void => {
      seq += 1;
      market.onOutcome({ seq, ts: seq, command, events: copyEvents(engine.apply(command)) });
    };
    for (const command of setupCommands()) apply(command);
    const book = new LocalDepthBook();
    let client = new RecordingClient();
    let connection = hub.connect(client);
    connection?.handle({ op: 'subscribe', id: 1, ch: 'depth.AAA-USD' });
    let lastSeq = 0;
    let resets = 0;
    let epoch: string | undefined;
    const receive = (): void => {
      for (const message of client.take()) {
        if (message.op === 'subscribe') epoch = message.epoch;
        if (message.op !== undefined) continue;
        lastSeq = message.seq as number;
        if (message.snapshot) {
          if (message.reset) resets += 1;
          book.resync();
          book.onSnapshot(message.data as DepthSnapshot);
        } else book.onDiff(message.data as DepthDiff);
      }
    };
    for (let index = 0; index < 300; index += 1) {
      apply(randomCommand(random, engine, () => orderId++));
      receive();
    }
    connection?.close();
    for (let index = 0; index < offlineCommands; index += 1)
      apply(randomCommand(random, engine, () => orderId++));
    client = new RecordingClient();
    connection = hub.connect(client);
    connection?.handle({ op: 'subscribe', id: 2, ch: 'depth.AAA-USD', since: lastSeq, epoch });
    receive();
    for (let index = 0; index < 100; index += 1) {
      apply(randomCommand(random, engine, () => orderId++));
      receive();
    }
    const expected = engine.depth('AAA-USD', levelsAll);
    assert.equal(book.status, 'synced', `seed ${seed}`);
    assert.deepEqual(book.view(levelsAll), { bids: expected?.bids, asks: expected?.asks }, `seed ${seed}`);
    assert.equal(resets, historyMax === 8 ? 1 : 0, 'replay when history holds the gap, reset otherwise');
  }
});
