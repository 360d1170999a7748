// A whole cluster on loopback from the installed binaries (`hoga cluster up|down|status`, the
// fault tests and bench/cluster): 3 nats-server nodes with clustered JetStream (R3 streams), a
// redis-server with AOF, a PostgreSQL database, 2 engine replicas, 1 projector and 2 gateways.
// Every process is a detached child with its log in <dir>/logs; the layout and the pids are in
// <dir>/cluster.json so `status` and `down` work from another shell. Start-up waits for each role
// to be ready by polling with a bound (never a fixed sleep).
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join, resolve } from 'node:path';
import pg from 'pg';
import { generateKeyFile } from '../gateway/api-key-secrets.js';
import { connectCluster } from './nats.js';
import { natsNodes } from './nats-nodes.js';
import { ensureStreams, streamNames } from './streams.js';

export type ComponentRole = 'nats' | 'redis' | 'engine' | 'projector' | 'gateway';

export interface LocalClusterLayout {
  /** State directory: NATS stores, Redis AOF, engine data dirs, logs, cluster.json. */
  dir: string;
  natsClientPorts: number[];
  natsRoutePorts: number[];
  natsMonitorPorts: number[];
  redisPort: number;
  gatewayPorts: number[];
  engines: number;
  /** The read model's database (created when missing). */
  databaseUrl: string;
  /** PostgreSQL schema of the read model; empty: the default (tests give each run its own). */
  dbSchema: string;
  natsPrefix: string;
  adminUser: string;
  adminPassword: string;
  /** Extra environment of every role process (e.g. HOGA_SCRYPT_COST_LOG2 in tests). */
  roleEnvironment: Record<string, string>;
}

export interface LayoutOptions {
  dir?: string;
  /** Added to every default port (14222.., 16222.., 18222.., 16379, 18080..). */
  portOffset?: number;
  databaseUrl?: string;
  dbSchema?: string;
  natsPrefix?: string;
  adminPassword?: string;
  roleEnvironment?: Record<string, string>;
}

export const defaultDatabaseUrl = 'postgres://postgres@127.0.0.1:5432/hoga_cluster';

export function clusterLayout(options: LayoutOptions = {}): LocalClusterLayout {
  const offset = options.portOffset ?? 0;
  if (!Number.isInteger(offset) || offset < 0 || offset > 40_000)
    throw new LocalClusterError('CLUSTER_SETTING_INVALID', `port offset ${offset}: must be 0..40000`);
  const ports = (base: number, count: number) =>
    Array.from({ length: count }, (_, index) => base + offset + index);
  return {
    dir: resolve(options.dir ?? './cluster-data'),
    natsClientPorts: ports(14222, 3),
    natsRoutePorts: ports(16222, 3),
    natsMonitorPorts: ports(18222, 3),
    redisPort: 16379 + offset,
    gatewayPorts: ports(18080, 2),
    engines: 2,
    databaseUrl: options.databaseUrl ?? defaultDatabaseUrl,
    dbSchema: options.dbSchema ?? '',
    natsPrefix: options.natsPrefix ?? 'HOGA',
    adminUser: 'admin',
    adminPassword: options.adminPassword ?? 'admin-password-1',
    roleEnvironment: options.roleEnvironment ?? {},
  };
}

export class LocalClusterError extends Error {
  constructor(
    readonly code:
      | 'CLUSTER_SETTING_INVALID'
      | 'CLUSTER_NOT_READY'
      | 'CLUSTER_STATE_MISSING'
      | 'CLUSTER_RUNNING',
    message: string,
  ) {
    super(message);
  }
}

export interface ComponentRecord {
  name: string;
  role: ComponentRole;
  pid: number;
  port?: number;
  log: string;
}

export interface ClusterState {
  version: 1;
  layout: LocalClusterLayout;
  components: ComponentRecord[];
}

export interface ComponentStatus {
  name: string;
  role: ComponentRole;
  pid: number;
  alive: boolean;
  ready: boolean;
  detail: string;
}

interface ComponentSpec {
  name: string;
  role: ComponentRole;
  command: string;
  args: string[];
  env: Record<string, string>;
  port?: number;
}

