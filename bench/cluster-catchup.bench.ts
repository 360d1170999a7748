// Catch-up of an engine replica that is behind: a command stream of N orders is filled and its
// outcomes appended by one replica at the head; then fresh replicas (empty data directories) replay
// it, alternately the former way (a fenced append per command, failing, then one direct get) and
// reading the stored outcomes in bulk. Reports commands/s until every outcome is settled and the
// CPU of this process per command, plus the ratio bulk/former measured in the same run.
// Needs a NATS server with JetStream (HOGA_BENCH_NATS, default nats://127.0.0.1:4222).
import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import { AckedPublisher } from '../src/cluster/acked-publisher.js';
import { EngineReplica } from '../src/cluster/engine-replica.js';
import { connectCluster } from '../src/cluster/nats.js';
import { encodeCommand } from '../src/cluster/outcome-codec.js';
import { deleteStreams, ensureStreams, streamNames } from '../src/cluster/streams.js';
import type { Command } from '../src/core/types.js';
import { temporaryDirectory } from '../test/journal/helpers.js';
import { parseBenchOptions } from './lib/args.js';
import { nowNs } from './lib/timer.js';

const options = parseBenchOptions('cluster-catchup', {
  commands: { kind: 'integer', default: 20_000, minimum: 10, description: 'commands in the stream' },
  rounds: { kind: 'integer', default: 2, minimum: 1, description: 'catch-ups of each kind, alternating' },
});

const out = (line: string) => process.stdout.write(`${line}\n`);
const logger = pino({ level: 'warn' });
const connection = await connectCluster(
  [process.env.HOGA_BENCH_NATS ?? 'nats://127.0.0.1:4222'],
  'bench-catchup',
);
const names = streamNames(`bench-catchup-${randomBytes(4).toString('hex')}`);
await ensureStreams(connection.jsm, names, 1);

function command(index: number): Command {
  if (index === 0) {
    return {
      op: 'symbol',
      symbol: 'BTC-USD',
      base: 'BTC',
      quote: 'USD',
      lotSize: 1,
      tickSize: 1,
      makerFeeBps: 0,
      takerFeeBps: 0,
    } as Command;
  }
  if (index <= 20) {
    const user = Math.ceil(index / 2);
    return { op: 'deposit', user, asset: index % 2 === 0 ? 'USD' : 'BTC', amount: 1_000_000_000 } as Command;
  }
  const seller = index % 2 === 0;
  return {
    op: 'place',
    user: 1 + (index % 10),
    symbol: 'BTC-USD',
    side: seller ? 'sell' : 'buy',
    type: 'limit',
    price: 100 + (index % 7),
    qty: 1 + (index % 3),
  } as unknown as Command;
}

async function replay(name: string, bulkCatchUp: boolean, lastSeq: number) {
  const directory = temporaryDirectory(`bench-catchup-${name}`);
  const cpuBefore = process.cpuUsage();
  const started = nowNs();
  const replica = await EngineReplica.start({
    ...connection,
    names,
    dataDir: directory.path,
    replicaName: name,
    hashEveryCommands: 1_000,
    snapshotEveryCommands: 0,
    heartbeatMs: 1_000,
    logger,
    bulkCatchUp,
  });
  while (replica.settledSeq < lastSeq && replica.failed === undefined) {
    await new Promise((wake) => setTimeout(wake, 5));
  }
  const seconds = (nowNs() - started) / 1e9;
  const cpu = process.cpuUsage(cpuBefore);
  const hash = replica.stateHash;
  await replica.close();
  directory.remove();
  if (replica.failed) throw replica.failed;
  return { rate: lastSeq / seconds, cpuUs: (cpu.user + cpu.system) / lastSeq, seconds, hash };
}

try {
  const publisher = new AckedPublisher(connection.nc);
  for (let from = 0; from < options.commands; from += 5_000) {
    const slice = Array.from({ length: Math.min(5_000, options.commands - from) }, (_, k) =>
      command(from + k),
    );
    await Promise.all(
      slice.map((item) => publisher.publish(names.cmdSubject, encodeCommand(item), { timeoutMs: 120_000 })),
    );
  }
  publisher.close();
  const lastSeq = (await connection.jsm.streams.info(names.cmdStream)).state.last_seq;
  const head = await replay('head', true, lastSeq);
  out(
    `stream filled: ${lastSeq} commands, outcomes appended by one replica at the head in ${head.seconds.toFixed(2)} s`,
  );
  const rates = { former: [] as number[], bulk: [] as number[] };
  for (let round = 0; round < options.rounds; round++) {
    for (const kind of ['former', 'bulk'] as const) {
      const result = await replay(`${kind}-${round}`, kind === 'bulk', lastSeq);
      if (result.hash !== head.hash) throw new Error(`${kind} catch-up ended on another state hash`);
      rates[kind].push(result.rate);
      out(
        `  ${kind.padEnd(6)} catch-up: ${lastSeq} commands in ${result.seconds.toFixed(2)} s = ` +
          `${Math.round(result.rate)} commands/s (${Math.round(result.cpuUs)} µs CPU each in this process)`,
      );
    }
  }
  const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;
  out(`bulk / former catch-up rate: ${(mean(rates.bulk) / mean(rates.former)).toFixed(1)}x`);
} finally {
  await deleteStreams(connection.jsm, names);
  await connection.close();
}
