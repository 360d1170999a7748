// Starts the real exchange in-process for browser tests: port 0, a temp data dir, an in-memory
// read model, a cheap scrypt cost. The UI is served by the exchange itself when it registers
// the web plugin; until then a thin front server (the same plugin plus a pass-through proxy for
// /api and /ws) stands in front of it, so the browser still talks to one origin.
import { mkdtempSync, rmSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { fileURLToPath } from 'node:url';
import Fastify, { type FastifyInstance } from 'fastify';
import { type RawData, WebSocket, WebSocketServer } from 'ws';
import { loadConfig } from '../../../src/config.js';
import { registerWebUi } from '../../../src/gateway/web-static.js';
import { type ExchangeHandle, startExchange } from '../../../src/main.js';

/** web/dist relative to this file, in dist/test/browser/support/ after tsc. */
export const webDistDir = fileURLToPath(new URL('../../../../web/dist', import.meta.url));

export const adminUser = 'admin';
export const adminPassword = 'admin-password-1';

export interface TestExchange {
  exchange: ExchangeHandle;
  /** What the browser opens: the exchange, or the front server before the plugin is wired. */
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
    },
  );
  const exchange = await startExchange(config);
  const servesUi = await exchangeServesUi(exchange.url);
  const front = servesUi ? undefined : await startFront(exchange.url);
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
    url: (front?.url ?? exchange.url).replace('127.0.0.1', 'localhost'),
    dropSockets,
    close: async () => {
      await front?.close();
      await exchange.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

async function exchangeServesUi(url: string): Promise<boolean> {
  const response = await fetch(`${url}/`);
  await response.arrayBuffer();
  return response.ok && (response.headers.get('content-type') ?? '').startsWith('text/html');
}

/** Headers passed through in each direction. */
const requestHeaders = ['cookie', 'content-type', 'user-agent', 'authorization'];
const responseHeaders = ['content-type', 'set-cookie', 'retry-after'];

async function startFront(target: string): Promise<{ url: string; close(): Promise<void> }> {
  const app: FastifyInstance = Fastify();
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
  app.all('/api/*', async (request, reply) => {
    const headers: Record<string, string> = {};
    for (const name of requestHeaders) {
      const value = request.headers[name];
      if (typeof value === 'string') headers[name] = value;
    }
    const response = await fetch(`${target}${request.url}`, {
      method: request.method,
      headers,
      body: request.method === 'GET' || request.method === 'HEAD' ? undefined : (request.body as Buffer),
    });
    reply.code(response.status);
    for (const name of responseHeaders) {
      const values = name === 'set-cookie' ? response.headers.getSetCookie() : [response.headers.get(name)];
      for (const value of values) if (value) reply.header(name, value);
    }
    return reply.send(Buffer.from(await response.arrayBuffer()));
  });
  await registerWebUi(app, { distDir: webDistDir });
  const sockets = new WebSocketServer({ noServer: true });
  app.server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (!request.url?.startsWith('/ws')) return socket.destroy();
    sockets.handleUpgrade(request, socket, head, (browser) => relay(browser, request, target));
  });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  return {
    url,
    close: async () => {
      for (const client of sockets.clients) client.terminate();
      await app.close();
    },
  };
}

/** Pipes one browser socket to the exchange; a drop on either side drops the other. */
function relay(browser: WebSocket, request: IncomingMessage, target: string): void {
  const headers: Record<string, string> = {};
  for (const name of ['cookie', 'user-agent']) {
    const value = request.headers[name];
    if (typeof value === 'string') headers[name] = value;
  }
  const upstream = new WebSocket(`${target.replace('http', 'ws')}/ws`, { headers });
  const queued: RawData[] = [];
  const queuedMax = 1_000;
  upstream.on('open', () => {
    for (const data of queued.splice(0)) upstream.send(data.toString());
  });
  browser.on('message', (data) => {
    if (upstream.readyState === WebSocket.OPEN) upstream.send(data.toString());
    else if (queued.length < queuedMax) queued.push(data);
  });
  upstream.on('message', (data) => browser.send(data.toString()));
  upstream.on('close', (code, reason) => {
    if (code >= 4000 || code === 1000) browser.close(code, reason.toString());
    else browser.terminate();
  });
  upstream.on('error', () => browser.terminate());
  browser.on('close', () => upstream.terminate());
}