const cliPath = join(import.meta.dirname, '..', 'cli', 'main.js');
/** Bound on each role's readiness (the machine may be loaded; NATS elects a meta leader first). */
const readyBoundMs = 60_000;
const pollMs = 100;
const stopBoundMs = 10_000;

export const natsUrls = (layout: LocalClusterLayout): string[] =>
  layout.natsClientPorts.map((port) => `nats://127.0.0.1:${port}`);

export const gatewayUrls = (layout: LocalClusterLayout): string[] =>
  layout.gatewayPorts.map((port) => `http://127.0.0.1:${port}`);

const apiKeySecretPath = (layout: LocalClusterLayout): string => join(layout.dir, 'api-key-secret.key');

function roleEnvironment(layout: LocalClusterLayout): Record<string, string> {
  return {
    HOGA_NATS_SERVERS: natsUrls(layout).join(','),
    HOGA_NATS_PREFIX: layout.natsPrefix,
    HOGA_STREAM_REPLICAS: '3',
    HOGA_DATABASE_URL: layout.databaseUrl,
    HOGA_DB_SCHEMA: layout.dbSchema,
    HOGA_REDIS_URL: `redis://127.0.0.1:${layout.redisPort}`,
    HOGA_HOST: '127.0.0.1',
    HOGA_ADMIN_USER: layout.adminUser,
    HOGA_ADMIN_PASSWORD: layout.adminPassword,
    HOGA_LOG_LEVEL: 'info',
    // Every gateway holds the same API key server key (generated once by `up`, mode 0600).
    HOGA_API_KEY_SECRET_KEY_FILE: apiKeySecretPath(layout),
    ...layout.roleEnvironment,
  };
}

/** Every component in start order (NATS, Redis, engines, projector, gateways). */
export function componentSpecs(layout: LocalClusterLayout): ComponentSpec[] {
  // The nodes' command lines are the failover tests' (nats-nodes.ts), plus a monitoring port for /healthz.
  const nodes = natsNodes({
    nodes: layout.natsClientPorts.length,
    clientPortBase: layout.natsClientPorts[0],
    clusterPortBase: layout.natsRoutePorts[0],
    stateDir: join(layout.dir, 'nats'),
  });
  const specs: ComponentSpec[] = nodes.map((node) => ({
    name: `nats-${node.index + 1}`,
    role: 'nats',
    command: process.env.HOGA_NATS_SERVER_BIN ?? 'nats-server',
    args: [...node.args, '-m', String(layout.natsMonitorPorts[node.index])],
    env: {},
    port: node.clientPort,
  }));
  specs.push({
    name: 'redis',
    role: 'redis',
    command: 'redis-server',
    args: [
      '--port',
      String(layout.redisPort),
      '--bind',
      '127.0.0.1',
      '--appendonly',
      'yes',
      '--appendfsync',
      'everysec',
      '--save',
      '',
      '--dir',
      join(layout.dir, 'redis'),
    ],
    env: {},
    port: layout.redisPort,
  });
  const common = roleEnvironment(layout);
  for (let index = 1; index <= layout.engines; index += 1) {
    specs.push({
      name: `engine-${index}`,
      role: 'engine',
      command: process.execPath,
      args: [cliPath, 'engine', '--replica-name', `engine-${index}`],
      // Readiness is the role's info line "engine replica running": never quieter than info.
      env: { ...common, HOGA_LOG_LEVEL: 'info', HOGA_DATA_DIR: join(layout.dir, `engine-${index}`) },
    });
  }
  specs.push({
    name: 'projector',
    role: 'projector',
    command: process.execPath,
    args: [cliPath, 'projector', '--replica-name', 'projector'],
    env: { ...common, HOGA_LOG_LEVEL: 'info' },
  });
  layout.gatewayPorts.forEach((port, index) => {
    specs.push({
      name: `gateway-${index + 1}`,
      role: 'gateway',
      command: process.execPath,
      args: [cliPath, 'gateway', '--replica-name', `gateway-${index + 1}`],
      env: { ...common, HOGA_PORT: String(port) },
      port,
    });
  });
  return specs;
}

