// The engine against the independent reference model on seeded random command streams. After
// every command: the replay lines (key order included), the other event fields (events.ts), the
// engine's own invariants, the balances of the command's user and the fee account, and the
// touched book's depth. Every 64 commands: every user's balances, open orders, single-order
// lookups and symbols. At the end of a stream, replayCommands' whole output (final balance lines
// included) must equal the model's. Halfway through each stream the engine is replaced by its own
// snapshot restored (Engine.fromState), with the same stateHash. A failure prints the seed, the
// command index, the command and the commands before it; HOGA_SEED=<n> reruns one seed,
// HOGA_MODEL_SCALE=<x> scales the seeds.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Engine } from '../../src/core/engine.js';
import { replayCommands } from '../../src/core/replay.js';
import { defaultEngineLimits, type EngineLimits, type OrderView, RejectCodes } from '../../src/core/types.js';
import { checkEvents } from '../model/events.js';
import {
  CommandGenerator,
  type GeneratorStyle,
  narrowStyle,
  offeringStyle,
  stopsStyle,
  tinyLimits,
  wideStyle,
} from '../model/generator.js';
import { linesOfEvents } from '../model/lines.js';
import {
  type ModelOrder,
  type ModelSymbol,
  type OcoLink,
  ReferenceModel,
  type ReplayLine,
} from '../model/reference.js';
import { Random } from '../support/random.js';

interface Profile {
  name: string;
  limits: EngineLimits;
  style: GeneratorStyle;
  seeds: number[];
  commandsPerSeed: number;
}

const windowCommandsMax = 15;
const depthLevelsMax = 10_000;
const fullBalanceCheckEvery = 64;

function seedsFrom(first: number, count: number): number[] {
  return Array.from({ length: count }, (_, offset) => first + offset);
}

/**
 * 37 x 5000 narrow, 12 x 2000 with tiny limits, 4 x 2500 with offerings, 10 x 3000 mostly stop,
 * iceberg and OCO traffic, 3 x 2000 deep books: 255k. Every style carries stops, icebergs and OCOs.
 */
function profiles(): Profile[] {
  const only = process.env.HOGA_SEED;
  const scale = Number(process.env.HOGA_MODEL_SCALE ?? '1');
  const seeds = (first: number, count: number): number[] =>
    only === undefined ? seedsFrom(first, Math.ceil(count * scale)) : [Number(only)];
  return [
    {
      name: 'default limits',
      limits: defaultEngineLimits,
      style: narrowStyle,
      seeds: seeds(1, 37),
      commandsPerSeed: 5000,
    },
    {
      name: 'tiny limits',
      limits: tinyLimits,
      style: narrowStyle,
      seeds: seeds(1001, 12),
      commandsPerSeed: 2000,
    },
    {
      name: 'offerings',
      limits: defaultEngineLimits,
      style: offeringStyle,
      seeds: seeds(4001, 4),
      commandsPerSeed: 2500,
    },
    {
      name: 'stop, iceberg and OCO traffic',
      limits: defaultEngineLimits,
      style: stopsStyle,
      seeds: seeds(6001, 10),
      commandsPerSeed: 3000,
    },
    {
      name: 'deep books',
      limits: defaultEngineLimits,
      style: wideStyle,
      seeds: seeds(2001, 3),
      commandsPerSeed: 2000,
    },
  ];
}

class Divergence extends Error {}

function describeDivergence(
  profile: Profile,
  seed: number,
  commands: readonly unknown[],
  index: number,
  what: string,
  expected: unknown,
  actual: unknown,
): string {
  const first = Math.max(0, index - windowCommandsMax);
  const window = commands
    .slice(first, index)
    .map((command, offset) => `  #${first + offset} ${JSON.stringify(command)}`)
    .join('\n');
  return [
    `engine and model diverge: ${what}`,
    `SEED ${seed} (${profile.name}); rerun with HOGA_SEED=${seed}`,
    `command #${index}: ${JSON.stringify(commands[index])}`,
    `preceding commands:\n${window}`,
    `model:  ${JSON.stringify(expected)}`,
    `engine: ${JSON.stringify(actual)}`,
  ].join('\n');
}

