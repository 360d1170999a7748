// A real exchange for integration tests: startExchange() in-process on port 0 with a temporary
// data directory, plus small REST and WebSocket clients.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import WebSocket from 'ws';
import { type ExchangeConfig, loadConfig } from '../../../src/config.js';
import { type ExchangeHandle, startExchange } from '../../../src/main.js';

export const adminName = 'admin';
export const adminPassword = 'admin-password-1';

export interface TestExchange {
  exchange: ExchangeHandle;
  dataDir: string;
  config: ExchangeConfig;
  api: Api;
  restart(): Promise<void>;
  close(): Promise<void>;
}

/** Test defaults: cheap scrypt (the OWASP cost is exercised in passwords.test), quiet logs. */
export function testConfig(dataDir: string, adjust?: (config: ExchangeConfig) => void): ExchangeConfig {
  const config = loadConfig(
    { host: '127.0.0.1', port: '0', dataDir, logLevel: 'silent' },
    { HOGA_ADMIN_USER: adminName, HOGA_ADMIN_PASSWORD: adminPassword, HOGA_SCRYPT_COST_LOG2: '10' },
  );
  config.marketDataFlushMs = 50;
  adjust?.(config);
  return config;
}

export async function startTestExchange(
  adjust?: (config: ExchangeConfig) => void,
  options: { gatewayClock?: () => number } = {},
): Promise<TestExchange> {
  const dataDir = mkdtempSync(join(tmpdir(), 'hoga-gateway-'));
  const config = testConfig(dataDir, adjust);
  const logger = pino({ level: process.env.HOGA_TEST_LOG ?? 'silent' });
  const handle: TestExchange = {
    exchange: await startExchange(config, { logger, gatewayClock: options.gatewayClock }),
    dataDir,
    config,
    api: undefined as unknown as Api,
    async restart() {
      await handle.exchange.close();
      handle.exchange = await startExchange(
        { ...config, port: 0 },
        { logger, gatewayClock: options.gatewayClock },
      );
      handle.api = new Api(handle.exchange.url);
    },
    async close() {
      await handle.exchange.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  handle.api = new Api(handle.exchange.url);
  return handle;
}

export interface Reply {
  status: number;
  body: any;
  headers: Headers;
}

export class Api {
  constructor(readonly url: string) {}

  async call(
    method: string,
    path: string,
    body?: unknown,
    token?: string,
    headers: Record<string, string> = {},
  ) {
    const requestHeaders: Record<string, string> = { ...headers };
    if (body !== undefined) requestHeaders['content-type'] = 'application/json';
    if (token !== undefined) requestHeaders.authorization = `Bearer ${token}`;
    const response = await fetch(`${this.url}${path}`, {
      method,
      headers: requestHeaders,
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // Non-JSON bodies (metrics) stay text.
    }
    return { status: response.status, body: parsed as any, headers: response.headers } satisfies Reply;
  }

  async expect(status: number, method: string, path: string, body?: unknown, token?: string): Promise<any> {
    const reply = await this.call(method, path, body, token);
    assert.equal(reply.status, status, `${method} ${path}: ${JSON.stringify(reply.body)}`);
    return reply.body;
  }

  async register(username: string, password = `${username}-password`): Promise<number> {
    const body = await this.expect(201, 'POST', '/api/v1/auth/register', { username, password });
    return body.userId;
  }

  async login(username: string, password = `${username}-password`): Promise<string> {
    const body = await this.expect(200, 'POST', '/api/v1/auth/login', { username, password });
    return body.token;
  }

  adminToken(): Promise<string> {
    return this.login(adminName, adminPassword);
  }

  async createMarket(adminToken: string, symbol = 'BTC-USD', base = 'BTC', quote = 'USD'): Promise<void> {
    await this.expect(
      201,
      'POST',
      '/api/v1/admin/symbols',
      {
        symbol,
        base,
        quote,
        baseDecimals: 8,
        quoteDecimals: 6,
        lotSize: '0.001',
        tickSize: '0.01',
        makerFeeBps: 10,
        takerFeeBps: 20,
      },
      adminToken,
    );
  }

  async deposit(adminToken: string, userId: number, asset: string, amount: string): Promise<void> {
    await this.expect(201, 'POST', '/api/v1/admin/deposits', { userId, asset, amount }, adminToken);
  }
}

/** A WebSocket client that pairs replies with requests by id and keeps pushes for inspection. */
export class TestSocket {
  readonly pushes: any[] = [];
  private readonly waiting = new Map<number, (reply: any) => void>();
  private readonly watchers: Array<{ match: (message: any) => boolean; resolve: (message: any) => void }> =
    [];
  private nextId = 1;
  readonly closed: Promise<{ code: number; reason: string }>;

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data) => this.onMessage(JSON.parse(data.toString())));
    this.closed = new Promise((resolve) => {
      socket.on('close', (code, reason) => resolve({ code, reason: reason.toString() }));
    });
  }

  static async open(baseUrl: string, headers: Record<string, string> = {}): Promise<TestSocket> {
    const socket = new WebSocket(`${baseUrl.replace('http', 'ws')}/ws`, { headers });
    const client = new TestSocket(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    return client;
  }

  request(op: string, fields: Record<string, unknown> = {}): Promise<any> {
    const id = this.nextId++;
    const reply = new Promise((resolve) => this.waiting.set(id, resolve));
    this.socket.send(JSON.stringify({ op, id, ...fields }));
    return reply;
  }

  /** Resolves with the first message (already received or future) that matches. */
  next(match: (message: any) => boolean): Promise<any> {
    const seen = this.pushes.find(match);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve) => this.watchers.push({ match, resolve }));
  }

  close(): void {
    this.socket.close();
  }

  private onMessage(message: any): void {
    const resolve = typeof message.id === 'number' ? this.waiting.get(message.id) : undefined;
    if (resolve !== undefined) {
      this.waiting.delete(message.id);
      resolve(message);
      return;
    }
    this.pushes.push(message);
    for (const watcher of [...this.watchers]) {
      if (watcher.match(message)) {
        this.watchers.splice(this.watchers.indexOf(watcher), 1);
        watcher.resolve(message);
      }
    }
  }
}
