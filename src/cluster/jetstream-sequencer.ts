// The CommandSequencer of a cluster gateway: a command is published to `<prefix>_CMD` (its PubAck
// gives its sequence) and answered once its outcome arrives from `<prefix>_EVT`, read in order
// by this gateway from a start sequence (1: every gateway derives its whole state from EVT). So
// a command is acknowledged only after CMD stored it AND its outcome is in EVT. Every outcome is
// also applied to a local follower engine (the gateway's queries: balances, books) and shown to
// the onApplied listeners in sequence order, before the submit it answers resolves.
//
// A place or oco with a clientOrderId is published with Nats-Msg-Id `order:<user>:<clientOrderId>`:
// a retry within the streams' duplicate window (through any gateway) gets the original sequence,
// and is answered with the original outcome. Bounded: at most `pendingMax` commands wait for an
// outcome (one more is refused with QUEUE_FULL), each for at most `timeoutMs` (COMMAND_TIMEOUT:
// the command may still apply; its outcome then reaches the listeners as usual).
import { randomUUID } from 'node:crypto';
import {
  JetStreamApiError,
  type JetStreamClient,
  type JetStreamManager,
  type JetStreamPublishOptions,
  type PubAck,
} from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import type { Command, MatchingEngine } from '../core/types.js';
import { type Listener, notifyListeners } from '../journal/sequencer.js';
import { type CommandOutcome, type CommandSequencer, QUEUE_FULL } from '../ports.js';
import { AckedPublisher } from './acked-publisher.js';
import { ClusterError } from './errors.js';
import { commandMsgId, type DecodedOutcome, decodeOutcome, encodeCommand } from './outcome-codec.js';
import { type StreamMessage, StreamReader } from './stream-reader.js';
import type { StreamNames } from './streams.js';
import { TickBatch } from './tick-batch.js';

export interface JetStreamSequencerOptions {
  js: JetStreamClient;
  /** The connection under `js` (its reconnects recreate the EVT consumer). */
  nc?: NatsConnection;
  jsm: JetStreamManager;
  names: StreamNames;
  logger: Logger;
  pendingMax: number;
  timeoutMs: number;
  heartbeatMs: number;
  /** Follower engine every outcome's command is applied to (in order), before the listeners run. */
  engine?: MatchingEngine;
  /** Registered before the first outcome is read (they see the catch-up with replaying = true). */
  listeners?: readonly Listener[];
  /** First EVT sequence to read; 1 unless the caller restored state up to fromSeq - 1. */
  fromSeq?: number;
}

/** Wait before the next publish attempt: 50 ms doubling to 1 s. */
function publishRetryMs(attempt: number): number {
  return Math.min(1_000, 50 * 2 ** attempt);
}

interface Waiter {
  resolve: (outcome: CommandOutcome) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

export class JetStreamSequencer implements CommandSequencer {
  private readonly listeners: Listener[] = [];
  private readonly waiters = new Map<number, Waiter>();
  private pending = 0;
  private appliedSeq: number;
  private closed = false;
  private reader: StreamReader | undefined;
  /** Outcomes up to here were already in EVT when the sequencer opened: shown as replaying. */
  private catchUpSeq = 0;
  private caughtUp: (() => void) | undefined;
  /** Names this sequencer's commands' msg ids (with a counter): unique across gateways and restarts. */
  private readonly instanceId = `cmd:${randomUUID()}`;
  private published = 0;
  /** This turn's command publishes, sent together (one socket write). */
  private readonly publishes = new TickBatch();
  /** Matches PubAcks without a request per publish (when the connection is given). */
  private readonly publisher: AckedPublisher | undefined;

  private constructor(private readonly options: JetStreamSequencerOptions) {
    this.appliedSeq = (options.fromSeq ?? 1) - 1;
    this.publisher = options.nc === undefined ? undefined : new AckedPublisher(options.nc);
    for (const listener of options.listeners ?? []) this.listeners.push(listener);
  }

  /** Opens and reads EVT up to its last sequence at the time of opening before resolving. */
  static async open(options: JetStreamSequencerOptions): Promise<JetStreamSequencer> {
    const sequencer = new JetStreamSequencer(options);
    const info = await options.jsm.streams.info(options.names.evtStream);
    sequencer.catchUpSeq = info.state.last_seq;
    const ready =
      sequencer.appliedSeq >= sequencer.catchUpSeq
        ? Promise.resolve()
        : new Promise<void>((resolve) => {
            sequencer.caughtUp = resolve;
          });
    sequencer.reader = new StreamReader({
      js: options.js,
      nc: options.nc,
      stream: options.names.evtStream,
      fromSeq: sequencer.appliedSeq + 1,
      heartbeatMs: options.heartbeatMs,
      logger: options.logger,
      handle: (message) => sequencer.handle(message),
    });
    await ready;
    return sequencer;
  }

  get queueDepth(): number {
    return this.pending;
  }

  get lastSeq(): number {
    return this.appliedSeq;
  }

  onApplied(listener: Listener): void {
    this.listeners.push(listener);
  }