/** Balances as the model reports them: non-zero pairs, sorted by asset. */
function engineBalances(
  engine: Engine,
  user: number,
): Array<{ asset: string; available: number; locked: number }> {
  return engine
    .balances(user)
    .filter((balance) => balance.available !== 0 || balance.locked !== 0)
    .map((balance) => ({ asset: balance.asset, available: balance.available, locked: balance.locked }))
    .sort((left, right) => (left.asset < right.asset ? -1 : left.asset > right.asset ? 1 : 0));
}

/** The model's depth of one symbol: [price, visible lots] per level, best first. */
function modelDepth(model: ReferenceModel, symbol: string): { bids: number[][]; asks: number[][] } {
  const levels = (side: 'buy' | 'sell'): number[][] => {
    const totals = new Map<number, number>();
    for (const order of model.restingOrders()) {
      if (order.symbol === symbol && order.side === side) {
        totals.set(order.price, (totals.get(order.price) ?? 0) + order.visible);
      }
    }
    const prices = [...totals.keys()].sort((left, right) => (side === 'buy' ? right - left : left - right));
    return prices.map((price) => [price, totals.get(price)!]);
  };
  return { bids: levels('buy'), asks: levels('sell') };
}

/** The codes the model covers: the matching spec's and those of offerings (docs/ENGINE.md issue 7). */
const modelledRejectCodes = [
  'UNKNOWN_COMMAND',
  'UNKNOWN_SYMBOL',
  'DUPLICATE_SYMBOL',
  'INVALID_SYMBOL',
  'DUPLICATE_ORDER_ID',
  'INVALID_ORDER',
  'INVALID_TIF',
  'INVALID_QTY',
  'INVALID_PRICE',
  'POST_ONLY_WOULD_CROSS',
  'INSUFFICIENT_FUNDS',
  'INVALID_AMOUNT',
  'UNKNOWN_ORDER',
  'LIMIT_EXCEEDED',
  'UNKNOWN_OFFERING',
  'DUPLICATE_OFFERING',
  'INVALID_OFFERING',
  'OFFERING_NOT_OPEN',
  'OFFERING_CLOSED',
  'SOLD_OUT',
  'PER_USER_LIMIT',
  'INVALID_STOP',
  'STOP_WOULD_TRIGGER',
  'NOT_AMENDABLE',
] as const;

/**
 * How often the full run must see each rule of issue 17 (ModelStats), so that the comparison
 * cannot silently test nothing: triggers, cascades of depth >= 2, triggers by the run's low or
 * high that the last price alone would miss, iceberg refills (twice in one run too), OCO
 * resolutions of each kind, amends of pending orders, icebergs and resolved OCO legs, and
 * rejections by the pending-order bounds (tiny limits).
 */
const coverageMinimum: Readonly<Record<string, number>> = {
  triggered: 5000,
  cascadeDepth2: 300,
  cascadeDepth3: 30,
  triggeredByExtreme: 300,
  refills: 5000,
  runsWithTwoRefills: 500,
  ocoPlaced: 2000,
  ocoFilledA: 500,
  ocoTriggeredB: 500,
  ocoUserCancelledA: 250,
  ocoUserCancelledB: 250,
  ocoStpCancelled: 100,
  amendedPending: 500,
  amendedIceberg: 200,
  amendedFormerLeg: 20,
  activatedFok: 500,
  activatedRested: 500,
  pendingBoundRejects: 100,
  fillBoundRejects: 40,
  fillBoundExpiries: 2,
};

const ordersOps = new Set<unknown>(['place', 'cancel', 'amend', 'oco']);
const emptyResting: ReadonlyMap<number, ModelOrder> = new Map();

/** Copies of the model's open orders (resting and pending) by id (the model changes them in place). */
function restingById(model: ReferenceModel): Map<number, ModelOrder> {
  const open = [...model.restingOrders(), ...model.pendingOrders()];
  return new Map(open.map((order) => [order.id, { ...order }]));
}

