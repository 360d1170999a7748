#!/usr/bin/env node
// Fails when the TypeScript sources import each other in a cycle, or a folder of src/ imports one
// of the layers above it (docs/ARCHITECTURE.md "Layering"). Every relative `import ... from`,
// `export ... from`, `import('...')` and side-effect `import '...'` counts, `import type` included:
// a cycle of types is still a layering cycle.
// Usage: node scripts/check-cycles.js [root ...]   (default: src web/src bench test scripts)
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const sourceExtensions = ['.ts', '.tsx'];
const importPattern =
  /(?:^|[\s;}])(?:import|export)\s+(?:type\s+)?(?:[^'";]*?\s+from\s+)?['"](\.{1,2}\/[^'"]+)['"]|import\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g;

function collect(directory) {
  const found = [];
  for (const name of readdirSync(directory).sort()) {
    if (name === 'node_modules' || name === 'dist') continue;
    const path = join(directory, name);
    if (statSync(path).isDirectory()) found.push(...collect(path));
    else if (sourceExtensions.some((extension) => name.endsWith(extension)) && !name.endsWith('.d.ts'))
      found.push(path);
  }
  return found;
}

// Strips comments so that an import written in a comment does not count.
function withoutComments(text) {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
}

// ESM sources name the compiled file (`./x.js`); the source is `x.ts` or `x.tsx`.
function resolveSpecifier(fromFile, specifier) {
  const target = resolve(dirname(fromFile), specifier);
  const stem = target.replace(/\.(js|jsx|ts|tsx)$/, '');
  for (const candidate of [
    ...sourceExtensions.map((extension) => stem + extension),
    ...sourceExtensions.map((extension) => join(target, `index${extension}`)),
  ]) {
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

export function importsOf(file) {
  const text = withoutComments(readFileSync(file, 'utf8'));
  const targets = new Set();
  for (const match of text.matchAll(importPattern)) {
    const target = resolveSpecifier(file, match[1] ?? match[2]);
    if (target !== undefined) targets.add(target);
  }
  return [...targets].sort();
}

// Tarjan's strongly connected components, iterative so that deep chains cannot overflow the stack;
// each component with more than one file (or a file importing itself) is a cycle.
export function findCycles(graph) {
  const index = new Map();
  const lowLink = new Map();
  const onStack = new Set();
  const stack = [];
  const components = [];
  let counter = 0;
  for (const root of graph.keys()) {
    if (index.has(root)) continue;
    const work = [{ node: root, next: 0 }];
    index.set(root, counter);
    lowLink.set(root, counter++);
    stack.push(root);
    onStack.add(root);
    while (work.length > 0) {
      const frame = work[work.length - 1];
      const edges = graph.get(frame.node) ?? [];
      if (frame.next < edges.length) {
        const child = edges[frame.next++];
        if (!index.has(child)) {
          index.set(child, counter);
          lowLink.set(child, counter++);
          stack.push(child);
          onStack.add(child);
          work.push({ node: child, next: 0 });
        } else if (onStack.has(child)) {
          lowLink.set(frame.node, Math.min(lowLink.get(frame.node), index.get(child)));
        }
        continue;
      }
      work.pop();
      if (work.length > 0) {
        const parent = work[work.length - 1].node;
        lowLink.set(parent, Math.min(lowLink.get(parent), lowLink.get(frame.node)));
      }
      if (lowLink.get(frame.node) !== index.get(frame.node)) continue;
      const component = [];
      let member;
      do {
        member = stack.pop();
        onStack.delete(member);
        component.push(member);
      } while (member !== frame.node);
      const selfImport = (graph.get(frame.node) ?? []).includes(frame.node);
      if (component.length > 1 || selfImport) components.push(component.sort());
    }
  }
  return components;
}

// One shortest path from the component's first file back to itself, to show how the cycle closes.
export function cyclePath(graph, component) {
  const members = new Set(component);
  const start = component[0];
  const cameFrom = new Map();
  const queue = [start];
  while (queue.length > 0) {
    const node = queue.shift();
    for (const next of graph.get(node) ?? []) {
      if (!members.has(next)) continue;
      if (next === start) {
        const path = [start];
        for (let step = node; step !== start; step = cameFrom.get(step)) path.splice(1, 0, step);
        return [...path, start];
      }
      if (cameFrom.has(next)) continue;
      cameFrom.set(next, node);
      queue.push(next);
    }
  }
  return [start, start];
}

export function buildGraph(roots) {
  const graph = new Map();
  for (const root of roots) {
    if (!existsSync(root)) continue;
    for (const file of collect(root)) graph.set(file, importsOf(file));
  }
  return graph;
}

// From the inside out: a folder of src/ may import its own layer and those before it, never one
// after it. Files directly in src/ (ports.ts, config.ts, main.ts) are placed by name.
const layers = [
  ['src/core/'],
  ['src/ports.ts'],
  ['src/journal/'],
  ['src/marketdata/'],
  ['src/store/'],
  ['src/gateway/'],
  ['src/config.ts', 'src/demo/'],
  ['src/cluster/'],
  ['src/main.ts'],
  ['src/cli/'],
];
// Upward imports that are known and documented (docs/ARCHITECTURE.md "Layering"); keep it short.
const allowedUpward = new Set([]);

function layerOf(file) {
  return layers.findIndex((prefixes) => prefixes.some((prefix) => file.startsWith(prefix)));
}

/** `from -> to` for every import of src/ that points to a later layer (paths relative to `root`). */
export function layerViolations(graph, root) {
  const violations = [];
  for (const [file, targets] of graph) {
    const from = relative(root, file);
    const fromLayer = layerOf(from);
    if (fromLayer < 0) continue;
    for (const target of targets) {
      const to = relative(root, target);
      const edge = `${from} -> ${to}`;
      if (layerOf(to) > fromLayer && !allowedUpward.has(edge)) violations.push(edge);
    }
  }
  return violations.sort();
}

function main() {
  const roots = process.argv.slice(2);
  const chosen = roots.length > 0 ? roots : ['src', 'web/src', 'bench', 'test', 'scripts'];
  const graph = buildGraph(chosen.map((root) => resolve(root)));
  const cycles = findCycles(graph);
  const violations = layerViolations(graph, process.cwd());
  if (cycles.length === 0 && violations.length === 0) {
    process.stdout.write(`check-cycles: no import cycles or upward imports in ${graph.size} files\n`);
    return;
  }
  for (const violation of violations) process.stderr.write(`check-cycles: upward import ${violation}\n`);
  process.exitCode = 1;
  if (cycles.length === 0) return;
  process.stderr.write(`check-cycles: ${cycles.length} import cycle(s):\n`);
  const shown = (file) => relative(process.cwd(), file);
  for (const cycle of cycles) {
    process.stderr.write(`  files: ${cycle.map(shown).join(', ')}\n`);
    process.stderr.write(`    e.g. ${cyclePath(graph, cycle).map(shown).join(' -> ')}\n`);
  }
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(new URL(import.meta.url).pathname)) main();
