// One call that recovers a data directory and returns a running sequencer on top of it: what
// `hoga start`, the crash-test child and the benchmarks use.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { type Logger, pino } from 'pino';
import { lockDirectory } from './data-dir-lock.js';
import type { JournalError } from './errors.js';
import { type JournalFileSystem, nodeFileSystem } from './file-system.js';
import { type FsyncPolicy, JournalWriter } from './journal-writer.js';
import { checkParticipants, type SnapshotParticipant } from './participant.js';
import type { PayloadFormat } from './payload.js';
import { type EngineFactory, type Recovered, recover } from './recovery.js';
import { defaultSequencerLimits, type Listener, Sequencer, type SequencerLimits } from './sequencer.js';
import { type SnapshotPolicy, SnapshotScheduler } from './snapshot-scheduler.js';
import { AcknowledgementWitness } from './witness.js';

export interface JournalSettings extends SequencerLimits, SnapshotPolicy {
  dataDir: string;
  fsyncPolicy: FsyncPolicy;
  /** A segment is closed and a new one started once it would grow past this. */
  segmentBytesMax: number;
  syncIntervalMs: number;
  syncBytesMax: number;
  /** fdatasync inline while the last inline one took at most this (µs); 0: always the libuv pool. */
  inlineSyncUsMax: number;
  /**
   * How commands are written: `compact` writes place, cancel and amend in a binary form that
   * replays about twice as many commands per CPU second as JSON (see payload.ts). Either form
   * reads back, so the setting can change between starts.
   */
  payloadFormat: PayloadFormat;
}

export const defaultJournalSettings: JournalSettings = {
  ...defaultSequencerLimits,
  dataDir: './data',
  fsyncPolicy: 'always',
  segmentBytesMax: 64 << 20,
  syncIntervalMs: 10,
  syncBytesMax: 4 << 20,
  inlineSyncUsMax: 1_000,
  payloadFormat: 'json',
  snapshotEveryCommands: 1_000_000,
  snapshotEveryMs: 10 * 60_000,
  retainSegments: false,
  snapshotStateHash: true,
};

export interface OpenSequencerOptions extends Partial<JournalSettings> {
  engines: EngineFactory;
  logger?: Logger;
  fileSystem?: JournalFileSystem;
  clock?: () => number;
  /** Registered before replay, so they see replayed commands (replaying = true) and then live ones. */
  listeners?: readonly Listener[];
  /**
   * Listeners' derived state that snapshots carry (participant.ts): restored from the snapshot
   * recovery starts at, before the tail replays through `listeners`, and captured with every
   * snapshot. A snapshot without one of them is passed over for an older one or a full replay.
   */
  participants?: readonly SnapshotParticipant[];
  onFatal?: (error: JournalError) => void;
  onProgress?: (bytesDone: number, bytesTotal: number) => void;
  /**
   * Start even when the journal ends below the acknowledgement witness (the operator's
   * --accept-data-loss); the sequence then continues above every acknowledged one.
   */
  acceptDataLoss?: boolean;
  /**
   * Whether openSequencer locks the data directory itself (released by close()). False when the
   * caller already holds the lock (`hoga start` locks the data and PGlite directories together).
   */
  lockDataDir?: boolean;
  /** What a second opener is told the lock holder runs. */
  lockPurpose?: string;
}

export interface OpenedSequencer {
  sequencer: Sequencer;
  recovered: Recovered;
  journal: JournalWriter;
  snapshots: SnapshotScheduler;
}

export function defaultLogger(): Logger {
  return pino({ name: 'journal' }, pino.destination(2));
}

/** Stops the process: after a failed fdatasync nothing may be acknowledged again. */
function exitOnFatal(): void {
  process.exitCode = 70;
  setImmediate(() => process.exit(70));
}

export async function openSequencer(options: OpenSequencerOptions): Promise<OpenedSequencer> {
  const settings: JournalSettings = { ...defaultJournalSettings, ...definedOnly(options) };
  const logger = options.logger ?? defaultLogger();
  const fileSystem = options.fileSystem ?? nodeFileSystem;
  const clock = options.clock ?? Date.now;
  mkdirSync(settings.dataDir, { recursive: true });
  await fileSystem.syncDirectory(dirname(settings.dataDir));
  const participants = options.participants ?? [];
  checkParticipants(participants);
  const lock =
    options.lockDataDir === false
      ? undefined
      : await lockDirectory(settings.dataDir, options.lockPurpose ?? `journal of pid ${process.pid}`);
  let recovered: Recovered;
  let journal: JournalWriter;
  let witness: AcknowledgementWitness;
  try {
    recovered = recover(settings.dataDir, {
      engines: options.engines,
      logger,
      listeners: options.listeners,
      participants,
      onProgress: options.onProgress ?? progressLogger(logger),
      acceptDataLoss: options.acceptDataLoss,
    });
    journal = await JournalWriter.open(recovered.tail, { ...settings, fileSystem, logger });
  } catch (error) {
    await lock?.release();
    throw error;
  }
  try {
    witness = new AcknowledgementWitness(settings.dataDir, recovered.lastSeq, logger);
  } catch (error) {
    await journal.close();
    await lock?.release();
    throw error;
  }
  const snapshots = new SnapshotScheduler({ ...settings, fileSystem, journal, logger, clock });
  await snapshots.ready();
  const sequencer = new Sequencer({
    ...settings,
    engine: recovered.engine,
    journal,
    snapshots,
    logger,
    clock,
    lastSeq: recovered.lastSeq,
    lastTs: recovered.lastTs,
    onFatal: options.onFatal ?? exitOnFatal,
    participants,
    witness,
    afterClose: lock?.release,
  });
  for (const listener of options.listeners ?? []) sequencer.onApplied(listener);
  return { sequencer, recovered, journal, snapshots };
}

/** Logs replay progress at most every few seconds, so a long start is visibly moving. */
function progressLogger(logger: Logger): (bytesDone: number, bytesTotal: number) => void {
  const intervalMs = 2_000;
  let lastLoggedMs = performance.now();
  return (bytesDone, bytesTotal) => {
    const nowMs = performance.now();
    if (nowMs - lastLoggedMs < intervalMs) return;
    lastLoggedMs = nowMs;
    logger.info(
      { bytesDone, bytesTotal, percent: Math.floor((bytesDone * 100) / Math.max(1, bytesTotal)) },
      'replaying journal',
    );
  };
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, field]) => field !== undefined)) as Partial<T>;
}
