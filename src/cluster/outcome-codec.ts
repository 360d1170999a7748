// The bytes of one outcome in `<prefix>_EVT`: every engine replica produces exactly these bytes
// for the same command (same engine, same input, deterministic JSON), which is what lets a
// replica whose fenced append lost compare its own outcome with the stored one byte for byte.
//
//   {"seq":S,"ts":T,"command":<the command as journaled>,"events":[…]}           normally
//   {"seq":S,"ts":T,"command":null,"events":[],"error":"COMMAND_UNENCODABLE"}    unreadable input
//   …,"hash":"<engine.stateHash() after S>"}                                    every N commands
import type { Command, EngineEvent } from '../core/types.js';
import type { CommandOutcome } from '../ports.js';

export interface DecodedOutcome extends CommandOutcome {
  /** Set when the command could not be applied at all (then `command` is null and events empty). */
  error?: string;
  hash?: string;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeOutcome(
  seq: number,
  ts: number,
  commandJson: string | undefined,
  events: readonly EngineEvent[],
  hash: string | undefined,
): Uint8Array {
  const head = `{"seq":${seq},"ts":${ts},`;
  const body =
    commandJson === undefined
      ? '"command":null,"events":[],"error":"COMMAND_UNENCODABLE"'
      : `"command":${commandJson},"events":${JSON.stringify(events)}`;
  const tail = hash === undefined ? '}' : `,"hash":${JSON.stringify(hash)}}`;
  return encoder.encode(head + body + tail);
}

export class OutcomeDecodeError extends Error {
  readonly code = 'OUTCOME_UNREADABLE';
}

export function decodeOutcome(bytes: Uint8Array): DecodedOutcome {
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(bytes));
  } catch (error) {
    throw new OutcomeDecodeError(`an outcome is not JSON: ${String(error)}`);
  }
  const fields = value as Partial<DecodedOutcome> | null;
  if (
    fields === null ||
    typeof fields !== 'object' ||
    !Number.isSafeInteger(fields.seq) ||
    !Number.isSafeInteger(fields.ts) ||
    !Array.isArray(fields.events)
  ) {
    throw new OutcomeDecodeError('an outcome lacks seq, ts or events');
  }
  return fields as DecodedOutcome;
}

export function sameBytes(left: Uint8Array, right: Uint8Array): boolean {
  return Buffer.from(left.buffer, left.byteOffset, left.byteLength).equals(
    Buffer.from(right.buffer, right.byteOffset, right.byteLength),
  );
}

/** The commands a gateway publishes: what one CMD message holds. */
export function encodeCommand(command: Command): Uint8Array {
  return encoder.encode(JSON.stringify(command));
}

/** The Nats-Msg-Id that makes a retried order a duplicate: the user's clientOrderId. */
export function commandMsgId(command: Command): string | undefined {
  const fields = command as unknown as { op?: unknown; user?: unknown; clientOrderId?: unknown };
  if ((fields.op === 'place' || fields.op === 'oco') && typeof fields.clientOrderId === 'string') {
    return `order:${String(fields.user)}:${fields.clientOrderId}`;
  }
  return undefined;
}
