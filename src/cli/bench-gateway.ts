// `hoga bench gateway`: load generator for the gateway. Starts the exchange (durable journal, fsync
// always) and, as the ceiling, a bare `ws` echo server and a bare Fastify route, each in its own
// child process; drives the same place/cancel traffic from N clients against each; reports
// operations per second, the ratio to the ceiling and ack latency (HDR histogram) at full load and at
// half that rate.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { SingleBar } from 'cli-progress';
import type { Command } from 'commander';
import Fastify from 'fastify';
import { build, type Histogram } from 'hdr-histogram-js';
import WebSocket, { WebSocketServer } from 'ws';

export interface GatewayBenchOptions {
  clients: number;
  /** Requests each client keeps in flight. */
  depth: number;
  /** Seconds per phase, split into `rounds` alternating slices. */
  seconds: number;
  rounds: number;
  /** Which transports to measure: both (default), or only `ws` or `rest`. */
  transports?: 'both' | 'ws' | 'rest';
  /**
   * Paces the exchange's "half" phases at this many operations per second instead of half their
   * own full rate (the ceilings keep theirs), so runs of different code compare at one load.
   */
  pacedRate?: number;
}

export interface PhaseResult {
  name: string;
  operations: number;
  operationsPerSecond: number;
  /** Operations per CPU second of the server process: what the code costs, whatever the load. */
  operationsPerServerCpuSecond: number;
  /** CPU microseconds per operation: the server process (all threads) and this load generator. */
  serverCpuUsPerOperation: number;
  /** The part of serverCpuUsPerOperation spent on the server's main (event-loop) thread. */
  serverMainThreadCpuUsPerOperation: number;
  clientCpuUsPerOperation: number;
  /**
   * Exchange phases only: commands the read model had not projected when the phase pair ended, and
   * the seconds it then took to project them (the projection runs behind intake, at lower priority).
   */
  readModelLagCommands?: number;
  readModelCatchUpSeconds?: number;
  errors: number;
  p50Us: number;
  p99Us: number;
  p999Us: number;
  maxUs: number;
}

type Send = (message: Record<string, unknown>) => Promise<Record<string, any>>;

interface Target {
  name: string;
  /** One request function per client. */
  clients: Send[];
  /** Place then cancel, given the client's request function. */
  cycle: (send: Send, client: number, record: (startNs: bigint) => void) => Promise<number>;
  close(): Promise<void>;
  /** Run around each of its slices, untimed (turning a socket's pushes on only while it is measured). */
  beforeSlice?: () => Promise<void>;
  afterSlice?: () => Promise<void>;
  /** The server's process, whose CPU time is sampled around each slice. */
  serverPid?: number;
}

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ, 100 on Linux). */
const clockTicksPerSecond = 100;

/**
 * CPU seconds (user + system) a process has used so far, all threads or (`mainThreadOnly`) only
 * its main thread, whose task id is the process id; 0 where /proc is missing.
 */
function cpuSecondsOf(pid: number | undefined, mainThreadOnly = false): number {
  if (pid === undefined) return 0;
  try {
    const stat = readFileSync(mainThreadOnly ? `/proc/${pid}/task/${pid}/stat` : `/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / clockTicksPerSecond;
  } catch {
    return 0;
  }
}

const cliMainPath = fileURLToPath(new URL('./main.js', import.meta.url));
/** The one market every client trades (created by setUpExchange). */
const benchSymbol = 'BENCH-USD';

type Child = { child: ChildProcess; port: number };
const childStartTimeoutMs = 180_000;
const adminName = 'bench-admin';
const adminPassword = 'bench-admin-password';

function histogram(): Histogram {
  return build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 60_000_000,
    numberOfSignificantValueDigits: 3,
  });
}

/** Starts a child and resolves with the port it prints (a JSON line with `port`). */
function spawnChild(args: string[], env: Record<string, string>, nodeFlags: string[] = []): Promise<Child> {
  const child = spawn(process.execPath, [...nodeFlags, cliMainPath, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${args.join(' ')} did not start`)), childStartTimeoutMs);
    child.once('exit', (code) => reject(new Error(`${args.join(' ')} exited with ${code}`)));
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    lines.on('line', (line) => {
      try {
        const parsed = JSON.parse(line) as { port?: unknown };
        if (typeof parsed.port === 'number') {
          clearTimeout(timer);
          resolve({ child, port: parsed.port });
        }
      } catch {
        // Not a JSON line: ignore.
      }
    });
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

