#!/usr/bin/env node
// The lgsp operator CLI; runs the compiled code (`npm run build` or `npm start` compiles it).
import { existsSync } from 'node:fs';

const entry = new URL('../dist/apps/cli/src/main.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write('lgsp: the project is not built yet; run `npm run build` first\n');
  process.exit(4);
}
await import(entry.href);