const statePath = (dir: string) => join(dir, 'cluster.json');

export function readClusterState(dir: string): ClusterState {
  const path = statePath(resolve(dir));
  if (!existsSync(path)) throw new LocalClusterError('CLUSTER_STATE_MISSING', `no cluster state at ${path}`);
  return JSON.parse(readFileSync(path, 'utf8')) as ClusterState;
}

function writeState(state: ClusterState): void {
  writeFileSync(statePath(state.layout.dir), `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
}

/** Whether `pid` is alive and still the process we started (its command line names the binary). */
export function processAlive(component: Pick<ComponentRecord, 'pid' | 'role'>): boolean {
  try {
    const commandLine = readFileSync(`/proc/${component.pid}/cmdline`, 'utf8');
    const stat = readFileSync(`/proc/${component.pid}/stat`, 'utf8');
    if (/\) Z /.test(stat)) return false;
    const marker =
      component.role === 'nats' ? 'nats-server' : component.role === 'redis' ? 'redis-server' : 'main.js';
    return commandLine.includes(marker);
  } catch {
    return false;
  }
}

async function httpOk(url: string): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
    await response.arrayBuffer();
    return response.ok;
  } catch {
    return false;
  }
}

function redisPing(port: number): Promise<boolean> {
  return new Promise((resolvePing) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    let reply = '';
    const done = (ok: boolean) => {
      socket.destroy();
      resolvePing(ok);
    };
    socket.setTimeout(2_000, () => done(false));
    socket.on('error', () => done(false));
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString();
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
  });
}

function loggedSince(log: string, offset: number, message: string): boolean {
  try {
    return readFileSync(log, 'utf8').slice(offset).includes(`"msg":"${message}"`);
  } catch {
    return false;
  }
}

function logTail(log: string): string {
  try {
    return readFileSync(log, 'utf8').split('\n').slice(-8).join('\n');
  } catch {
    return '';
  }
}

function fileSize(path: string): number {
  try {
    return readFileSync(path).length;
  } catch {
    return 0;
  }
}

/** Readiness of one component: NATS /healthz, Redis PING, a role's log line, a gateway's /readyz. */
async function componentReady(
  layout: LocalClusterLayout,
  record: ComponentRecord,
  logOffset = 0,
): Promise<boolean> {
  switch (record.role) {
    case 'nats':
      return httpOk(
        `http://127.0.0.1:${layout.natsMonitorPorts[layout.natsClientPorts.indexOf(record.port ?? 0)]}/healthz`,
      );
    case 'redis':
      return redisPing(record.port ?? 0);
    case 'engine':
      return loggedSince(record.log, logOffset, 'engine replica running');
    case 'projector':
      return loggedSince(record.log, logOffset, 'projector running');
    case 'gateway':
      return httpOk(`http://127.0.0.1:${record.port}/readyz`);
  }
}

async function waitUntil(
  what: string,
  check: () => Promise<boolean>,
  failed: () => string | undefined,
): Promise<void> {
  const deadline = Date.now() + readyBoundMs;
  for (;;) {
    if (await check()) return;
    const failure = failed();
    if (failure !== undefined) throw new LocalClusterError('CLUSTER_NOT_READY', `${what}: ${failure}`);
    if (Date.now() > deadline)
      throw new LocalClusterError('CLUSTER_NOT_READY', `${what}: not ready within ${readyBoundMs} ms`);
    await new Promise((wake) => setTimeout(wake, pollMs));
  }
}

async function ensureDatabase(databaseUrl: string): Promise<void> {
  const target = new URL(databaseUrl);
  const name = decodeURIComponent(target.pathname.slice(1));
  if (!/^[A-Za-z0-9_]{1,63}$/.test(name))
    throw new LocalClusterError(
      'CLUSTER_SETTING_INVALID',
      `database name ${JSON.stringify(name)}: letters, digits, _`,
    );
  const maintenance = new URL(databaseUrl);
  maintenance.pathname = '/postgres';
  const client = new pg.Client({ connectionString: maintenance.toString() });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (found.rowCount === 0) await client.query(`CREATE DATABASE "${name}"`);
  } catch (error) {
    // Two starts racing on CREATE DATABASE: the loser sees duplicate_database (42P04), which is fine.
    if ((error as { code?: string }).code !== '42P04') throw error;
  } finally {
    await client.end();
  }
}

