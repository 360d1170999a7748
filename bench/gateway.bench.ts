// Gateway benchmark: orders over WebSocket and REST against the durable exchange (`hoga start`,
// fsync always), with a bare `ws` echo server and a bare Fastify app as ceilings, in one run.
//
// 1. Full rate: every target as fast as it answers (closed loop), the ceiling and the exchange
//    taking turns in `--rounds` slices so a change in the shared machine's load hits both alike.
// 2. Paced: at 25%, 50% and 75% of the ws echo's full rate (REST: 50% of bare Fastify's), the echo
//    and the exchange each run at that same rate on an open-loop schedule; every request is timed
//    from its scheduled moment, so a stall is charged to every request it delayed.
// Server CPU per operation comes from /proc for the server's process, all threads and main thread.
//
//   npm run bench:gateway -- [--clients N] [--depth N] [--seconds N] [--rounds N] [--warmup-seconds N]
//                            [--ws-only | --rest-only] [--paced-rate N] [--json]
import os from 'node:os';
import { type Child, echoServerPath, spawnChild, stopChild } from './gateway/children.js';
import { errorSamples, restTarget, type Target, webSocketTarget } from './gateway/clients.js';
import {
  type Exchange,
  readModelCatchUp,
  readModelCatchUpSecondsMax,
  setUpExchange,
  startExchange,
} from './gateway/exchange.js';
import {
  newTally,
  type PhaseResult,
  runFullSlice,
  runPacedSlice,
  summary,
  type Tally,
} from './gateway/phases.js';
import { parseBenchOptions } from './lib/args.js';
import { PhaseProgress } from './lib/progress.js';
import { BenchReporter, checkTarget, formatNumber } from './lib/report.js';

const options = parseBenchOptions('gateway', {
  clients: {
    kind: 'integer',
    default: 64,
    minimum: 1,
    description: 'concurrent clients, one user and session each',
  },
  depth: { kind: 'integer', default: 2, minimum: 1, description: 'cycles in flight per client at full rate' },
  seconds: { kind: 'integer', default: 12, minimum: 1, description: 'seconds per target per phase' },
  'warmup-seconds': {
    kind: 'integer',
    default: 2,
    minimum: 0,
    description: 'unmeasured seconds at full rate per target first, so the JIT has compiled the paths',
  },
  rounds: { kind: 'integer', default: 3, minimum: 1, description: 'alternating slices per phase' },
  'ws-only': { kind: 'flag', description: 'measure only orders over WebSocket' },
  'rest-only': { kind: 'flag', description: 'measure only orders over REST' },
  'paced-rate': {
    kind: 'integer',
    default: 0,
    minimum: 0,
    description: 'pace at exactly N ops/s instead of percentages of the ceiling; 0: percentages',
  },
  json: { kind: 'flag', description: 'print one machine-readable JSON line on stdout' },
});

/** Paced loads, as percentages of the ceiling's full rate. */
const webSocketPercents = [25, 50, 75];
const restPercents = [50];
const webSocketRatioTarget = 70;
const p99AckUsTarget = 5_000;
const sliceSeconds = Math.max(1, Math.round(options.seconds / options.rounds));

interface Level {
  label: string;
  ratePerSecond: number;
}

/** One slice of each target in turn, `rounds` times. */
async function alternate(
  targets: Target[],
  progress: PhaseProgress,
  label: string,
  run: (target: Target, index: number) => Promise<void>,
): Promise<void> {
  for (let round = 1; round <= options.rounds; round += 1) {
    for (const [index, target] of targets.entries()) {
      progress.phase(`${target.name} ${label} ${round}/${options.rounds}`);
      await run(target, index);
    }
  }
}

