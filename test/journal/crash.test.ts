// Crash test: a child process runs the sequencer and the real engine; it is killed with SIGKILL
// at seeded random moments under load and restarted on the same data directory. Every command
// acknowledged before a kill must be in the recovered journal, with the content that was sent,
// and the recovered state must equal a clean replay of the exported journal: the engine's, and
// the derived state of market data, which the child restores from its snapshots (a snapshot
// participant) before replaying the tail.
import assert from 'node:assert/strict';
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { exportJournal } from '../../src/cli/journal.js';
import { runReplay } from '../../src/cli/replay.js';
import { Engine } from '../../src/core/engine.js';
import { readWitness } from '../../src/journal/witness.js';
import { MarketData } from '../../src/marketdata/marketdata.js';
import { seededRandom, seedFromEnvironment, temporaryDirectory } from './helpers.js';

const childPath = fileURLToPath(new URL('./crash-child.js', import.meta.url));
const killsWanted = process.env.CI === 'true' ? 30 : 10;
const readyDeadlineMs = 30_000;
const inFlightMax = 64;
const explicitIdBase = 1_000_000_000_000;

interface ChildMessage {
  ready?: boolean;
  closed?: boolean;
  lastSeq?: number;
  snapshotSeq?: number;
  stateHash?: string;
  /** The child's market data, exported (restored from a snapshot, then the tail). */
  marketData?: string;
  tag?: number;
  seq?: number;
  error?: string;
}

interface RunningChild {
  process: ChildProcessWithoutNullStreams;
  messages: AsyncIterator<string>;
  exited: Promise<void>;
}

function startChild(dataDir: string): RunningChild {
  const child = spawn(process.execPath, [childPath, dataDir], { stdio: ['pipe', 'pipe', 'pipe'] });
  child.stdin.on('error', () => {
    // Writes racing the kill fail with EPIPE: expected.
  });
  child.stderr.on('data', (chunk: Buffer) => process.stderr.write(chunk));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    process: child,
    messages: createInterface({ input: child.stdout })[Symbol.asyncIterator](),
    exited,
  };
}

async function nextMessage(child: RunningChild, deadlineMs: number): Promise<ChildMessage | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`no message from the child within ${deadlineMs} ms`)),
      deadlineMs,
    );
  });
  try {
    const next = await Promise.race([child.messages.next(), timeout]);
    return next.done ? undefined : (JSON.parse(next.value) as ChildMessage);
  } finally {
    clearTimeout(timer);
  }
}

/** Seeded commands for one market: deposits, limit and market orders (with and without ids), cancels, amends. */
function commandSource(random: () => number): (tag: number) => Record<string, unknown> {
  const setup: Array<Record<string, unknown>> = [
    {
      op: 'symbol',
      symbol: 'BTC-KRW',
      base: 'BTC',
      quote: 'KRW',
      lotSize: 1_000,
      tickSize: 10,
      makerFeeBps: 10,
      takerFeeBps: 20,
    },
  ];
  for (let user = 1; user <= 12; user++) {
    setup.push(
      { op: 'deposit', user, asset: 'BTC', amount: 10_000_000_000 },
      { op: 'deposit', user, asset: 'KRW', amount: 10_000_000_000_000 },
    );
  }
  const pick = (count: number): number => Math.floor(random() * count);
  return (tag) => {
    if (tag < setup.length) return setup[tag];
    const user = 1 + pick(12);
    const roll = random();
    if (roll < 0.55) {
      const order: Record<string, unknown> = {
        op: 'place',
        user,
        symbol: 'BTC-KRW',
        side: random() < 0.5 ? 'buy' : 'sell',
        type: 'limit',
        qty: 1 + pick(20),
        price: 9_000 + 10 * pick(200),
      };
      if (random() < 0.5) order.id = explicitIdBase + tag;
      if (random() < 0.1) order.tif = 'IOC';
      return order;
    }
    if (roll < 0.65)
      return {
        op: 'place',
        user,
        id: explicitIdBase + tag,
        symbol: 'BTC-KRW',
        side: random() < 0.5 ? 'buy' : 'sell',
        type: 'market',
        qty: 1 + pick(5),
      };
    if (roll < 0.85)
      return { op: 'cancel', user, id: random() < 0.5 ? explicitIdBase + pick(tag) : pick(tag) };
    if (roll < 0.92) return { op: 'amend', user, id: explicitIdBase + pick(tag), qty: 1 };
    return { op: 'deposit', user, asset: random() < 0.5 ? 'BTC' : 'KRW', amount: 1 + pick(1_000_000) };
  };
}

