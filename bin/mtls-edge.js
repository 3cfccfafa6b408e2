#!/usr/bin/env -S node --max-semi-space-size=2 --v8-pool-size=1
// Node flags: why and where they are kept in step, src/cli/nodeFlags.ts.
// Thin launcher: the compiled CLI lives in dist/ (built by `npm install` through the prepare script).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
const entry = new URL('../dist/src/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  process.stderr.write('mtls-edge: dist/ is missing; run `npm install` (or `npm run build`) first.\n');
  process.exit(2);
}
await import(entry.href);
