// Running a target for a slice of time and tallying what it did. Full-rate slices are closed loops
// (each client keeps `depth` place-then-cancel cycles going) and measure capacity; paced slices
// follow an open-loop schedule and measure latency, each request timed from its scheduled moment.
import { LatencyHistogram, type LatencySummary } from '../lib/histogram.js';
import { OpenLoopSchedule, realScheduleClock, runOpenLoop } from '../lib/open-loop.js';
import { nowNs, secondsSince } from '../lib/timer.js';
import { cpuSecondsOf } from './children.js';
import type { OrderEntryClient, Target } from './clients.js';

export interface Tally {
  latency: LatencyHistogram;
  /** Paced slices: each request timed from its actual send instead of its schedule, for comparison. */
  serviceTime: LatencyHistogram;
  operations: number;
  errors: number;
  seconds: number;
  serverCpuSeconds: number;
  serverMainThreadCpuSeconds: number;
  clientCpuSeconds: number;
}

export function newTally(): Tally {
  return {
    latency: new LatencyHistogram(),
    serviceTime: new LatencyHistogram(),
    operations: 0,
    errors: 0,
    seconds: 0,
    serverCpuSeconds: 0,
    serverMainThreadCpuSeconds: 0,
    clientCpuSeconds: 0,
  };
}

export interface PhaseResult extends LatencySummary {
  name: string;
  /** The paced rate asked for (paced phases only). */
  pacedRate?: number;
  /** Paced phases: p99 timed from the actual send, which coordinated omission understates. */
  p99FromSendUs?: number;
  operations: number;
  operationsPerSecond: number;
  /** CPU microseconds per operation: the server process (all threads), its main thread, this generator. */
  serverCpuUsPerOperation: number;
  serverMainThreadCpuUsPerOperation: number;
  clientCpuUsPerOperation: number;
  errors: number;
  /** Exchange phases: commands the read model had not projected when the phases ended, and the catch-up. */
  readModelLagCommands?: number;
  readModelCatchUpSeconds?: number;
}

/** Requests one paced client may have outstanding: beyond it, the generator waits (and charges the wait). */
const inFlightPerClientMax = 64;

function priceFor(client: number, sequence: number): string {
  return `${100 + ((client * 7 + sequence) % 100)}.00`;
}

/** Samples CPU around `body`, which runs the slice; adds time and CPU to the tally. */
async function measured(target: Target, tally: Tally, body: () => Promise<void>): Promise<void> {
  await target.beforeSlice?.();
  const startNs = nowNs();
  const serverCpu = cpuSecondsOf(target.serverPid);
  const serverMainThreadCpu = cpuSecondsOf(target.serverPid, true);
  const clientCpu = process.cpuUsage();
  await body();
  tally.seconds += secondsSince(startNs);
  tally.serverCpuSeconds += cpuSecondsOf(target.serverPid) - serverCpu;
  tally.serverMainThreadCpuSeconds += cpuSecondsOf(target.serverPid, true) - serverMainThreadCpu;
  const clientUsed = process.cpuUsage(clientCpu);
  tally.clientCpuSeconds += (clientUsed.user + clientUsed.system) / 1e6;
  await target.afterSlice?.();
}

/** As fast as the target answers: every client keeps `depth` place-then-cancel cycles in flight. */
export function runFullSlice(target: Target, seconds: number, depth: number, tally: Tally): Promise<void> {
  let sequence = 0;
  const record = (startNs: number, ok: boolean) => {
    tally.latency.recordNs(nowNs() - startNs);
    tally.operations += 1;
    if (!ok) tally.errors += 1;
  };
  const cycles = async (client: OrderEntryClient, clientIndex: number, deadlineNs: number) => {
    while (nowNs() < deadlineNs) {
      sequence += 1;
      let startNs = nowNs();
      const placed = await client.place(priceFor(clientIndex, sequence));
      record(startNs, placed.ok);
      if (placed.orderId === undefined) continue;
      startNs = nowNs();
      record(startNs, (await client.cancel(placed.orderId)).ok);
    }
  };
  return measured(target, tally, async () => {
    const deadlineNs = nowNs() + seconds * 1e9;
    const loops = target.clients.flatMap((client, index) =>
      Array.from({ length: depth }, () => cycles(client, index, deadlineNs)),
    );
    await Promise.all(loops);
  });
}

/**
 * Open loop at `ratePerSecond` operations, spread round-robin over the clients. A client cancels
 * its oldest acknowledged order if it has one and places a new one otherwise, so places and
 * cancels alternate without the schedule ever waiting for a reply. `resting` carries each client's
 * acknowledged orders from one slice to the next.
 */
export function runPacedSlice(
  target: Target,
  seconds: number,
  ratePerSecond: number,
  tally: Tally,
  resting: Array<Array<string | number>>,
): Promise<void> {
  const clients = target.clients;
  const send = async (slot: number): Promise<boolean> => {
    const index = slot % clients.length;
    const orderId = resting[index].shift();
    if (orderId !== undefined) return (await clients[index].cancel(orderId)).ok;
    const placed = await clients[index].place(priceFor(index, slot));
    if (placed.ok && placed.orderId !== undefined) resting[index].push(placed.orderId);
    return placed.ok;
  };
  return measured(target, tally, () =>
    runOpenLoop({
      schedule: new OpenLoopSchedule(ratePerSecond, realScheduleClock.nowNs(), seconds * 1e9),
      clock: realScheduleClock,
      inFlightMax: inFlightPerClientMax * clients.length,
      send,
      record: (latencyNs, ok, serviceNs) => {
        tally.latency.recordNs(latencyNs);
        tally.serviceTime.recordNs(serviceNs);
        tally.operations += 1;
        if (!ok) tally.errors += 1;
      },
    }),
  );
}

function microsecondsPer(seconds: number, operations: number): number {
  return operations > 0 ? Math.round((seconds * 1e6 * 10) / operations) / 10 : 0;
}

export function summary(name: string, tally: Tally, pacedRate?: number): PhaseResult {
  const { operations, seconds } = tally;
  return {
    name,
    ...(pacedRate === undefined
      ? {}
      : { pacedRate: Math.round(pacedRate), p99FromSendUs: tally.serviceTime.percentileUs(99) }),
    operations,
    operationsPerSecond: seconds > 0 ? Math.round(operations / seconds) : 0,
    serverCpuUsPerOperation: microsecondsPer(tally.serverCpuSeconds, operations),
    serverMainThreadCpuUsPerOperation: microsecondsPer(tally.serverMainThreadCpuSeconds, operations),
    clientCpuUsPerOperation: microsecondsPer(tally.clientCpuSeconds, operations),
    errors: tally.errors,
    ...tally.latency.summary(),
  };
}