/** Open orders per user, single-order lookups and symbols: the query side of the engine. */
function compareViews(
  engine: Engine,
  model: ReferenceModel,
): { what: string; expected: unknown; actual: unknown } | null {
  const byId = (left: { id: number }, right: { id: number }): number => left.id - right.id;
  const view = (order: OrderViewLike) => ({
    id: order.id,
    user: order.user,
    symbol: order.symbol,
    side: order.side,
    price: order.price,
    qty: order.qty,
    remaining: order.remaining,
  });
  for (const user of model.knownUsers()) {
    for (const balance of model.balancesOf(user)) {
      const single = engine.balance(user, balance.asset);
      if (!sameRecords([{ ...single }], [balance])) {
        return { what: `balance(${user}, ${balance.asset})`, expected: balance, actual: single };
      }
    }
    const expected = [...model.restingOrders(), ...model.pendingOrders()]
      .filter((order) => order.user === user)
      .map(view)
      .sort(byId);
    const actual = engine.openOrders(user).map(view).sort(byId);
    if (!sameRecords(actual, expected)) return { what: `open orders of user ${user}`, expected, actual };
  }
  const links = model.liveLinks();
  for (const order of [...model.restingOrders(), ...model.pendingOrders()]) {
    const found = engine.order(order.id);
    const expected = { ...view(order), ...extras(order, model.pendingOrders().includes(order), links) };
    const actual =
      found === undefined ? undefined : { ...view(found), ...pickKeys(found, Object.keys(expected)) };
    if (actual === undefined || !sameRecords([actual], [expected])) {
      return { what: `order ${order.id}`, expected, actual: found };
    }
  }
  const symbolOf = (symbol: ModelSymbol) => ({ ...symbol });
  const expectedSymbols = model
    .listedSymbols()
    .map(symbolOf)
    .sort((left, right) => (left.symbol < right.symbol ? -1 : 1));
  const actualSymbols = engine
    .symbols()
    .map((symbol) => symbolOf(symbol))
    .sort((left, right) => (left.symbol < right.symbol ? -1 : 1));
  if (!sameRecords(actualSymbols, expectedSymbols))
    return { what: 'symbols', expected: expectedSymbols, actual: actualSymbols };
  return null;
}

type OrderViewLike = Pick<OrderView, 'id' | 'user' | 'symbol' | 'side' | 'price' | 'qty' | 'remaining'>;

/** The view fields of issue 17 that the model knows for this order: stop, iceberg and OCO link. */
function extras(order: ModelOrder, pending: boolean, links: readonly OcoLink[]): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  if (pending) Object.assign(fields, { stopPrice: order.stopPrice, trigger: order.trigger });
  if (!pending && order.displayQty !== undefined) {
    Object.assign(fields, { displayQty: order.displayQty, visibleQty: order.visible });
  }
  const link = links.find((candidate) => candidate.legA === order.id || candidate.legB === order.id);
  if (link !== undefined) fields.ocoId = link.legA === order.id ? link.legB : link.legA;
  return fields;
}

function pickKeys(view: OrderView, keys: readonly string[]): Record<string, unknown> {
  const record = view as unknown as Record<string, unknown>;
  return Object.fromEntries(keys.filter((key) => !(key in baseViewKeys)).map((key) => [key, record[key]]));
}

const baseViewKeys = { id: 1, user: 1, symbol: 1, side: 1, price: 1, qty: 1, remaining: 1 };

/** Same objects with the same keys in the same order (key order is part of the replay output). */
function sameRecords(left: readonly object[], right: readonly object[]): boolean {
  if (left.length !== right.length) return false;
  for (let position = 0; position < left.length; position++) {
    const leftRecord = left[position] as Record<string, unknown>;
    const rightRecord = right[position] as Record<string, unknown>;
    const leftKeys = Object.keys(leftRecord);
    const rightKeys = Object.keys(rightRecord);
    if (leftKeys.length !== rightKeys.length) return false;
    for (let keyIndex = 0; keyIndex < leftKeys.length; keyIndex++) {
      const key = leftKeys[keyIndex];
      if (key !== rightKeys[keyIndex]) return false;
      const leftValue = leftRecord[key];
      const rightValue = rightRecord[key];
      if (Object.is(leftValue, rightValue)) continue;
      if (typeof leftValue !== 'object' || JSON.stringify(leftValue) !== JSON.stringify(rightValue))
        return false;
    }
  }
  return true;
}

