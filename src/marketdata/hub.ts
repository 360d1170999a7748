// The channel hub: WebSocket fan-out of market data. Each channel has a sequence number; every
// data message is encoded once and the same string goes to every subscriber. A resubscribing
// client names the last seq it saw (`since`) and gets the missed messages from a bounded history
// or, when they are gone, a fresh snapshot marked `reset: true`: never a silent gap.
// Publishing touches only the published channel, so idle channels cost nothing.
import { type ChannelName, channelNameLengthMax, isConflated, parseChannel } from './channels.js';

/** What the hub needs from a socket; a `ws` WebSocket satisfies it as is. */
export interface ChannelClient {
  send(data: string): void;
  readonly bufferedAmount: number;
  close(code: number, reason: string): void;
}

/** Where channel state comes from: the market-data builders and the quote ingest. */
export interface ChannelSource {
  /** Whether this source serves the channel (a known symbol, a valid interval). */
  has(channel: ChannelName): boolean;
  /** The channel's current state, JSON-serialisable, sent to a (re)subscribing client. */
  snapshot(channel: ChannelName): unknown;
}

/**
 * The units a subscriber gets: `decimal` (the default) is what the formatter makes of the
 * engine's integers (decimal strings in the market's units, as REST shows them); `engine` is the
 * integers as published. Without a formatter both are the published data.
 */
export const channelUnits = ['decimal', 'engine'] as const;
export type ChannelUnits = (typeof channelUnits)[number];

/** Turns a published message or a snapshot into the default (decimal) units; data unchanged when it cannot. */
export type ChannelFormatter = (channel: ChannelName, data: unknown) => unknown;

/** Anything market data can be published to: the hub itself, or an event bus in front of it. */
export interface ChannelPublisher {
  publish(channel: string, data: unknown): void;
  /** False when nobody can ever read the channel, so the publisher may skip building the data. */
  isWatched(channel: string): boolean;
}

export interface HubLimits {
  connectionsMax: number;
  subscriptionsPerConnectionMax: number;
  channelsMax: number;
  /** Messages kept per watched channel for `since` recovery. */
  historyMax: number;
  /** Above this many unsent bytes a client is disconnected (close code 4008). */
  sendBufferBytesMax: number;
  /** Above this many unsent bytes, ticker and quote messages are conflated (latest wins). */
  conflateAboveBytes: number;
  /** How often conflated messages held for slow clients are retried. */
  pendingFlushMs: number;
}

export const defaultHubLimits: HubLimits = {
  connectionsMax: 100_000,
  subscriptionsPerConnectionMax: 64,
  channelsMax: 20_000,
  historyMax: 256,
  sendBufferBytesMax: 4 * 1024 * 1024,
  conflateAboveBytes: 64 * 1024,
  pendingFlushMs: 20,
};

/** Stable error codes in subscribe/unsubscribe replies. Never reuse or rename one. */
export const HubErrorCodes = [
  'BAD_REQUEST',
  'UNKNOWN_CHANNEL',
  'SUBSCRIPTION_LIMIT',
  'CHANNEL_LIMIT',
  'NOT_SUBSCRIBED',
] as const;
export type HubErrorCode = (typeof HubErrorCodes)[number];

/** WebSocket close codes the hub uses. */
export const HubCloseCodes = {
  /** The client's send buffer passed `sendBufferBytesMax`. */
  slowConsumer: 4008,
  /** `connectionsMax` connections are open already. */
  tryAgainLater: 1013,
} as const;

export interface HubStats {
  connections: number;
  channels: number;
  published: number;
  sent: number;
  conflated: number;
  slowDisconnects: number;
}

/**
 * How channel messages are numbered. `counter` (one process): 1, 2, 3… from the channel's
 * creation, under an epoch that changes on every start. `positional` (cluster gateways): derived
 * from the event stream, so every gateway gives the same message the same number and a client can
 * resume with `since` on another gateway: the k-th message published while the outcome at stream
 * sequence P is applied is numbered P × positionalStride + k (beyond the stride, one more than the
 * previous message), and a channel created after P starts at (P + 1) × positionalStride − 1.
 */
export type ChannelNumbering = { kind: 'counter' } | { kind: 'positional'; position: () => number };

/** Message numbers one stream position spans in positional numbering. */
export const positionalStride = 1_024;

/** A channel exists once someone subscribed to it; from then on it keeps its history. */
class Channel {
  seq: number;
  /** The key in the hub's map: the name, with `#engine` for the engine-units twin. */
  readonly key: string;
  readonly subscribers = new Set<HubConnection>();
  readonly conflated: boolean;
  private readonly prefix: string;
  /** The last `historyMax` messages and their numbers, a ring written at `written % historyMax`. */
  private readonly history: string[];
  private readonly historySeqs: number[];
  private written = 0;
  /** Messages numbered at or below this are not all kept (before the channel existed, or evicted). */
  private keptAbove: number;

