// The sequencer: bounded intake, sequence numbers and timestamps, group commit to the journal,
// then the engine. A batch is written (and fdatasync'd under the always policy), then applied
// in order, then its submit promises resolve and the onApplied listeners run: nothing leaves
// the process before the command is durable. Commands arriving while a batch is being synced
// wait in the queue and go out together in the next write.
import type { Logger } from 'pino';
import type { Command, MatchingEngine } from '../core/types.js';
import { type CommandOutcome, type CommandSequencer, QUEUE_FULL } from '../ports.js';
import { JournalError } from './errors.js';
import type { JournalWriter } from './journal-writer.js';
import type { SnapshotParticipant } from './participant.js';
import { decodeCommand, notCompact, type PayloadFormat, writeCompactCommand } from './payload.js';
import { endsWrite, recordHeaderBytes, recordPayloadBytesMax, sealRecord, startsWrite } from './record.js';
import type { SnapshotScheduler, SnapshotSource, SnapshotTaken } from './snapshot-scheduler.js';
import type { AcknowledgementWitness } from './witness.js';

export interface SequencerLimits {
  /** Commands waiting for the journal; one more is rejected with QUEUE_FULL at once. */
  inboundQueueMax: number;
  /** Commands in one journal write. */
  batchCommandsMax: number;
  /** Bytes in one journal write (a single command may exceed it up to recordPayloadBytesMax). */
  batchBytesMax: number;
}

export const defaultSequencerLimits: SequencerLimits = {
  inboundQueueMax: 65_536,
  batchCommandsMax: 4_096,
  batchBytesMax: 1 << 20,
};

export interface SequencerOptions extends SequencerLimits {
  engine: MatchingEngine;
  journal: JournalWriter;
  snapshots: SnapshotScheduler;
  logger: Logger;
  /** Milliseconds since the epoch; the only clock read in the command path. */
  clock: () => number;
  /** Last durable and applied sequence (from recovery). */
  lastSeq: number;
  lastTs: number;
  /** Called once when the journal fails. The default logs fatal and exits the process. */
  onFatal: (error: JournalError) => void;
  /** JSON for every command, or the compact form for place, cancel and amend. */
  payloadFormat?: PayloadFormat;
  /** Listeners whose derived state every snapshot captures with the engine's (participant.ts). */
  participants?: readonly SnapshotParticipant[];
  /** Records each acknowledged batch's last sequence (witness.ts); closed after the journal. */
  witness?: AcknowledgementWitness;
  /** Runs last in close(), after the journal and the witness are closed (releases the data directory lock). */
  afterClose?: () => Promise<void>;
}

export type Listener = (outcome: CommandOutcome, replaying: boolean) => void;

interface Pending {
  command: Command;
  resolve: (outcome: CommandOutcome) => void;
  reject: (error: Error) => void;
}

interface Batch {
  items: Pending[];
  /** Each command decoded from its journaled form: what the engine applies, live and on replay alike. */
  commands: Command[];
  firstSeq: number;
  ts: number;
  bytes: number;
}

export class Sequencer implements CommandSequencer {
  private readonly options: SequencerOptions;
  /** Waiting commands from `queueHead` on; slots before it are cleared as they are taken. */
  private readonly queue: Array<Pending | undefined> = [];
  private queueHead = 0;
  private readonly listeners: Listener[] = [];
  private readonly buffer: Buffer;
  private appliedSeq: number;
  private assignedSeq: number;
  private lastTs: number;
  private draining = false;
  private closing = false;
  private failure: JournalError | undefined;
  private readonly idleWaiters: Array<() => void> = [];
  /** Batches written so far (tests and benchmarks compare it with the commands). */
  batchesWritten = 0;

  constructor(options: SequencerOptions) {
    this.options = options;
    this.appliedSeq = options.lastSeq;
    this.assignedSeq = options.lastSeq;
    this.lastTs = options.lastTs;
    this.buffer = Buffer.allocUnsafe(options.batchBytesMax + recordHeaderBytes + recordPayloadBytesMax);
    options.journal.onFailure((error) => this.fail(error));
  }

  private readonly snapshotSource = (): SnapshotSource => ({
    engine: this.options.engine,
    participants: this.options.participants ?? [],
    lastSeq: this.appliedSeq,
    lastTs: this.lastTs,
  });

  get queueDepth(): number {
    return this.queue.length - this.queueHead;
  }

  get lastSeq(): number {
    return this.appliedSeq;
  }

  get engine(): MatchingEngine {
    return this.options.engine;
  }

