// Errors of the durability layer: values with stable codes. Never reuse or rename a code.
import { QUEUE_FULL } from '../ports.js';

export const JournalErrorCodes = [
  QUEUE_FULL,
  /** A write or fdatasync failed: the process must stop, nothing after it is acknowledged. */
  'JOURNAL_FAILED',
  /** submit after close() */
  'SEQUENCER_CLOSED',
  /** A record in the middle of the log is damaged: recovery refuses to start. */
  'JOURNAL_CORRUPT',
  /** Sequences do not continue across segments or from the snapshot. */
  'JOURNAL_GAP',
  /** No snapshot could be loaded and the journal does not start at sequence 1. */
  'SNAPSHOT_UNUSABLE',
  /** A snapshot file fails its checksum or format check. */
  'SNAPSHOT_CORRUPT',
  /** The engine's state hash after loading a snapshot differs from the one written with it. */
  'SNAPSHOT_HASH_MISMATCH',
  /** export needs the whole history but older segments were removed after a snapshot. */
  'HISTORY_INCOMPLETE',
  /** A command cannot be encoded (JSON.stringify fails) or exceeds the record bound. */
  'COMMAND_UNENCODABLE',
  /** engine.apply threw: a bug; the process stops rather than diverge from the journal. */
  'ENGINE_FAILED',
  /** A snapshot participant threw while restoring its state from a checksummed snapshot. */
  'SNAPSHOT_PARTICIPANT_FAILED',
  /** Another process holds the data directory (or PGlite directory); the message names its pid. */
  'DATA_DIR_LOCKED',
  /**
   * The journal ends below the highest sequence the acknowledgement witness recorded: damage
   * reached acknowledged commands. Starting needs the operator's --accept-data-loss.
   */
  'ACKNOWLEDGED_DATA_LOST',
] as const;
export type JournalErrorCode = (typeof JournalErrorCodes)[number];

export class JournalError extends Error {
  readonly code: JournalErrorCode;

  constructor(code: JournalErrorCode, message: string, options?: { cause?: unknown }) {
    super(`${code}: ${message}`, options);
    this.name = 'JournalError';
    this.code = code;
  }
}
