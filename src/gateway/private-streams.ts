// Private streams: each connected user's order updates, fills and balance changes, pushed after
// the command is durable. Every message carries a per-user sequence number (shared by all of the
// user's sockets, starting at 1 when the user's first socket connects) so a client can tell a gap.
// Send buffers are bounded: a socket that stops reading is closed with SLOW_CONSUMER.
import type { BalanceView, EngineEvent, Side } from '../core/types.js';
import type { CommandOutcome } from '../ports.js';
import type { MarketRegistry } from './markets.js';
import type { OrderTracker } from './order-tracker.js';
import { balanceJson, orderJson, tradeJson } from './views.js';

/** The socket surface the hub needs (a `ws` WebSocket fits). */
export interface StreamClient {
  send(data: string): void;
  readonly bufferedAmount: number;
  close(code: number, reason: string): void;
}

/** WebSocket close codes (4000-4999 are the application's). */
export const closeCodes = {
  slowConsumer: 4008,
  sessionEnded: 4001,
  authTimeout: 4002,
  idle: 4003,
  tooManyBadFrames: 4009,
} as const;

export interface PrivateStreamOptions {
  sendBufferBytesMax: number;
  socketsPerUserMax: number;
}

interface Subscriber {
  client: StreamClient;
  tokenHash: string;
  /** False for an order-entry socket that asked for replies only (docs/API.md "Private streams"). */
  receives: boolean;
}

interface UserStream {
  seq: number;
  subscribers: Set<Subscriber>;
  /** Subscribers that receive pushes: with none, an outcome of this user costs no push work. */
  receivers: number;
}

export class PrivateStreams {
  private readonly users = new Map<number, UserStream>();
  private readonly bySocket = new Map<StreamClient, { user: number; subscriber: Subscriber }>();

  constructor(
    private readonly options: PrivateStreamOptions,
    private readonly balanceOf: (user: number, asset: string) => BalanceView,
    private readonly markets: MarketRegistry,
    private readonly tracker: OrderTracker,
  ) {}

  get socketCount(): number {
    return this.bySocket.size;
  }

  /**
   * Registers an authenticated socket of `user`: it counts against `socketsPerUserMax` and is closed
   * with its session, and unless `receives` is false it gets the user's pushes. False when the user
   * already has `socketsPerUserMax` sockets.
   */
  attach(user: number, tokenHash: string, client: StreamClient, receives = true): boolean {
    let stream = this.users.get(user);
    if (stream === undefined) {
      stream = { seq: 0, subscribers: new Set(), receivers: 0 };
      this.users.set(user, stream);
    }
    if (stream.subscribers.size >= this.options.socketsPerUserMax) return false;
    const subscriber = { client, tokenHash, receives };
    stream.subscribers.add(subscriber);
    if (receives) stream.receivers += 1;
    this.bySocket.set(client, { user, subscriber });
    return true;
  }

  /** Starts or stops pushes to an attached socket; false when the socket is not attached. */
  setReceives(client: StreamClient, receives: boolean): boolean {
    const entry = this.bySocket.get(client);
    const stream = entry === undefined ? undefined : this.users.get(entry.user);
    if (entry === undefined || stream === undefined) return false;
    if (entry.subscriber.receives !== receives) stream.receivers += receives ? 1 : -1;
    entry.subscriber.receives = receives;
    return true;
  }

  detach(client: StreamClient): void {
    const entry = this.bySocket.get(client);
    if (entry === undefined) return;
    this.bySocket.delete(client);
    const stream = this.users.get(entry.user);
    if (stream === undefined) return;
    if (stream.subscribers.delete(entry.subscriber) && entry.subscriber.receives) stream.receivers -= 1;
    if (stream.subscribers.size === 0) this.users.delete(entry.user);
  }

  /** Closes every socket authenticated with this session. */
  closeSession(user: number, tokenHash: string, reason: string): void {
    const stream = this.users.get(user);
    if (stream === undefined) return;
    for (const subscriber of [...stream.subscribers]) {
      if (subscriber.tokenHash === tokenHash) subscriber.client.close(closeCodes.sessionEnded, reason);
    }
  }

  /** Sends `data` unless the socket's buffer is past its bound, in which case it is closed. */
  sendBounded(client: StreamClient, data: string): boolean {
    if (client.bufferedAmount + data.length > this.options.sendBufferBytesMax) {
      client.close(closeCodes.slowConsumer, 'SLOW_CONSUMER');
      this.detach(client);
      return false;
    }
    this.cork(client);
    client.send(data);
    return true;
  }

