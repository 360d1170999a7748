#!/usr/bin/env node
// `npm start` builds first, but only the parts whose sources changed since the last build here:
// the server (tsc to dist/) and the web UI (type-check, then vite to web/dist). Each part's inputs
// are hashed by content (not mtime, which `git pull`, checkouts and copies change or keep at will)
// and compared with the hash recorded in dist/.build-stamp.json after that part last built. A
// missing output, a changed dependency lockfile or a failed build means building again.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Input files hashed per part at most: a bound, far above the repository's size. */
export const inputFilesMax = 50_000;
const skippedDirectories = new Set(['node_modules', 'dist', '.git']);
const stampName = join('dist', '.build-stamp.json');

/** Every file under `directory` (relative to `root`), sorted, skipping build outputs. */
function filesUnder(root, directory) {
  const found = [];
  const walk = (relativeDirectory) => {
    const absolute = join(root, relativeDirectory);
    if (!existsSync(absolute)) return;
    for (const name of readdirSync(absolute).sort()) {
      const path = join(relativeDirectory, name);
      if (statSync(join(root, path)).isDirectory()) {
        if (!skippedDirectories.has(name)) walk(path);
      } else found.push(path);
      if (found.length > inputFilesMax)
        throw new Error(`BUILD_INPUTS_TOO_MANY: more than ${inputFilesMax} files`);
    }
  };
  walk(directory);
  return found;
}

/** Server sources the web UI imports (`../../src/gateway/decimal.js`): a change there rebuilds the UI too. */
function serverFilesImportedByWeb(root) {
  const imported = new Set();
  for (const file of filesUnder(root, join('web', 'src'))) {
    const text = readFileSync(join(root, file), 'utf8');
    for (const match of text.matchAll(/from\s+'(\.[^']+)'/g)) {
      const target = relative(root, resolve(root, dirname(file), match[1])).replace(/\.js$/, '.ts');
      if (target.startsWith(`src${sep}`)) imported.add(target);
    }
  }
  return [...imported].sort();
}

const lockfiles = ['package.json', 'package-lock.json'];

/** The two parts of `npm run build`, their inputs, one output that must exist, and their commands. */
export function buildParts(root) {
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  const vite = join(root, 'node_modules', 'vite', 'bin', 'vite.js');
  return [
    {
      name: 'server',
      inputs: () => [
        ...lockfiles,
        'tsconfig.json',
        ...filesUnder(root, 'src'),
        ...filesUnder(root, 'test'),
        ...filesUnder(root, 'bench'),
      ],
      output: join('dist', 'src', 'cli', 'main.js'),
      commands: [[tsc, '-p', 'tsconfig.json']],
    },
    {
      name: 'web',
      inputs: () => [...lockfiles, ...filesUnder(root, 'web'), ...serverFilesImportedByWeb(root)],
      output: join('web', 'dist', 'index.html'),
      commands: [
        [tsc, '-p', join('web', 'tsconfig.json'), '--noEmit'],
        [vite, 'build', '--config', join('web', 'vite.config.ts'), '--logLevel', 'warn'],
      ],
    },
  ];
}

/** SHA-256 over each input's path and content, in order. */
export function inputsHash(root, files) {
  const hash = createHash('sha256');
  for (const file of files) {
    hash.update(file.split(sep).join('/'));
    hash.update('\0');
    if (existsSync(join(root, file))) hash.update(readFileSync(join(root, file)));
    hash.update('\0');
  }
  return hash.digest('hex');
}

function readStamp(root) {
  try {
    const parsed = JSON.parse(readFileSync(join(root, stampName), 'utf8'));
    return parsed !== null && typeof parsed === 'object' ? parsed : {};
  } catch {
    return {};
  }
}

/** Records that `part` built from inputs hashing to `hash`. */
export function recordBuilt(root, part, hash) {
  const stamp = readStamp(root);
  stamp[part] = hash;
  mkdirSync(join(root, 'dist'), { recursive: true });
  writeFileSync(join(root, stampName), `${JSON.stringify(stamp, null, 2)}\n`);
}

/** The parts to build: inputs changed since their last recorded build, or output missing. */
export function staleParts(root) {
  const stamp = readStamp(root);
  return buildParts(root)
    .map((part) => ({ part, hash: inputsHash(root, part.inputs()) }))
    .filter(({ part, hash }) => stamp[part.name] !== hash || !existsSync(join(root, part.output)));
}

function main() {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const stale = staleParts(root);
  if (stale.length === 0) {
    process.stdout.write('build: nothing changed since the last build\n');
    return;
  }
  for (const { part, hash } of stale) {
    process.stdout.write(`build: ${part.name} sources changed, building\n`);
    for (const [command, ...options] of part.commands) {
      const run = spawnSync(process.execPath, [command, ...options], { cwd: root, stdio: 'inherit' });
      if (run.status !== 0) process.exit(run.status ?? 1);
    }
    recordBuilt(root, part.name, hash);
  }
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
