// Child of fd-exhaustion.test.ts, run under a low `ulimit -n`: opens a sequencer, then takes every
// descriptor the process has left (as 19,900 connections once did), and writes enough commands
// for several segment rolls and a snapshot. Prints one JSON line with what it got.
import { openSync } from 'node:fs';
import { pino } from 'pino';
import { openSequencer } from '../../src/journal/durable.js';
import { listDataDirectory } from '../../src/journal/segment.js';
import { depositCommand } from './helpers.js';
import { toyEngines } from './toy-engine.js';

const dataDir = process.argv[2];
const commands = 400;
const opened = await openSequencer({
  dataDir,
  engines: toyEngines,
  logger: pino({ level: 'silent' }),
  segmentBytesMax: 2_048,
  snapshotEveryCommands: 0,
  snapshotEveryMs: 0,
  onFatal: (error) => {
    process.stdout.write(`${JSON.stringify({ fatal: error.message })}\n`);
    process.exit(70);
  },
});
const held: number[] = [];
let exhaustedWith = '';
while (exhaustedWith === '') {
  try {
    held.push(openSync('/dev/null', 'r'));
  } catch (error) {
    exhaustedWith = (error as NodeJS.ErrnoException).code ?? String(error);
  }
}
let lastSeq = 0;
for (let index = 0; index < commands; index++)
  lastSeq = (await opened.sequencer.submit(depositCommand(index))).seq;
const snapshots: Array<number | string> = [];
for (let round = 0; round < 2; round++) {
  await opened.sequencer.snapshot().then(
    (taken) => snapshots.push(taken.lastSeq),
    (error: Error) => snapshots.push(error.message),
  );
  lastSeq = (await opened.sequencer.submit(depositCommand(round))).seq;
}
await opened.sequencer.close();
process.stdout.write(
  `${JSON.stringify({
    exhaustedWith,
    held: held.length,
    lastSeq,
    snapshots,
    segments: listDataDirectory(dataDir).segments.length,
  })}\n`,
);
