// A minimal Binance-style signed client for tests: HMAC-SHA256 of the query (and form body) with
// the key's secret, `X-MBX-APIKEY`, `timestamp` from the caller's clock.
import { createHmac } from 'node:crypto';
import type { Api } from '../../gateway/support/exchange.js';

export interface ApiKey {
  keyId: string;
  secret: string;
}

export function sign(secret: string, payload: string): string {
  return createHmac('sha256', secret).update(payload).digest('hex');
}

export function query(params: Record<string, string | number>): string {
  return new URLSearchParams(
    Object.entries(params).map(([name, value]): [string, string] => [name, String(value)]),
  ).toString();
}

export interface SignedReply {
  status: number;
  body: any;
}

export class SignedClient {
  constructor(
    readonly url: string,
    readonly key: ApiKey,
    readonly clock: () => number = Date.now,
  ) {}

  /** GET and DELETE carry the parameters in the query, POST in a form body (like ccxt). */
  async call(
    method: string,
    path: string,
    params: Record<string, string | number> = {},
  ): Promise<SignedReply> {
    const text = query({ ...params, timestamp: this.clock() });
    const signed = `${text}&signature=${sign(this.key.secret, text)}`;
    return this.raw(method, path, signed);
  }

  async raw(method: string, path: string, signed: string, keyId = this.key.keyId): Promise<SignedReply> {
    const inBody = method === 'POST' || method === 'PUT';
    const headers: Record<string, string> = { 'x-mbx-apikey': keyId };
    if (inBody) headers['content-type'] = 'application/x-www-form-urlencoded';
    const response = await fetch(`${this.url}${path}${inBody || signed === '' ? '' : `?${signed}`}`, {
      method,
      headers,
      body: inBody ? signed : undefined,
    });
    const text = await response.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // Non-JSON stays text.
    }
    return { status: response.status, body };
  }
}

export async function createKey(
  api: Api,
  token: string,
  request: { label?: string; permissions?: string[]; ipAllowlist?: string[] } = {},
): Promise<ApiKey & { body: any }> {
  const body = await api.expect(201, 'POST', '/api/v1/api-keys', { label: 'test', ...request }, token);
  return { keyId: body.keyId, secret: body.secret, body };
}
