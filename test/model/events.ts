// Checks the fields of the engine's events that the replay lines leave out (types.ts): accepted
// and rested events, who and which side a trade, cancel or expiry concerns, the engine-wide trade
// counter, and the events of deposits, withdrawals and symbols. Expectations come from the command
// and from the reference model's resting orders before and after the command.
import type { EngineEvent } from '../../src/core/types.js';
import type { ModelOrder, ReplayLine } from './reference.js';

export interface EventContext {
  command: unknown;
  /** The model's replay lines for this command. */
  lines: readonly ReplayLine[];
  /** Resting orders by id before the command. */
  restingBefore: ReadonlyMap<number, ModelOrder>;
  /** Resting orders by id after the command. */
  restingAfter: ReadonlyMap<number, ModelOrder>;
  /** Trades so far, over the whole stream. */
  tradesBefore: number;
  /** Iceberg refills the model made during this command. */
  refills: number;
}

type Fields = Record<string, unknown>;

/** Describes the first event that breaks the contract, or returns null. */
export function checkEvents(events: readonly EngineEvent[], context: EventContext): string | null {
  const rejected = context.lines.some((line) => line.ev === 'rejected');
  if (rejected) return events.length === 1 && events[0].ev === 'rejected' ? null : 'a rejection comes alone';
  const command = context.command as Fields;
  // Stop, iceberg and OCO traffic (issue 17): the refills and the triggered orders are checked
  // here; activated orders' own events are not predicted (their replay lines, depth, views and
  // balances are compared).
  if (involvesStopsIcebergsOrOco(command, context)) return checkStopEvents(events, context);
  switch (command.op) {
    case 'symbol': {
      const { op: _op, ts: _ts, ...symbol } = command;
      return sameFields(events, [{ ev: 'symbolAdded', ...pick(symbol, symbolKeys) }]);
    }
    case 'deposit':
    case 'withdraw': {
      const ev = command.op === 'deposit' ? 'deposited' : 'withdrawn';
      return sameFields(events, [{ ev, user: command.user, asset: command.asset, amount: command.amount }]);
    }
    case 'cancel':
    case 'amend':
      return checkRestingChange(events, command, context);
    case 'offering': {
      const { op: _op, ts: _ts, id, ...offering } = command;
      return sameFields(events, [{ ev: 'offeringCreated', offering: id, ...pick(offering, offeringKeys) }]);
    }
    case 'claim':
    case 'closeOffering':
      // Everything these events carry is in their replay lines, compared already.
      return events.length === context.lines.length
        ? null
        : `${events.length} events for ${context.lines.length} lines`;
    default:
      return checkPlace(events, command, context);
  }
}

/** One `refilled` event per refill the model made; `triggered` names the pending order's owner. */
function checkStopEvents(events: readonly EngineEvent[], context: EventContext): string | null {
  const refilled = events.filter((event) => event.ev === 'refilled').length;
  if (refilled !== context.refills)
    return `${refilled} refilled events, the model refilled ${context.refills}`;
  for (const event of events) {
    if (event.ev !== 'triggered') continue;
    const order = context.restingBefore.get(event.id)!;
    const expected = { user: order.user, symbol: order.symbol, side: order.side };
    const actual = { user: event.user, symbol: event.symbol, side: event.side };
    if (JSON.stringify(actual) !== JSON.stringify(expected)) {
      return `triggered ${event.id}: ${JSON.stringify(actual)}, expected ${JSON.stringify(expected)}`;
    }
  }
  return null;
}

function involvesStopsIcebergsOrOco(command: Fields, context: EventContext): boolean {
  if (command.op === 'oco') return true;
  const isPresent = (value: unknown): boolean => value !== undefined && value !== null;
  if (command.op === 'place' && [command.stopPrice, command.trigger, command.displayQty].some(isPresent))
    return true;
  const touched = [command.id, ...context.lines.map((line) => line.maker ?? line.id)];
  return (
    context.lines.some((line) => line.ev === 'triggered' || line.reason === 'OCO') ||
    touched.some((id) => {
      const order = context.restingBefore.get(id as number);
      return order !== undefined && (order.displayQty !== undefined || order.trigger !== undefined);
    })
  );
}

const offeringKeys = [
  'issuer',
  'asset',
  'quote',
  'price',
  'unitSize',
  'units',
  'perUserMax',
  'startTs',
  'endTs',
];
const symbolKeys = ['symbol', 'base', 'quote', 'lotSize', 'tickSize', 'makerFeeBps', 'takerFeeBps'];

function pick(fields: Fields, keys: readonly string[]): Fields {
  return Object.fromEntries(keys.map((key) => [key, fields[key]]));
}

/** Each event has at least the expected fields with the expected values. */
function sameFields(events: readonly EngineEvent[], expected: readonly Fields[]): string | null {
  if (events.length !== expected.length) return `${events.length} events, expected ${expected.length}`;
  for (let position = 0; position < expected.length; position++) {
    const event = events[position] as unknown as Fields;
    for (const [key, value] of Object.entries(expected[position])) {
      if (!Object.is(event[key], value)) {
        return `event ${position} (${event.ev}) ${key} = ${JSON.stringify(event[key])}, expected ${JSON.stringify(value)}`;
      }
    }
  }
  return null;
}

function orderFields(order: ModelOrder): Fields {
  return { id: order.id, user: order.user, symbol: order.symbol, side: order.side, price: order.price };
}

function checkRestingChange(
  events: readonly EngineEvent[],
  command: Fields,
  context: EventContext,
): string | null {
  const order = context.restingBefore.get(command.id as number)!;
  if (command.op === 'cancel') {
    return sameFields(events, [
      { ev: 'cancelled', ...orderFields(order), qty: order.remaining, reason: 'USER' },
    ]);
  }
  const qty = command.qty as number;
  return sameFields(events, [
    { ev: 'amended', ...orderFields(order), qty, reducedBy: order.remaining - qty },
  ]);
}

/** accepted, then trades and STP cancels in line order, then rested or expired. */
function checkPlace(events: readonly EngineEvent[], command: Fields, context: EventContext): string | null {
  const isMarket = command.type === 'market';
  const tif = command.tif ?? (isMarket ? 'IOC' : 'GTC');
  const price = isMarket ? 0 : command.price;
  const taker = { id: command.id, user: command.user, symbol: command.symbol, side: command.side };
  const expected: Fields[] = [{ ev: 'accepted', ...taker, type: command.type, tif, price, qty: command.qty }];
  let tradeId = context.tradesBefore;
  for (const line of context.lines) {
    if (line.ev === 'trade') {
      const maker = context.restingBefore.get(line.maker as number)!;
      tradeId++;
      expected.push({
        ev: 'trade',
        tradeId,
        takerUser: command.user,
        makerUser: maker.user,
        takerSide: command.side,
        price: maker.price,
      });
    } else if (line.ev === 'cancelled') {
      const maker = context.restingBefore.get(line.id as number)!;
      expected.push({ ev: 'cancelled', ...orderFields(maker) });
    } else {
      expected.push({ ev: 'expired', ...taker, price });
    }
  }
  const rested = context.restingAfter.get(command.id as number);
  if (rested !== undefined) expected.push({ ev: 'rested', ...orderFields(rested), qty: rested.remaining });
  return sameFields(events, expected);
}