  /**
   * Holds a socket's writes until the end of this event-loop turn, so a reply and the pushes of the
   * same command leave in one write call instead of one syscall per frame. Uses the `ws` socket's
   * underlying TCP socket when there is one; other clients are written through at once.
   */
  private cork(client: StreamClient): void {
    const transport = (client as { _socket?: { cork(): void; uncork(): void } })._socket;
    if (transport === undefined || this.corked.has(transport)) return;
    if (this.corked.size === 0) setImmediate(this.uncorkAll);
    transport.cork();
    this.corked.add(transport);
  }

  private readonly corked = new Set<{ uncork(): void }>();

  private readonly uncorkAll = (): void => {
    for (const transport of this.corked) transport.uncork();
    this.corked.clear();
  };

  /** Pushes one live outcome to the connected users it touches that receive pushes. */
  publish(outcome: CommandOutcome): void {
    if (this.users.size === 0 || !outcome.events.some(this.concernsReceiver)) return;
    const balances = new Map<number, Set<string>>();
    const orders = new Map<number, Set<number>>();
    for (const event of outcome.events) this.collect(event, balances, orders);
    for (const [user, ids] of orders) {
      for (const id of ids) this.pushOrder(user, id);
    }
    for (const [user, assets] of balances) {
      for (const asset of assets)
        this.push(user, 'balances', balanceJson(this.balanceOf(user, asset), this.markets));
    }
  }

  private collect(
    event: EngineEvent,
    balances: Map<number, Set<string>>,
    orders: Map<number, Set<number>>,
  ): void {
    switch (event.ev) {
      case 'deposited':
      case 'withdrawn':
        this.touch(balances, event.user, event.asset);
        return;
      case 'trade':
        this.pushFill(event.takerUser, event.taker, event.tradeId);
        this.pushFill(event.makerUser, event.maker, event.tradeId);
        this.touchMarket(balances, event.takerUser, event.symbol);
        this.touchMarket(balances, event.makerUser, event.symbol);
        this.touch(orders, event.takerUser, event.taker);
        this.touch(orders, event.makerUser, event.maker);
        return;
      case 'accepted':
      case 'rested':
      case 'expired':
      case 'cancelled':
      case 'amended':
        // Reserving or releasing moves only the asset the order pays with: quote for a buy, base for a sell.
        this.touchReserved(balances, event.user, event.symbol, event.side);
        this.touch(orders, event.user, event.id);
        return;
      case 'triggered':
      case 'refilled':
        // A pending stop order starts running, or an iceberg shows a new part: its order update is
        // pushed (funds move in its trades).
        this.touch(orders, event.user, event.id);
        return;
      default:
        return;
    }
  }

  /** Whether a user the event names takes pushes: most outcomes concern none (no maps built then). */
  private readonly concernsReceiver = (event: EngineEvent): boolean => {
    if (event.ev === 'trade')
      return this.receivesPushes(event.takerUser) || this.receivesPushes(event.makerUser);
    return 'user' in event && typeof event.user === 'number' && this.receivesPushes(event.user);
  };

  private receivesPushes(user: number): boolean {
    return (this.users.get(user)?.receivers ?? 0) > 0;
  }

  private touch<T>(map: Map<number, Set<T>>, user: number, value: T): void {
    if (!this.receivesPushes(user)) return;
    let values = map.get(user);
    if (values === undefined) {
      values = new Set();
      map.set(user, values);
    }
    values.add(value);
  }

  private touchMarket(balances: Map<number, Set<string>>, user: number, symbol: string): void {
    const market = this.markets.market(symbol);
    if (market === undefined) return;
    this.touch(balances, user, market.base);
    this.touch(balances, user, market.quote);
  }

  private touchReserved(balances: Map<number, Set<string>>, user: number, symbol: string, side: Side): void {
    const market = this.markets.market(symbol);
    if (market !== undefined) this.touch(balances, user, side === 'buy' ? market.quote : market.base);
  }

  private pushOrder(user: number, id: number): void {
    const order = this.tracker.order(user, id);
    const market = order === undefined ? undefined : this.markets.market(order.symbol);
    if (order !== undefined && market !== undefined) this.push(user, 'orders', orderJson(order, market));
  }

  private pushFill(user: number, orderId: number, tradeId: number): void {
    if (!this.receivesPushes(user)) return;
    const trade = this.tracker.trade(user, tradeId, orderId);
    const market = trade === undefined ? undefined : this.markets.market(trade.symbol);
    if (trade !== undefined && market !== undefined) this.push(user, 'fills', tradeJson(trade, market));
  }

  private push(user: number, channel: 'orders' | 'fills' | 'balances', data: unknown): void {
    const stream = this.users.get(user);
    if (stream === undefined || stream.receivers === 0) return;
    stream.seq += 1;
    const message = JSON.stringify({ ch: channel, seq: stream.seq, data });
    for (const subscriber of [...stream.subscribers]) {
      if (subscriber.receives) this.sendBounded(subscriber.client, message);
    }
  }
}
