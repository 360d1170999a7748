// Ports between the layers (docs/ARCHITECTURE.md "Ports and adapters"). Each has an embedded adapter and a
// scaled-out one, and one contract test suite that every adapter passes.
import type { Command, EngineEvent } from './core/types.js';

/** A command after the sequencer stamped it: durable once `onApplied` sees it. */
export interface SequencedCommand {
  seq: number;
  /** Milliseconds since the epoch: the only clock read in the command path. */
  ts: number;
  command: Command;
}

/** What the engine did with one durable command (events copied out of the engine's buffer). */
export interface CommandOutcome {
  seq: number;
  ts: number;
  command: Command;
  events: EngineEvent[];
}

/**
 * What the read model's projections use of an outcome: the command itself is not needed (its
 * effects are all in the events), so the exchange does not send it to the read-model thread.
 */
export type OutcomeEvents = Pick<CommandOutcome, 'seq' | 'ts' | 'events'>;

/** Thrown (as a value with this code) when the inbound queue is at its bound: answer 503. */
export const QUEUE_FULL = 'QUEUE_FULL';

/**
 * The sequencer: bounded intake, sequence + timestamp, durable journal (group commit), then the
 * engine. `submit` resolves only after the command is durable and applied.
 */
export interface CommandSequencer {
  /** Rejects synchronously-fast with an Error whose `code` is QUEUE_FULL when the queue is full. */
  submit(command: Command): Promise<CommandOutcome>;
  /** Called for every applied command, in sequence order, after it is durable (also during recovery replay with `replaying = true`). */
  onApplied(listener: (outcome: CommandOutcome, replaying: boolean) => void): void;
  readonly queueDepth: number;
  readonly lastSeq: number;
  close(): Promise<void>;
}
