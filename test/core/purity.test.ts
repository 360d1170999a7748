// src/core must stay pure (DESIGN.md): no Node built-ins, no packages, no other layers, no clock,
// randomness, timers, process or float parsing. Scans the TypeScript sources with comments removed.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

/** dist/test/core → repository root. */
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const coreDirectory = join(root, 'src', 'core');

const forbiddenPatterns: ReadonlyArray<[RegExp, string]> = [
  [/\bDate\b/, 'Date'],
  [/\bMath\.random\b/, 'Math.random'],
  [/\bset(Timeout|Interval|Immediate)\b/, 'timers'],
  [/\bprocess\b/, 'process'],
  [/\bparseFloat\b/, 'parseFloat'],
  [/\btoFixed\b/, 'toFixed'],
  [/\brequire\s*\(/, 'require'],
  [/\bimport\s*\(/, 'dynamic import'],
  [/\b(globalThis|performance|crypto|Buffer|fetch)\b/, 'host globals'],
];

function sourceFiles(directory: string): string[] {
  const files: string[] = [];
  for (const name of readdirSync(directory)) {
    const path = join(directory, name);
    if (statSync(path).isDirectory()) files.push(...sourceFiles(path));
    else if (name.endsWith('.ts')) files.push(path);
  }
  return files;
}

/** Removes block and line comments while keeping string literals (a `//` inside quotes stays). */
function stripComments(source: string): string {
  return source.replace(
    /\/\*[\s\S]*?\*\/|('(?:\\.|[^'\\\n])*'|"(?:\\.|[^"\\\n])*"|`(?:\\.|[^`\\])*`)|\/\/[^\n]*/g,
    (match, literal) => (literal === undefined ? '' : match),
  );
}

function moduleSpecifiers(source: string): string[] {
  const specifiers: string[] = [];
  const pattern = /\b(?:import|export)\b[^'"`;]*?\bfrom\s*['"]([^'"]+)['"]|\bimport\s*['"]([^'"]+)['"]/g;
  for (const match of source.matchAll(pattern)) specifiers.push(match[1] ?? match[2]);
  return specifiers;
}

function problems(path: string): string[] {
  const source = stripComments(readFileSync(path, 'utf8'));
  const found: string[] = [];
  for (const specifier of moduleSpecifiers(source)) {
    if (!specifier.startsWith('./') && !specifier.startsWith('../')) {
      found.push(`imports a built-in or package: ${specifier}`);
      continue;
    }
    const target = resolve(dirname(path), specifier);
    if (relative(coreDirectory, target).startsWith('..'))
      found.push(`imports outside src/core: ${specifier}`);
  }
  for (const [pattern, name] of forbiddenPatterns) if (pattern.test(source)) found.push(`uses ${name}`);
  return found;
}

describe('src/core purity', () => {
  const files = sourceFiles(coreDirectory);

  it('finds the engine sources', () => {
    assert.ok(files.some((file) => file.endsWith('engine.ts')));
    assert.ok(files.length >= 3);
  });

  for (const file of files) {
    it(`${relative(root, file)} is pure`, () => {
      assert.deepEqual(problems(file), []);
    });
  }

  it('the scanner itself catches what it must', () => {
    assert.deepEqual(moduleSpecifiers("import { x } from 'node:fs';\nimport y from '../gateway/a.js';"), [
      'node:fs',
      '../gateway/a.js',
    ]);
    assert.equal(
      stripComments("const a = 1; // Date.now()\n/* process */ const b = '//x';"),
      "const a = 1; \n const b = '//x';",
    );
    assert.ok(forbiddenPatterns.some(([pattern]) => pattern.test('const t = Date.now();')));
    assert.ok(forbiddenPatterns.some(([pattern]) => pattern.test('Math.random()')));
    assert.ok(forbiddenPatterns.some(([pattern]) => pattern.test('x = parseFloat(y)')));
    assert.ok(!forbiddenPatterns.some(([pattern]) => pattern.test('const updated = lastUpdate + 1;')));
  });
});
