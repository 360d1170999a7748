// The journal and the snapshot writer keep the descriptors they need: with every other descriptor
// of the process taken (a child under a low `ulimit -n`), segments still roll and snapshots are
// still written, and every command is acknowledged.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { openSequencer } from '../../src/journal/durable.js';
import { type JournalFileSystem, nodeFileSystem } from '../../src/journal/file-system.js';
import { recover } from '../../src/journal/recovery.js';
import { depositCommand, recordingLogger, temporaryDirectory } from './helpers.js';
import { toyEngines } from './toy-engine.js';

const childPath = fileURLToPath(new URL('./fd-exhaustion-child.js', import.meta.url));
const descriptorsMax = 256;

function runChild(dataDir: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      'sh',
      ['-c', `ulimit -n ${descriptorsMax} && exec "$0" "$1" "$2"`, process.execPath, childPath, dataDir],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

test('under descriptor exhaustion segments roll and snapshots are written; nothing is lost', async () => {
  const directory = temporaryDirectory('emfile');
  const result = await runChild(directory.path);
  assert.equal(result.code, 0, `${result.stdout}\n${result.stderr}`);
  const report = JSON.parse(result.stdout.trim()) as {
    exhaustedWith: string;
    lastSeq: number;
    snapshots: Array<number | string>;
    segments: number;
  };
  assert.equal(report.exhaustedWith, 'EMFILE');
  assert.ok(report.segments >= 5, `only ${report.segments} segments: the test should roll several times`);
  assert.deepEqual(report.snapshots, [400, 401], 'both snapshots should be written');
  assert.equal(report.lastSeq, 402);
  const recovered = recover(directory.path, { engines: toyEngines, logger: recordingLogger().logger });
  assert.equal(recovered.lastSeq, 402);
  assert.equal(recovered.snapshotSeq, 401);
  directory.remove();
});

test('a failing snapshot is logged and harms nothing: the journal goes on, and the next snapshot is written', async () => {
  const directory = temporaryDirectory('snapshot-fails');
  let failRenames = true;
  const failing: JournalFileSystem = {
    ...nodeFileSystem,
    rename: (from, to) =>
      failRenames && to.endsWith('.snap')
        ? Promise.reject(Object.assign(new Error('EIO: i/o error, rename'), { code: 'EIO' }))
        : nodeFileSystem.rename(from, to),
  };
  const { logger, lines } = recordingLogger();
  const opened = await openSequencer({
    dataDir: directory.path,
    engines: toyEngines,
    logger,
    fileSystem: failing,
  });
  for (let index = 0; index < 10; index++) await opened.sequencer.submit(depositCommand(index));
  await assert.rejects(opened.sequencer.snapshot(), /EIO/);
  assert.ok(lines.some((line) => line.msg === 'snapshot failed; the journal still holds every command'));
  for (let index = 0; index < 10; index++) await opened.sequencer.submit(depositCommand(index));
  failRenames = false;
  assert.equal((await opened.sequencer.snapshot()).lastSeq, 20);
  await opened.sequencer.close();
  const recovered = recover(directory.path, { engines: toyEngines, logger: recordingLogger().logger });
  assert.equal(recovered.lastSeq, 20);
  assert.equal(recovered.snapshotSeq, 20);
  directory.remove();
});