  submit(command: Command): Promise<CommandOutcome> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.closing) return Promise.reject(new JournalError('SEQUENCER_CLOSED', 'the sequencer is closed'));
    if (this.queueDepth >= this.options.inboundQueueMax) {
      return Promise.reject(new JournalError(QUEUE_FULL, `${this.options.inboundQueueMax} commands waiting`));
    }
    return new Promise((resolve, reject) => {
      this.queue.push({ command, resolve, reject });
      this.startDraining();
    });
  }

  onApplied(listener: Listener): void {
    this.listeners.push(listener);
  }

  /** Snapshot on demand, of the state after every command applied so far. */
  snapshot(): Promise<SnapshotTaken> {
    return this.options.snapshots.take(this.snapshotSource);
  }

  /**
   * Stops intake, waits for queued commands and any snapshot being written (unless told not to:
   * a shutdown that gave up on a slow snapshot), syncs and closes the journal.
   */
  async close(options: { waitForSnapshot?: boolean } = {}): Promise<void> {
    this.closing = true;
    if (this.draining) await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    if (options.waitForSnapshot !== false) {
      await this.options.snapshots.idle();
      await this.options.snapshots.close();
    }
    await this.options.journal.close();
    await this.options.witness?.close();
    await this.options.afterClose?.();
  }

  private startDraining(): void {
    if (this.draining) return;
    this.draining = true;
    // setImmediate lets every submit of the current tick join the first write.
    setImmediate(() => {
      this.drainUntilIdle();
    });
  }

  private async drainUntilIdle(): Promise<void> {
    await this.drain();
    this.draining = false;
    // Submits made by callers woken by this drain's acks arrive after its last queue check.
    if (this.queueDepth > 0 && !this.failure) {
      this.startDraining();
      return;
    }
    for (const waiter of this.idleWaiters.splice(0)) waiter();
  }

  private async drain(): Promise<void> {
    while (this.queueDepth > 0 && !this.failure) {
      const batch = this.takeBatch();
      if (batch.items.length === 0) continue;
      try {
        await this.options.journal.append(this.buffer, batch.bytes, batch.firstSeq);
      } catch (error) {
        const failure = this.fail(
          error instanceof JournalError
            ? error
            : new JournalError('JOURNAL_FAILED', String(error), { cause: error }),
        );
        for (const item of batch.items) item.reject(failure);
        return;
      }
      this.batchesWritten++;
      // Before any of the batch is acknowledged: the witness then covers every ack a process crash
      // can leave behind (a page-cache write; witness.ts says when it reaches the disk).
      this.options.witness?.record(batch.firstSeq + batch.items.length - 1);
      this.applyBatch(batch);
      this.options.snapshots.afterBatch(this.snapshotSource, batch.items.length);
    }
  }

  /** Assigns sequences and the timestamp, and encodes the records into the write buffer. */
  private takeBatch(): Batch {
    // One clock read per batch; never backwards, so replayed time is monotonic too.
    const ts = Math.max(this.lastTs, this.options.clock());
    const batch: Batch = { items: [], commands: [], firstSeq: this.assignedSeq + 1, ts, bytes: 0 };
    const { batchCommandsMax, batchBytesMax } = this.options;
    let lastRecordOffset = 0;
    let lastPayloadBytes = 0;
    const compact = this.options.payloadFormat === 'compact';
    while (this.queueDepth > 0 && batch.items.length < batchCommandsMax && batch.bytes < batchBytesMax) {
      const item = this.head();
      const seq = this.assignedSeq + 1;
      const payloadStart = batch.bytes + recordHeaderBytes;
      const compactBytes = compact
        ? writeCompactCommand(this.buffer, payloadStart, item.command, seq, ts)
        : notCompact;
      let command: Command;
      let payloadBytes: number;
      if (compactBytes !== notCompact) {
        if (batch.items.length > 0 && payloadStart + compactBytes > batchBytesMax) break;
        payloadBytes = compactBytes;
        command = decodeCommand(this.buffer, payloadStart, payloadStart + payloadBytes);
      } else {
        const json = journalText(item.command, seq, ts);
        if (json === undefined) {
          this.dequeue();
          item.reject(
            new JournalError(
              'COMMAND_UNENCODABLE',
              'the command is not a JSON object within the record bound',
            ),
          );
          continue;
        }
        // UTF-8 needs at most 3 bytes per UTF-16 unit: a bound that needs no second encoding pass.
        if (batch.items.length > 0 && payloadStart + json.length * 3 > batchBytesMax) break;
        payloadBytes = this.buffer.write(json, payloadStart, 'utf8');
        // Applying the decoded journal text, not the caller's object, makes a live run and a replay
        // see identical input even for values JSON cannot carry (undefined, NaN, -0).
        command = JSON.parse(json) as Command;
      }
      this.dequeue();
      lastRecordOffset = batch.bytes;
      lastPayloadBytes = payloadBytes;
      const flags = batch.items.length === 0 ? startsWrite : 0;
      batch.bytes = sealRecord(this.buffer, batch.bytes, seq, payloadBytes, flags);
      batch.items.push(item);
      batch.commands.push(command);
      this.assignedSeq = seq;
    }
    // Marks where the write ends (its first record was marked as it was sealed): recovery uses the
    // boundaries to tell a torn last write from damage in acknowledged data.
    if (batch.items.length > 0) {
      const flags = batch.items.length === 1 ? startsWrite | endsWrite : endsWrite;
      sealRecord(this.buffer, lastRecordOffset, this.assignedSeq, lastPayloadBytes, flags);
    }
    return batch;
  }

  private applyBatch(batch: Batch): void {
    const { engine } = this.options;
    for (let index = 0; index < batch.items.length; index++) {
      const command = batch.commands[index];
      const seq = batch.firstSeq + index;
      // Events are owned by the engine until the next apply: copy them out.
      let events: CommandOutcome['events'];
      try {
        events = engine.apply(command).map((event) => ({ ...event }));
      } catch (cause) {
        const error = new JournalError(
          'ENGINE_FAILED',
          `engine.apply threw at sequence ${seq}: ${String(cause)}`,
          { cause },
        );
        for (const item of batch.items.slice(index)) item.reject(error);
        this.fail(error);
        return;
      }
      const outcome: CommandOutcome = { seq, ts: batch.ts, command, events };
      this.appliedSeq = seq;
      this.lastTs = batch.ts;
      batch.items[index].resolve(outcome);
      notifyListeners(this.listeners, outcome, false, this.options.logger);
    }
  }

  private head(): Pending {
    const item = this.queue[this.queueHead];
    if (item === undefined) throw new Error('sequencer queue is empty');
    return item;
  }

  private dequeue(): void {
    // Cleared at once: a taken command and its promise would otherwise stay reachable until the next
    // compaction, up to a thousand of them surviving every young-generation collection.
    this.queue[this.queueHead] = undefined;
    this.queueHead++;
    if (this.queueHead === this.queue.length) {
      this.queue.length = 0;
      this.queueHead = 0;
      return;
    }
    // Compact once the consumed prefix dominates, keeping the array bounded by inboundQueueMax.
    if (this.queueHead >= 1024 && this.queueHead * 2 >= this.queue.length) {
      this.queue.splice(0, this.queueHead);
      this.queueHead = 0;
    }
  }

  /** Records the first failure (later ones are consequences) and returns it. */
  private fail(error: JournalError): JournalError {
    if (this.failure) return this.failure;
    this.failure = error;
    this.options.logger.fatal({ err: error }, 'journal failed: stopping, no further command is acknowledged');
    while (this.queueDepth > 0) {
      const item = this.head();
      this.dequeue();
      item.reject(error);
    }
    this.options.onFatal(error);
    return error;
  }
}