function webSocketSender(url: string): Promise<{ send: Send; socket: WebSocket }> {
  const socket = new WebSocket(url);
  const waiting = new Map<number, (reply: Record<string, any>) => void>();
  let nextId = 1;
  socket.on('message', (data) => {
    const reply = JSON.parse(data.toString()) as Record<string, any>;
    const resolve = typeof reply.id === 'number' ? waiting.get(reply.id) : undefined;
    if (resolve === undefined) return;
    waiting.delete(reply.id);
    resolve(reply);
  });
  const send: Send = (message) => {
    const id = nextId++;
    return new Promise((resolve) => {
      waiting.set(id, resolve);
      socket.send(JSON.stringify({ ...message, id }));
    });
  };
  return new Promise((resolve, reject) => {
    socket.once('open', () => resolve({ send, socket }));
    socket.once('error', reject);
  });
}

function httpSender(port: number, token: string | undefined): { send: Send; agent: http.Agent } {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const send: Send = (message) => {
    const { method, path, body } = message as { method: string; path: string; body?: unknown };
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string> = {};
    if (payload !== undefined) headers['content-type'] = 'application/json';
    if (token !== undefined) headers.authorization = `Bearer ${token}`;
    return new Promise((resolve, reject) => {
      const request = http.request({ host: '127.0.0.1', port, method, path, agent, headers }, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({ ...JSON.parse(Buffer.concat(chunks).toString()), httpStatus: response.statusCode }),
        );
      });
      request.on('error', reject);
      request.end(payload);
    });
  };
  return { send, agent };
}

/** A few failed replies, kept to explain a non-zero error count. */
const errorSamplesMax = 3;
const errorSamples: unknown[] = [];

function noteError(reply: unknown): void {
  if (errorSamples.length < errorSamplesMax) errorSamples.push(reply);
}

function priceFor(client: number, sequence: number): string {
  return `${100 + ((client * 7 + sequence) % 100)}.00`;
}

/** The WebSocket cycle: place a resting buy, then cancel it. Two acknowledged operations. */
function webSocketCycle(symbol: string): Target['cycle'] {
  let sequence = 0;
  return async (send, client, record) => {
    sequence += 1;
    let startNs = process.hrtime.bigint();
    const placed = await send({
      op: 'place',
      symbol,
      side: 'buy',
      type: 'limit',
      price: priceFor(client, sequence),
      qty: '0.001',
    });
    record(startNs);
    const orderId = placed.result?.orderId ?? placed.id;
    startNs = process.hrtime.bigint();
    const cancelled = await send({ op: 'cancel', orderId });
    record(startNs);
    if (placed.ok === false || cancelled.ok === false) noteError(placed.ok === false ? placed : cancelled);
    return (placed.ok === false ? 1 : 0) + (cancelled.ok === false ? 1 : 0);
  };
}

function restCycle(symbol: string): Target['cycle'] {
  let sequence = 0;
  return async (send, client, record) => {
    sequence += 1;
    let startNs = process.hrtime.bigint();
    const body = { symbol, side: 'buy', type: 'limit', price: priceFor(client, sequence), qty: '0.001' };
    const placed = await send({ method: 'POST', path: '/api/v1/orders', body });
    record(startNs);
    startNs = process.hrtime.bigint();
    const cancelled = await send({ method: 'DELETE', path: `/api/v1/orders/${placed.orderId}` });
    record(startNs);
    if (placed.httpStatus !== 200 || cancelled.httpStatus !== 200)
      noteError(placed.httpStatus === 200 ? cancelled : placed);
    return (placed.httpStatus === 200 ? 0 : 1) + (cancelled.httpStatus === 200 ? 0 : 1);
  };
}

