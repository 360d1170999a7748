// Serves the built trading UI (web/dist) from memory: every file is read once at registration
// (the bundle is a few hundred kilobytes), so a request never touches the disk. Hashed assets are
// cached for good; index.html is revalidated. Paths without a file get index.html so client-side
// routes work, except under the server's own prefixes (API, WebSocket, docs, metrics, health),
// which fall through to the gateway's not-found handler.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join, relative, sep } from 'node:path';
import type { FastifyInstance, FastifyReply } from 'fastify';

export interface WebUiOptions {
  /** The Vite output folder, normally `<repo>/web/dist`. */
  distDir: string;
}

/** Bounds on what is loaded into memory. */
export const webFilesMax = 500;
export const webBytesMax = 32 * 1024 * 1024;

const contentTypes: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.ico': 'image/x-icon',
  '.webp': 'image/webp',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
};

/** Prefixes owned by the gateway: never answered with the UI's index.html. */
const serverPrefixes = ['/api/', '/ws', '/docs', '/metrics', '/healthz', '/readyz'];

/** The UI talks only to its own origin; charts draw on canvas and set inline styles. */
const contentSecurityPolicy = [
  "default-src 'self'",
  "connect-src 'self' ws: wss:",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
].join('; ');

interface WebFile {
  body: Buffer;
  contentType: string;
  etag: string;
  cacheControl: string;
}

function loadFiles(distDir: string): Map<string, WebFile> {
  const files = new Map<string, WebFile>();
  let bytes = 0;
  const walk = (directory: string) => {
    for (const name of readdirSync(directory).sort()) {
      const path = join(directory, name);
      if (statSync(path).isDirectory()) {
        walk(path);
        continue;
      }
      const body = readFileSync(path);
      bytes += body.length;
      if (files.size >= webFilesMax || bytes > webBytesMax) {
        throw new Error(
          `WEB_UI_TOO_LARGE: more than ${webFilesMax} files or ${webBytesMax} bytes in ${distDir}`,
        );
      }
      const urlPath = `/${relative(distDir, path).split(sep).join('/')}`;
      files.set(urlPath, {
        body,
        contentType: contentTypes[extname(name).toLowerCase()] ?? 'application/octet-stream',
        etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`,
        // Vite names every asset by its content hash, so an asset URL never changes meaning.
        cacheControl: urlPath.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache',
      });
    }
  };
  walk(distDir);
  return files;
}

const missingPage = Buffer.from(
  '<!doctype html><meta charset="utf-8"><title>Hoga</title><h1>The web UI is not built</h1>' +
    '<p>Run <code>npx vite build --config web/vite.config.ts</code> (part of <code>npm run build</code>) and restart.</p>',
);

function send(reply: FastifyReply, file: WebFile, ifNoneMatch: string | undefined): FastifyReply {
  reply
    .header('content-type', file.contentType)
    .header('cache-control', file.cacheControl)
    .header('etag', file.etag)
    .header('x-content-type-options', 'nosniff');
  if (file.contentType.startsWith('text/html')) {
    reply.header('content-security-policy', contentSecurityPolicy).header('referrer-policy', 'no-referrer');
  }
  if (ifNoneMatch === file.etag) return reply.code(304).send();
  return reply.send(file.body);
}

/** Registers `GET /` and `GET /*` for the UI. Call after the API routes (they take precedence anyway). */
export async function registerWebUi(app: FastifyInstance, options: WebUiOptions): Promise<void> {
  const files = existsSync(join(options.distDir, 'index.html')) ? loadFiles(options.distDir) : new Map();
  const index = files.get('/index.html') as WebFile | undefined;
  if (index === undefined) app.log.warn({ distDir: options.distDir }, 'web UI not built; serving a notice');

  app.get('/*', { schema: { hide: true } }, async (request, reply) => {
    const path = decodePath(request.url);
    if (path === undefined || serverPrefixes.some((prefix) => path.startsWith(prefix))) {
      return reply.callNotFound();
    }
    const file = files.get(path);
    const ifNoneMatch = request.headers['if-none-match'];
    if (file !== undefined) return send(reply, file, ifNoneMatch);
    // A missing hashed asset is a real 404, not a page: answering HTML would break the script.
    const isPage = path === '/index.html' || extname(path) === '';
    if (path.startsWith('/assets/') || !isPage) return reply.callNotFound();
    if (index === undefined)
      return reply.code(503).header('content-type', 'text/html; charset=utf-8').send(missingPage);
    return send(reply, index, ifNoneMatch);
  });
}

/** The URL's path without query, `/` mapped to index.html; undefined when malformed. */
function decodePath(url: string): string | undefined {
  const question = url.indexOf('?');
  let path: string;
  try {
    path = decodeURIComponent(question < 0 ? url : url.slice(0, question));
  } catch {
    return undefined;
  }
  if (path.includes('\0') || path.includes('..') || path.includes('\\')) return undefined;
  return path === '/' ? '/index.html' : path;
}
