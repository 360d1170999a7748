// Signed requests with an API key, in Binance's scheme (docs/BINANCE.md "Private API"): the key in
// `X-MBX-APIKEY`, and `signature` = hex HMAC-SHA256, keyed by the key's secret, of the query string
// concatenated with the form body (the signature parameter itself left out); `timestamp` (ms) must
// lie within `recvWindow` (default 5000, at most 60000) of the server's clock and not more than 1 s
// ahead of it, and a signature is accepted once only. Every refusal is a GatewayError carrying
// Binance's code and message too, thrown before anything is read or changed.
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { ApiKeyPermission } from '../store/ports.js';
import { type ApiKeyService, keyIdPattern } from './api-keys.js';
import { GatewayError, type ReplyCode } from './errors.js';
import type { ApiKeyPrincipal } from './principal.js';

/** A refusal: the native reply (`code`) and Binance's (`binance.code`, `binance.msg`). */
export class ApiKeyAuthError extends GatewayError {
  readonly binance: { code: number; msg: string };

  constructor(code: ReplyCode, binanceCode: number, msg: string) {
    super(code, msg);
    this.binance = { code: binanceCode, msg };
  }
}

export const recvWindowDefaultMs = 5_000;
export const recvWindowMaxMs = 60_000;
/** A timestamp up to this far ahead of the server's clock is accepted (clients' clocks drift). */
export const aheadToleranceMs = 1_000;
const parametersMax = 64;
const nameMax = 64;
const valueMax = 4_096;

export const errors = {
  keyFormat: () => new ApiKeyAuthError('INVALID_API_KEY', -2014, 'API-key format invalid.'),
  keyRejected: () =>
    new ApiKeyAuthError('INVALID_API_KEY', -2015, 'Invalid API-key, IP, or permissions for action.'),
  signature: () =>
    new ApiKeyAuthError('INVALID_SIGNATURE', -1022, 'Signature for this request is not valid.'),
  missing: (name: string) =>
    new ApiKeyAuthError(
      'VALIDATION_FAILED',
      -1102,
      `Mandatory parameter '${name}' was not sent, was empty/null, or malformed.`,
    ),
  outsideWindow: () =>
    new ApiKeyAuthError('REQUEST_EXPIRED', -1021, 'Timestamp for this request is outside of the recvWindow.'),
  ahead: () =>
    new ApiKeyAuthError(
      'REQUEST_EXPIRED',
      -1021,
      "Timestamp for this request was 1000ms ahead of the server's time.",
    ),
  replayed: () =>
    new ApiKeyAuthError('REQUEST_EXPIRED', -1021, 'This signed request was already received (replay).'),
  recvWindow: () =>
    new ApiKeyAuthError('VALIDATION_FAILED', -1131, `recvWindow must be less than ${recvWindowMaxMs + 1}.`),
  illegal: (name: string) =>
    new ApiKeyAuthError('VALIDATION_FAILED', -1100, `Illegal characters found in parameter '${name}'.`),
  duplicate: (name: string) =>
    new ApiKeyAuthError('VALIDATION_FAILED', -1101, `Duplicate values for parameter '${name}'.`),
  tooMany: () =>
    new ApiKeyAuthError('VALIDATION_FAILED', -1101, 'Too many parameters sent for this endpoint.'),
  busy: () => new ApiKeyAuthError('RATE_LIMITED', -1003, 'Too many signed requests at once; retry shortly.'),
};

export interface SignedParams {
  /** Decoded parameters of the query string and the body together (signature excluded). */
  params: Map<string, string>;
  /** The exact text the signature covers: query then body, each without the signature parameter. */
  payload: string;
  signature: string | undefined;
}

function decode(text: string, name: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    throw errors.illegal(name);
  }
}

/** One `a=1&b=2` text: its parameters into `params`, and the text without `signature=...`. */
function parsePart(text: string, params: Map<string, string>, found: { signature?: string }): string {
  if (text === '') return '';
  const kept: string[] = [];
  for (const pair of text.split('&')) {
    if (pair === '') {
      kept.push(pair);
      continue;
    }
    const equals = pair.indexOf('=');
    const rawName = equals < 0 ? pair : pair.slice(0, equals);
    const name = decode(rawName, rawName.slice(0, nameMax));
    if (name.length === 0 || name.length > nameMax || !/^[A-Za-z0-9_]+$/.test(name))
      throw errors.illegal(name.slice(0, nameMax));
    const value = decode(equals < 0 ? '' : pair.slice(equals + 1), name);
    if (value.length > valueMax) throw errors.illegal(name);
    if (name === 'signature') {
      if (found.signature !== undefined) throw errors.duplicate(name);
      found.signature = value;
      continue;
    }
    if (params.has(name)) throw errors.duplicate(name);
    if (params.size >= parametersMax) throw errors.tooMany();
    params.set(name, value);
    kept.push(pair);
  }
  return kept.join('&');
}

/**
 * The parameters and the signed text of a request: `query` is the raw query string (no `?`),
 * `body` the raw form body. Throws an ApiKeyAuthError for malformed input. Pure (fuzzed in tests).
 */
