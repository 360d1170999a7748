// The import check run by `npm test` (scripts/check-cycles.js, docs/ARCHITECTURE.md "Layering"): on
// small source trees it finds a cycle through any kind of import, `import type` and
// `export ... from` included, ignores imports written in comments, passes a tree without one, and
// names every import of src/ that points to a layer above its own.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { afterEach, beforeEach, it } from 'node:test';

type Script = typeof import('../../scripts/check-cycles.js');
// Compiled to dist/test/scripts/: the script itself stays in scripts/ at the repository root.
const script = (await import(new URL('../../../scripts/check-cycles.js', import.meta.url).href)) as Script;

let root: string;

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'hoga-cycles-'));
});

afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

function write(path: string, text: string): void {
  mkdirSync(dirname(join(root, path)), { recursive: true });
  writeFileSync(join(root, path), text);
}

function cycles(): string[][] {
  const found = script.findCycles(script.buildGraph([join(root, 'src')]));
  return found.map((component) => component.map((file) => relative(root, file)));
}

it('passes a tree whose imports form no cycle', () => {
  write('src/a.ts', "import { b } from './b.js';\nexport const a = b;\n");
  write('src/b.ts', "export { c as b } from './lib/c.js';\n");
  write('src/lib/c.ts', 'export const c = 1;\n');
  assert.deepEqual(cycles(), []);
});

it('finds a cycle through a value import and an export-from', () => {
  write('src/a.ts', "import { b } from './b.js';\nexport const a = b;\n");
  write('src/b.ts', "export { a as b } from './a.js';\n");
  assert.deepEqual(cycles(), [['src/a.ts', 'src/b.ts']]);
});

it('counts import type, multi-line imports and .tsx files', () => {
  write('src/Page.tsx', "import {\n  List,\n} from './List.js';\nexport const Page = List;\n");
  write(
    'src/List.tsx',
    "import type { Page } from './Page.js';\nexport const List = 1 as unknown as typeof Page;\n",
  );
  assert.deepEqual(cycles(), [['src/List.tsx', 'src/Page.tsx']]);
});

it('ignores imports inside comments and names the path that closes the cycle', () => {
  write('src/a.ts', "// import { b } from './b.js';\n/* import './b.js'; */\nimport './c.js';\n");
  write('src/b.ts', "import './a.js';\n");
  write('src/c.ts', "import './d.js';\n");
  write('src/d.ts', "import './c.js';\n");
  assert.deepEqual(cycles(), [['src/c.ts', 'src/d.ts']]);
  const graph = script.buildGraph([join(root, 'src')]);
  const path = script.cyclePath(graph, script.findCycles(graph)[0]).map((file) => relative(root, file));
  assert.deepEqual(path, ['src/c.ts', 'src/d.ts', 'src/c.ts']);
});

it('names imports from an inner layer to an outer one, and allows the other direction', () => {
  write(
    'src/core/engine.ts',
    "import type { Context } from '../gateway/context.js';\nexport type E = Context;\n",
  );
  write('src/gateway/context.ts', "import '../core/types.js';\nexport type Context = number;\n");
  write('src/core/types.ts', 'export type T = 1;\n');
  write('src/store/projector.ts', "import '../journal/record.js';\nimport '../main.js';\n");
  write('src/journal/record.ts', "import '../ports.js';\n");
  write('src/ports.ts', "import './core/types.js';\n");
  write('src/main.ts', "import './gateway/context.js';\n");
  const graph = script.buildGraph([join(root, 'src')]);
  assert.deepEqual(script.layerViolations(graph, root), [
    'src/core/engine.ts -> src/gateway/context.ts',
    'src/store/projector.ts -> src/main.ts',
  ]);
});

it('the repository itself has no import cycle and no upward import', () => {
  const repository = new URL('../../../', import.meta.url).pathname;
  const roots = ['src', 'web/src', 'bench', 'test', 'scripts'].map((folder) => join(repository, folder));
  const graph = script.buildGraph(roots);
  assert.deepEqual(script.findCycles(graph), []);
  assert.deepEqual(script.layerViolations(graph, repository), []);
});