interface Tally {
  latency: Histogram;
  operations: number;
  errors: number;
  seconds: number;
  serverCpuSeconds: number;
  serverMainThreadCpuSeconds: number;
  clientCpuSeconds: number;
}

function newTally(): Tally {
  return {
    latency: histogram(),
    operations: 0,
    errors: 0,
    seconds: 0,
    serverCpuSeconds: 0,
    serverMainThreadCpuSeconds: 0,
    clientCpuSeconds: 0,
  };
}

/** Runs one slice of a phase and adds it to `tally`; `ratePerSecond` paces it (open loop). */
async function runSlice(
  target: Target,
  name: string,
  seconds: number,
  depth: number,
  tally: Tally,
  ratePerSecond?: number,
) {
  await target.beforeSlice?.();
  const startedNs = process.hrtime.bigint();
  const startCpuSeconds = cpuSecondsOf(target.serverPid);
  const startMainThreadCpuSeconds = cpuSecondsOf(target.serverPid, true);
  const startClientCpu = process.cpuUsage();
  const startOperations = tally.operations;
  const deadlineMs = Date.now() + seconds * 1000;
  const loops = target.clients.length * depth;
  // Paced slices give every loop an equal share of the rate; a cycle is two operations.
  const cycleIntervalMs = ratePerSecond === undefined ? 0 : (loops * 2 * 1000) / ratePerSecond;
  const record = (startNs: bigint) => {
    tally.latency.recordValue(Math.max(1, Number((process.hrtime.bigint() - startNs) / 1000n)));
    tally.operations += 1;
  };
  const bar = new SingleBar({
    format: `${name.padEnd(34)} [{bar}] {value}/{total}s {ops} ops/s`,
    stream: process.stderr,
  });
  bar.start(seconds, 0, { ops: 0 });
  const ticker = setInterval(() => {
    const elapsedSeconds = Number(process.hrtime.bigint() - startedNs) / 1e9;
    const ops = Math.round((tally.operations - startOperations) / elapsedSeconds);
    bar.update(Math.min(seconds, Math.floor(elapsedSeconds)), { ops });
  }, 250);
  const loop = async (client: number, offset: number) => {
    let nextMs = Date.now() + offset * cycleIntervalMs;
    while (Date.now() < deadlineMs) {
      if (cycleIntervalMs > 0) {
        const waitMs = nextMs - Date.now();
        if (waitMs > 0) await new Promise((resolve) => setTimeout(resolve, waitMs));
        nextMs += cycleIntervalMs;
      }
      tally.errors += await target.cycle(target.clients[client], client, record);
    }
  };
  const runs = [];
  for (let client = 0; client < target.clients.length; client += 1) {
    for (let slot = 0; slot < depth; slot += 1)
      runs.push(loop(client, (slot + client / target.clients.length) / depth));
  }
  await Promise.all(runs);
  clearInterval(ticker);
  bar.update(seconds);
  bar.stop();
  tally.seconds += Number(process.hrtime.bigint() - startedNs) / 1e9;
  tally.serverCpuSeconds += cpuSecondsOf(target.serverPid) - startCpuSeconds;
  tally.serverMainThreadCpuSeconds += cpuSecondsOf(target.serverPid, true) - startMainThreadCpuSeconds;
  const clientCpu = process.cpuUsage(startClientCpu);
  tally.clientCpuSeconds += (clientCpu.user + clientCpu.system) / 1e6;
  await target.afterSlice?.();
}

function microsecondsPer(seconds: number, operations: number): number {
  return operations > 0 ? Math.round((seconds * 1e6 * 10) / operations) / 10 : 0;
}

function summary(name: string, tally: Tally): PhaseResult {
  const { operations, errors, seconds, latency } = tally;
  return {
    name,
    operations,
    operationsPerSecond: Math.round(operations / seconds),
    operationsPerServerCpuSecond:
      tally.serverCpuSeconds > 0 ? Math.round(operations / tally.serverCpuSeconds) : 0,
    serverCpuUsPerOperation: microsecondsPer(tally.serverCpuSeconds, operations),
    serverMainThreadCpuUsPerOperation: microsecondsPer(tally.serverMainThreadCpuSeconds, operations),
    clientCpuUsPerOperation: microsecondsPer(tally.clientCpuSeconds, operations),
    errors,
    p50Us: latency.getValueAtPercentile(50),
    p99Us: latency.getValueAtPercentile(99),
    p999Us: latency.getValueAtPercentile(99.9),
    maxUs: latency.maxValue,
  };
}