test(`SIGKILL at random moments loses no acknowledged command and replays to the same state (${killsWanted} kills)`, {
  timeout: 240_000,
}, async (t) => {
  const seed = seedFromEnvironment();
  const random = seededRandom(seed);
  const context = `seed ${seed} (rerun with HOGA_TEST_SEED=${seed})`;
  const directory = temporaryDirectory('crash');
  const nextCommand = commandSource(random);
  const sent = new Map<number, Record<string, unknown>>();
  const ackedSeqByTag = new Map<number, number>();
  let nextTag = 0;

  const pump = (child: RunningChild, count: number): void => {
    const lines: string[] = [];
    for (let index = 0; index < count; index++) {
      const tag = nextTag++;
      const command = nextCommand(tag);
      sent.set(tag, command);
      lines.push(JSON.stringify({ tag, command }));
    }
    child.process.stdin.write(`${lines.join('\n')}\n`);
  };

  const expectReady = async (child: RunningChild): Promise<ChildMessage> => {
    const ready = await nextMessage(child, readyDeadlineMs);
    assert.ok(ready?.ready, `${context}: child did not report ready`);
    const ackedMax = Math.max(0, ...ackedSeqByTag.values());
    assert.ok(
      (ready.lastSeq ?? 0) >= ackedMax,
      `${context}: recovered to ${ready.lastSeq} but ${ackedMax} was acknowledged`,
    );
    return ready;
  };

  const checkReady = (message: ChildMessage): void => {
    const ackedMax = Math.max(0, ...ackedSeqByTag.values());
    assert.ok(
      (message.lastSeq ?? 0) >= ackedMax,
      `${context}: recovered to ${message.lastSeq} but ${ackedMax} was acknowledged`,
    );
  };

  for (let kill = 0; kill < killsWanted; kill++) {
    const child = startChild(directory.path);
    if (kill > 0 && random() < 0.15) {
      // Killed while starting: during recovery (truncating a torn tail, removing a leftover
      // snapshot, replaying) or just after it.
      setTimeout(() => child.process.kill('SIGKILL'), Math.floor(random() * 150));
      for (
        let message = await nextMessage(child, readyDeadlineMs);
        message;
        message = await nextMessage(child, readyDeadlineMs)
      ) {
        if (message.ready) checkReady(message);
      }
      await child.exited;
      continue;
    }
    await expectReady(child);
    const ackTarget = kill === 0 ? 200 : 1 + Math.floor(random() * 300);
    const killEarly = kill > 0 && random() < 0.2;
    let inFlight = 0;
    let acks = 0;
    pump(child, inFlightMax);
    inFlight += inFlightMax;
    if (killEarly) setTimeout(() => child.process.kill('SIGKILL'), Math.floor(random() * 10));
    for (;;) {
      const message = await nextMessage(child, readyDeadlineMs);
      if (message === undefined) break;
      if (message.tag === undefined) continue;
      assert.equal(message.error, undefined, `${context}: submit failed: ${message.error}`);
      ackedSeqByTag.set(message.tag, message.seq as number);
      acks++;
      inFlight--;
      if (acks === ackTarget) child.process.kill('SIGKILL');
      else if (acks < ackTarget && inFlight < inFlightMax / 2) {
        pump(child, inFlightMax / 2);
        inFlight += inFlightMax / 2;
      }
    }
    await child.exited;
  }

  const final = startChild(directory.path);
  const ready = await expectReady(final);
  final.process.stdin.end();
  const closed = await nextMessage(final, readyDeadlineMs);
  await final.exited;
  assert.equal(closed?.stateHash, ready.stateHash);
  assert.ok((ready.snapshotSeq ?? 0) > 0, `${context}: recovery never started from a snapshot`);

  const exportPath = join(directory.path, 'export.ndjson');
  const exported = exportJournal(directory.path, exportPath);
  assert.equal(exported.lastSeq, ready.lastSeq);
  const lines = readFileSync(exportPath, 'utf8').trimEnd().split('\n');
  assert.equal(lines.length, ready.lastSeq);
  const engine = new Engine();
  const marketData = new MarketData({ publisher: { publish: () => {}, isWatched: () => false } });
  const journaled = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  journaled.forEach((command, index) => {
    const events = engine.apply(command).map((event) => ({ ...event }));
    marketData.onOutcome({ seq: index + 1, ts: command.ts as number, command, events } as never);
  });
  assert.equal(
    engine.stateHash(),
    ready.stateHash,
    `${context}: clean replay of the export differs from the recovered state`,
  );
  assert.equal(
    ready.marketData,
    JSON.stringify(marketData.exportState()),
    `${context}: market data restored from the snapshot plus the tail differs from a full replay`,
  );
  assert.equal(closed?.marketData, ready.marketData);

  for (const [tag, seq] of ackedSeqByTag) {
    const original = sent.get(tag) as Record<string, unknown>;
    const stored = journaled[seq - 1];
    for (const [field, value] of Object.entries(original))
      assert.deepEqual(stored[field], value, `${context}: tag ${tag} seq ${seq} field ${field}`);
    assert.equal(typeof stored.ts, 'number');
    if (original.op === 'place' && original.id === undefined) assert.equal(stored.id, seq);
  }
  assert.ok(ackedSeqByTag.size >= killsWanted, `${context}: only ${ackedSeqByTag.size} acknowledgements`);

  // The export is the spec's command NDJSON: `hoga replay --in` (its implementation, run in process
  // so the test does not depend on every other CLI module) reaches the same state.
  const summary = await runReplay(exportPath, join(directory.path, 'events.ndjson'));
  assert.equal(summary.stateHash, ready.stateHash);
  // Every restart took the lock a SIGKILLed child held, and no start was refused by the witness:
  // after process crashes it is exact, and never ahead of the journal.
  const ackedMax = Math.max(0, ...ackedSeqByTag.values());
  const witnessSeq = readWitness(directory.path);
  assert.ok(
    witnessSeq >= ackedMax && witnessSeq <= (ready.lastSeq ?? 0),
    `${context}: witness ${witnessSeq}`,
  );
  t.diagnostic(
    `${context}: ${killsWanted} kills, ${ackedSeqByTag.size} acknowledged commands all present with their content ` +
      `(highest acknowledged sequence ${ackedMax}), recovered to ${ready.lastSeq}, witness ${witnessSeq}, ` +
      `last start from snapshot ${ready.snapshotSeq}`,
  );
  directory.remove();
});