function tally(counts: Map<string, number>, lines: readonly ReplayLine[]): void {
  for (const line of lines) {
    const key = line.reason === undefined ? String(line.ev) : `${line.ev}:${line.reason}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
}

/** Runs one seed; throws a Divergence naming the first command where engine and model differ. */
function checkStream(
  profile: Profile,
  seed: number,
  counts: Map<string, number>,
  coverage: Map<string, number>,
): number {
  const model = new ReferenceModel(profile.limits);
  let engine = new Engine(profile.limits);
  const generator = new CommandGenerator(new Random(seed), model, profile.style);
  const commands: unknown[] = [];
  const expectedLines: ReplayLine[] = [];
  const fail = (index: number, what: string, expected: unknown, actual: unknown): never => {
    throw new Divergence(describeDivergence(profile, seed, commands, index, what, expected, actual));
  };
  let lastFullCheck = 0;
  let tradesBefore = 0;
  for (let index = 0; index < profile.commandsPerSeed; index++) {
    // Halfway, the engine goes through a snapshot (pending orders, OCO links, icebergs and last
    // prices included) and the restored engine must go on agreeing with the model.
    if (index === snapshotAt(profile)) engine = restoredFromSnapshot(engine, profile, seed, index);
    const command = generator.next();
    commands.push(command);
    const touchesOrders = ordersOps.has((command as { op?: unknown } | null)?.op);
    const restingBefore = touchesOrders ? restingById(model) : emptyResting;
    const refillsBefore = model.stats.refills;
    const expected = model.apply(command, index);
    model.checkInvariants();
    const events = engine.apply(command);
    const actual = linesOfEvents(events, index);
    if (!sameRecords(actual, expected)) fail(index, 'replay lines of this command', expected, actual);
    const restingAfter = touchesOrders ? restingById(model) : emptyResting;
    const eventError = checkEvents(events, {
      command,
      lines: expected,
      restingBefore,
      restingAfter,
      tradesBefore,
      refills: model.stats.refills - refillsBefore,
    });
    if (eventError !== null) fail(index, `events: ${eventError}`, 'see types.ts', events);
    tradesBefore += actual.filter((line) => line.ev === 'trade').length;
    try {
      engine.validateInternalState();
    } catch (error) {
      fail(index, `validateInternalState: ${(error as Error).message}`, 'valid', 'invalid');
    }
    // The command's own user and the fee account change on most commands; makers are covered by
    // the periodic check of every user.
    const fullCheck = index - lastFullCheck >= fullBalanceCheckEvery;
    const commandUser = (command as { user?: unknown } | null)?.user;
    const validUser = Number.isSafeInteger(commandUser) && (commandUser as number) > 0;
    const users = fullCheck ? model.knownUsers() : validUser ? [0, commandUser as number] : [0];
    for (const user of users) {
      const modelBalances = model.balancesOf(user);
      const balances = engineBalances(engine, user);
      if (!sameRecords(balances, modelBalances)) {
        const since = fullCheck ? ` (checked all users last at #${lastFullCheck})` : '';
        fail(index, `balances of user ${user}${since}`, modelBalances, balances);
      }
    }
    if (fullCheck) {
      const views = compareViews(engine, model);
      if (views !== null) {
        fail(index, `${views.what} (checked last at #${lastFullCheck})`, views.expected, views.actual);
      }
      lastFullCheck = index;
    }
    const symbol = (command as { symbol?: unknown } | null)?.symbol;
    if (typeof symbol === 'string' && model.listedSymbols().some((listed) => listed.symbol === symbol)) {
      const depth = engine.depth(symbol, depthLevelsMax);
      const actualDepth = { bids: depth?.bids, asks: depth?.asks };
      const expectedDepth = modelDepth(model, symbol);
      if (!sameRecords([actualDepth], [expectedDepth]))
        fail(index, `depth of ${symbol}`, expectedDepth, actualDepth);
    }
    tally(counts, expected);
    expectedLines.push(...expected);
  }
  expectedLines.push(...model.balanceLines());
  checkReplay(profile, seed, commands, expectedLines);
  for (const [rule, count] of Object.entries(model.stats))
    coverage.set(rule, (coverage.get(rule) ?? 0) + count);
  return commands.length;
}

function snapshotAt(profile: Profile): number {
  return Math.floor(profile.commandsPerSeed / 2);
}

