// Binance user data events for API-key WebSockets (the ws-api's `userDataStream.subscribe.signature`
// and listen-key streams): `executionReport` for every change of an order, `outboundAccountPosition`
// with the balances a command moved, `balanceUpdate` for deposits and withdrawals. Built from live
// outcomes after the gateway's own state has applied them, only for users with a subscriber.
// Bounded: sockets per user, and each socket's send buffer (a socket that stops reading is closed).
import type { EngineEvent } from '../core/types.js';
import { formatUnits, lotsToQty, minorToAmount, minorToPrice } from '../gateway/decimal.js';
import type { Market, MarketRegistry } from '../gateway/markets.js';
import type { OrderTracker, TrackedOrder } from '../gateway/order-tracker.js';
import type { CommandOutcome } from '../ports.js';
import { binanceSymbolOf, cumulativeQuoteOf, orderTypeOf } from './private-views.js';

export interface UserStreamClient {
  send(data: string): void;
  readonly bufferedAmount: number;
  close(code: number, reason: string): void;
}

export interface UserStreamOptions {
  socketsPerUserMax: number;
  sendBufferBytesMax: number;
}

interface Subscriber {
  client: UserStreamClient;
  keyId: string;
  /** Wraps one event as the transport sends it (ws-api: `{subscriptionId, event}`). */
  frame: (event: object) => string;
}

/** Close codes: 4001 the key was revoked, 4008 the client did not read fast enough. */
export const userStreamCloseCodes = { keyRevoked: 4001, slowConsumer: 4008 } as const;

type Balance = { available: number; locked: number };

export interface UserStreamSources {
  markets: MarketRegistry;
  tracker: OrderTracker;
  balanceOf: (user: number, asset: string) => Balance;
}

export class BinanceUserStreams {
  private readonly users = new Map<number, Set<Subscriber>>();

  constructor(
    private readonly sources: UserStreamSources,
    private readonly options: UserStreamOptions,
  ) {}

  get socketCount(): number {
    let count = 0;
    for (const subscribers of this.users.values()) count += subscribers.size;
    return count;
  }

  /** False when the user already has `socketsPerUserMax` subscribed sockets. */
  subscribe(user: number, keyId: string, client: UserStreamClient, frame: Subscriber['frame']): boolean {
    let subscribers = this.users.get(user);
    if (subscribers === undefined) {
      subscribers = new Set();
      this.users.set(user, subscribers);
    }
    if (subscribers.size >= this.options.socketsPerUserMax) return false;
    subscribers.add({ client, keyId, frame });
    return true;
  }

  unsubscribe(client: UserStreamClient): void {
    for (const [user, subscribers] of this.users) {
      for (const subscriber of subscribers) if (subscriber.client === client) subscribers.delete(subscriber);
      if (subscribers.size === 0) this.users.delete(user);
    }
  }

  /** Every key with a subscribed socket, and its user (the heartbeat re-checks them). */
  subscribedKeys(): Map<string, number> {
    const keys = new Map<string, number>();
    for (const [user, subscribers] of this.users)
      for (const subscriber of subscribers) keys.set(subscriber.keyId, user);
    return keys;
  }

  /** Closes every socket subscribed with this key (it was revoked). */
  closeKey(keyId: string, user: number): void {
    const subscribers = this.users.get(user);
    if (subscribers === undefined) return;
    for (const subscriber of [...subscribers]) {
      if (subscriber.keyId !== keyId) continue;
      subscribers.delete(subscriber);
      subscriber.client.close(userStreamCloseCodes.keyRevoked, 'API key revoked');
    }
    if (subscribers.size === 0) this.users.delete(user);
  }

