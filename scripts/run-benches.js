#!/usr/bin/env node
// Runs every compiled benchmark (dist/bench/*.bench.js) one after another, so they never share
// the machine's two cores with each other.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

const directory = join('dist', 'bench');
const benches = readdirSync(directory)
  .filter((name) => name.endsWith('.bench.js'))
  .sort();
let failed = 0;
for (const name of benches) {
  process.stdout.write(`\n=== ${name} ===\n`);
  const result = spawnSync(process.execPath, [join(directory, name), ...process.argv.slice(2)], {
    stdio: 'inherit',
  });
  if (result.status !== 0) failed += 1;
}
process.exit(failed === 0 ? 0 : 1);
