// Starts the real exchange in-process for browser tests: port 0, a temp data dir, an in-memory
// read model, a cheap scrypt cost. The exchange serves the built UI itself (web/dist).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { WebSocketServer } from 'ws';
import { loadConfig } from '../../../src/config.js';
import { type ExchangeHandle, startExchange } from '../../../src/main.js';

/** web/dist relative to this file, in dist/test/browser/support/ after tsc. */
export const webDistDir = fileURLToPath(new URL('../../../../web/dist', import.meta.url));

export const adminUser = 'admin';
export const adminPassword = 'admin-password-1';

export interface TestExchange {
  exchange: ExchangeHandle;
  /** What the browser opens. */
  url: string;
  /** Closes every WebSocket the exchange holds, as a network drop would. */
  dropSockets(): number;
  close(): Promise<void>;
}

export async function startTestExchange(): Promise<TestExchange> {
  const dataDir = mkdtempSync(join(tmpdir(), 'hoga-browser-'));
  const config = loadConfig(
    { host: '127.0.0.1', port: '0', dataDir, fsync: 'none', logLevel: 'warn' },
    {
      HOGA_PGLITE_DIR: 'memory://',
      HOGA_SCRYPT_COST_LOG2: '12',
      HOGA_ADMIN_USER: adminUser,
      HOGA_ADMIN_PASSWORD: adminPassword,
      HOGA_WEB_DIST: webDistDir,
    },
  );
  const exchange = await startExchange(config);
  const dropSockets = () => {
    const server = (exchange.app as unknown as { websocketServer?: WebSocketServer }).websocketServer;
    let dropped = 0;
    for (const client of server?.clients ?? []) {
      client.terminate();
      dropped += 1;
    }
    return dropped;
  };
  return {
    exchange,
    // Chromium keeps `Secure` cookies on http://localhost (a trustworthy origin).
    url: exchange.url.replace('127.0.0.1', 'localhost'),
    dropSockets,
    close: async () => {
      await exchange.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