  /** Pushes the events of one applied command to its users' subscribers. */
  readonly onOutcome = (outcome: CommandOutcome): void => {
    if (this.users.size === 0) return;
    const perUser = new Map<number, object[]>();
    const touched = new Map<number, Set<string>>();
    const push = (user: number, event: object) => {
      if (!this.users.has(user)) return;
      let events = perUser.get(user);
      if (events === undefined) {
        events = [];
        perUser.set(user, events);
      }
      events.push(event);
    };
    const touch = (user: number, ...assets: string[]) => {
      if (!this.users.has(user)) return;
      let set = touched.get(user);
      if (set === undefined) {
        set = new Set();
        touched.set(user, set);
      }
      for (const asset of assets) set.add(asset);
    };
    const reports = new ExecutionReports(outcome, this.sources);
    for (const event of outcome.events) {
      for (const [user, report] of reports.of(event)) push(user, report);
      touchAssets(event, this.sources.markets, touch);
      if ((event.ev === 'deposited' || event.ev === 'withdrawn') && this.users.has(event.user)) {
        const decimals = this.sources.markets.decimalsOf(event.asset) ?? 0;
        const delta = minorToAmount(event.amount, decimals);
        push(event.user, {
          e: 'balanceUpdate',
          E: outcome.ts,
          a: event.asset,
          d: event.ev === 'withdrawn' ? `-${delta}` : delta,
          T: outcome.ts,
        });
      }
    }
    for (const [user, assets] of touched) {
      push(user, {
        e: 'outboundAccountPosition',
        E: outcome.ts,
        u: outcome.ts,
        B: [...assets].sort().map((asset) => {
          const balance = this.sources.balanceOf(user, asset);
          const decimals = this.sources.markets.decimalsOf(asset) ?? 0;
          return {
            a: asset,
            f: minorToAmount(balance.available, decimals),
            l: minorToAmount(balance.locked, decimals),
          };
        }),
      });
    }
    for (const [user, events] of perUser) {
      const subscribers = this.users.get(user);
      if (subscribers === undefined) continue;
      for (const subscriber of [...subscribers])
        for (const event of events) this.send(user, subscriber, event);
    }
  };

  private send(user: number, subscriber: Subscriber, event: object): void {
    if (subscriber.client.bufferedAmount > this.options.sendBufferBytesMax) {
      this.users.get(user)?.delete(subscriber);
      subscriber.client.close(userStreamCloseCodes.slowConsumer, 'SLOW_CONSUMER');
      return;
    }
    subscriber.client.send(subscriber.frame(event));
  }
}

function touchAssets(
  event: EngineEvent,
  markets: MarketRegistry,
  touch: (user: number, ...assets: string[]) => void,
) {
  if (event.ev === 'deposited' || event.ev === 'withdrawn') {
    touch(event.user, event.asset);
    return;
  }
  if (event.ev === 'trade') {
    const market = markets.market(event.symbol);
    if (market === undefined) return;
    touch(event.takerUser, market.base, market.quote);
    touch(event.makerUser, market.base, market.quote);
    return;
  }
  if (
    event.ev === 'accepted' ||
    event.ev === 'cancelled' ||
    event.ev === 'expired' ||
    event.ev === 'amended'
  ) {
    const market = markets.market(event.symbol);
    if (market !== undefined) touch(event.user, market.base, market.quote);
  }
}

/**
 * The executionReports of one outcome. The tracker already holds each order's state AFTER the
 * whole command; an order's filled quantity before it is that minus what this command's trades
 * filled, and each report carries the running total at its own event.
 */
class ExecutionReports {
  private readonly running = new Map<number, { filled: number; quote: bigint }>();

  constructor(
    private readonly outcome: CommandOutcome,
    private readonly sources: UserStreamSources,
  ) {
    const inOutcome = new Map<number, { qty: number; quote: bigint }>();
    for (const event of outcome.events) {
      if (event.ev !== 'trade') continue;
      for (const id of [event.taker, event.maker]) {
        const sum = inOutcome.get(id) ?? { qty: 0, quote: 0n };
        sum.qty += event.qty;
        sum.quote += BigInt(event.qty) * BigInt(event.price);
        inOutcome.set(id, sum);
      }
    }
    this.inOutcome = inOutcome;
  }

  private readonly inOutcome: Map<number, { qty: number; quote: bigint }>;

  private start(user: number, order: TrackedOrder, market: Market): { filled: number; quote: bigint } {
    let state = this.running.get(order.id);
    if (state !== undefined) return state;
    const mine = this.inOutcome.get(order.id) ?? { qty: 0, quote: 0n };
    const finalQuote = quoteMinorOf(
      cumulativeQuoteOf(order, this.sources.tracker.trades(user), market),
      market,
    );
    state = { filled: order.filled - mine.qty, quote: finalQuote - mine.quote };
    this.running.set(order.id, state);
    return state;
  }

