// The gateway's defences against a browser on another origin, a client that hoards connections or
// floods a WebSocket with bad frames, and a session that times out under an open socket (issue 15,
// items 9-15 and 19), against a real exchange on loopback.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import type { FastifyRequest } from 'fastify';
import { pino } from 'pino';
import WebSocket from 'ws';
import type { ExchangeConfig } from '../../src/config.js';
import { defaultGatewayConfig } from '../../src/gateway/config.js';
import { cookieFor } from '../../src/gateway/cookies.js';
import { type ExchangeHandle, startExchange } from '../../src/main.js';
import { Api, adminName, adminPassword, TestSocket, testConfig } from './support/exchange.js';

interface RunningExchange {
  exchange: ExchangeHandle;
  api: Api;
  logLines: Array<Record<string, unknown>>;
  close(): Promise<void>;
}

async function start(adjust: (config: ExchangeConfig) => void): Promise<RunningExchange> {
  const dataDir = mkdtempSync(join(tmpdir(), 'hoga-security-'));
  const logLines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      for (const line of chunk.toString().split('\n')) if (line !== '') logLines.push(JSON.parse(line));
      done();
    },
  });
  const exchange = await startExchange(testConfig(dataDir, adjust), {
    logger: pino({ level: 'info' }, sink),
  });
  return {
    exchange,
    api: new Api(exchange.url),
    logLines,
    async close() {
      await exchange.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

interface RawReply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: any;
}

/** One request with full control of Host, Origin and the client address (fetch forbids some). */
function raw(
  url: string,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: string,
  localAddress = '127.0.0.1',
): Promise<RawReply> {
  const { port } = new URL(url);
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      { host: '127.0.0.1', port, method, path, headers, localAddress, agent: false },
      (response) => {
        let text = '';
        response.on('data', (chunk) => {
          text += chunk;
        });
        response.on('end', () => {
          let parsed: unknown = text;
          try {
            parsed = JSON.parse(text);
          } catch {
            // Non-JSON stays text.
          }
          resolve({ status: response.statusCode ?? 0, headers: response.headers, body: parsed });
        });
      },
    );
    request.once('error', reject);
    request.end(body);
  });
}

/** Opens /ws; resolves with the socket once open, or with the HTTP status of a refused upgrade. */
function upgrade(
  url: string,
  headers: Record<string, string>,
  localAddress = '127.0.0.1',
): Promise<{ socket?: WebSocket; status?: number; body?: string }> {
  const socket = new WebSocket(`${url.replace('http', 'ws')}/ws`, { headers, localAddress });
  return new Promise((resolve, reject) => {
    socket.once('open', () => resolve({ socket }));
    socket.once('unexpected-response', (_request, response) => {
      let body = '';
      response.on('data', (chunk) => {
        body += chunk;
      });
      response.on('end', () => resolve({ status: response.statusCode, body }));
    });
    socket.once('error', (error) => {
      if (!String(error).includes('Unexpected server response')) reject(error);
    });
  });
}

function closedWith(socket: WebSocket): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) =>
    socket.once('close', (code, reason) => resolve({ code, reason: String(reason) })),
  );
}