export type Progress = (line: string) => void;

/** A cluster on loopback: start it (`up`), one component again (`restart`), its status, `down`. */
export class LocalCluster {
  private readonly children = new Map<string, ChildProcess>();

  private constructor(readonly state: ClusterState) {}

  get layout(): LocalClusterLayout {
    return this.state.layout;
  }

  static attach(dir: string): LocalCluster {
    return new LocalCluster(readClusterState(dir));
  }

  /** Starts every component in order, each ready before the next; on failure stops what it started. */
  static async up(layout: LocalClusterLayout, progress: Progress = () => {}): Promise<LocalCluster> {
    if (existsSync(statePath(layout.dir))) {
      const previous = readClusterState(layout.dir);
      if (previous.components.some((component) => processAlive(component)))
        throw new LocalClusterError(
          'CLUSTER_RUNNING',
          `a cluster is running from ${layout.dir} (hoga cluster down)`,
        );
    }
    for (const sub of ['logs', 'nats', 'redis']) mkdirSync(join(layout.dir, sub), { recursive: true });
    if (!existsSync(apiKeySecretPath(layout))) generateKeyFile(apiKeySecretPath(layout));
    const cluster = new LocalCluster({ version: 1, layout, components: [] });
    try {
      progress(`database ${new URL(layout.databaseUrl).pathname.slice(1)}: ensuring it exists`);
      await ensureDatabase(layout.databaseUrl);
      const specs = componentSpecs(layout);
      for (const spec of specs.filter((candidate) => candidate.role === 'nats' || candidate.role === 'redis'))
        cluster.spawnComponent(spec);
      for (const spec of specs.filter((candidate) => candidate.role === 'nats' || candidate.role === 'redis'))
        await cluster.waitReady(spec.name, 0, progress);
      progress('streams: creating with 3 replicas (waits for the JetStream meta leader)');
      await cluster.createStreams();
      for (const spec of specs.filter(
        (candidate) => candidate.role !== 'nats' && candidate.role !== 'redis',
      )) {
        cluster.spawnComponent(spec);
        // Engines and the projector start side by side; the gateways after them, one by one.
        if (spec.role === 'gateway') await cluster.waitReady(spec.name, 0, progress);
        if (spec.name === 'projector')
          for (const name of ['engine-1', 'engine-2', 'projector'])
            await cluster.waitReady(name, 0, progress);
      }
      return cluster;
    } catch (error) {
      await cluster.down(() => {});
      throw error;
    }
  }

  private async createStreams(): Promise<void> {
    const deadline = Date.now() + readyBoundMs;
    const connection = await connectCluster(natsUrls(this.layout), 'hoga-cluster-up');
    try {
      for (;;) {
        try {
          await ensureStreams(connection.jsm, streamNames(this.layout.natsPrefix), 3);
          return;
        } catch (error) {
          if (Date.now() > deadline)
            throw new LocalClusterError(
              'CLUSTER_NOT_READY',
              `streams not created: ${(error as Error).message}`,
            );
          await new Promise((wake) => setTimeout(wake, 250));
        }
      }
    } finally {
      await connection.close();
    }
  }

  private spawnComponent(spec: ComponentSpec): ComponentRecord {
    const log = join(this.layout.dir, 'logs', `${spec.name}.log`);
    const fd = openSync(log, 'a');
    const child = spawn(spec.command, spec.args, {
      env: { ...process.env, ...spec.env },
      stdio: ['ignore', fd, fd],
      detached: true,
    });
    closeSync(fd);
    child.on('error', () => {});
    child.unref();
    if (child.pid === undefined)
      throw new LocalClusterError('CLUSTER_NOT_READY', `${spec.name}: ${spec.command} did not start`);
    this.children.set(spec.name, child);
    const record: ComponentRecord = {
      name: spec.name,
      role: spec.role,
      pid: child.pid,
      port: spec.port,
      log,
    };
    const index = this.state.components.findIndex((component) => component.name === spec.name);
    if (index === -1) this.state.components.push(record);
    else this.state.components[index] = record;
    writeState(this.state);
    return record;
  }

