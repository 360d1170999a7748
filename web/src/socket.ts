// The UI's one WebSocket. It reconnects by itself with backoff, re-sends every subscription on
// each new connection and tells each subscriber to reset (so a depth book resyncs from a fresh
// snapshot instead of going silently stale), and detects per-channel sequence gaps. Message
// shapes follow docs/MARKETDATA.md and docs/API.md; they are named only in this file.

import { isConflatedChannel } from './channels.js';

export type ConnectionState = 'connecting' | 'open' | 'reconnecting' | 'session-ended';

export interface ChannelMessage {
  ch: string;
  seq: number;
  data: unknown;
  /** The channel's full current state, sent on (re)subscribe: replaces local state. */
  snapshot?: boolean;
}

export interface ChannelHandler {
  onMessage(message: ChannelMessage): void;
  /** The connection was (re)opened or a gap was seen: drop local state (a snapshot follows). */
  onReset(): void;
}

/** The user's private streams (orders, fills, balances) arrive on these channel names. */
export const privateChannels: ReadonlySet<string> = new Set(['orders', 'fills', 'balances']);

export type PrivateHandler = (message: ChannelMessage) => void;

/** Close codes with which the server says the session is over (logout, logout-all, expiry). */
export const sessionEndedCloseCodes: ReadonlySet<number> = new Set([4001]);
/**
 * The server closes a socket that neither authenticated nor holds a public subscription after a
 * while (4002), e.g. a visitor on the login page. Nothing went wrong, so it reconnects at once
 * instead of backing off.
 */
export const authTimeoutCloseCode = 4002;
const reconnectDelayMsMin = 250;
const reconnectDelayMsMax = 5_000;
/** Channels one page subscribes to at most; a bound, not a hint. */
export const subscriptionsMax = 32;

export class ExchangeSocket {
  private socket: WebSocket | undefined;
  private state: ConnectionState = 'connecting';
  private reconnectDelayMs = reconnectDelayMsMin;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private requestId = 0;
  private readonly channels = new Map<string, Set<ChannelHandler>>();
  private readonly lastSeq = new Map<string, number>();
  private readonly stateListeners = new Set<(state: ConnectionState) => void>();
  private readonly privateHandlers = new Set<PrivateHandler>();
  private stopped = false;

  constructor(private readonly url: string) {}

  get connectionState(): ConnectionState {
    return this.state;
  }

  start(): void {
    this.stopped = false;
    this.setState('connecting');
    this.open();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    this.socket?.close(1000, 'client stop');
    this.socket = undefined;
  }

  onState(listener: (state: ConnectionState) => void): () => void {
    this.stateListeners.add(listener);
    listener(this.state);
    return () => this.stateListeners.delete(listener);
  }

  onPrivate(handler: PrivateHandler): () => void {
    this.privateHandlers.add(handler);
    return () => this.privateHandlers.delete(handler);
  }

  subscribe(channel: string, handler: ChannelHandler): () => void {
    let handlers = this.channels.get(channel);
    if (!handlers) {
      if (this.channels.size >= subscriptionsMax) throw new Error(`more than ${subscriptionsMax} channels`);
      handlers = new Set();
      this.channels.set(channel, handlers);
      handlers.add(handler);
      this.send('subscribe', channel);
    } else {
      // A late joiner needs the channel's state too: everyone resyncs from a fresh snapshot.
      handlers.add(handler);
      this.resync(channel);
    }
    return () => this.unsubscribe(channel, handler);
  }

  private unsubscribe(channel: string, handler: ChannelHandler): void {
    const handlers = this.channels.get(channel);
    if (!handlers) return;
    handlers.delete(handler);
    if (handlers.size > 0) return;
    this.channels.delete(channel);
    this.lastSeq.delete(channel);
    this.send('unsubscribe', channel);
  }

  private send(op: 'subscribe' | 'unsubscribe', channel: string): void {
    if (this.socket?.readyState !== WebSocket.OPEN) return;
    this.requestId += 1;
    this.socket.send(JSON.stringify({ op, id: this.requestId, ch: channel }));
  }

  private setState(state: ConnectionState): void {
    if (this.state === state) return;
    this.state = state;
    for (const listener of this.stateListeners) listener(state);
  }

  private open(): void {
    const socket = new WebSocket(this.url);
    this.socket = socket;
    socket.onopen = () => {
      this.reconnectDelayMs = reconnectDelayMsMin;
      this.lastSeq.clear();
      this.setState('open');
      for (const [channel, handlers] of this.channels) {
        for (const handler of handlers) handler.onReset();
        this.send('subscribe', channel);
      }
    };
    socket.onmessage = (event) => this.receive(String(event.data));
    socket.onclose = (event) => this.closed(socket, event.code, event.reason);
  }

  private closed(socket: WebSocket, code: number, reason: string): void {
    if (socket !== this.socket || this.stopped) return;
    this.socket = undefined;
    if (sessionEndedCloseCodes.has(code) || /session/i.test(reason)) {
      this.setState('session-ended');
      return;
    }
    this.setState('reconnecting');
    if (code === authTimeoutCloseCode) this.reconnectDelayMs = 0;
    this.reconnectTimer = setTimeout(() => this.open(), this.reconnectDelayMs);
    this.reconnectDelayMs = Math.min(
      Math.max(this.reconnectDelayMs * 2, reconnectDelayMsMin),
      reconnectDelayMsMax,
    );
  }

  private receive(text: string): void {
    let message: Record<string, unknown>;
    try {
      message = JSON.parse(text) as Record<string, unknown>;
    } catch {
      return;
    }
    // Subscribe acks and request replies carry `op`; only channel data carries `ch` and `seq`.
    if (typeof message.ch !== 'string' || typeof message.seq !== 'number' || 'op' in message) return;
    const channelMessage = message as unknown as ChannelMessage;
    if (privateChannels.has(channelMessage.ch)) {
      for (const handler of this.privateHandlers) handler(channelMessage);
      return;
    }
    this.deliver(channelMessage);
  }

  private deliver(message: ChannelMessage): void {
    const handlers = this.channels.get(message.ch);
    if (!handlers) return;
    const previous = this.lastSeq.get(message.ch);
    const gap =
      !message.snapshot &&
      !isConflatedChannel(message.ch) &&
      (previous === undefined || message.seq !== previous + 1);
    if (gap) {
      // Lost or out-of-order data: never apply it; ask for a fresh snapshot.
      this.resync(message.ch);
      return;
    }
    this.lastSeq.set(message.ch, message.seq);
    for (const handler of handlers) handler.onMessage(message);
  }

  /** Drops the channel's local state and asks the server for a fresh snapshot. */
  resync(channel: string): void {
    const handlers = this.channels.get(channel);
    if (!handlers) return;
    this.lastSeq.delete(channel);
    for (const handler of handlers) handler.onReset();
    this.send('unsubscribe', channel);
    this.send('subscribe', channel);
  }
}

export function socketUrl(): string {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${location.host}/ws`;
}
