// The exchange under test: `hoga start` on a fresh data directory (durable journal, fsync always)
// with every rate limit lifted, an admin, one market and a funded user and session per client,
// all set up over REST before anything is measured.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Child, cliMainPath, spawnChild, stopChild } from './children.js';
import { benchSymbol, httpSender } from './clients.js';

const adminName = 'bench-admin';
const adminPassword = 'bench-admin-password';
const unlimited = '1000000000';

export interface Exchange extends Child {
  stop(): Promise<void>;
}

/** `serverNodeFlags` go to the exchange's node, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`. */
export async function startExchange(serverNodeFlags: string[]): Promise<Exchange> {
  const dataDir = mkdtempSync(join(tmpdir(), 'hoga-bench-gateway-'));
  const args = ['start', '--host', '127.0.0.1', '--port', '0', '--data-dir', dataDir, '--log-level', 'info'];
  const env = {
    HOGA_ADMIN_USER: adminName,
    HOGA_ADMIN_PASSWORD: adminPassword,
    // Setup registers a user per client: a cheap hash keeps it quick; it is not on the measured path.
    HOGA_SCRYPT_COST_LOG2: '10',
    HOGA_ORDERS_PER_SECOND: unlimited,
    HOGA_ORDERS_BURST: unlimited,
    HOGA_REQUESTS_PER_IP_PER_SECOND: unlimited,
    HOGA_REQUESTS_PER_IP_BURST: unlimited,
    HOGA_BINANCE_WEIGHT_PER_MINUTE: unlimited,
    HOGA_CONNECTIONS_PER_IP_MAX: unlimited,
    HOGA_ABNORMAL_ORDERS_FLOOR: unlimited,
    HOGA_ABNORMAL_REJECTS_FLOOR: unlimited,
    HOGA_SESSIONS_PER_USER_MAX: '10',
    HOGA_LOGINS_PER_IP_PER_SECOND: unlimited,
    HOGA_LOGINS_PER_IP_BURST: unlimited,
  };
  try {
    const child = await spawnChild(cliMainPath, args, env, serverNodeFlags);
    return {
      ...child,
      stop: async () => {
        await stopChild(child.child);
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
}

type Send = ReturnType<typeof httpSender>['send'];

/** A setup request that must succeed: the benchmark stops with the reply otherwise. */
async function required(send: Send, message: Record<string, unknown>) {
  const reply = await send(message);
  if (reply.httpStatus !== 200 && reply.httpStatus !== 201) {
    throw new Error(
      `setup ${String(message.method)} ${String(message.path)} failed: ${JSON.stringify(reply)}`,
    );
  }
  return reply;
}

/** Admin login, the market, and per client a registered, funded user with a session token. */
export async function setUpExchange(port: number, clients: number): Promise<string[]> {
  const { send, agent } = httpSender(port, undefined);
  const login = { username: adminName, password: adminPassword };
  const admin = await required(send, { method: 'POST', path: '/api/v1/auth/login', body: login });
  const { send: asAdmin, agent: adminAgent } = httpSender(port, admin.token);
  const market = {
    symbol: benchSymbol,
    base: 'BENCH',
    quote: 'USD',
    baseDecimals: 8,
    quoteDecimals: 6,
    lotSize: '0.001',
    tickSize: '0.01',
    makerFeeBps: 0,
    takerFeeBps: 0,
  };
  await required(asAdmin, { method: 'POST', path: '/api/v1/admin/symbols', body: market });
  const tokens: string[] = [];
  for (let client = 0; client < clients; client += 1) {
    const credentials = { username: `bench-user-${client}`, password: 'bench-user-password' };
    const user = await required(send, { method: 'POST', path: '/api/v1/auth/register', body: credentials });
    const deposit = { userId: user.userId, asset: 'USD', amount: '1000000' };
    await required(asAdmin, { method: 'POST', path: '/api/v1/admin/deposits', body: deposit });
    const session = await required(send, { method: 'POST', path: '/api/v1/auth/login', body: credentials });
    tokens.push(String(session.token));
  }
  agent.destroy();
  adminAgent.destroy();
  return tokens;
}

export const readModelCatchUpSecondsMax = 120;
const readModelPollMs = 100;

/** The read model's lag when called, then how long it takes to reach 0 (bounded; -1 if it never did). */
export async function readModelCatchUp(port: number): Promise<{ lagCommands: number; seconds: number }> {
  const { send, agent } = httpSender(port, undefined);
  const lagNow = async () => Number((await send({ method: 'GET', path: '/readyz' })).readModelLag ?? 0);
  try {
    const lagCommands = await lagNow();
    const startedNs = process.hrtime.bigint();
    for (let lag = lagCommands; lag > 0; lag = await lagNow()) {
      const seconds = Number(process.hrtime.bigint() - startedNs) / 1e9;
      if (seconds > readModelCatchUpSecondsMax) return { lagCommands, seconds: -1 };
      // Polling another process's progress: there is no event to wait on from here.
      await new Promise((resolve) => setTimeout(resolve, readModelPollMs));
    }
    return { lagCommands, seconds: Number(process.hrtime.bigint() - startedNs) / 1e9 };
  } finally {
    agent.destroy();
  }
}