describe('browsers on other origins', () => {
  let running: RunningExchange;
  let url: string;
  let ownOrigin: string;
  let adminToken: string;

  before(async () => {
    running = await start(() => {});
    url = running.exchange.url;
    ownOrigin = url;
    adminToken = await running.api.login(adminName, adminPassword);
  });
  after(() => running.close());

  const cookie = (token: string) => ({ cookie: `__Host-hoga_session=${token}` });

  it('refuses a cookie WebSocket upgrade from another origin before upgrading (item 9)', async () => {
    const refused = await upgrade(url, { ...cookie(adminToken), origin: 'http://evil.example' });
    assert.equal(refused.status, 403);
    assert.equal(JSON.parse(refused.body ?? '{}').code, 'ORIGIN_NOT_ALLOWED');
    const ownPort = await upgrade(url, {
      ...cookie(adminToken),
      origin: `http://127.0.0.1:${new URL(url).port}`,
    });
    assert.ok(ownPort.socket, 'the same host and port is this site');
    ownPort.socket?.close();
    const sibling = await upgrade(url, { ...cookie(adminToken), origin: 'http://127.0.0.1:1' });
    assert.equal(sibling.status, 403, 'another port of the same host is another origin');
  });

  it('lets same-origin pages, programs without Origin and cookieless visitors open /ws', async () => {
    const page = await TestSocket.open(url, { ...cookie(adminToken), origin: ownOrigin });
    const ping = await page.request('private', { enabled: true });
    assert.equal(ping.ok, true, 'the cookie authenticated the same-origin socket');
    page.close();
    const program = await TestSocket.open(url, cookie(adminToken));
    assert.equal((await program.request('private', { enabled: true })).ok, true);
    program.close();
    const visitor = await TestSocket.open(url, { origin: 'http://evil.example' });
    assert.equal((await visitor.request('ping')).ok, true, 'public data needs no cookie');
    visitor.close();
  });

  it('refuses cross-origin cookie writes, bodiless and text/plain ones included (item 10)', async () => {
    const token = await running.api.login(adminName, adminPassword);
    const logout = await raw(url, 'POST', '/api/v1/auth/logout', {
      ...cookie(token),
      origin: 'http://evil.example',
    });
    assert.equal(logout.status, 403);
    assert.equal(logout.body.code, 'ORIGIN_NOT_ALLOWED');
    const snapshot = await raw(
      url,
      'POST',
      '/api/v1/admin/snapshots',
      { ...cookie(token), 'content-type': 'text/plain', 'sec-fetch-site': 'same-site' },
      'x',
    );
    assert.equal(snapshot.status, 403, 'no Origin, but the browser said same-site: refused');
    const logoutAll = await raw(url, 'POST', '/api/v1/auth/logout-all', { ...cookie(token), origin: 'null' });
    assert.equal(logoutAll.status, 403, 'an opaque origin is never this site');
    assert.equal(
      (await running.api.call('GET', '/api/v1/me', undefined, token)).status,
      200,
      'still logged in',
    );
    const own = await raw(url, 'POST', '/api/v1/auth/logout', {
      ...cookie(token),
      origin: ownOrigin,
      'sec-fetch-site': 'same-origin',
    });
    assert.equal(own.status, 200);
    assert.equal((await running.api.call('GET', '/api/v1/me', undefined, token)).status, 401);
  });

  it('checks logins too, but not Bearer requests, which no browser sends on its own', async () => {
    const forged = await raw(
      url,
      'POST',
      '/api/v1/auth/login',
      { 'content-type': 'application/json', origin: 'http://evil.example' },
      JSON.stringify({ username: adminName, password: adminPassword }),
    );
    assert.equal(forged.status, 403);
    const token = await running.api.login(adminName, adminPassword);
    const bearer = await raw(url, 'POST', '/api/v1/auth/logout', {
      authorization: `Bearer ${token}`,
      origin: 'http://evil.example',
    });
    assert.equal(bearer.status, 200);
  });

  it('names the cookie __Host- when Secure and no longer reads the old name', async () => {
    const login = await raw(
      url,
      'POST',
      '/api/v1/auth/login',
      { 'content-type': 'application/json' },
      JSON.stringify({ username: adminName, password: adminPassword }),
    );
    const cookies = login.headers['set-cookie'] ?? [];
    assert.match(
      cookies[0],
      /^__Host-hoga_session=[A-Za-z0-9_-]{43}; Max-Age=[0-9]+; Path=\/; HttpOnly; Secure; SameSite=Strict$/,
    );
    assert.match(
      cookies[1],
      /^__Host-hoga_device=[A-Za-z0-9_-]{43}; Max-Age=[0-9]+; Path=\/; HttpOnly; Secure; SameSite=Strict$/,
    );
    const old = await raw(url, 'GET', '/api/v1/me', { cookie: `hoga_session=${login.body.token}` });
    assert.equal(old.status, 401, 'sessions under the old cookie name log in again');
    const current = await raw(url, 'GET', '/api/v1/me', cookie(login.body.token));
    assert.equal(current.status, 200);
  });

  it('says why when a browser logs in over plain http to a LAN address with a Secure cookie (item 14)', async () => {
    const lanHost = `exchange.lan:${new URL(url).port}`;
    const reply = await raw(
      url,
      'POST',
      '/api/v1/auth/login',
      { host: lanHost, origin: `http://${lanHost}`, 'content-type': 'application/json' },
      JSON.stringify({ username: adminName, password: adminPassword }),
    );
    assert.equal(reply.status, 400);
    assert.equal(reply.body.code, 'COOKIE_NEEDS_HTTPS');
    assert.match(reply.body.message, /HOGA_COOKIE_SECURE/);
  });

  it('lets a known device log in while its name is locked by someone else (item 13)', async () => {
    await running.api.register('victim');
    const login = await raw(
      url,
      'POST',
      '/api/v1/auth/login',
      { 'content-type': 'application/json' },
      JSON.stringify({ username: 'victim', password: 'victim-password' }),
    );
    const device = String(login.headers['set-cookie']?.[1]).split(';')[0];
    const attempts = [];
    for (let attempt = 0; attempt < 7; attempt += 1) {
      const guess = JSON.stringify({ username: 'victim', password: `wrong-guess-${attempt}` });
      attempts.push(
        (await raw(url, 'POST', '/api/v1/auth/login', { 'content-type': 'application/json' }, guess)).status,
      );
    }
    assert.equal(attempts.at(-1), 429, 'the name is locked for unknown devices');
    const known = await raw(
      url,
      'POST',
      '/api/v1/auth/login',
      { 'content-type': 'application/json', cookie: device },
      JSON.stringify({ username: 'victim', password: 'victim-password' }),
    );
    assert.equal(known.status, 200);
  });

  it('echoes a sane x-request-id, replaces a bad one, and logs it in request and audit lines (item 19)', async () => {
    const traced = await raw(
      url,
      'POST',
      '/api/v1/auth/login',
      { 'content-type': 'application/json', 'x-request-id': 'trace-42' },
      JSON.stringify({ username: adminName, password: adminPassword }),
    );
    assert.equal(traced.status, 200);
    assert.equal(traced.headers['x-request-id'], 'trace-42');
    const replaced = await raw(url, 'GET', '/healthz', { 'x-request-id': 'no spaces allowed here' });
    assert.match(String(replaced.headers['x-request-id']), /^[0-9a-f-]{36}$/);
    const audit = running.logLines.find((line) => line.event === 'login' && line.reqId === 'trace-42');
    assert.ok(audit, 'the audit line names the request');
    const requestLine = running.logLines.find((line) => line.msg === 'request' && line.reqId === 'trace-42');
    assert.equal(requestLine?.status, 200);
    assert.equal(requestLine?.url, '/api/v1/auth/login');
  });

  it('sets the cookie as the request came under HOGA_COOKIE_SECURE=auto', () => {
    const options = { ...defaultGatewayConfig().origins, cookieSecure: 'auto' as const };
    const names = { secure: '__Host-a', plain: 'a' };
    const overHttp = cookieFor({ protocol: 'http' } as FastifyRequest, options, names, 1);
    const overHttps = cookieFor({ protocol: 'https' } as FastifyRequest, options, names, 1);
    const attributes = { path: '/', httpOnly: true, sameSite: 'strict', maxAge: 1 };
    assert.deepEqual(overHttp, { name: 'a', options: { ...attributes, secure: false } });
    assert.deepEqual(overHttps, { name: '__Host-a', options: { ...attributes, secure: true } });
  });
});

