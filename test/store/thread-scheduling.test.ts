// The read-model thread's scheduling: when SCHED_IDLE may be used, the controller's boost and
// relax decisions, and the policy really set on a thread (Linux, with the rights to undo it).
import assert from 'node:assert/strict';
import { getPriority } from 'node:os';
import { it } from 'node:test';
import { Worker } from 'node:worker_threads';
import {
  chrtPolicySetter,
  IdlePriorityController,
  idleUnavailableReason,
  mayLeaveIdle,
  type PriorityThresholds,
  threadPolicyOf,
} from '../../src/store/thread-scheduling.js';

const limitsWithNice = (soft: string) =>
  `Limit                     Soft Limit           Hard Limit           Units\nMax nice priority         ${soft}                    ${soft}\n`;
const statusOf = (uid: number, capEff: string) =>
  `Name:\tnode\nUid:\t${uid}\t${uid}\t${uid}\t${uid}\nCapEff:\t${capEff}\n`;

it('SCHED_IDLE is only entered where the thread may leave it again', () => {
  const noCapabilities = '0000000000000000';
  const sysNiceOnly = (1n << 23n).toString(16).padStart(16, '0');
  assert.equal(mayLeaveIdle(10, statusOf(0, noCapabilities), limitsWithNice('0')), false, 'root alone');
  assert.equal(mayLeaveIdle(10, statusOf(1000, sysNiceOnly), limitsWithNice('0')), true, 'CAP_SYS_NICE');
  assert.equal(mayLeaveIdle(10, statusOf(1000, noCapabilities), limitsWithNice('0')), false);
  // RLIMIT_NICE r allows nice values down to 20 - r.
  assert.equal(mayLeaveIdle(10, statusOf(1000, noCapabilities), limitsWithNice('10')), true);
  assert.equal(mayLeaveIdle(10, statusOf(1000, noCapabilities), limitsWithNice('9')), false);
  assert.equal(mayLeaveIdle(19, statusOf(1000, noCapabilities), limitsWithNice('1')), true);
  assert.equal(mayLeaveIdle(0, statusOf(1000, noCapabilities), limitsWithNice('unlimited')), true);
  assert.equal(mayLeaveIdle(10, statusOf(1000, noCapabilities), ''), false, 'no limits line');
});

const thresholds: PriorityThresholds = {
  boostLagCommands: 1_000,
  boostCallWaitMs: 100,
  relaxLagCommands: 100,
  relaxCallWaitMs: 10,
  relaxAfterMs: 1_000,
};

it('a lagging thread or a waiting query boosts at once; back to idle only after a calm second', () => {
  const controller = new IdlePriorityController(thresholds);
  assert.equal(controller.policy, 'idle');
  assert.equal(controller.decide(0, 999, 99), undefined, 'below both boost thresholds');
  assert.equal(controller.decide(50, 1_000, 0), 'normal', 'lag at the threshold');
  assert.equal(controller.decide(100, 5_000, 0), undefined, 'already normal');
  assert.equal(controller.decide(150, 100, 10), undefined, 'calm starts');
  assert.equal(controller.decide(1_100, 100, 10), undefined, '950 ms calm');
  assert.equal(controller.decide(1_149, 101, 0), undefined, 'lag above relax: calm restarts');
  assert.equal(controller.decide(1_200, 0, 0), undefined);
  assert.equal(controller.decide(2_100, 0, 11), undefined, 'a query waiting: calm restarts');
  assert.equal(controller.decide(2_150, 0, 0), undefined);
  assert.equal(controller.decide(3_150, 0, 0), 'idle', 'a full calm second');
  assert.equal(controller.policy, 'idle');
  assert.equal(controller.decide(3_200, 0, 100), 'normal', 'a query waited 100 ms');
});

/** A thread of this process that reports its Linux task id and lives until told to stop. */
async function startThread(): Promise<{ threadId: number; stop(): Promise<number> }> {
  const worker = new Worker(
    `const { parentPort } = require('node:worker_threads');
     const { readlinkSync } = require('node:fs');
     parentPort.postMessage(Number(readlinkSync('/proc/thread-self').split('/').pop()));
     parentPort.on('message', () => parentPort.close());`,
    { eval: true },
  );
  const threadId = await new Promise<number>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  return { threadId, stop: () => worker.terminate() };
}

it('the chrt setter puts a thread under SCHED_IDLE and back to normal at its nice value', {
  skip: idleUnavailableReason(6) ?? false,
}, async () => {
  const thread = await startThread();
  try {
    assert.equal(threadPolicyOf(thread.threadId), 'normal');
    const setPolicy = chrtPolicySetter(6);
    await setPolicy(thread.threadId, 'idle');
    assert.equal(threadPolicyOf(thread.threadId), 'idle');
    await setPolicy(thread.threadId, 'normal');
    assert.equal(threadPolicyOf(thread.threadId), 'normal');
    assert.equal(getPriority(thread.threadId), 6);
    assert.equal(threadPolicyOf(process.pid), 'normal', 'the main thread is left alone');
    await assert.rejects(setPolicy(2 ** 22 + 12_345, 'idle'), /not a thread of this process/);
    await assert.rejects(
      setPolicy(process.ppid, 'idle'),
      /not a thread of this process/,
      'the parent process',
    );
  } finally {
    await thread.stop();
  }
});
