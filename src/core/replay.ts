// Replay output (shared/spec/ENGINE.md "Replay tool"): engine events as the spec's output lines,
// and a pure driver that runs a command list through a fresh engine.
import { Engine } from './engine.js';
import type { EngineEvent, EngineLimits } from './types.js';

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
