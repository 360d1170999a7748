// Snapshot participants: listeners that derive state from applied commands (the gateway's
// registries, market data) and put it into the engine's snapshot, at exactly the snapshot's
// sequence, so that a restart can start them from the snapshot instead of replaying the whole
// journal through them.
//
// Contract:
// - `exportState()` runs synchronously between two batches, right after engine.exportState(),
//   inside the pause of intake: keep it cheap. It returns plain JSON data (no Map, BigInt,
//   undefined-in-arrays) that does not share mutable objects with the live structures, because
//   the snapshot is serialised in the background while later commands keep changing them. To
//   copy only what may still change, a part may be a DeferredArray (deferred-json.ts) whose
//   elements are built during that serialisation from immutable records or from values copied
//   in the pause.
// - `restoreState(state)` runs during recovery, after the snapshot loaded and before the first
//   tail record is replayed, on a participant that has seen nothing yet. It replaces the whole
//   derived state; it throws on state it cannot read (recovery then refuses to start, naming
//   the participant and the file: SNAPSHOT_PARTICIPANT_FAILED).
// - `readsState(state)` (optional) tells, before anything is restored, whether the participant
//   reads this form of its state at all: a snapshot whose state it does not (written by a newer
//   version, say) is passed over like one that lacks the participant, so recovery starts from an
//   older snapshot or replays the whole journal instead of refusing to start.
import { JournalError } from './errors.js';

export interface SnapshotParticipant {
  /** Key in the snapshot's `participants` object; unique among the registered participants. */
  readonly name: string;
  exportState(): unknown;
  restoreState(state: unknown): void;
  readsState?(state: unknown): boolean;
}

/** Participants per sequencer: each one costs pause time, so the list stays short. */
export const snapshotParticipantsMax = 16;

/** Rejects duplicate or too many participants at start-up, before any file is touched. */
export function checkParticipants(participants: readonly SnapshotParticipant[]): void {
  if (participants.length > snapshotParticipantsMax) {
    throw new Error(`at most ${snapshotParticipantsMax} snapshot participants, got ${participants.length}`);
  }
  const names = new Set<string>();
  for (const participant of participants) {
    if (participant.name === '' || names.has(participant.name)) {
      throw new Error(`snapshot participant names must be unique and non-empty: "${participant.name}"`);
    }
    names.add(participant.name);
  }
}

/** Every participant's state, keyed by name: called inside the snapshot pause. */
export function captureParticipants(participants: readonly SnapshotParticipant[]): Record<string, unknown> {
  const states: Record<string, unknown> = {};
  for (const participant of participants) states[participant.name] = participant.exportState();
  return states;
}

/** Names of registered participants whose state the snapshot does not hold, or not in a form they read. */
export function missingParticipants(
  participants: readonly SnapshotParticipant[],
  states: Record<string, unknown> | undefined,
): string[] {
  return participants
    .filter(
      (participant) =>
        states === undefined ||
        !Object.hasOwn(states, participant.name) ||
        participant.readsState?.(states[participant.name]) === false,
    )
    .map((participant) => participant.name);
}

/** Hands each participant its state; a participant that cannot read its state stops recovery. */
export function restoreParticipants(
  participants: readonly SnapshotParticipant[],
  states: Record<string, unknown>,
  file: string,
): void {
  for (const participant of participants) {
    try {
      participant.restoreState(states[participant.name]);
    } catch (cause) {
      throw new JournalError(
        'SNAPSHOT_PARTICIPANT_FAILED',
        `${file}: participant "${participant.name}" could not restore its state: ${String(cause)}`,
        { cause },
      );
    }
  }
}