/** exportState -> JSON text -> Engine.fromState: same stateHash, and it is what runs on. */
function restoredFromSnapshot(engine: Engine, profile: Profile, seed: number, index: number): Engine {
  const snapshot = JSON.parse(JSON.stringify(engine.exportState()));
  const restored = Engine.fromState(snapshot, profile.limits);
  if (restored.stateHash() !== engine.stateHash()) {
    throw new Divergence(
      `SEED ${seed} (${profile.name}): stateHash changed through a snapshot before #${index}`,
    );
  }
  return restored;
}

/** replayCommands as a whole, final balance lines included, must equal the model's output. */
function checkReplay(profile: Profile, seed: number, commands: unknown[], expectedLines: ReplayLine[]): void {
  let afterEachCalls = 0;
  const { lines } = replayCommands(commands, {
    limits: profile.limits,
    afterEach: (_engine, index) => {
      assert.equal(index, afterEachCalls++, 'afterEach runs once per command, in order');
    },
  });
  assert.equal(afterEachCalls, commands.length);
  const length = Math.max(lines.length, expectedLines.length);
  for (let position = 0; position < length; position++) {
    // JSON text is the replay output itself: it pins key order, which deep equality ignores.
    const line = JSON.stringify(lines[position]);
    const expected = JSON.stringify(expectedLines[position]);
    if (line !== expected) {
      throw new Divergence(
        [
          `replayCommands output differs from the model at line ${position} of ${expectedLines.length}`,
          `SEED ${seed} (${profile.name}); rerun with HOGA_SEED=${seed}`,
          `model:  ${expected}`,
          `engine: ${line}`,
        ].join('\n'),
      );
    }
  }
}

describe('engine versus reference model', () => {
  const counts = new Map<string, number>();
  const coverage = new Map<string, number>();
  let commandsTotal = 0;

  for (const profile of profiles()) {
    it(`agrees on ${profile.seeds.length} seeds x ${profile.commandsPerSeed} commands (${profile.name})`, () => {
      for (const seed of profile.seeds) {
        try {
          commandsTotal += checkStream(profile, seed, counts, coverage);
        } catch (error) {
          if (error instanceof Divergence) assert.fail(error.message);
          throw new Error(`SEED ${seed} (${profile.name}): ${(error as Error).stack}`);
        }
      }
    });
  }

  it('saw every rejection code, expiry reason and event kind', (context) => {
    const report = [...counts.entries()].sort(([left], [right]) => (left < right ? -1 : 1));
    context.diagnostic(
      `${commandsTotal} commands: ${report.map(([key, count]) => `${key}=${count}`).join(' ')}`,
    );
    const expectedKinds = [
      ...modelledRejectCodes.map((code) => `rejected:${code}`),
      ...['FOK', 'UNFILLED', 'STP', 'INSUFFICIENT_FUNDS'].map((reason) => `expired:${reason}`),
      'cancelled:USER',
      'cancelled:STP',
      'amended',
      'trade',
      'claimed',
      'offeringClosed',
      'triggered',
      'cancelled:OCO',
    ];
    const unlisted = modelledRejectCodes.filter((code) => !(RejectCodes as readonly string[]).includes(code));
    assert.deepEqual(unlisted, [], 'result codes are never renamed or removed');
    // One rerun seed or a scaled-down run need not cover everything; the full run must.
    if (process.env.HOGA_SEED !== undefined || process.env.HOGA_MODEL_SCALE !== undefined) return;
    const missing = expectedKinds.filter((kind) => !counts.has(kind));
    assert.deepEqual(missing, [], `never seen: ${missing.join(', ')}`);
    assert.ok(commandsTotal >= 200_000, `only ${commandsTotal} commands`);
  });

  it('exercised every rule of stop, iceberg and OCO orders many times', (context) => {
    const report = [...coverage.entries()].map(([rule, count]) => `${rule}=${count}`).join(' ');
    context.diagnostic(`coverage: ${report}`);
    if (process.env.HOGA_SEED !== undefined || process.env.HOGA_MODEL_SCALE !== undefined) return;
    const short = Object.entries(coverageMinimum).filter(
      ([rule, minimum]) => (coverage.get(rule) ?? 0) < minimum,
    );
    assert.deepEqual(
      short,
      [],
      `rules hit too rarely: ${short.map(([rule]) => rule).join(', ')} (${report})`,
    );
  });
});
