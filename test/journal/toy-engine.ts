// A small deterministic engine for testing the durability layer on its own: balances from
// deposits and withdrawals, and the ids of placed orders. The crash test uses the real engine.
import { createHash } from 'node:crypto';
import type { BalanceView, EngineEvent, MatchingEngine } from '../../src/core/types.js';
import type { EngineFactory } from '../../src/journal/recovery.js';

interface ToyState {
  balances: Array<[string, number]>;
  orderIds: number[];
  lastTs: number;
}

export class ToyEngine implements MatchingEngine {
  private readonly balancesByKey = new Map<string, number>();
  private readonly orderIds: number[] = [];
  private lastTs = 0;
  applied = 0;

  static fromState(state: unknown): ToyEngine {
    const engine = new ToyEngine();
    const toy = state as ToyState;
    for (const [key, amount] of toy.balances) engine.balancesByKey.set(key, amount);
    engine.orderIds.push(...toy.orderIds);
    engine.lastTs = toy.lastTs;
    return engine;
  }

  apply(command: unknown): readonly EngineEvent[] {
    this.applied++;
    const input = command as {
      op: string;
      user: number;
      asset: string;
      amount: number;
      id: number;
      ts?: number;
    };
    this.lastTs = input.ts ?? 0;
    if (input.op === 'deposit' || input.op === 'withdraw') {
      const key = `${input.user}:${input.asset}`;
      const sign = input.op === 'deposit' ? 1 : -1;
      this.balancesByKey.set(key, (this.balancesByKey.get(key) ?? 0) + sign * input.amount);
      return [
        {
          ev: input.op === 'deposit' ? 'deposited' : 'withdrawn',
          user: input.user,
          asset: input.asset,
          amount: input.amount,
        },
      ];
    }
    if (input.op === 'place') {
      this.orderIds.push(input.id);
      return [{ ev: 'rejected', id: input.id, reason: 'UNKNOWN_SYMBOL' }];
    }
    return [{ ev: 'rejected', id: null, reason: 'UNKNOWN_COMMAND' }];
  }

  balance(user: number, asset: string): BalanceView {
    return { asset, available: this.balancesByKey.get(`${user}:${asset}`) ?? 0, locked: 0 };
  }

  balances(): BalanceView[] {
    return [];
  }

  openOrders(): [] {
    return [];
  }

  order(): undefined {
    return undefined;
  }

  depth(): undefined {
    return undefined;
  }

  symbols(): [] {
    return [];
  }

  placedOrderIds(): readonly number[] {
    return this.orderIds;
  }

  stateHash(): string {
    return createHash('sha256').update(JSON.stringify(this.exportState())).digest('hex');
  }

  validateInternalState(): void {}

  exportState(): ToyState {
    const balances = [...this.balancesByKey.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return { balances, orderIds: [...this.orderIds], lastTs: this.lastTs };
  }
}

export const toyEngines: EngineFactory = {
  create: () => new ToyEngine(),
  restore: (state) => ToyEngine.fromState(state),
};