export function parseSignedParams(query: string, body: string): SignedParams {
  const params = new Map<string, string>();
  const found: { signature?: string } = {};
  const signedQuery = parsePart(query, params, found);
  const signedBody = parsePart(body, params, found);
  return { params, payload: signedQuery + signedBody, signature: found.signature };
}

/** Seen signatures, each kept until no window could still accept it; bounded. */
export class ReplayGuard implements SignatureReplay {
  /** Insertion order is expiry order: every entry lives the same `keepMs` from its arrival. */
  private readonly seen = new Map<string, number>();
  private readonly keepMs = replayKeepMs;

  constructor(
    private readonly entriesMax: number,
    private readonly clock: () => number,
  ) {}

  get size(): number {
    return this.seen.size;
  }

  /** Records the signature; false when it was seen within the window (a replay). */
  admit(signature: string): boolean {
    const nowMs = this.clock();
    for (const [key, expiresAtMs] of this.seen) {
      if (expiresAtMs > nowMs) break;
      this.seen.delete(key);
    }
    if (this.seen.has(signature)) return false;
    if (this.seen.size >= this.entriesMax) throw errors.busy();
    this.seen.set(signature, nowMs + this.keepMs);
    return true;
  }
}

/**
 * Remembers signatures for as long as a window could still accept them: `ReplayGuard` in one
 * process, shared by every gateway in cluster mode (src/gateway/shared-services.ts), so a signed
 * request is accepted once by the whole cluster and not once per gateway.
 */
export interface SignatureReplay {
  /** True the first time a signature is seen, false for a replay. */
  admit(signature: string): boolean | Promise<boolean>;
}

/** How long a signature is remembered: the widest window plus the clock skew accepted ahead. */
export const replayKeepMs = recvWindowMaxMs + aheadToleranceMs;

export interface ApiKeyAuthServices {
  apiKeys: ApiKeyService;
  replay: SignatureReplay;
  clock: () => number;
  audit: Logger;
  /** Counts audit events (metrics), when given. */
  countAudit?: (event: string) => void;
}

export interface ApiKeyAuthOptions {
  /** The permission the route needs (`read` when not given). */
  permission?: ApiKeyPermission;
  /** False: the API key alone (Binance's USER_STREAM endpoints); default true. */
  signed?: boolean;
}

function rawQueryOf(request: FastifyRequest): string {
  const at = request.url.indexOf('?');
  return at < 0 ? '' : request.url.slice(at + 1);
}

/** The raw form body (the Binance routes keep form bodies as text), else nothing. */
function rawBodyOf(request: FastifyRequest): string {
  return typeof request.body === 'string' ? request.body : '';
}

const principalKey = Symbol('apiKeyPrincipal');
type WithPrincipal = FastifyRequest & {
  [principalKey]?: { principal: ApiKeyPrincipal; params: Map<string, string> };
};

/** The parameters of a request already authenticated by `authenticateApiKey` (signature excluded). */
export function signedParamsOf(request: FastifyRequest): Map<string, string> {
  return (request as WithPrincipal)[principalKey]?.params ?? new Map();
}

/** Who asked, for the audit line of a refusal. */
interface Caller {
  ip: string;
  reqId: string;
}

function deny(
  services: ApiKeyAuthServices,
  caller: Caller,
  reason: string,
  keyId?: string,
  userId?: number,
): void {
  services.audit.warn(
    { event: 'apiKeyDenied', reason, keyId, userId, ip: caller.ip, reqId: caller.reqId },
    'api key request denied',
  );
  services.countAudit?.('apiKeyDenied');
}

/** Timing-safe comparison of the sent signature (hex, any case) with the expected one. */
function signatureMatches(secret: Buffer, payload: string, sent: string): boolean {
  if (!/^[0-9a-fA-F]{64}$/.test(sent)) return false;
  const expected = createHmac('sha256', secret).update(payload).digest();
  return timingSafeEqual(expected, Buffer.from(sent, 'hex'));
}

function integerParam(params: Map<string, string>, name: string): number | undefined {
  const text = params.get(name);
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!/^[0-9]{1,16}$/.test(text) || !Number.isSafeInteger(value)) throw errors.missing(name);
  return value;
}

/** A signed request however it came (REST or ws-api): the key, the parameters and the signed text. */
export interface SignedInput extends SignedParams {
  keyId: unknown;
}

/**
 * The principal of a signed request, or an ApiKeyAuthError. Checks, in order: the key is well
 * formed (-2014), known and allows this address (-2015); the signature is present and right
 * (-1102, -1022); the timestamp is inside the window (-1021) and the signature new (-1021); the
 * key holds the permission (-2015).
 */