  submit(command: Command): Promise<CommandOutcome> {
    if (this.closed) return Promise.reject(new ClusterError('SEQUENCER_CLOSED', 'the sequencer is closed'));
    if (this.pending >= this.options.pendingMax) {
      return Promise.reject(new ClusterError(QUEUE_FULL, `${this.options.pendingMax} commands waiting`));
    }
    this.pending++;
    return this.publishAndWait(command).finally(() => {
      this.pending--;
    });
  }

  private async publishAndWait(command: Command): Promise<CommandOutcome> {
    const { names, timeoutMs } = this.options;
    // Every command has a msg id, so a publish whose PubAck was lost (a NATS node dying, a stream
    // leader moving) is retried without the risk of storing it twice.
    const msgID = commandMsgId(command) ?? `${this.instanceId}:${++this.published}`;
    const deadline = performance.now() + timeoutMs;
    const body = encodeCommand(command);
    let seq: number | undefined;
    for (let attempt = 0; seq === undefined; attempt++) {
      const leftMs = deadline - performance.now();
      try {
        const ack = await this.publishSoon(names.cmdSubject, body, { timeout: Math.max(1, leftMs), msgID });
        seq = ack.seq;
      } catch (cause) {
        if (this.closed || performance.now() + publishRetryMs(attempt) >= deadline) {
          throw new ClusterError(
            'COMMAND_NOT_STORED',
            `the command stream did not store the command: ${String(cause)}`,
            {
              cause,
            },
          );
        }
        this.options.logger.warn(
          { err: cause, attempt },
          'command publish failed; retrying with the same msg id',
        );
        await new Promise((resolve) => setTimeout(resolve, publishRetryMs(attempt)));
      }
    }
    if (seq <= this.appliedSeq) return this.storedOutcome(seq);
    return new Promise<CommandOutcome>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(seq);
        reject(new ClusterError('COMMAND_TIMEOUT', `no outcome for command ${seq} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.set(seq, { resolve, reject, timer });
    });
  }

  private publishSoon(
    subject: string,
    body: Uint8Array,
    options: Partial<JetStreamPublishOptions>,
  ): Promise<PubAck> {
    return new Promise<PubAck>((resolve, reject) => {
      this.publishes.add(() => {
        if (this.publisher === undefined)
          this.options.js.publish(subject, body, options).then(resolve, reject);
        else
          this.publisher
            .publish(subject, body, { msgID: options.msgID, timeoutMs: options.timeout ?? 5_000 })
            .then(resolve, reject);
      });
    });
  }

  /** A duplicate's original outcome, read back from EVT (its listeners ran long ago). */
  private async storedOutcome(seq: number): Promise<CommandOutcome> {
    let stored: Awaited<ReturnType<JetStreamManager['streams']['getMessage']>>;
    try {
      stored = await this.options.jsm.streams.getMessage(this.options.names.evtStream, { seq });
    } catch (error) {
      if (!(error instanceof JetStreamApiError)) throw error;
      stored = null;
    }
    if (stored === null) throw new ClusterError('OUTCOME_MISSING', `no outcome ${seq} in the event stream`);
    return settledOutcome(decodeOutcome(stored.data));
  }

  private handle(message: StreamMessage): void {
    let outcome: DecodedOutcome;
    try {
      outcome = decodeOutcome(message.data);
    } catch (error) {
      this.options.logger.fatal({ err: error, seq: message.seq }, 'unreadable outcome in the event stream');
      throw error;
    }
    if (outcome.seq !== message.seq) {
      this.options.logger.error(
        { seq: message.seq, outcomeSeq: outcome.seq },
        'outcome stored at another sequence',
      );
    }
    if (outcome.command !== null && this.options.engine !== undefined)
      this.options.engine.apply(outcome.command);
    this.appliedSeq = message.seq;
    notifyListeners(this.listeners, outcome, message.seq <= this.catchUpSeq, this.options.logger);
    const waiter = this.waiters.get(message.seq);
    if (waiter !== undefined) {
      this.waiters.delete(message.seq);
      clearTimeout(waiter.timer);
      try {
        waiter.resolve(settledOutcome(outcome));
      } catch (error) {
        waiter.reject(error as Error);
      }
    }
    if (this.caughtUp !== undefined && message.seq >= this.catchUpSeq) {
      this.caughtUp();
      this.caughtUp = undefined;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.publisher?.close();
    await this.reader?.close();
    for (const [seq, waiter] of this.waiters) {
      clearTimeout(waiter.timer);
      waiter.reject(new ClusterError('SEQUENCER_CLOSED', `closed before the outcome of command ${seq}`));
    }
    this.waiters.clear();
  }
}

/** The outcome a submit resolves with; an unencodable command is an error, as in the journal's sequencer. */
function settledOutcome(outcome: DecodedOutcome): CommandOutcome {
  if (outcome.error !== undefined) {
    throw new ClusterError(outcome.error, 'the command is not a JSON object within the record bound');
  }
  return { seq: outcome.seq, ts: outcome.ts, command: outcome.command, events: outcome.events };
}