describe('connection caps, timeouts, bad frames and session expiry', () => {
  let running: RunningExchange;
  let url: string;

  before(async () => {
    running = await start((config) => {
      const gateway = config.gateway;
      Object.assign(gateway.connections, {
        perIpMax: 4,
        headersTimeoutMs: 300,
        requestTimeoutMs: 500,
      });
      gateway.limits.requestsPerIp = { ratePerSecond: 0.01, burst: 40, bucketsMax: 1_000 };
      gateway.webSocket.badFramesBurst = 50;
      gateway.sessions.idleTimeoutMs = 2_000;
    });
    url = running.exchange.url;
  });
  after(() => running.close());

  /** Writes `text` and resolves with everything the server sent once it closed the connection. */
  function holdOpen(text: string, localAddress: string): Promise<string> {
    const { port } = new URL(url);
    const socket: Socket = connect({ host: '127.0.0.1', port: Number(port), localAddress });
    let received = '';
    socket.on('data', (chunk) => {
      received += chunk;
    });
    socket.write(text);
    return new Promise((resolve) => socket.once('close', () => resolve(received)));
  }

  it('cuts a slow body and slow headers at the configured timeouts (item 11)', {
    timeout: 20_000,
  }, async () => {
    const slowBody = holdOpen(
      'POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"user',
      '127.0.0.5',
    );
    const slowHeaders = holdOpen('GET /healthz HTTP/1.1\r\nHost: x\r\n', '127.0.0.5');
    assert.match(await slowBody, /^HTTP\/1\.1 408/);
    assert.match(await slowHeaders, /^HTTP\/1\.1 408/);
  });

  it('refuses the connection past the per-address cap while other addresses and health still work', async () => {
    const held = [];
    for (let index = 0; index < 4; index += 1) {
      const opened = await upgrade(url, {}, '127.0.0.3');
      assert.ok(opened.socket);
      held.push(opened.socket);
    }
    const refused = await holdOpen('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n', '127.0.0.3');
    assert.match(refused, /^HTTP\/1\.1 503/);
    assert.match(refused, /TOO_MANY_CONNECTIONS/);
    const health = await raw(url, 'GET', '/healthz', {}, undefined, '127.0.0.2');
    assert.equal(health.status, 200);
    const metrics = await raw(url, 'GET', '/metrics', {}, undefined, '127.0.0.2');
    assert.match(metrics.body, /hoga_connections_refused_total\{reason="perIp"\} 1/);
    for (const socket of held) socket.close();
  });

  it('charges every frame, unparseable ones included, and closes a socket past its bad-frame budget (item 12)', async () => {
    const opened = await upgrade(url, {}, '127.0.0.4');
    const socket = opened.socket as WebSocket;
    const codes: string[] = [];
    const replies = new Promise<void>((resolve) =>
      socket.on('message', (data) => {
        codes.push(JSON.parse(String(data)).error.code);
        if (codes.length === 45) resolve();
      }),
    );
    for (let frame = 0; frame < 45; frame += 1) socket.send('x');
    await replies;
    // The upgrade request took one of the 40 tokens; every frame after it took one more.
    assert.deepEqual(codes.slice(0, 39), Array(39).fill('VALIDATION_FAILED'));
    assert.deepEqual(codes.slice(39), Array(6).fill('RATE_LIMITED'), 'the IP budget was spent on junk');
    const closed = closedWith(socket);
    for (let frame = 0; frame < 20; frame += 1) socket.send('x');
    assert.deepEqual(await closed, { code: 4009, reason: 'TOO_MANY_BAD_FRAMES' });
  });

  it('closes a socket that only pings when its session times out, not at the next heartbeat (item 15)', {
    timeout: 10_000,
  }, async () => {
    await running.api.register('idler');
    const token = await running.api.login('idler');
    const socket = await TestSocket.open(url, { authorization: `Bearer ${token}` });
    assert.equal((await socket.request('ping')).ok, true);
    const closed = await socket.closed;
    assert.equal(closed.code, 4001);
    assert.equal((await running.api.call('GET', '/api/v1/me', undefined, token)).status, 401);
  });
});