  /** `[user, report]` pairs for one event (a trade reports to both sides). */
  of(event: EngineEvent): Array<[number, object]> {
    switch (event.ev) {
      case 'accepted':
        return this.report(event.user, event.id, 'NEW');
      case 'cancelled':
        return this.report(event.user, event.id, 'CANCELED');
      case 'expired':
        return this.report(event.user, event.id, 'EXPIRED');
      case 'amended':
        return this.report(event.user, event.id, 'REPLACED');
      case 'trade':
        return [
          ...this.report(event.takerUser, event.taker, 'TRADE', event, 'taker'),
          ...this.report(event.makerUser, event.maker, 'TRADE', event, 'maker'),
        ];
      default:
        return [];
    }
  }

  private report(
    user: number,
    orderId: number,
    executionType: string,
    trade?: Extract<EngineEvent, { ev: 'trade' }>,
    role?: 'taker' | 'maker',
  ): Array<[number, object]> {
    const order = this.sources.tracker.order(user, orderId);
    const market = order === undefined ? undefined : this.sources.markets.market(order.symbol);
    if (order === undefined || market === undefined) return [];
    const state = this.start(user, order, market);
    const scale = market.scale;
    let lastQty = 0;
    let lastPrice = 0;
    let commission = '0';
    let commissionAsset: string | null = null;
    if (trade !== undefined) {
      lastQty = trade.qty;
      lastPrice = trade.price;
      state.filled += trade.qty;
      state.quote += BigInt(trade.qty) * BigInt(trade.price);
      const buying = order.side === 'buy';
      commissionAsset = buying ? market.base : market.quote;
      const fee = role === 'taker' ? trade.takerFee : trade.makerFee;
      commission = minorToAmount(fee, buying ? scale.spec.baseDecimals : scale.spec.quoteDecimals);
    }
    const status =
      executionType === 'CANCELED' || executionType === 'EXPIRED'
        ? executionType
        : state.filled >= order.qty
          ? 'FILLED'
          : state.filled > 0
            ? 'PARTIALLY_FILLED'
            : 'NEW';
    const clientOrderId = order.clientOrderId ?? String(order.id);
    return [
      [
        user,
        {
          e: 'executionReport',
          E: this.outcome.ts,
          s: binanceSymbolOf(market),
          c: executionType === 'CANCELED' ? `cancel-${order.id}` : clientOrderId,
          S: order.side === 'buy' ? 'BUY' : 'SELL',
          o: orderTypeOf(order),
          f: order.tif,
          q: lotsToQty(order.qty, scale),
          p: order.type === 'market' ? '0' : minorToPrice(order.price, scale),
          P: order.stopPrice === undefined ? '0' : minorToPrice(order.stopPrice, scale),
          F: order.displayQty === undefined ? '0' : lotsToQty(order.displayQty, scale),
          g: -1,
          C: executionType === 'CANCELED' ? clientOrderId : '',
          x: executionType,
          X: status,
          r: 'NONE',
          i: order.id,
          l: lotsToQty(lastQty, scale),
          z: lotsToQty(state.filled, scale),
          L: lastPrice === 0 ? '0' : minorToPrice(lastPrice, scale),
          n: commission,
          N: commissionAsset,
          T: this.outcome.ts,
          t: trade?.tradeId ?? -1,
          I: this.outcome.seq,
          w: status === 'NEW' || status === 'PARTIALLY_FILLED',
          m: role === 'maker',
          M: false,
          O: order.createdAtMs,
          Z: formatQuote(state.quote, market),
          Y: formatQuote(BigInt(lastQty) * BigInt(lastPrice), market),
          Q: '0',
          W: order.createdAtMs,
          V: 'EXPIRE_MAKER',
        },
      ],
    ];
  }
}

function formatQuote(minor: bigint, market: Market): string {
  return formatUnits(minor, market.scale.spec.quoteDecimals);
}

/** A quote decimal (from cumulativeQuoteOf) back to minor units. */
function quoteMinorOf(text: string, market: Market): bigint {
  const decimals = market.scale.spec.quoteDecimals;
  const [whole, fraction = ''] = text.split('.');
  return (
    BigInt(whole) * 10n ** BigInt(decimals) +
    BigInt((fraction + '0'.repeat(decimals)).slice(0, decimals) || '0')
  );
}