/** Full rate for every target, then each paced level for every target; results in that order. */
async function measureTogether(
  ceiling: Target,
  subjects: Target[],
  percents: number[],
): Promise<PhaseResult[]> {
  const targets = [ceiling, ...subjects];
  const levelCount = options['paced-rate'] > 0 ? 1 : percents.length;
  const progress = new PhaseProgress(targets.length + options.rounds * targets.length * (1 + levelCount));
  for (const target of targets) {
    progress.phase(`${target.name} warm-up`);
    if (options['warmup-seconds'] > 0)
      await runFullSlice(target, options['warmup-seconds'], options.depth, newTally());
  }
  const full = targets.map(() => newTally());
  await alternate(targets, progress, 'full', (target, index) =>
    runFullSlice(target, sliceSeconds, options.depth, full[index]),
  );
  const ceilingRate = full[0].operations / full[0].seconds;
  const levels: Level[] =
    options['paced-rate'] > 0
      ? [{ label: `at ${options['paced-rate']}/s`, ratePerSecond: options['paced-rate'] }]
      : percents.map((percent) => ({
          label: `at ${percent}%`,
          ratePerSecond: (ceilingRate * percent) / 100,
        }));
  const results = targets.map((target, index) => summary(`${target.name} full`, full[index]));
  // Each client's acknowledged resting orders, cancelled by its next paced operations.
  const resting = targets.map((target) => target.clients.map((): Array<string | number> => []));
  for (const level of levels) {
    const paced: Tally[] = targets.map(() => newTally());
    await alternate(targets, progress, level.label, (target, index) =>
      runPacedSlice(target, sliceSeconds, level.ratePerSecond, paced[index], resting[index]),
    );
    targets.forEach((target, index) => {
      results.push(summary(`${target.name} ${level.label}`, paced[index], level.ratePerSecond));
    });
  }
  progress.stop();
  for (const target of targets) await target.close();
  return results;
}

/** Notes the read model's lag and catch-up time on the exchange's results. */
async function withReadModelCatchUp(exchange: Exchange, results: PhaseResult[]): Promise<PhaseResult[]> {
  const { lagCommands, seconds } = await readModelCatchUp(exchange.port);
  for (const result of results) {
    if (!result.name.includes('exchange')) continue;
    result.readModelLagCommands = lagCommands;
    result.readModelCatchUpSeconds = Math.round(seconds * 10) / 10;
  }
  return results;
}

/** As many clients as `tokens`, without sessions: the ceilings have no accounts. */
function anonymousLike(tokens: string[]): undefined[] {
  return tokens.map(() => undefined);
}

async function measureWebSocket(echo: Child, exchange: Exchange, tokens: string[]): Promise<PhaseResult[]> {
  const ceiling = await webSocketTarget('ws echo', echo, anonymousLike(tokens));
  const orderEntry = await webSocketTarget('ws exchange', exchange, tokens);
  const withPushes = await webSocketTarget('ws exchange + private streams', exchange, tokens, true);
  return withReadModelCatchUp(
    exchange,
    await measureTogether(ceiling, [orderEntry, withPushes], webSocketPercents),
  );
}

async function measureRest(echo: Child, exchange: Exchange, tokens: string[]): Promise<PhaseResult[]> {
  const ceiling = restTarget('rest bare fastify', echo, anonymousLike(tokens));
  const subject = restTarget('rest exchange', exchange, tokens);
  return withReadModelCatchUp(exchange, await measureTogether(ceiling, [subject], restPercents));
}

async function run(): Promise<PhaseResult[]> {
  // Node flags for the exchange only, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` to profile it.
  const serverFlags = (process.env.HOGA_BENCH_SERVER_FLAGS ?? '').split(' ').filter((flag) => flag !== '');
  const exchange = await startExchange(serverFlags);
  const echoes: Child[] = [];
  try {
    echoes.push(await spawnChild(echoServerPath, ['ws']), await spawnChild(echoServerPath, ['http']));
    process.stderr.write(`setting up ${options.clients} users\n`);
    const tokens = await setUpExchange(exchange.port, options.clients);
    const results: PhaseResult[] = [];
    if (!options['rest-only']) results.push(...(await measureWebSocket(echoes[0], exchange, tokens)));
    if (!options['ws-only']) results.push(...(await measureRest(echoes[1], exchange, tokens)));
    return results;
  } finally {
    await Promise.all([exchange.stop(), ...echoes.map((echo) => stopChild(echo.child))]);
  }
}

