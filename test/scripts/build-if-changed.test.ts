// `npm start` builds only what changed: scripts/build-if-changed.js on a small repository laid out
// like this one. A part is stale when its inputs' contents changed since it last built, or its
// output is missing; rewriting a file with the same content (a checkout, a pull that touches
// mtimes) is not a change, and a server file the web UI imports rebuilds both.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, it } from 'node:test';

type Script = typeof import('../../scripts/build-if-changed.js');
// Compiled to dist/test/scripts/: the script itself stays in scripts/ at the repository root.
const script = (await import(
  new URL('../../../scripts/build-if-changed.js', import.meta.url).href
)) as Script;

let root: string;

function write(path: string, text: string): void {
  mkdirSync(dirname(join(root, path)), { recursive: true });
  writeFileSync(join(root, path), text);
}

function stale(): string[] {
  return script.staleParts(root).map(({ part }) => part.name);
}

/** Builds nothing, but records every stale part as built and makes its output exist. */
function pretendBuilt(): void {
  for (const { part, hash } of script.staleParts(root)) {
    write(part.output, 'built');
    script.recordBuilt(root, part.name, hash);
  }
}

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'hoga-build-stamp-'));
  write('package.json', '{"name":"fixture"}');
  write('package-lock.json', '{"lockfileVersion":3}');
  write('tsconfig.json', '{}');
  write('src/gateway/decimal.ts', 'export const decimal = 1;');
  write('src/cli/start.ts', 'export const start = 1;');
  write('test/a.test.ts', 'export {};');
  write('web/index.html', '<div id="app"></div>');
  write(
    'web/src/units.ts',
    "import { decimal } from '../../src/gateway/decimal.js';\nexport const units = decimal;",
  );
});

afterEach(() => rmSync(root, { recursive: true, force: true }));

it('builds both parts the first time and nothing once built', () => {
  assert.deepEqual(stale(), ['server', 'web']);
  pretendBuilt();
  assert.deepEqual(stale(), []);
});

it('rebuilds only the part whose sources changed', () => {
  pretendBuilt();
  write(
    'web/src/units.ts',
    "import { decimal } from '../../src/gateway/decimal.js';\nexport const units = 2;",
  );
  assert.deepEqual(stale(), ['web']);
  pretendBuilt();
  write('src/cli/start.ts', 'export const start = 2;');
  write('test/b.test.ts', 'export {};');
  assert.deepEqual(stale(), ['server']);
});

it('rebuilds the web UI when a server file it imports changes, and both when the lockfile does', () => {
  pretendBuilt();
  write('src/gateway/decimal.ts', 'export const decimal = 2;');
  assert.deepEqual(stale(), ['server', 'web']);
  pretendBuilt();
  write('package-lock.json', '{"lockfileVersion":3,"packages":{}}');
  assert.deepEqual(stale(), ['server', 'web']);
});

it('ignores a rewrite with the same content and rebuilds a part whose output is gone', () => {
  pretendBuilt();
  write('src/cli/start.ts', 'export const start = 1;');
  assert.deepEqual(stale(), []);
  rmSync(join(root, 'web', 'dist'), { recursive: true });
  assert.deepEqual(stale(), ['web']);
});

it('does not count build outputs as inputs', () => {
  pretendBuilt();
  write('dist/src/extra.js', 'compiled');
  write('web/dist/assets/app.js', 'bundled');
  assert.deepEqual(stale(), []);
});
