// Builds a small multi-segment journal with the toy engine, and the state hash after every prefix
// of it, so damage tests can check exactly what recovery kept.
import { cpSync, readFileSync } from 'node:fs';
import type { Command } from '../../src/core/types.js';
import { openSequencer } from '../../src/journal/durable.js';
import type { PayloadFormat } from '../../src/journal/payload.js';
import { decodeRecord } from '../../src/journal/record.js';
import { listDataDirectory, scanSegment } from '../../src/journal/segment.js';
import { writeWitnessFile } from '../../src/journal/witness.js';
import { depositCommand, recordingLogger, temporaryDirectory } from './helpers.js';
import { ToyEngine, toyEngines } from './toy-engine.js';

export interface JournalFixture {
  directory: string;
  remove: () => void;
  /** Journaled commands, index i has sequence i + 1. */
  commands: Command[];
  /** prefixHashes[n]: state hash after the first n commands. */
  prefixHashes: string[];
  /** Segment paths oldest first, with the start offset of every record and whether it ends its write. */
  segments: Array<{ path: string; recordStarts: number[]; endsWrite: boolean[]; bytes: number }>;
}

/**
 * With `compact`, every other command is a place, written in the compact form; deposits are
 * always JSON, so the journal mixes both payload forms.
 */
export async function buildFixture(
  commandCount: number,
  segmentBytesMax: number,
  payloadFormat: PayloadFormat = 'json',
): Promise<JournalFixture> {
  const directory = temporaryDirectory('fixture');
  const { sequencer } = await openSequencer({
    dataDir: directory.path,
    engines: toyEngines,
    logger: recordingLogger().logger,
    segmentBytesMax,
    snapshotEveryMs: 0,
    payloadFormat,
  });
  const commands: Command[] = [];
  for (let start = 0; start < commandCount; start += 5) {
    const group = Array.from({ length: Math.min(5, commandCount - start) }, (_, index) =>
      sequencer.submit(fixtureCommand(start + index, payloadFormat)),
    );
    for (const outcome of await Promise.all(group)) commands.push(outcome.command);
  }
  await sequencer.close();
  const engine = new ToyEngine();
  const prefixHashes = [engine.stateHash()];
  for (const command of commands) {
    engine.apply(command);
    prefixHashes.push(engine.stateHash());
  }
  const segments = listDataDirectory(directory.path).segments.map((segment) => {
    const bytes = readFileSync(segment.path);
    const recordStarts: number[] = [];
    scanSegment(bytes, segment.seq, (_seq, _bytes, payloadStart) => recordStarts.push(payloadStart - 16));
    const endsWrite = recordStarts.map((start) => {
      const record = decodeRecord(bytes, start, bytes.length);
      return record.ok && record.endsWrite;
    });
    return { path: segment.path, recordStarts, endsWrite, bytes: bytes.length };
  });
  return { directory: directory.path, remove: directory.remove, commands, prefixHashes, segments };
}

/**
 * A fresh copy of the fixture's data directory; returns its path. Its acknowledgement witness is
 * set to `witnessSeq`, by default to what a crash during the last write leaves: everything before
 * that write acknowledged, the write itself not (witness.ts).
 */
export function copyOf(
  fixture: JournalFixture,
  label: string,
  witnessSeq = lastWriteFirstSeq(fixture) - 1,
): { path: string; remove: () => void } {
  const copy = temporaryDirectory(label);
  cpSync(fixture.directory, copy.path, { recursive: true });
  writeWitnessFile(copy.path, witnessSeq);
  return copy;
}

/** Sequence of the first record of the journal's last write. */
export function lastWriteFirstSeq(fixture: JournalFixture): number {
  const last = fixture.segments[fixture.segments.length - 1];
  const before = fixture.segments.slice(0, -1).reduce((sum, segment) => sum + segment.recordStarts.length, 0);
  return before + lastWriteFirstRecord(last) + 1;
}

/** Index of the first record of the last write in a segment. */
export function lastWriteFirstRecord(segment: JournalFixture['segments'][number]): number {
  const closedBefore = segment.endsWrite.slice(0, -1).lastIndexOf(true);
  return closedBefore + 1;
}

function fixtureCommand(index: number, payloadFormat: PayloadFormat): Command {
  if (payloadFormat === 'json' || index % 2 === 0) return depositCommand(index);
  return {
    op: 'place',
    user: 1,
    id: index,
    symbol: 'BTC-KRW',
    side: 'buy',
    type: 'limit',
    qty: 1,
    price: 100 + index,
  };
}
