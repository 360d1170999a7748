// Debian's chromium driven by playwright-core (never a downloaded browser), the REST helpers the
// browser tests use to set up markets and money, and building web/dist when it is missing.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium } from 'playwright-core';
import { adminPassword, adminUser, webDistDir } from './exchange.js';

export const chromiumPath = '/usr/bin/chromium';
const repositoryRoot = fileURLToPath(new URL('../../../../', import.meta.url));

/** Why browser tests cannot run here, or undefined when they can. CI must never skip. */
export function browserUnavailable(): string | undefined {
  if (existsSync(chromiumPath)) return undefined;
  const reason = `${chromiumPath} is missing (apt-get install chromium)`;
  if (process.env.CI === 'true') throw new Error(`browser tests need chromium: ${reason}`);
  process.stderr.write(`\n*** SKIPPING browser tests: ${reason} ***\n\n`);
  return reason;
}

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** Builds the UI with Vite when web/dist has no index.html (a fresh clone before `npm run build`). */
export function ensureWebBuilt(): void {
  if (existsSync(join(webDistDir, 'index.html'))) return;
  const vite = join(repositoryRoot, 'node_modules', 'vite', 'bin', 'vite.js');
  const built = spawnSync(
    process.execPath,
    [vite, 'build', '--config', 'web/vite.config.ts', '--logLevel', 'warn'],
    {
      cwd: repositoryRoot,
      stdio: 'inherit',
    },
  );
  if (built.status !== 0) throw new Error('vite build of web/ failed');
}

const restTimeoutMs = 30_000;

export interface RestClient {
  token: string;
  call(method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }>;
}

export async function restLogin(baseUrl: string, username: string, password: string): Promise<RestClient> {
  const anonymous = restClient(baseUrl, '');
  const login = await anonymous.call('POST', '/api/v1/auth/login', { username, password });
  if (login.status !== 200)
    throw new Error(`login ${username}: ${login.status} ${JSON.stringify(login.body)}`);
  return restClient(baseUrl, (login.body as { token: string }).token);
}

export function restClient(baseUrl: string, token: string): RestClient {
  return {
    token,
    async call(method, path, body) {
      const headers: Record<string, string> = {};
      if (token !== '') headers.authorization = `Bearer ${token}`;
      if (body !== undefined) headers['content-type'] = 'application/json';
      const response = await fetch(`${baseUrl}${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        // A server that never answers fails the test instead of hanging it.
        signal: AbortSignal.timeout(restTimeoutMs),
      });
      const text = await response.text();
      return { status: response.status, body: text === '' ? null : JSON.parse(text) };
    },
  };
}

export async function adminClient(baseUrl: string): Promise<RestClient> {
  return restLogin(baseUrl, adminUser, adminPassword);
}

/**
 * Lists a market of whole base units against a quote in cents (lot 1, tick 0.01), the shape every
 * browser test trades in; fees in basis points, 0 unless given.
 */
export async function listCentsMarket(
  admin: RestClient,
  market: { symbol: string; base: string; quote: string; feeBps?: number },
): Promise<void> {
  const feeBps = market.feeBps ?? 0;
  await expectCreated(
    admin.call('POST', '/api/v1/admin/symbols', {
      symbol: market.symbol,
      base: market.base,
      quote: market.quote,
      baseDecimals: 0,
      quoteDecimals: 2,
      lotSize: '1',
      tickSize: '0.01',
      makerFeeBps: feeBps,
      takerFeeBps: feeBps,
    }),
  );
}

/** Registers a user and returns its id. */
export async function registerUser(baseUrl: string, username: string, password: string): Promise<number> {
  const created = await restClient(baseUrl, '').call('POST', '/api/v1/auth/register', { username, password });
  if (created.status !== 201)
    throw new Error(`register ${username}: ${created.status} ${JSON.stringify(created.body)}`);
  return (created.body as { userId: number }).userId;
}

export async function expectCreated(response: Promise<{ status: number; body: unknown }>): Promise<void> {
  const { status, body } = await response;
  if (status !== 201) throw new Error(`expected 201, got ${status} ${JSON.stringify(body)}`);
}
