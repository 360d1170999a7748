// An in-memory CommandSequencer for gateway unit tests: applies each command to the real engine at
// once (no journal). It passes the same contract as the journal's Sequencer
// (test/journal/sequencer.contract.ts), so a test that uses it sees what the product would do.
import type { Engine } from '../../../src/core/engine.js';
import type { Command } from '../../../src/core/types.js';
import { ocoStopIdOffset } from '../../../src/journal/sequencer.js';
import { type CommandOutcome, type CommandSequencer, QUEUE_FULL } from '../../../src/ports.js';

/**
 * Applies each command at once (no journal); `full` makes submit refuse like a full queue, and a
 * closed one refuses every command, as the journal's sequencer does.
 */
export class MemorySequencer implements CommandSequencer {
  full = false;
  lastSeq = 0;
  /** Every command as the gateway submitted it (before the stamps). */
  readonly submitted: Command[] = [];
  readonly queueDepth = 0;
  private closed = false;
  private readonly listeners: Array<(outcome: CommandOutcome, replaying: boolean) => void> = [];

  constructor(readonly engine: Engine) {}

  async submit(command: Command): Promise<CommandOutcome> {
    if (this.closed) throw Object.assign(new Error('the sequencer is closed'), { code: 'SEQUENCER_CLOSED' });
    if (this.full) throw Object.assign(new Error('queue full'), { code: QUEUE_FULL });
    this.lastSeq += 1;
    this.submitted.push(command);
    // Ids as the journal's sequencer stamps them: the sequence, and for an OCO's leg B the
    // sequence plus ocoStopIdOffset.
    const stamped = { ...command, ts: 1_000 + this.lastSeq } as Command & { id?: number; stopId?: number };
    if ((stamped.op === 'place' || stamped.op === 'oco') && stamped.id === undefined)
      stamped.id = this.lastSeq;
    if (stamped.op === 'oco' && stamped.stopId === undefined) stamped.stopId = this.lastSeq + ocoStopIdOffset;
    const events = this.engine.apply(stamped).map((event) => ({ ...event }));
    const outcome = { seq: this.lastSeq, ts: 1_000 + this.lastSeq, command: stamped, events };
    for (const listener of this.listeners) listener(outcome, false);
    return outcome;
  }

  onApplied(listener: (outcome: CommandOutcome, replaying: boolean) => void): void {
    this.listeners.push(listener);
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}