/** A setup request that must succeed: the benchmark stops with the reply otherwise. */
async function required(send: Send, message: Record<string, unknown>): Promise<Record<string, any>> {
  const reply = await send(message);
  if (reply.httpStatus !== 200 && reply.httpStatus !== 201) {
    throw new Error(
      `setup ${String(message.method)} ${String(message.path)} failed: ${JSON.stringify(reply)}`,
    );
  }
  return reply;
}

const readModelCatchUpSecondsMax = 120;

/** The read model's lag when called, then how long it takes to reach 0 (bounded; -1 if it never did). */
async function readModelCatchUp(port: number): Promise<{ lagCommands: number; seconds: number }> {
  const { send, agent } = httpSender(port, undefined);
  const lagNow = async () => Number((await send({ method: 'GET', path: '/readyz' })).readModelLag ?? 0);
  try {
    const lagCommands = await lagNow();
    const startedNs = process.hrtime.bigint();
    for (let lag = lagCommands; lag > 0; lag = await lagNow()) {
      const seconds = Number(process.hrtime.bigint() - startedNs) / 1e9;
      if (seconds > readModelCatchUpSecondsMax) return { lagCommands, seconds: -1 };
      // Polling an external process's progress: no event to wait on from here.
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return { lagCommands, seconds: Number(process.hrtime.bigint() - startedNs) / 1e9 };
  } finally {
    agent.destroy();
  }
}

/** Notes the read model's lag and catch-up time on the pair's exchange results. */
async function withReadModelCatchUp(port: number, pair: PhaseResult[]): Promise<PhaseResult[]> {
  const { lagCommands, seconds } = await readModelCatchUp(port);
  for (const result of pair) {
    if (!result.name.includes('exchange')) continue;
    result.readModelLagCommands = lagCommands;
    result.readModelCatchUpSeconds = Math.round(seconds * 10) / 10;
  }
  return pair;
}

/** Sets up the exchange over REST: admin, a market, one funded user and session per client. */
async function setUpExchange(port: number, clients: number): Promise<string[]> {
  const { send } = httpSender(port, undefined);
  const admin = await required(send, {
    method: 'POST',
    path: '/api/v1/auth/login',
    body: { username: adminName, password: adminPassword },
  });
  const { send: asAdmin } = httpSender(port, admin.token);
  await required(asAdmin, {
    method: 'POST',
    path: '/api/v1/admin/symbols',
    body: {
      symbol: benchSymbol,
      base: 'BENCH',
      quote: 'USD',
      baseDecimals: 8,
      quoteDecimals: 6,
      lotSize: '0.001',
      tickSize: '0.01',
      makerFeeBps: 0,
      takerFeeBps: 0,
    },
  });
  const tokens = [];
  process.stderr.write(`setting up ${clients} users\n`);
  for (let client = 0; client < clients; client += 1) {
    const credentials = { username: `bench-user-${client}`, password: 'bench-user-password' };
    const user = await required(send, { method: 'POST', path: '/api/v1/auth/register', body: credentials });
    await required(asAdmin, {
      method: 'POST',
      path: '/api/v1/admin/deposits',
      body: { userId: user.userId, asset: 'USD', amount: '1000000' },
    });
    tokens.push(
      (await required(send, { method: 'POST', path: '/api/v1/auth/login', body: credentials })).token,
    );
  }
  return tokens;
}

/**
 * N WebSocket clients; with tokens, each authenticates as an order-entry socket (replies only, the
 * same traffic as the echo). With `privateStreams` the sockets get their users' pushes too, but
 * only during their own slices: pushes go to every receiving socket of a user, so sockets left
 * receiving would add their work to the other target's slices.
 */
async function webSocketTarget(
  name: string,
  server: Child,
  tokens: Array<string | undefined>,
  privateStreams = false,
): Promise<Target> {
  const url = `ws://127.0.0.1:${server.port}/ws`;
  const connections = await Promise.all(tokens.map(() => webSocketSender(url)));
  await Promise.all(
    connections.map((connection, index) =>
      tokens[index] === undefined
        ? undefined
        : connection.send({ op: 'auth', token: tokens[index], private: false }),
    ),
  );
  const receivePushes = async (enabled: boolean) => {
    await Promise.all(connections.map((connection) => connection.send({ op: 'private', enabled })));
  };
  return {
    name,
    ...(privateStreams
      ? { beforeSlice: () => receivePushes(true), afterSlice: () => receivePushes(false) }
      : {}),
    serverPid: server.child.pid,
    clients: connections.map((connection) => connection.send),
    cycle: webSocketCycle(benchSymbol),
    close: async () => {
      for (const connection of connections) connection.socket.close();
    },
  } satisfies Target;
}

function restTarget(name: string, server: Child, tokens: Array<string | undefined>): Target {
  const senders = tokens.map((token) => httpSender(server.port, token));
  return {
    name,
    serverPid: server.child.pid,
    clients: senders.map((sender) => sender.send),
    cycle: restCycle(benchSymbol),
    close: async () => {
      for (const sender of senders) sender.agent.destroy();
    },
  };
}

/**
 * The ceiling and the subjects take turns in `rounds` slices, so a change in the machine's load (it
 * is shared) hits all alike; then each runs at half its own full rate for latency.
 */
async function measureTogether(
  ceiling: Target,
  subjects: Target[],
  options: GatewayBenchOptions,
): Promise<PhaseResult[]> {
  const sliceSeconds = Math.max(1, Math.round(options.seconds / options.rounds));
  const targets = [ceiling, ...subjects];
  const full = targets.map(() => newTally());
  const half = targets.map(() => newTally());
  for (let round = 1; round <= options.rounds; round += 1) {
    for (const [index, target] of targets.entries()) {
      await runSlice(
        target,
        `${target.name} full ${round}/${options.rounds}`,
        sliceSeconds,
        options.depth,
        full[index],
      );
    }
  }
  const halfRates = full.map((tally, index) =>
    index > 0 && options.pacedRate !== undefined ? options.pacedRate : tally.operations / tally.seconds / 2,
  );
  for (let round = 1; round <= options.rounds; round += 1) {
    for (const [index, target] of targets.entries()) {
      const name = `${target.name} half ${round}/${options.rounds}`;
      await runSlice(target, name, sliceSeconds, options.depth, half[index], halfRates[index]);
    }
  }
  for (const target of targets) await target.close();
  return targets.flatMap((target, index) => [
    summary(`${target.name} full`, full[index]),
    summary(`${target.name} half`, half[index]),
  ]);
}

export async function runGatewayBench(options: GatewayBenchOptions): Promise<PhaseResult[]> {
  const dataDir = mkdtempSync(join(tmpdir(), 'hoga-bench-gateway-'));
  const unlimited = '1000000000';
  const exchange = await spawnChild(
    ['start', '--host', '127.0.0.1', '--port', '0', '--data-dir', dataDir, '--log-level', 'info'],
    {
      HOGA_ADMIN_USER: adminName,
      HOGA_ADMIN_PASSWORD: adminPassword,
      // Setup registers a user per client: a cheap hash keeps it quick; it is not on the measured path.
      HOGA_SCRYPT_COST_LOG2: '10',
      HOGA_ORDERS_PER_SECOND: unlimited,
      HOGA_ORDERS_BURST: unlimited,
      HOGA_REQUESTS_PER_IP_PER_SECOND: unlimited,
      HOGA_REQUESTS_PER_IP_BURST: unlimited,
      HOGA_CONNECTIONS_PER_IP_MAX: unlimited,
      HOGA_ABNORMAL_ORDERS_FLOOR: unlimited,
      HOGA_ABNORMAL_REJECTS_FLOOR: unlimited,
      HOGA_SESSIONS_PER_USER_MAX: '10',
      HOGA_LOGINS_PER_IP_PER_SECOND: unlimited,
      HOGA_LOGINS_PER_IP_BURST: unlimited,
    },
    // Node flags for the exchange only, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` to profile it.
    (process.env.HOGA_BENCH_SERVER_FLAGS ?? '').split(' ').filter((flag) => flag !== ''),
  );
  const results: PhaseResult[] = [];
  const echoWs = await spawnChild(['bench', 'gateway-echo', '--kind', 'ws'], {});
  const echoHttp = await spawnChild(['bench', 'gateway-echo', '--kind', 'http'], {});
  try {
    const tokens = await setUpExchange(exchange.port, options.clients);
    const transports = options.transports ?? 'both';
    if (transports !== 'rest') results.push(...(await measureWebSocket(echoWs, exchange, tokens, options)));
    if (transports !== 'ws') results.push(...(await measureRest(echoHttp, exchange, tokens, options)));
  } finally {
    await Promise.all([stopChild(exchange.child), stopChild(echoWs.child), stopChild(echoHttp.child)]);
    rmSync(dataDir, { recursive: true, force: true });
  }
  return results;
}

async function measureWebSocket(
  echo: Child,
  exchange: Child,
  tokens: string[],
  options: GatewayBenchOptions,
): Promise<PhaseResult[]> {
  const ceiling = await webSocketTarget('ws echo (ceiling)', echo, anonymousLike(tokens));
  const orderEntry = await webSocketTarget('ws exchange', exchange, tokens);
  const withPushes = await webSocketTarget('ws exchange + private streams', exchange, tokens, true);
  const results = await measureTogether(ceiling, [orderEntry, withPushes], options);
  return withReadModelCatchUp(exchange.port, results);
}

async function measureRest(
  echo: Child,
  exchange: Child,
  tokens: string[],
  options: GatewayBenchOptions,
): Promise<PhaseResult[]> {
  const ceiling = restTarget('rest bare fastify (ceiling)', echo, anonymousLike(tokens));
  const subject = restTarget('rest exchange', exchange, tokens);
  return withReadModelCatchUp(exchange.port, await measureTogether(ceiling, [subject], options));
}

/** As many clients as `tokens`, without sessions: the ceilings have no accounts. */
function anonymousLike(tokens: string[]): undefined[] {
  return tokens.map(() => undefined);
}

/** The ceilings: a bare ws server that echoes each message, and a bare Fastify app with the same routes. */
async function serveEcho(kind: string): Promise<void> {
  if (kind === 'ws') {
    const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    server.on('connection', (socket) => socket.on('message', (data) => socket.send(data.toString())));
    await new Promise((resolve) => server.once('listening', resolve));
    process.stdout.write(`${JSON.stringify({ port: (server.address() as { port: number }).port })}\n`);
    return;
  }
  const app = Fastify();
  let orderId = 0;
  app.post('/api/v1/orders', async (request) => ({ orderId: ++orderId, echo: request.body }));
  app.delete('/api/v1/orders/:orderId', async (request) => ({
    cancelled: (request.params as { orderId: string }).orderId,
  }));
  await app.listen({ host: '127.0.0.1', port: 0 });
  process.stdout.write(`${JSON.stringify({ port: (app.server.address() as { port: number }).port })}\n`);
}

export function formatResults(results: PhaseResult[]): string {
  const lines = [
    '| phase | ops/s | ops per server CPU s | server CPU µs/op | of which main thread | client CPU µs/op | p50 µs | p99 µs | p99.9 µs | max µs | errors |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const result of results) {
    lines.push(
      `| ${result.name} | ${result.operationsPerSecond} | ${result.operationsPerServerCpuSecond} | ${result.serverCpuUsPerOperation} | ${result.serverMainThreadCpuUsPerOperation} | ${result.clientCpuUsPerOperation} | ${result.p50Us} | ${result.p99Us} | ${result.p999Us} | ${result.maxUs} | ${result.errors} |`,
    );
  }
  const rate = (name: string) => results.find((result) => result.name === name)?.operationsPerSecond ?? 0;
  const wsRatio = rate('ws exchange full') / Math.max(1, rate('ws echo (ceiling) full'));
  const pushesRatio =
    rate('ws exchange + private streams full') / Math.max(1, rate('ws echo (ceiling) full'));
  const restRatio = rate('rest exchange full') / Math.max(1, rate('rest bare fastify (ceiling) full'));
  if (errorSamples.length > 0) lines.push('', `error samples: ${JSON.stringify(errorSamples)}`);
  lines.push('', `ws exchange / ws echo: ${(wsRatio * 100).toFixed(1)}% (target >= 70%)`);
  lines.push(`ws exchange + private streams / ws echo: ${(pushesRatio * 100).toFixed(1)}%`);
  lines.push(`rest exchange / bare fastify: ${(restRatio * 100).toFixed(1)}%`);
  const perCpu = (name: string) =>
    results.find((result) => result.name === name)?.operationsPerServerCpuSecond ?? 0;
  const cpuRatio = perCpu('ws exchange full') / Math.max(1, perCpu('ws echo (ceiling) full'));
  lines.push(`ws exchange / ws echo per server CPU second: ${(cpuRatio * 100).toFixed(1)}%`);
  const halfP99 = results.find((result) => result.name === 'ws exchange half')?.p99Us ?? 0;
  lines.push(`ws exchange p99 at half load: ${(halfP99 / 1000).toFixed(2)} ms (target <= 5 ms)`);
  const pushesHalfP99 =
    results.find((result) => result.name === 'ws exchange + private streams half')?.p99Us ?? 0;
  lines.push(`ws exchange + private streams p99 at half load: ${(pushesHalfP99 / 1000).toFixed(2)} ms`);
  for (const name of ['ws exchange half', 'rest exchange half']) {
    const result = results.find((candidate) => candidate.name === name);
    if (result?.readModelLagCommands === undefined) continue;
    const caughtUp =
      result.readModelCatchUpSeconds === -1
        ? `not caught up within ${readModelCatchUpSecondsMax} s`
        : `caught up ${result.readModelCatchUpSeconds} s later`;
    lines.push(
      `read model after the ${name.split(' ')[0]} phases: ${result.readModelLagCommands} commands behind, ${caughtUp}`,
    );
  }
  return lines.join('\n');
}

function positiveInteger(text: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value <= 0) throw new Error(`expected a positive integer, got ${text}`);
  return value;
}

