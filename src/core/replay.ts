// Replay output (shared/spec/ENGINE.md "Replay tool"): engine events as the spec's output lines,
// and a pure driver that runs a command list through a fresh engine.
import { Engine } from './engine.js';
import type { EngineEvent, EngineLimits } from './types.js';

type Fields = { readonly [key: string]: unknown };

/**
 * Every field the engine reads from a command of each frequent op (the others keep their parsed
 * object). One object literal per op below lists the same names in the same order.
 */
const fixedShapeFields: ReadonlyMap<string, ReadonlySet<string>> = new Map([
  [
    'place',
    new Set([
      'op',
      'ts',
      'id',
      'symbol',
      'user',
      'side',
      'type',
      'qty',
      'price',
      'tif',
      'postOnly',
      'stp',
      'displayQty',
      'stopPrice',
      'trigger',
    ]),
  ],
  ['cancel', new Set(['op', 'ts', 'id', 'user'])],
  ['amend', new Set(['op', 'ts', 'id', 'user', 'qty'])],
  [
    'oco',
    new Set([
      'op',
      'ts',
      'id',
      'stopId',
      'symbol',
      'user',
      'side',
      'qty',
      'price',
      'stopPrice',
      'stopLimitPrice',
      'stp',
    ]),
  ],
  ['deposit', new Set(['op', 'ts', 'user', 'asset', 'amount'])],
  ['withdraw', new Set(['op', 'ts', 'user', 'asset', 'amount'])],
]);

/** Whether every key of `fields` is one its op's fixed shape carries (unknown keys keep the original). */
function fitsFixedShape(fields: Fields, names: ReadonlySet<string>): boolean {
  for (const key in fields) if (!names.has(key)) return false;
  return true;
}

/**
 * The command as an object of one fixed shape per op, every field the engine reads set
 * (undefined when absent), so that the engine's reads stay monomorphic whatever the key order or
 * optional fields of the input. The engine treats a missing key and undefined alike (it never
 * asks whether a key exists), so the result is the same; a command with a key the shape does not
 * list, or of another op, is returned as it is.
 */
export function commandOfFixedShape(command: unknown): unknown {
  if (typeof command !== 'object' || command === null) return command;
  const fields = command as Fields;
  const op = fields.op;
  const names = typeof op === 'string' ? fixedShapeFields.get(op) : undefined;
  if (names === undefined || !fitsFixedShape(fields, names)) return command;
  switch (op) {
    case 'place':
      return {
        op,
        ts: fields.ts,
        id: fields.id,
        symbol: fields.symbol,
        user: fields.user,
        side: fields.side,
        type: fields.type,
        qty: fields.qty,
        price: fields.price,
        tif: fields.tif,
        postOnly: fields.postOnly,
        stp: fields.stp,
        displayQty: fields.displayQty,
        stopPrice: fields.stopPrice,
        trigger: fields.trigger,
      };
    case 'cancel':
      return { op, ts: fields.ts, id: fields.id, user: fields.user };
    case 'amend':
      return { op, ts: fields.ts, id: fields.id, user: fields.user, qty: fields.qty };
    case 'oco':
      return {
        op,
        ts: fields.ts,
        id: fields.id,
        stopId: fields.stopId,
        symbol: fields.symbol,
        user: fields.user,
        side: fields.side,
        qty: fields.qty,
        price: fields.price,
        stopPrice: fields.stopPrice,
        stopLimitPrice: fields.stopLimitPrice,
        stp: fields.stp,
      };
    default:
      // deposit and withdraw share one shape.
      return { op, ts: fields.ts, user: fields.user, asset: fields.asset, amount: fields.amount };
  }
}

export interface ReplayOptions {
  limits?: Partial<EngineLimits>;
  /** Called after each command, e.g. to check invariants. */
  afterEach?: (engine: Engine, index: number) => void;
}

