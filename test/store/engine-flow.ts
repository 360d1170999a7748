// A seeded stream of commands run through the real engine, with everything that moves a balance:
// deposits, withdrawals, limit and market orders (every time in force, post-only, self-trades),
// cancels, amends, offerings with coupon campaigns, claims and early closes. The ledger
// reconciliation test projects its outcomes and compares the ledger with the engine's balances.
import { Engine } from '../../src/core/engine.js';
import type { Command, SelfTradePrevention, TimeInForce } from '../../src/core/types.js';
import type { CommandOutcome } from '../../src/ports.js';
import { Random } from '../support/random.js';

export const traderIds = [1, 2, 3, 4, 5, 6];
export const issuerId = 9;

interface MarketPlan {
  symbol: string;
  base: string;
  lotSize: number;
  midPrice: number;
}

const markets: MarketPlan[] = [
  { symbol: 'AAA-USD', base: 'AAA', lotSize: 10, midPrice: 1_000 },
  { symbol: 'BBB-USD', base: 'BBB', lotSize: 1_000, midPrice: 40 },
];
const timesInForce: TimeInForce[] = ['GTC', 'GTC', 'GTC', 'IOC', 'FOK'];
const preventions: SelfTradePrevention[] = ['none', 'expireMaker', 'expireTaker', 'expireBoth'];
const stepMs = 1_000;

export interface EngineFlow {
  engine: Engine;
  outcomes: CommandOutcome[];
}

export function engineFlow(seed: number, commandsCount: number, startTsMs: number): EngineFlow {
  return new FlowBuilder(seed, startTsMs).run(commandsCount);
}

class FlowBuilder {
  private readonly random: Random;
  private readonly engine = new Engine();
  private readonly outcomes: CommandOutcome[] = [];
  private readonly ordersOf = new Map<number, number[]>();
  private readonly offerings: number[] = [];
  private tsMs: number;

  constructor(seed: number, startTsMs: number) {
    this.random = new Random(seed);
    this.tsMs = startTsMs;
  }

  run(commandsCount: number): EngineFlow {
    this.setUp();
    while (this.outcomes.length < commandsCount) this.step();
    return { engine: this.engine, outcomes: this.outcomes };
  }

  private setUp(): void {
    for (const [index, market] of markets.entries()) {
      this.apply({
        op: 'symbol',
        symbol: market.symbol,
        base: market.base,
        quote: 'USD',
        lotSize: market.lotSize,
        tickSize: 1,
        makerFeeBps: 10 * index + 10,
        takerFeeBps: 25,
      });
    }
    for (const user of traderIds) {
      this.apply({ op: 'deposit', user, asset: 'USD', amount: 50_000_000 });
      this.apply({ op: 'deposit', user, asset: 'AAA', amount: 500_000 });
      this.apply({ op: 'deposit', user, asset: 'BBB', amount: 5_000_000 });
    }
    this.apply({ op: 'deposit', user: issuerId, asset: 'BBB', amount: 100_000_000 });
  }

  private step(): void {
    const roll = this.random.int(0, 99);
    if (roll < 45) this.placeLimit();
    else if (roll < 52) this.placeMarket();
    else if (roll < 62) this.cancel();
    else if (roll < 68) this.amend();
    else if (roll < 72) this.transfer('deposit');
    else if (roll < 76) this.transfer('withdraw');
    else if (roll < 79) this.createOffering();
    else if (roll < 97) this.claim();
    else this.closeOffering();
  }

  private placeLimit(): void {
    const market = this.random.pick(markets);
    const side = this.random.pick(['buy', 'sell'] as const);
    const offset = this.random.int(-4, 4);
    this.place({
      symbol: market.symbol,
      side,
      type: 'limit',
      price: market.midPrice + (side === 'buy' ? offset : -offset),
      qty: this.random.int(1, 20),
      tif: this.random.pick(timesInForce),
      postOnly: this.random.int(0, 9) === 0 ? true : undefined,
    });
  }

  private placeMarket(): void {
    const market = this.random.pick(markets);
    this.place({
      symbol: market.symbol,
      side: this.random.pick(['buy', 'sell'] as const),
      type: 'market',
      qty: this.random.int(1, 10),
    });
  }

  private place(order: Record<string, unknown>): void {
    const user = this.random.pick(traderIds);
    const id = this.outcomes.length + 1;
    const command: Record<string, unknown> = {
      op: 'place',
      user,
      id,
      ...order,
      stp: this.random.pick(preventions),
    };
    if (order.postOnly === undefined) delete command.postOnly;
    const held = this.ordersOf.get(user) ?? [];
    held.push(id);
    this.ordersOf.set(user, held.slice(-50));
    this.apply(command as unknown as Command);
  }

  private cancel(): void {
    const user = this.random.pick(traderIds);
    const held = this.ordersOf.get(user) ?? [];
    if (held.length === 0) {
      this.placeLimit();
      return;
    }
    this.apply({ op: 'cancel', user, id: this.random.pick(held) });
  }

  private amend(): void {
    const user = this.random.pick(traderIds);
    const held = this.ordersOf.get(user) ?? [];
    if (held.length === 0) {
      this.placeLimit();
      return;
    }
    this.apply({ op: 'amend', user, id: this.random.pick(held), qty: this.random.int(1, 5) });
  }

  private transfer(op: 'deposit' | 'withdraw'): void {
    const asset = this.random.pick(['USD', 'AAA', 'BBB']);
    const user = this.random.pick(traderIds);
    this.apply({ op, user, asset, amount: this.random.int(1, 300_000) });
  }

  private createOffering(): void {
    const id = this.outcomes.length + 1;
    this.apply({
      op: 'offering',
      id,
      issuer: issuerId,
      asset: 'BBB',
      quote: 'USD',
      price: this.random.int(10, 50),
      unitSize: 100,
      units: this.random.int(20, 200),
      perUserMax: this.random.int(5, 40),
      startTs: this.tsMs,
      endTs: this.tsMs + 400 * stepMs,
      coupon:
        this.random.int(0, 3) === 0
          ? undefined
          : {
              makerDiscountPct: this.random.pick([0, 50, 100]),
              takerDiscountPct: this.random.pick([25, 50, 100]),
              expiresTs: this.tsMs + this.random.int(50, 600) * stepMs,
              uses: this.random.int(1, 6),
            },
    });
    this.offerings.push(id);
  }

  private claim(): void {
    if (this.offerings.length === 0) {
      this.createOffering();
      return;
    }
    this.apply({
      op: 'claim',
      user: this.random.pick(traderIds),
      offering: this.random.pick(this.offerings),
      units: this.random.int(1, 8),
    });
  }

  private closeOffering(): void {
    if (this.offerings.length === 0) {
      this.createOffering();
      return;
    }
    this.apply({ op: 'closeOffering', offering: this.random.pick(this.offerings) });
  }

  private apply(command: Command): void {
    this.tsMs += stepMs;
    const stamped = { ...command, ts: this.tsMs };
    // The engine reuses its event objects: each outcome keeps copies.
    const events = this.engine.apply(stamped).map((event) => ({ ...event }));
    this.outcomes.push({ seq: this.outcomes.length + 1, ts: this.tsMs, command: stamped, events });
  }
}
