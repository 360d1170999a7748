// A seeded stream of command outcomes with the engine's event shapes, for the read-model tests
// and benchmark. A deliberately small price-time matcher keeps the stream self-consistent (every
// fill, cancel and amend names an order that was accepted and is resting) without depending on
// the engine under development. Fees use each symbol's bps; funds are not checked.
import type { Command, EngineEvent, Side } from '../../src/core/types.js';
import type { CommandOutcome } from '../../src/ports.js';
import { Random } from '../support/random.js';

export interface OutcomeStreamOptions {
  seed: number;
  usersCount: number;
  /** Milliseconds between consecutive commands (large values spread rows over many days). */
  stepMs: number;
  startTsMs: number;
}

interface RestingOrder {
  id: number;
  user: number;
  symbol: string;
  side: Side;
  price: number;
  remaining: number;
}

interface SymbolPlan {
  symbol: string;
  base: string;
  quote: string;
  midPrice: number;
  makerFeeBps: number;
  takerFeeBps: number;
}

const symbolPlans: SymbolPlan[] = [
  { symbol: 'AAA/USD', base: 'AAA', quote: 'USD', midPrice: 1_000, makerFeeBps: 10, takerFeeBps: 20 },
  { symbol: 'BBB/USD', base: 'BBB', quote: 'USD', midPrice: 50, makerFeeBps: 0, takerFeeBps: 25 },
];
/** Resting orders kept per book: the generator cancels the oldest beyond it. */
const restingPerBookMax = 200;

export class OutcomeStream {
  private readonly random: Random;
  private readonly books = new Map<string, RestingOrder[]>();
  private readonly setup: Command[] = [];
  private seq = 0;
  private orderIdNext = 1;
  private tradeIdNext = 1;

  constructor(private readonly options: OutcomeStreamOptions) {
    this.random = new Random(options.seed);
    for (const plan of symbolPlans) {
      this.books.set(plan.symbol, []);
      this.setup.push({
        op: 'symbol',
        symbol: plan.symbol,
        base: plan.base,
        quote: plan.quote,
        lotSize: 1,
        tickSize: 1,
        makerFeeBps: plan.makerFeeBps,
        takerFeeBps: plan.takerFeeBps,
      });
    }
    for (let user = 1; user <= options.usersCount; user += 1) {
      for (const asset of ['USD', 'AAA', 'BBB'])
        this.setup.push({ op: 'deposit', user, asset, amount: 1_000_000_000 });
    }
  }

  next(): CommandOutcome {
    this.seq += 1;
    const ts = this.options.startTsMs + this.seq * this.options.stepMs;
    const command = this.setup.shift() ?? this.mixed();
    return { seq: this.seq, ts, command: { ...command, ts }, events: this.apply(command) };
  }

  take(count: number): CommandOutcome[] {
    return Array.from({ length: count }, () => this.next());
  }

  private mixed(): Command {
    const user = this.random.int(1, this.options.usersCount);
    const kind = this.random.weighted<string>([
      ['place', 70],
      ['cancel', 12],
      ['amend', 5],
      ['deposit', 5],
      ['withdraw', 3],
      ['bad', 5],
    ]);
    const resting = this.randomResting();
    if (kind === 'cancel' && resting !== undefined)
      return { op: 'cancel', user: resting.user, id: resting.id };
    if (kind === 'amend' && resting !== undefined && resting.remaining > 1) {
      return { op: 'amend', user: resting.user, id: resting.id, qty: resting.remaining - 1 };
    }
    if (kind === 'deposit')
      return { op: 'deposit', user, asset: this.random.pick(['USD', 'AAA', 'BBB']), amount: 500 };
    if (kind === 'withdraw') return { op: 'withdraw', user, asset: 'USD', amount: this.random.int(1, 100) };
    if (kind === 'bad') return { op: 'cancel', user, id: 0 };
    return this.place(user);
  }

  private place(user: number): Command {
    const plan = this.random.pick(symbolPlans);
    const side: Side = this.random.chance(0.5) ? 'buy' : 'sell';
    const qty = this.random.int(1, 10);
    const id = this.orderIdNext++;
    if (this.random.chance(0.08))
      return { op: 'place', user, id, symbol: plan.symbol, side, type: 'market', qty };
    const price = plan.midPrice + this.random.int(-5, 5);
    const tif = this.random.chance(0.85) ? 'GTC' : 'IOC';
    return { op: 'place', user, id, symbol: plan.symbol, side, type: 'limit', qty, price, tif };
  }

  private randomResting(): RestingOrder | undefined {
    const book = this.books.get(this.random.pick(symbolPlans).symbol)!;
    return book.length === 0 ? undefined : this.random.pick(book);
  }

  private apply(command: Command): EngineEvent[] {
    switch (command.op) {
      case 'symbol':
        return [{ ev: 'symbolAdded', ...withoutOp(command) }];
      case 'deposit':
        return [{ ev: 'deposited', user: command.user, asset: command.asset, amount: command.amount }];
      case 'withdraw':
        return [{ ev: 'withdrawn', user: command.user, asset: command.asset, amount: command.amount }];
      case 'cancel':
        return this.cancel(command.user, command.id);
      case 'amend':
        return this.amend(command.user, command.id, command.qty);
      case 'place':
        return this.match(command);
      default:
        throw new Error(`the outcome generator makes no ${command.op} commands`);
    }
  }