export function registerBenchGatewayCommands(program: Command): void {
  const bench = program.command('bench').description('benchmarks');
  bench
    .command('gateway')
    .description('orders over WebSocket and REST against the exchange and against bare echo servers')
    .option('--clients <n>', 'concurrent clients (one user each)', positiveInteger, 64)
    .option('--depth <n>', 'requests in flight per client', positiveInteger, 2)
    .option('--seconds <n>', 'seconds per phase', positiveInteger, 12)
    .option(
      '--rounds <n>',
      'alternating slices per phase (ceiling, exchange, ceiling, ...)',
      positiveInteger,
      3,
    )
    .option('--ws-only', 'measure only orders over WebSocket')
    .option('--rest-only', 'measure only orders over REST')
    .option('--json', 'print the results as JSON')
    .option(
      '--paced-rate <n>',
      "the exchange's half phases at n ops/s, not half its full rate",
      positiveInteger,
    )
    .action(async (flags) => {
      const results = await runGatewayBench({
        clients: flags.clients,
        depth: flags.depth,
        seconds: flags.seconds,
        rounds: flags.rounds,
        transports: flags.wsOnly ? 'ws' : flags.restOnly ? 'rest' : 'both',
        pacedRate: flags.pacedRate,
      });
      process.stdout.write(`${flags.json ? JSON.stringify(results) : formatResults(results)}\n`);
    });
  bench
    .command('gateway-echo', { hidden: true })
    .requiredOption('--kind <kind>', 'ws or http')
    .action(async (flags) => serveEcho(flags.kind));
}
