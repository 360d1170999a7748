#!/usr/bin/env node
// Runs every compiled test file under dist/test with node's test runner.
// Node 20's --test takes no globs, so the file list is collected here.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function collect(directory) {
  const found = [];
  for (const name of readdirSync(directory).sort()) {
    const path = join(directory, name);
    if (statSync(path).isDirectory()) found.push(...collect(path));
    else if (name.endsWith('.test.js')) found.push(path);
  }
  return found;
}

const filter = process.argv.slice(2);
let files = collect(join('dist', 'test'));
if (filter.length > 0) files = files.filter((file) => filter.some((part) => file.includes(part)));
if (files.length === 0) {
  process.stderr.write('no test files found\n');
  process.exit(1);
}
// Two files at a time: most integration tests wait on disks, servers and browsers, so two at once
// keep both cores busy (the whole suite: about 6.5 minutes instead of 11 on 2 cores). Every file
// uses its own ports, data directories, schemas and key prefixes, so files never share state.
const concurrency = process.env.HOGA_TEST_CONCURRENCY ?? '2';
const result = spawnSync(
  process.execPath,
  // A test that hangs (e.g. waiting for an event that never comes) fails after 10 minutes instead
  // of holding CI until its own limit; no test comes near this.
  ['--test', `--test-concurrency=${concurrency}`, '--test-timeout=600000', '--test-reporter=tap', ...files],
  { stdio: 'inherit' },
);
process.exit(result.status ?? 1);