/**
 * The output line for one event of command `commandIndex`, or null for events the replay output
 * leaves out (accepted, rested, refilled, deposits, withdrawals, symbols, offering creation). Keys are in the spec's order.
 */
export function eventToLine(event: EngineEvent, commandIndex: number): object | null {
  switch (event.ev) {
    case 'trade':
      return {
        ev: 'trade',
        symbol: event.symbol,
        taker: event.taker,
        maker: event.maker,
        price: event.price,
        qty: event.qty,
        takerFee: event.takerFee,
        makerFee: event.makerFee,
      };
    case 'rejected':
      return { ev: 'rejected', cmd: commandIndex, id: event.id ?? null, reason: event.reason };
    case 'expired':
      return { ev: 'expired', id: event.id, qty: event.qty, reason: event.reason };
    case 'cancelled':
      return { ev: 'cancelled', id: event.id, qty: event.qty, reason: event.reason };
    case 'amended':
      return { ev: 'amended', id: event.id, qty: event.qty };
    case 'triggered':
      return { ev: 'triggered', id: event.id };
    case 'claimed':
      return {
        ev: 'claimed',
        offering: event.offering,
        user: event.user,
        units: event.units,
        paid: event.paid,
        left: event.left,
      };
    case 'couponIssued':
      return {
        ev: 'couponIssued',
        offering: event.offering,
        user: event.user,
        makerDiscountPct: event.makerDiscountPct,
        takerDiscountPct: event.takerDiscountPct,
        expiresTs: event.expiresTs,
        uses: event.uses,
      };
    case 'offeringClosed':
      return { ev: 'offeringClosed', offering: event.offering, returnedUnits: event.returnedUnits };
    default:
      return null;
  }
}

/**
 * The same line as `eventToLine`, serialised, built without the intermediate object (the replay
 * CLI converts millions of events, and less garbage means fewer collections inside timed calls).
 */
export function eventToJson(event: EngineEvent, commandIndex: number): string | null {
  switch (event.ev) {
    case 'trade':
      return `{"ev":"trade","symbol":${JSON.stringify(event.symbol)},"taker":${event.taker},"maker":${event.maker},"price":${event.price},"qty":${event.qty},"takerFee":${event.takerFee},"makerFee":${event.makerFee}}`;
    case 'rejected':
      return `{"ev":"rejected","cmd":${commandIndex},"id":${JSON.stringify(event.id ?? null)},"reason":"${event.reason}"}`;
    case 'expired':
      return `{"ev":"expired","id":${event.id},"qty":${event.qty},"reason":"${event.reason}"}`;
    case 'cancelled':
      return `{"ev":"cancelled","id":${event.id},"qty":${event.qty},"reason":"${event.reason}"}`;
    case 'amended':
      return `{"ev":"amended","id":${event.id},"qty":${event.qty}}`;
    case 'triggered':
      return `{"ev":"triggered","id":${event.id}}`;
    case 'claimed':
    case 'couponIssued':
    case 'offeringClosed':
      return JSON.stringify(eventToLine(event, commandIndex));
    default:
      return null;
  }
}

/** The final `balance` lines: every (user, asset) not both zero, by user then asset. */
export function balanceLines(engine: Engine): object[] {
  return engine.allBalances().map((entry) => ({
    ev: 'balance',
    user: entry.user,
    asset: entry.asset,
    available: entry.available,
    locked: entry.locked,
  }));
}

export function replayCommands(
  commands: readonly unknown[],
  options?: ReplayOptions,
): { lines: object[]; engine: Engine } {
  const engine = new Engine(options?.limits);
  const lines: object[] = [];
  for (let index = 0; index < commands.length; index++) {
    const events = engine.apply(commands[index]);
    for (const event of events) {
      const line = eventToLine(event, index);
      if (line !== null) lines.push(line);
    }
    options?.afterEach?.(engine, index);
  }
  lines.push(...balanceLines(engine));
  return { lines, engine };
}
