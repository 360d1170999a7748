#!/usr/bin/env node
// Entry point for `npx hoga`: runs the compiled CLI (built by `npm install` via the prepare script).
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const compiled = join(root, 'dist', 'src', 'cli', 'main.js');
if (!existsSync(compiled)) {
  process.stderr.write('hoga: dist/ is missing; run `npm run build` first\n');
  process.exit(1);
}
const { main } = await import(compiled);
await main(process.argv);