  private cancel(user: number, id: number): EngineEvent[] {
    const order = this.findResting(id);
    if (order === undefined || order.user !== user) return [{ ev: 'rejected', id, reason: 'UNKNOWN_ORDER' }];
    this.removeResting(order);
    return [{ ev: 'cancelled', ...orderFields(order), qty: order.remaining, reason: 'USER' }];
  }

  private amend(user: number, id: number, qty: number): EngineEvent[] {
    const order = this.findResting(id);
    if (order === undefined || order.user !== user) return [{ ev: 'rejected', id, reason: 'UNKNOWN_ORDER' }];
    const reducedBy = order.remaining - qty;
    order.remaining = qty;
    return [{ ev: 'amended', ...orderFields(order), qty, reducedBy }];
  }

  private match(command: Extract<Command, { op: 'place' }>): EngineEvent[] {
    const plan = symbolPlans.find((candidate) => candidate.symbol === command.symbol)!;
    const tif = command.tif ?? (command.type === 'market' ? 'IOC' : 'GTC');
    const price = command.price ?? 0;
    const events: EngineEvent[] = [
      {
        ev: 'accepted',
        id: command.id,
        user: command.user,
        symbol: command.symbol,
        side: command.side,
        type: command.type,
        tif,
        price,
        qty: command.qty,
      },
    ];
    const book = this.books.get(command.symbol)!;
    let remaining = command.qty;
    for (const maker of this.crossing(book, command.side, command.type === 'market' ? undefined : price)) {
      if (remaining === 0) break;
      const qty = Math.min(remaining, maker.remaining);
      remaining -= qty;
      maker.remaining -= qty;
      const notional = qty * maker.price;
      events.push({
        ev: 'trade',
        tradeId: this.tradeIdNext++,
        symbol: command.symbol,
        taker: command.id,
        maker: maker.id,
        takerUser: command.user,
        makerUser: maker.user,
        takerSide: command.side,
        price: maker.price,
        qty,
        takerFee: Math.floor((notional * plan.takerFeeBps) / 10_000),
        makerFee: Math.floor((notional * plan.makerFeeBps) / 10_000),
      });
      if (maker.remaining === 0) this.removeResting(maker);
    }
    const fields = { id: command.id, user: command.user, symbol: command.symbol, side: command.side, price };
    if (remaining > 0 && tif === 'GTC') {
      events.push(...this.rest({ ...fields, remaining }));
    } else if (remaining > 0) {
      events.push({ ev: 'expired', ...fields, qty: remaining, reason: 'UNFILLED' });
    }
    return events;
  }

  /** Makers the taker crosses, best price first, then oldest first. */
  private crossing(book: RestingOrder[], takerSide: Side, limit: number | undefined): RestingOrder[] {
    const makers = book.filter(
      (order) =>
        order.side !== takerSide &&
        (limit === undefined || (takerSide === 'buy' ? order.price <= limit : order.price >= limit)),
    );
    const direction = takerSide === 'buy' ? 1 : -1;
    // Array.prototype.sort is stable: equal prices keep their arrival order.
    return makers.sort((left, right) => direction * (left.price - right.price));
  }

  private rest(order: RestingOrder): EngineEvent[] {
    const book = this.books.get(order.symbol)!;
    const events: EngineEvent[] = [];
    if (book.length >= restingPerBookMax) {
      const oldest = book[0];
      this.removeResting(oldest);
      events.push({ ev: 'cancelled', ...orderFields(oldest), qty: oldest.remaining, reason: 'STP' });
    }
    book.push(order);
    events.unshift({ ev: 'rested', ...orderFields(order), qty: order.remaining });
    return events;
  }

  private findResting(id: number): RestingOrder | undefined {
    for (const book of this.books.values()) {
      const order = book.find((candidate) => candidate.id === id);
      if (order !== undefined) return order;
    }
    return undefined;
  }

  private removeResting(order: RestingOrder): void {
    const book = this.books.get(order.symbol)!;
    book.splice(book.indexOf(order), 1);
  }
}

function orderFields(order: RestingOrder) {
  return { id: order.id, user: order.user, symbol: order.symbol, side: order.side, price: order.price };
}

function withoutOp(command: Extract<Command, { op: 'symbol' }>) {
  return {
    symbol: command.symbol,
    base: command.base,
    quote: command.quote,
    lotSize: command.lotSize,
    tickSize: command.tickSize,
    makerFeeBps: command.makerFeeBps,
    takerFeeBps: command.takerFeeBps,
  };
}

/** The outcomes as an async stream: what a journal reader hands to a rebuild. */
export async function* streamOf(outcomes: readonly CommandOutcome[]): AsyncIterable<CommandOutcome> {
  for (const outcome of outcomes) yield outcome;
}

/** The stream both the kill -9 child and its parent generate (with the parent's seed). */
export const crashStreamOptions: Omit<OutcomeStreamOptions, 'seed'> = {
  usersCount: 6,
  stepMs: 1_000,
  startTsMs: Date.UTC(2026, 10, 24, 9),
};
