// The UI plugin against a real Fastify instance (inject): content types, caching, the
// index.html fallback for client routes, and that it never swallows the server's own paths.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { registerWebUi } from '../../src/gateway/web-static.js';

describe('registerWebUi', () => {
  let distDir: string;
  let app: FastifyInstance;

  before(async () => {
    distDir = mkdtempSync(join(tmpdir(), 'hoga-web-'));
    mkdirSync(join(distDir, 'assets'));
    writeFileSync(join(distDir, 'index.html'), '<!doctype html><title>Hoga</title>');
    writeFileSync(join(distDir, 'assets', 'index-abc123.js'), 'console.log(1)');
    writeFileSync(join(distDir, 'assets', 'index-abc123.css'), 'body{}');
    app = Fastify();
    app.get('/api/v1/symbols', async () => [{ symbol: 'BTC-USD' }]);
    app.setNotFoundHandler((_request, reply) =>
      reply.code(404).send({ code: 'NOT_FOUND', message: 'no route' }),
    );
    await registerWebUi(app, { distDir });
    await app.ready();
  });

  after(async () => {
    await app.close();
    rmSync(distDir, { recursive: true, force: true });
  });

  it('serves index.html at / with HTML type, CSP and no-cache', async () => {
    const response = await app.inject({ method: 'GET', url: '/' });
    assert.equal(response.statusCode, 200);
    assert.equal(response.headers['content-type'], 'text/html; charset=utf-8');
    assert.equal(response.headers['cache-control'], 'no-cache');
    assert.match(String(response.headers['content-security-policy']), /default-src 'self'/);
    assert.match(response.body, /<title>Hoga<\/title>/);
  });

  it('serves hashed assets with their type and an immutable cache', async () => {
    const script = await app.inject({ method: 'GET', url: '/assets/index-abc123.js' });
    assert.equal(script.statusCode, 200);
    assert.equal(script.headers['content-type'], 'text/javascript; charset=utf-8');
    assert.equal(script.headers['cache-control'], 'public, max-age=31536000, immutable');
    assert.equal(script.body, 'console.log(1)');
    const style = await app.inject({ method: 'GET', url: '/assets/index-abc123.css?v=1' });
    assert.equal(style.headers['content-type'], 'text/css; charset=utf-8');
  });

  it('answers 304 when the etag matches', async () => {
    const first = await app.inject({ method: 'GET', url: '/assets/index-abc123.js' });
    const etag = String(first.headers.etag);
    const second = await app.inject({
      method: 'GET',
      url: '/assets/index-abc123.js',
      headers: { 'if-none-match': etag },
    });
    assert.equal(second.statusCode, 304);
    assert.equal(second.body, '');
  });

  it('falls back to index.html for client routes but not for missing files', async () => {
    const route = await app.inject({ method: 'GET', url: '/trade/BTC-USD' });
    assert.equal(route.statusCode, 200);
    assert.match(route.body, /<title>Hoga/);
    const missing = await app.inject({ method: 'GET', url: '/assets/gone-123.js' });
    assert.equal(missing.statusCode, 404);
    assert.equal(missing.json().code, 'NOT_FOUND');
  });

  it('leaves the API and other server paths to the gateway', async () => {
    const api = await app.inject({ method: 'GET', url: '/api/v1/symbols' });
    assert.deepEqual(api.json(), [{ symbol: 'BTC-USD' }]);
    const unknownApi = await app.inject({ method: 'GET', url: '/api/v1/nope' });
    assert.equal(unknownApi.statusCode, 404);
    assert.equal(unknownApi.json().code, 'NOT_FOUND');
    const metrics = await app.inject({ method: 'GET', url: '/metrics' });
    assert.equal(metrics.statusCode, 404);
  });

  it('refuses path traversal', async () => {
    for (const url of ['/..%2f..%2fetc%2fpasswd', '/assets/..%2F..%2Findex.html', '/%E0%A4%A']) {
      const response = await app.inject({ method: 'GET', url });
      assert.ok(response.statusCode === 404 || response.statusCode === 400, `${url}: ${response.statusCode}`);
    }
  });

  it('says how to build the UI when web/dist is missing', async () => {
    const bare = Fastify();
    await registerWebUi(bare, { distDir: join(distDir, 'nowhere') });
    const response = await bare.inject({ method: 'GET', url: '/' });
    assert.equal(response.statusCode, 503);
    assert.match(response.body, /vite build/);
    await bare.close();
  });
});