  component(name: string): ComponentRecord {
    const found = this.state.components.find((component) => component.name === name);
    if (found === undefined) throw new Error(`no component ${name}`);
    return found;
  }

  private async waitReady(name: string, logOffset: number, progress: Progress): Promise<void> {
    const record = this.component(name);
    await waitUntil(
      name,
      () => componentReady(this.layout, record, logOffset),
      () => (processAlive(record) ? undefined : `exited; log ${record.log}:\n${logTail(record.log)}`),
    );
    progress(`${name}: ready (pid ${record.pid}${record.port === undefined ? '' : `, port ${record.port}`})`);
  }

  /** Sends `signal` to one component (SIGKILL in the fault tests). */
  signal(name: string, signal: NodeJS.Signals): void {
    const record = this.component(name);
    if (processAlive(record)) process.kill(record.pid, signal);
  }

  /** Resolves once the component's process is gone (bounded). */
  async waitExited(name: string): Promise<void> {
    const record = this.component(name);
    const child = this.children.get(name);
    await waitUntil(
      `${name} exit`,
      async () =>
        !processAlive(record) &&
        (child === undefined || child.exitCode !== null || child.signalCode !== null),
      () => undefined,
    );
  }

  /** Kills (SIGKILL) one component if alive, starts it again with the same settings, waits until ready. */
  async restart(name: string, progress: Progress = () => {}): Promise<void> {
    if (processAlive(this.component(name))) {
      this.signal(name, 'SIGKILL');
      await this.waitExited(name);
    }
    await this.start(name, progress);
  }

  /** Starts a stopped component again and waits until it is ready. */
  async start(name: string, progress: Progress = () => {}): Promise<void> {
    const spec = componentSpecs(this.layout).find((candidate) => candidate.name === name);
    if (spec === undefined) throw new Error(`no component ${name}`);
    const offset = fileSize(join(this.layout.dir, 'logs', `${name}.log`));
    this.spawnComponent(spec);
    await this.waitReady(name, offset, progress);
  }

  async status(): Promise<ComponentStatus[]> {
    return Promise.all(
      this.state.components.map(async (record) => {
        const alive = processAlive(record);
        // A role's start line is in its log already; for a live engine/projector "ready" means alive.
        const ready =
          alive &&
          (record.role === 'engine' || record.role === 'projector'
            ? true
            : await componentReady(this.layout, record));
        const where = record.port === undefined ? '' : ` port ${record.port}`;
        return {
          name: record.name,
          role: record.role,
          pid: record.pid,
          alive,
          ready,
          detail: `pid ${record.pid}${where}${alive ? '' : ` (log ${record.log})`}`,
        };
      }),
    );
  }

  /** SIGTERM in reverse start order, SIGKILL after a bound; `purge` removes the state directory. */
  async down(progress: Progress = () => {}, purge = false): Promise<void> {
    const reverse = [...this.state.components].reverse();
    const roleOrder: ComponentRole[] = ['gateway', 'projector', 'engine', 'redis', 'nats'];
    for (const role of roleOrder) {
      const group = reverse.filter((component) => component.role === role && processAlive(component));
      for (const component of group) process.kill(component.pid, 'SIGTERM');
      const deadline = Date.now() + stopBoundMs;
      while (group.some((component) => processAlive(component)) && Date.now() < deadline)
        await new Promise((wake) => setTimeout(wake, pollMs));
      for (const component of group) {
        if (processAlive(component)) {
          process.kill(component.pid, 'SIGKILL');
          progress(`${component.name}: killed (no exit within ${stopBoundMs} ms of SIGTERM)`);
        } else progress(`${component.name}: stopped`);
      }
    }
    if (purge) {
      rmSync(this.layout.dir, { recursive: true, force: true });
      progress(`removed ${this.layout.dir}`);
    }
  }
}