export async function verifySigned(
  input: SignedInput,
  caller: Caller,
  services: ApiKeyAuthServices,
  options: ApiKeyAuthOptions = {},
): Promise<ApiKeyPrincipal> {
  const signed = options.signed ?? true;
  const keyId = input.keyId;
  if (typeof keyId !== 'string' || !keyIdPattern.test(keyId)) throw errors.keyFormat();
  const key = await services.apiKeys.resolve(keyId);
  if (key === undefined) {
    deny(services, caller, 'unknownKey', keyId.slice(0, 8));
    throw errors.keyRejected();
  }
  if (key.allows !== undefined && !key.allows(caller.ip)) {
    deny(services, caller, 'ipNotAllowed', key.keyId, key.userId);
    throw errors.keyRejected();
  }
  if (signed) {
    if (input.signature === undefined || input.signature === '') throw errors.missing('signature');
    const timestamp = integerParam(input.params, 'timestamp');
    if (timestamp === undefined) throw errors.missing('timestamp');
    const recvWindow = integerParam(input.params, 'recvWindow') ?? recvWindowDefaultMs;
    if (recvWindow > recvWindowMaxMs || recvWindow === 0) throw errors.recvWindow();
    if (!signatureMatches(key.secret, input.payload, input.signature)) {
      deny(services, caller, 'badSignature', key.keyId, key.userId);
      throw errors.signature();
    }
    const nowMs = services.clock();
    if (timestamp > nowMs + aheadToleranceMs) throw errors.ahead();
    if (nowMs - timestamp > recvWindow) throw errors.outsideWindow();
    if (!(await services.replay.admit(input.signature.toLowerCase()))) {
      deny(services, caller, 'replayed', key.keyId, key.userId);
      throw errors.replayed();
    }
  }
  const permission = options.permission ?? 'read';
  if (!key.permissions.has(permission)) {
    deny(services, caller, `missingPermission:${permission}`, key.keyId, key.userId);
    throw errors.keyRejected();
  }
  return { userId: key.userId, via: 'apiKey', keyId: key.keyId, permissions: [...key.permissions] };
}

/** A REST request signed with an API key (`X-MBX-APIKEY`, query and form body): see verifySigned. */
export async function authenticateApiKey(
  request: FastifyRequest,
  services: ApiKeyAuthServices,
  options: ApiKeyAuthOptions = {},
): Promise<ApiKeyPrincipal> {
  const cached = (request as WithPrincipal)[principalKey];
  if (cached !== undefined) return cached.principal;
  const parsed = parseSignedParams(rawQueryOf(request), rawBodyOf(request));
  const caller = { ip: request.ip, reqId: request.id };
  const principal = await verifySigned(
    { ...parsed, keyId: request.headers['x-mbx-apikey'] },
    caller,
    services,
    options,
  );
  (request as WithPrincipal)[principalKey] = { principal, params: parsed.params };
  return principal;
}

/**
 * A ws-api request's `params` as a signed input: the signature covers every other parameter
 * (`apiKey` included) sorted by name, as `name=value` joined by `&`, values not encoded (what
 * Binance's WebSocket API and ccxt.pro do). Values must be strings, numbers or booleans.
 */
export function wsSignedInput(params: unknown): SignedInput {
  const entries = params === undefined ? [] : Object.entries(params as Record<string, unknown>);
  if (params !== undefined && (params === null || typeof params !== 'object' || Array.isArray(params)))
    throw errors.missing('params');
  if (entries.length > parametersMax + 2) throw errors.tooMany();
  const map = new Map<string, string>();
  let signature: string | undefined;
  let keyId: unknown;
  for (const [name, value] of entries) {
    if (!/^[A-Za-z0-9_]{1,64}$/.test(name)) throw errors.illegal(name.slice(0, nameMax));
    if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean')
      throw errors.illegal(name);
    const text = String(value);
    if (text.length > valueMax) throw errors.illegal(name);
    if (name === 'signature') signature = text;
    else {
      if (name === 'apiKey') keyId = text;
      map.set(name, text);
    }
  }
  const payload = [...map.keys()]
    .sort()
    .map((name) => `${name}=${map.get(name)}`)
    .join('&');
  map.delete('apiKey');
  return { params: map, payload, signature, keyId };
}

/** True when the request announces a body (not yet read when the authentication hook runs). */
function hasBody(request: FastifyRequest): boolean {
  const length = request.headers['content-length'];
  return (length !== undefined && length !== '0') || request.headers['transfer-encoding'] !== undefined;
}

/**
 * API keys on the native routes, as one entry of the authentication hook's list
 * (src/gateway/authentication.ts): no `X-MBX-APIKEY`, not mine. The hook runs before the body is
 * read, so here the signature covers the query string only and a request with a body is refused
 * (signed orders go to the Binance routes, which check after reading the body). GET needs `read`,
 * every other method `trade`.
 */
export async function apiKeyAuthenticator(
  request: FastifyRequest,
  services: { apiKeyAuth: ApiKeyAuthServices },
): Promise<ApiKeyPrincipal | undefined> {
  if (request.headers['x-mbx-apikey'] === undefined) return undefined;
  if (hasBody(request))
    throw new ApiKeyAuthError(
      'VALIDATION_FAILED',
      -1102,
      'an API key signs the query string: on /api/v1 it authenticates requests without a body ' +
        '(place orders signed on /api/v3/order)',
    );
  const permission = request.method === 'GET' || request.method === 'HEAD' ? 'read' : 'trade';
  return authenticateApiKey(request, services.apiKeyAuth, { permission });
}