function find(results: PhaseResult[], name: string): PhaseResult | undefined {
  return results.find((result) => result.name === name);
}

function percentOf(results: PhaseResult[], subject: string, ceiling: string): number | undefined {
  const subjectRate = find(results, subject)?.operationsPerSecond;
  const ceilingRate = find(results, ceiling)?.operationsPerSecond;
  if (subjectRate === undefined || ceilingRate === undefined || ceilingRate === 0) return undefined;
  return (subjectRate * 100) / ceilingRate;
}

function report(results: PhaseResult[], loadAverages: number[]): void {
  const reporter = new BenchReporter(options.json);
  reporter.line(
    `machine: ${os.cpus().length} cores, node ${process.version}, load average ${loadAverages.map((load) => load.toFixed(1)).join(' -> ')}`,
  );
  reporter.line(
    `${options.clients} clients; latency in µs, paced phases timed from each request's scheduled moment`,
  );
  reporter.table(
    results.map((result) => ({
      phase: result.name,
      'ops/s': result.operationsPerSecond,
      'server CPU µs/op': result.serverCpuUsPerOperation,
      'main thread': result.serverMainThreadCpuUsPerOperation,
      'client CPU µs/op': result.clientCpuUsPerOperation,
      p50: result.p50Us,
      p99: result.p99Us,
      'p99 from send': result.p99FromSendUs ?? '-',
      'p99.9': result.p999Us,
      max: result.maxUs,
      errors: result.errors,
    })),
  );
  if (errorSamples.length > 0) reporter.line(`error samples: ${JSON.stringify(errorSamples)}`);
  reporter.line();
  const ratios: Array<[string, string, string]> = [
    ['ws exchange / ws echo, full rate', 'ws exchange full', 'ws echo full'],
    [
      'ws exchange + private streams / ws echo, full rate',
      'ws exchange + private streams full',
      'ws echo full',
    ],
    ['rest exchange / bare fastify, full rate', 'rest exchange full', 'rest bare fastify full'],
  ];
  for (const [label, subject, ceiling] of ratios) {
    const percent = percentOf(results, subject, ceiling);
    if (percent !== undefined) reporter.line(`${label}: ${percent.toFixed(1)}%`);
  }
  for (const result of results) {
    if (result.readModelLagCommands === undefined || !result.name.endsWith(' exchange full')) continue;
    const caughtUp =
      result.readModelCatchUpSeconds === -1
        ? `not caught up within ${readModelCatchUpSecondsMax} s`
        : `caught up ${formatNumber(result.readModelCatchUpSeconds ?? 0)} s later`;
    reporter.line(
      `read model after the ${result.name.split(' ')[0]} phases: ${result.readModelLagCommands} commands behind, ${caughtUp}`,
    );
  }
  const checks = [];
  const webSocketPercent = percentOf(results, 'ws exchange full', 'ws echo full');
  if (webSocketPercent !== undefined)
    checks.push(checkTarget('ws exchange / ws echo', webSocketPercent, 'atLeast', webSocketRatioTarget, '%'));
  const halfLoad = find(results, 'ws exchange at 50%');
  if (halfLoad !== undefined)
    checks.push(
      checkTarget('ws exchange p99 ack at 50% of the echo', halfLoad.p99Us, 'atMost', p99AckUsTarget, ' µs'),
    );
  reporter.line();
  reporter.targets(checks);
  reporter.result({
    bench: 'gateway',
    options,
    node: process.version,
    cores: os.cpus().length,
    loadAverages,
    results,
    checks,
  });
}

const loadAverageAtStart = os.loadavg()[0];
const results = await run();
report(results, [loadAverageAtStart, os.loadavg()[0]]);
