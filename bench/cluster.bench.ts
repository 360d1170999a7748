// Cluster sequencing throughput: the same deposits through the file journal's Sequencer (fsync
// always) and through the JetStreamSequencer with one and with two engine replicas on the local
// NATS server (127.0.0.1:4222, R1 streams). Printed as commands per second and the ratio to the
// journal, measured in the same run (the machine is shared, so only ratios mean much), and the
// CPU this process spent per command (gateway sequencer + replicas run here; steadier than rates
// on a loaded machine, though it leaves out nats-server's share).
//   node dist/bench/cluster.bench.js [commands] [inFlight]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { EngineReplica } from '../src/cluster/engine-replica.js';
import { JetStreamSequencer } from '../src/cluster/jetstream-sequencer.js';
import { connectCluster } from '../src/cluster/nats.js';
import { deleteStreams, ensureStreams, streamNames } from '../src/cluster/streams.js';
import type { Command } from '../src/core/types.js';
import { openSequencer } from '../src/journal/durable.js';
import { coreEngineFactory } from '../src/journal/engine-factory.js';
import type { CommandSequencer } from '../src/ports.js';

const commands = Number(process.argv[2] ?? 20_000);
const inFlight = Number(process.argv[3] ?? 256);
const servers = [process.env.HOGA_BENCH_NATS ?? 'nats://127.0.0.1:4222'];
const logger = pino({ level: 'silent' });

interface Run {
  rate: number;
  cpuUsPerCommand: number;
}

async function drive(sequencer: CommandSequencer): Promise<Run> {
  const started = performance.now();
  const cpu = process.cpuUsage();
  let next = 0;
  const worker = async () => {
    while (next < commands) {
      const index = next++;
      await sequencer.submit({
        op: 'deposit',
        user: 1 + (index % 1_000),
        asset: 'USD',
        amount: 1,
      } as Command);
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  const used = process.cpuUsage(cpu);
  return {
    rate: (commands * 1_000) / (performance.now() - started),
    cpuUsPerCommand: (used.user + used.system) / commands,
  };
}

async function journal(): Promise<Run> {
  const dataDir = mkdtempSync(join(tmpdir(), 'hoga-bench-cluster-'));
  const { sequencer } = await openSequencer({
    dataDir,
    engines: coreEngineFactory(),
    logger,
    snapshotEveryMs: 0,
  });
  try {
    return await drive(sequencer);
  } finally {
    await sequencer.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function jetstream(replicas: number): Promise<Run> {
  const connection = await connectCluster(servers, 'bench');
  const names = streamNames(`BENCH_${process.pid}_${replicas}`);
  await ensureStreams(connection.jsm, names, 1);
  const directories: string[] = [];
  const started: EngineReplica[] = [];
  try {
    for (let index = 0; index < replicas; index++) {
      const dataDir = mkdtempSync(join(tmpdir(), 'hoga-bench-replica-'));
      directories.push(dataDir);
      const own = await connectCluster(servers, `bench-replica-${index}`);
      started.push(
        await EngineReplica.start({
          ...own,
          names,
          dataDir,
          replicaName: `r${index}`,
          hashEveryCommands: 1_000,
          snapshotEveryCommands: 0,
          heartbeatMs: 1_000,
          logger,
        }),
      );
    }
    const sequencer = await JetStreamSequencer.open({
      ...connection,
      names,
      logger,
      pendingMax: inFlight * 2,
      timeoutMs: 60_000,
      heartbeatMs: 1_000,
    });
    const run = await drive(sequencer);
    await sequencer.close();
    return run;
  } finally {
    for (const replica of started) await replica.close();
    await deleteStreams(connection.jsm, names);
    await connection.close();
    for (const directory of directories) rmSync(directory, { recursive: true, force: true });
  }
}

const baseline = await journal();
const one = await jetstream(1);
const two = await jetstream(2);
const show = (label: string, run: Run) =>
  console.log(
    `${label.padEnd(34)} ${Math.round(run.rate).toString().padStart(8)} cmd/s  ` +
      `${(run.rate / baseline.rate).toFixed(3)}× journal  ${Math.round(run.cpuUsPerCommand).toString().padStart(5)} µs CPU/cmd`,
  );
console.log(`commands ${commands}, in flight ${inFlight}`);
show('file journal (fsync always)', baseline);
show('JetStream, 1 engine replica', one);
show('JetStream, 2 engine replicas', two);
process.exit(0);