  constructor(
    readonly parsed: ChannelName,
    private readonly historyMax: number,
    /** Names this incarnation of the channel: its seq means nothing under another epoch. */
    readonly epoch: string,
    readonly units: ChannelUnits,
    private readonly numbering: ChannelNumbering,
  ) {
    this.key = channelKey(parsed.name, units);
    this.conflated = isConflated(parsed.kind);
    this.prefix = `{"ch":${JSON.stringify(parsed.name)},"seq":`;
    this.history = new Array(historyMax);
    this.historySeqs = new Array(historyMax);
    this.seq = numbering.kind === 'counter' ? 0 : (numbering.position() + 1) * positionalStride - 1;
    this.keptAbove = this.seq;
  }

  private nextSeq(): number {
    if (this.numbering.kind === 'counter') return this.seq + 1;
    return Math.max(this.seq + 1, this.numbering.position() * positionalStride);
  }

  encode(data: unknown): string {
    this.seq = this.nextSeq();
    const encoded = `${this.prefix}${this.seq},"data":${JSON.stringify(data) ?? 'null'}}`;
    const slot = this.written % this.historyMax;
    if (this.written >= this.historyMax) this.keptAbove = this.historySeqs[slot];
    this.history[slot] = encoded;
    this.historySeqs[slot] = this.seq;
    this.written += 1;
    return encoded;
  }

  encodeSnapshot(data: unknown, reset: boolean): string {
    return `${this.prefix}${this.seq},"snapshot":true,"reset":${reset},"data":${JSON.stringify(data) ?? 'null'}}`;
  }

  /** Messages after `since`, or undefined when some of them are no longer kept. */
  replayAfter(since: number): string[] | undefined {
    if (since > this.seq || since < this.keptAbove) return undefined;
    const replay: string[] = [];
    const kept = Math.min(this.written, this.historyMax);
    for (let index = this.written - kept; index < this.written; index += 1) {
      const slot = index % this.historyMax;
      if (this.historySeqs[slot] > since) replay.push(this.history[slot]);
    }
    return replay;
  }
}

/** A channel's key in the hub: `#` is in no channel name. */
function channelKey(name: string, units: ChannelUnits): string {
  return units === 'engine' ? `${name}#engine` : name;
}

export interface SubscribeRequest {
  op: 'subscribe';
  id?: unknown;
  ch: string;
  /** `decimal` (default) or `engine`. */
  units?: unknown;
  /** The last seq this client saw on the channel. */
  since?: number;
  /** The epoch (from the ack) that `since` belongs to; another one means the seq restarted. */
  epoch?: string;
}

export interface UnsubscribeRequest {
  op: 'unsubscribe';
  id?: unknown;
  ch: string;
  units?: unknown;
}

/** One client socket attached to the hub. */
export class HubConnection {
  readonly subscriptions = new Set<Channel>();
  /** Conflated messages waiting for the send buffer to drain, latest per channel. */
  readonly pending = new Map<Channel, string>();
  closed = false;

  constructor(
    readonly client: ChannelClient,
    private readonly hub: ChannelHub,
  ) {}

  /** Handles a parsed request; returns false when its `op` is not the hub's (the gateway's then). */
  handle(request: unknown): boolean {
    if (typeof request !== 'object' || request === null) return false;
    const op = (request as { op?: unknown }).op;
    // A request racing the socket's close after a disconnect must not subscribe a dead connection.
    if (this.closed) return op === 'subscribe' || op === 'unsubscribe';
    if (op === 'subscribe') this.hub.subscribe(this, request as SubscribeRequest);
    else if (op === 'unsubscribe') this.hub.unsubscribe(this, request as UnsubscribeRequest);
    else return false;
    return true;
  }

  /** Parses one text frame and handles it; malformed or foreign requests get BAD_REQUEST. */
  handleText(text: string): void {
    let request: unknown;
    try {
      request = JSON.parse(text);
    } catch {
      this.hub.reject(this, null, 'request', 'BAD_REQUEST', 'not JSON');
      return;
    }
    if (!this.handle(request)) {
      const id = typeof request === 'object' && request !== null ? (request as { id?: unknown }).id : null;
      this.hub.reject(this, id, 'request', 'BAD_REQUEST', 'op must be subscribe or unsubscribe');
    }
  }

  /** Call when the socket closes: drops every subscription. */
  close(): void {
    this.hub.detach(this);
  }
}