/** Runs every listener; one that throws is logged and does not stop the others or the engine. */
export function notifyListeners(
  listeners: readonly Listener[],
  outcome: CommandOutcome,
  replaying: boolean,
  logger: Logger,
): void {
  for (const listener of listeners) {
    try {
      listener(outcome, replaying);
    } catch (error) {
      logger.error({ err: error, seq: outcome.seq }, 'onApplied listener threw');
    }
  }
}

/**
 * An `oco` without ids gets `id = seq` for leg A and `stopId = seq + ocoStopIdOffset` for leg B:
 * sequence numbers stay far below 2^52 (a million commands a second for 140 years), so leg B's
 * id never meets a sequence number, and every id stays a safe integer.
 */
export const ocoStopIdOffset = 2 ** 52;

/**
 * The command as journaled, as JSON: with its `ts`, and for a place or an offering without id
 * the sequence as its id (unique for ever, and the same on replay: no caller has to pick one);
 * an `oco` without ids gets both (`ocoStopIdOffset`). Undefined when the command is not a JSON
 * object or exceeds the record bound.
 */
export function journalText(command: Command, seq: number, ts: number): string | undefined {
  if (command === null || typeof command !== 'object' || Array.isArray(command)) return undefined;
  const fields = command as unknown as Record<string, unknown>;
  const op = fields.op;
  const needsId =
    (op === 'place' || op === 'offering' || op === 'oco') && (fields.id === undefined || fields.id === null);
  const needsStopId = op === 'oco' && needsId && (fields.stopId === undefined || fields.stopId === null);
  let json: string | undefined;
  try {
    if ('ts' in fields || (needsId && 'id' in fields) || (needsStopId && 'stopId' in fields)) {
      const ids = needsStopId ? { id: seq, stopId: seq + ocoStopIdOffset } : needsId ? { id: seq } : {};
      json = JSON.stringify({ ...fields, ts, ...ids });
    } else {
      // Appending to the caller's JSON avoids copying the object (a measurable share of the cost).
      const body = JSON.stringify(fields);
      if (!body.endsWith('}')) return undefined;
      const stopId = needsStopId ? `"stopId":${seq + ocoStopIdOffset},` : '';
      const suffix = needsId ? `"id":${seq},${stopId}"ts":${ts}}` : `"ts":${ts}}`;
      json = body === '{}' ? `{${suffix}` : `${body.slice(0, -1)},${suffix}`;
    }
  } catch {
    return undefined;
  }
  return json.length * 3 <= recordPayloadBytesMax ? json : undefined;
}
