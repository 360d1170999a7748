// The acknowledgement witness: `acknowledged.witness` in the data directory records the highest
// sequence the sequencer has acknowledged, so recovery and `hoga journal verify` can tell a torn
// tail (never acknowledged, cut quietly) from damage that reached acknowledged commands (refused).
//
// It may lag the journal but is never ahead of it: a batch's sequence is written here only after
// the batch is in the journal (after its fdatasync under the always policy). The write is one
// positioned write into the page cache per batch, no fsync on the command path: a process crash
// keeps it exactly (the page cache survives), and it is fdatasync'd in the background every
// `witnessSyncIntervalMs` and at close, so after a power loss it lags at most about that long.
//
//   two slots of 32 bytes, at offsets 0 and 512 (different disk sectors), written alternately:
//   offset 0  8 bytes  magic "HOGAWTNS"
//   offset 8  u32 LE   sequence, low 32 bits
//   offset 12 u32 LE   sequence, high bits
//   offset 16 u32 LE   CRC32C over bytes [0, 16)
//   A reader takes the higher sequence of the valid slots, so a torn write of one slot leaves the
//   other, older value.
import { closeSync, constants, fdatasync, fdatasyncSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { crc32c } from './crc32c.js';

export const witnessFileName = 'acknowledged.witness';
const witnessMagic = Buffer.from('HOGAWTNS', 'latin1');
const slotBytes = 32;
const slotOffsets = [0, 512] as const;
const twoToThe32 = 0x1_0000_0000;
/** How often the witness is fdatasync'd in the background while sequences advance. */
export const witnessSyncIntervalMs = 1_000;

export function witnessPath(dataDir: string): string {
  return join(dataDir, witnessFileName);
}

function decodeSlot(bytes: Buffer, offset: number): number {
  if (bytes.length < offset + slotBytes) return 0;
  if (!bytes.subarray(offset, offset + 8).equals(witnessMagic)) return 0;
  if (crc32c(bytes, offset, offset + 16) !== bytes.readUInt32LE(offset + 16)) return 0;
  return bytes.readUInt32LE(offset + 8) + bytes.readUInt32LE(offset + 12) * twoToThe32;
}

/** The highest acknowledged sequence the witness holds; 0 when there is no witness yet. */
export function readWitness(dataDir: string): number {
  let bytes: Buffer;
  try {
    bytes = readFileSync(witnessPath(dataDir));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw error;
  }
  return Math.max(...slotOffsets.map((offset) => decodeSlot(bytes, offset)));
}

function encodeSlot(slot: Buffer, seq: number): void {
  witnessMagic.copy(slot, 0);
  slot.writeUInt32LE(seq % twoToThe32, 8);
  slot.writeUInt32LE(Math.floor(seq / twoToThe32), 12);
  slot.writeUInt32LE(crc32c(slot, 0, 16), 16);
}

/** Opens the witness for writing in place (not O_APPEND), creating it when missing. */
function openWitness(dataDir: string): number {
  return openSync(witnessPath(dataDir), constants.O_RDWR | constants.O_CREAT);
}

/** Sets both slots to `seq` and makes it durable (a fresh start, tools and tests). */
export function writeWitnessFile(dataDir: string, seq: number): void {
  const fd = openWitness(dataDir);
  try {
    writeWitnessSlots(fd, seq);
  } finally {
    closeSync(fd);
  }
}

function writeWitnessSlots(fd: number, seq: number): void {
  const slot = Buffer.alloc(slotBytes);
  encodeSlot(slot, seq);
  for (const offset of slotOffsets) writeSync(fd, slot, 0, slotBytes, offset);
  fdatasyncSync(fd);
}

export class AcknowledgementWitness {
  private readonly slot = Buffer.alloc(slotBytes);
  private nextSlot = 0;
  private recordedSeq: number;
  private syncedSeq: number;
  private syncing: Promise<void> | undefined;
  private readonly syncTimer: NodeJS.Timeout;
  private fd: number | undefined;
  private writeFailed = false;

  /** Opens (or creates) the witness; `seq` is what recovery established as acknowledged. */
  constructor(
    dataDir: string,
    seq: number,
    private readonly logger: Logger,
  ) {
    this.fd = openWitness(dataDir);
    // Both slots, so no older value survives in the other one.
    writeWitnessSlots(this.fd, seq);
    this.recordedSeq = seq;
    this.syncedSeq = seq;
    this.syncTimer = setInterval(() => this.backgroundSync(), witnessSyncIntervalMs);
    this.syncTimer.unref();
  }

  get seq(): number {
    return this.recordedSeq;
  }

  /** Records that every sequence up to `seq` is acknowledged (one write into the page cache). */
  record(seq: number): void {
    if (this.fd === undefined || seq <= this.recordedSeq) return;
    encodeSlot(this.slot, seq);
    try {
      writeSync(this.fd, this.slot, 0, slotBytes, slotOffsets[this.nextSlot]);
    } catch (error) {
      // The journal holds the batch: a witness that stops moving only weakens the check at the
      // next start (it lags, never leads), so commands go on being acknowledged.
      if (!this.writeFailed)
        this.logger.error({ err: error, seq }, 'acknowledgement witness write failed; it lags from here');
      this.writeFailed = true;
      return;
    }
    this.nextSlot = 1 - this.nextSlot;
    this.recordedSeq = seq;
  }

  /** Makes the witness durable and closes it. */
  async close(): Promise<void> {
    clearInterval(this.syncTimer);
    // A background sync must not outlive the descriptor (its number could name another file).
    await this.syncing;
    if (this.fd === undefined) return;
    fdatasyncSync(this.fd);
    closeSync(this.fd);
    this.fd = undefined;
  }

  /** fdatasync on the libuv pool, off the command path; a failure only makes the witness lag. */
  private backgroundSync(): void {
    if (this.fd === undefined || this.syncing || this.syncedSeq === this.recordedSeq) return;
    const covered = this.recordedSeq;
    const fd = this.fd;
    this.syncing = new Promise((done) => {
      fdatasync(fd, (error) => {
        this.syncing = undefined;
        if (error === null) this.syncedSeq = covered;
        done();
      });
    });
  }
}