export class ChannelHub implements ChannelPublisher {
  readonly limits: HubLimits;
  /** Changes on every start; each channel's epoch extends it with the channel's incarnation. */
  readonly epoch: string;
  private channelsCreated = 0;
  private readonly channels = new Map<string, Channel>();
  private readonly connections = new Set<HubConnection>();
  private readonly connectionsWithPending = new Set<HubConnection>();
  private readonly sources: ChannelSource[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly formatter: ChannelFormatter | undefined;
  private readonly counters = { published: 0, sent: 0, conflated: 0, slowDisconnects: 0 };

  private readonly numbering: ChannelNumbering;

  /**
   * `numbering` positional (cluster gateways) needs an `epoch` that every gateway shares: channel
   * epochs are then the hub's epoch alone, the same on every gateway and across restarts.
   */
  constructor(
    options: {
      limits?: Partial<HubLimits>;
      epoch?: string;
      formatter?: ChannelFormatter;
      numbering?: ChannelNumbering;
    } = {},
  ) {
    this.limits = { ...defaultHubLimits, ...options.limits };
    this.formatter = options.formatter;
    this.epoch = options.epoch ?? Date.now().toString(36);
    this.numbering = options.numbering ?? { kind: 'counter' };
  }

  addSource(source: ChannelSource): void {
    this.sources.push(source);
  }

  /** Starts the timer that retries conflated messages held for slow clients. */
  start(): void {
    this.timer ??= setInterval(() => this.flushPending(), this.limits.pendingFlushMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Attaches a socket; undefined (and the socket closed with 1013) when at `connectionsMax`. */
  connect(client: ChannelClient): HubConnection | undefined {
    if (this.connections.size >= this.limits.connectionsMax) {
      client.close(HubCloseCodes.tryAgainLater, 'CONNECTION_LIMIT');
      return undefined;
    }
    const connection = new HubConnection(client, this);
    this.connections.add(connection);
    return connection;
  }

  isWatched(channel: string): boolean {
    return this.channels.has(channel) || this.channels.has(channelKey(channel, 'engine'));
  }

  /**
   * A channel nobody ever subscribed to is skipped whole: nobody can see its messages or seq. The
   * data is formatted (once) only when the decimal channel exists.
   */
  publish(channelName: string, data: unknown): void {
    const decimal = this.channels.get(channelName);
    const engine = this.channels.get(channelKey(channelName, 'engine'));
    if (decimal !== undefined) this.publishTo(decimal, this.format(decimal, data));
    if (engine !== undefined) this.publishTo(engine, data);
  }

  private publishTo(channel: Channel, data: unknown): void {
    const encoded = channel.encode(data);
    this.counters.published += 1;
    for (const connection of channel.subscribers) this.deliver(connection, channel, encoded);
  }

  private format(channel: Channel, data: unknown): unknown {
    return this.formatter === undefined || channel.units === 'engine'
      ? data
      : this.formatter(channel.parsed, data);
  }

  /** Sends held conflated messages to clients whose buffers have drained. */
  flushPending(): void {
    for (const connection of this.connectionsWithPending) {
      if (connection.closed) {
        this.connectionsWithPending.delete(connection);
        continue;
      }
      if (connection.client.bufferedAmount > this.limits.conflateAboveBytes) continue;
      this.connectionsWithPending.delete(connection);
      for (const encoded of connection.pending.values()) this.send(connection, encoded);
      connection.pending.clear();
    }
  }

  stats(): HubStats {
    return { connections: this.connections.size, channels: this.channels.size, ...this.counters };
  }

  subscribe(connection: HubConnection, request: SubscribeRequest): void {
    const { id, ch, since, epoch } = request;
    if (typeof ch !== 'string' || (since !== undefined && !Number.isSafeInteger(since))) {
      this.reject(connection, id, 'subscribe', 'BAD_REQUEST', 'ch must be a string and since an integer');
      return;
    }
    const units = unitsOf(request.units);
    if (units === undefined) {
      this.reject(connection, id, 'subscribe', 'BAD_REQUEST', 'units must be "decimal" or "engine"');
      return;
    }
    const parsed = parseChannel(ch);
    const source = parsed === undefined ? undefined : this.sources.find((candidate) => candidate.has(parsed));
    if (parsed === undefined || source === undefined) {
      const shown = ch.slice(0, channelNameLengthMax);
      this.reject(connection, id, 'subscribe', 'UNKNOWN_CHANNEL', `no channel ${shown}`);
      return;
    }
    const channel = this.attach(connection, parsed, units);
    if (typeof channel === 'string') {
      const message = channel === 'SUBSCRIPTION_LIMIT' ? 'too many subscriptions' : 'too many channels';
      this.reject(connection, id, 'subscribe', channel, message);
      return;
    }
    const ack = {
      id: id ?? null,
      op: 'subscribe',
      ok: true,
      ch,
      units,
      seq: channel.seq,
      epoch: channel.epoch,
    };
    this.reply(connection, ack);
    this.catchUp(connection, channel, source, since, epoch);
  }

  /** Adds the connection to the channel's subscribers (made on first use), or says why not. */
  private attach(
    connection: HubConnection,
    parsed: ChannelName,
    units: ChannelUnits,
  ): Channel | HubErrorCode {
    let channel = this.channels.get(channelKey(parsed.name, units));
    if (channel !== undefined && connection.subscriptions.has(channel)) return channel;
    if (connection.subscriptions.size >= this.limits.subscriptionsPerConnectionMax)
      return 'SUBSCRIPTION_LIMIT';
    channel ??= this.createChannel(parsed, units);
    if (channel === undefined) return 'CHANNEL_LIMIT';
    connection.subscriptions.add(channel);
    channel.subscribers.add(connection);
    return channel;
  }

  unsubscribe(connection: HubConnection, request: UnsubscribeRequest): void {
    const units = unitsOf(request.units);
    const channel =
      typeof request.ch === 'string' && units !== undefined
        ? this.channels.get(channelKey(request.ch, units))
        : undefined;
    if (channel === undefined || !connection.subscriptions.has(channel)) {
      this.reject(connection, request.id, 'unsubscribe', 'NOT_SUBSCRIBED', 'not subscribed to that channel');
      return;
    }
    connection.subscriptions.delete(channel);
    channel.subscribers.delete(connection);
    connection.pending.delete(channel);
    this.reply(connection, { id: request.id ?? null, op: 'unsubscribe', ok: true, ch: request.ch });
  }

  reject(connection: HubConnection, id: unknown, op: string, code: HubErrorCode, message: string): void {
    this.reply(connection, { id: id ?? null, op, ok: false, error: { code, message } });
  }

  detach(connection: HubConnection): void {
    if (connection.closed) return;
    connection.closed = true;
    for (const channel of connection.subscriptions) channel.subscribers.delete(connection);
    connection.subscriptions.clear();
    connection.pending.clear();
    this.connections.delete(connection);
    this.connectionsWithPending.delete(connection);
  }

  /** Missed messages from history when all are kept and the epoch matches, else a snapshot. */
  private catchUp(
    connection: HubConnection,
    channel: Channel,
    source: ChannelSource,
    since: number | undefined,
    epoch: string | undefined,
  ): void {
    const sameEpoch = epoch === undefined || epoch === channel.epoch;
    const replay = since !== undefined && sameEpoch ? channel.replayAfter(since) : undefined;
    if (replay !== undefined) {
      for (const encoded of replay) this.send(connection, encoded);
      return;
    }
    const snapshot = this.format(channel, source.snapshot(channel.parsed));
    this.send(connection, channel.encodeSnapshot(snapshot, since !== undefined));
  }

  /**
   * At `channelsMax`, the oldest channel without subscribers makes room (a client coming back to
   * it later sees a new epoch and gets a reset snapshot); if every channel has one, none is made.
   */
  private createChannel(parsed: ChannelName, units: ChannelUnits): Channel | undefined {
    if (this.channels.size >= this.limits.channelsMax && !this.evictIdleChannel()) return undefined;
    this.channelsCreated += 1;
    const epoch =
      this.numbering.kind === 'positional'
        ? this.epoch
        : `${this.epoch}.${this.channelsCreated.toString(36)}`;
    const channel = new Channel(parsed, this.limits.historyMax, epoch, units, this.numbering);
    this.channels.set(channel.key, channel);
    return channel;
  }

  private evictIdleChannel(): boolean {
    for (const [name, channel] of this.channels) {
      if (channel.subscribers.size > 0) continue;
      this.channels.delete(name);
      return true;
    }
    return false;
  }

  private deliver(connection: HubConnection, channel: Channel, encoded: string): void {
    if (channel.conflated && connection.client.bufferedAmount > this.limits.conflateAboveBytes) {
      connection.pending.set(channel, encoded);
      this.connectionsWithPending.add(connection);
      this.counters.conflated += 1;
      return;
    }
    if (channel.conflated) connection.pending.delete(channel);
    this.send(connection, encoded);
  }

  private reply(connection: HubConnection, message: object): void {
    this.send(connection, JSON.stringify(message));
  }

  private send(connection: HubConnection, encoded: string): void {
    if (connection.closed) return;
    if (connection.client.bufferedAmount > this.limits.sendBufferBytesMax) {
      this.counters.slowDisconnects += 1;
      this.detach(connection);
      connection.client.close(HubCloseCodes.slowConsumer, 'SLOW_CONSUMER');
      return;
    }
    connection.client.send(encoded);
    this.counters.sent += 1;
  }
}

function unitsOf(value: unknown): ChannelUnits | undefined {
  if (value === undefined) return 'decimal';
  return (channelUnits as readonly unknown[]).includes(value) ? (value as ChannelUnits) : undefined;
}
