// Settings of the cluster roles (`hoga engine | gateway | projector`), from flags and the
// environment (flags win), each checked before anything connects: a malformed value is refused
// with CLUSTER_SETTING_INVALID naming the variable (docs/CLUSTER.md "Settings"). The gateways'
// shared Redis has its own settings (redis-config.ts, HOGA_REDIS_*).
import { prefixPattern } from './streams.js';

export interface ClusterSettings {
  /** Every NATS server of the cluster (a client reconnects to any of them). */
  natsServers: string[];
  /** Streams `<prefix>_CMD` / `<prefix>_EVT`, subjects `<prefix>.cmd|evt|hash`. */
  natsPrefix: string;
  /** Stream replicas: 1 on a single test server, 3 in the 3-node cluster. */
  streamReplicas: number;
  /** PostgreSQL read model (gateway, projector). */
  databaseUrl: string;
  /** PostgreSQL schema of the read model (tests give each run its own); empty: the default. */
  dbSchema: string;
  /** Engine replica: snapshots and the directory lock. */
  dataDir: string;
  /** Name of this process in logs and hash messages. */
  replicaName: string;
  /** An engine replica records its state hash in the outcome every this many commands. */
  hashEveryCommands: number;
  /** An engine replica writes a local snapshot every this many commands (0: only at stop). */
  snapshotEveryCommands: number;
  /** Gateway: commands submitted and not yet answered; one more is refused with QUEUE_FULL. */
  pendingCommandsMax: number;
  /** Gateway: a submitted command without its outcome after this long fails with COMMAND_TIMEOUT. */
  commandTimeoutMs: number;
  /** Stream readers: idle heartbeat asked of the server; two missed recreate the consumer. */
  heartbeatMs: number;
}

export const defaultClusterSettings: ClusterSettings = {
  natsServers: ['nats://127.0.0.1:4222'],
  natsPrefix: 'HOGA',
  streamReplicas: 1,
  databaseUrl: '',
  dbSchema: '',
  dataDir: './data/engine',
  replicaName: `pid-${process.pid}`,
  hashEveryCommands: 1_000,
  snapshotEveryCommands: 100_000,
  pendingCommandsMax: 10_000,
  commandTimeoutMs: 10_000,
  heartbeatMs: 1_000,
};

/** Flags as the role commands parse them (strings as typed). */
export interface ClusterFlags {
  natsServers?: string;
  natsPrefix?: string;
  streamReplicas?: string;
  databaseUrl?: string;
  dbSchema?: string;
  dataDir?: string;
  replicaName?: string;
  hashEveryCommands?: string;
  snapshotEveryCommands?: string;
}

export class ClusterSettingsError extends Error {
  readonly code = 'CLUSTER_SETTING_INVALID';
}

function integer(name: string, text: string | undefined, fallback: number, min: number, max: number): number {
  if (text === undefined || text === '') return fallback;
  if (!/^\d+$/.test(text.trim())) throw new ClusterSettingsError(`${name}=${text}: not a whole number`);
  const value = Number(text.trim());
  if (value < min || value > max) throw new ClusterSettingsError(`${name}=${text}: must be ${min}..${max}`);
  return value;
}

function servers(text: string | undefined): string[] {
  if (text === undefined || text === '') return defaultClusterSettings.natsServers;
  const list = text
    .split(',')
    .map((server) => server.trim())
    .filter((server) => server !== '');
  if (list.length === 0 || list.length > 16)
    throw new ClusterSettingsError(`HOGA_NATS_SERVERS=${text}: 1..16 servers`);
  for (const server of list) {
    if (!/^(nats:\/\/|tls:\/\/)?[A-Za-z0-9.[\]:-]+:\d{1,5}$/.test(server)) {
      throw new ClusterSettingsError(`HOGA_NATS_SERVERS: ${server} is not host:port or nats://host:port`);
    }
  }
  return list;
}

export function loadClusterSettings(
  flags: ClusterFlags = {},
  environment: NodeJS.ProcessEnv = process.env,
): ClusterSettings {
  const prefix = flags.natsPrefix ?? environment.HOGA_NATS_PREFIX ?? defaultClusterSettings.natsPrefix;
  if (!prefixPattern.test(prefix)) {
    throw new ClusterSettingsError(`HOGA_NATS_PREFIX=${prefix}: letters, digits, _ and - only, at most 32`);
  }
  const dbSchema = flags.dbSchema ?? environment.HOGA_DB_SCHEMA ?? '';
  if (dbSchema !== '' && !/^[a-z_][a-z0-9_]{0,62}$/.test(dbSchema)) {
    throw new ClusterSettingsError(`HOGA_DB_SCHEMA=${dbSchema}: lower-case letters, digits and _ only`);
  }
  const databaseUrl = flags.databaseUrl ?? environment.HOGA_DATABASE_URL ?? '';
  if (databaseUrl !== '' && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new ClusterSettingsError('HOGA_DATABASE_URL: must be a postgres:// URL');
  }
  const d = defaultClusterSettings;
  return {
    natsServers: servers(flags.natsServers ?? environment.HOGA_NATS_SERVERS),
    natsPrefix: prefix,
    streamReplicas: integer(
      'HOGA_STREAM_REPLICAS',
      flags.streamReplicas ?? environment.HOGA_STREAM_REPLICAS,
      d.streamReplicas,
      1,
      5,
    ),
    databaseUrl,
    dbSchema,
    dataDir: flags.dataDir ?? environment.HOGA_DATA_DIR ?? d.dataDir,
    replicaName: flags.replicaName ?? environment.HOGA_REPLICA_NAME ?? d.replicaName,
    hashEveryCommands: integer(
      'HOGA_HASH_EVERY_COMMANDS',
      flags.hashEveryCommands ?? environment.HOGA_HASH_EVERY_COMMANDS,
      d.hashEveryCommands,
      1,
      1_000_000_000,
    ),
    snapshotEveryCommands: integer(
      'HOGA_SNAPSHOT_EVERY_COMMANDS',
      flags.snapshotEveryCommands ?? environment.HOGA_SNAPSHOT_EVERY_COMMANDS,
      d.snapshotEveryCommands,
      0,
      1_000_000_000,
    ),
    pendingCommandsMax: integer(
      'HOGA_PENDING_COMMANDS_MAX',
      environment.HOGA_PENDING_COMMANDS_MAX,
      d.pendingCommandsMax,
      1,
      1_000_000,
    ),
    commandTimeoutMs: integer(
      'HOGA_COMMAND_TIMEOUT_MS',
      environment.HOGA_COMMAND_TIMEOUT_MS,
      d.commandTimeoutMs,
      100,
      600_000,
    ),
    heartbeatMs: integer('HOGA_HEARTBEAT_MS', environment.HOGA_HEARTBEAT_MS, d.heartbeatMs, 500, 60_000),
  };
}
