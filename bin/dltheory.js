#!/usr/bin/env node
// The command line runs the compiled TypeScript, which a fresh clone does not have until it is built.
import { existsSync } from 'node:fs';

const main = new URL('../dist/src/cli/main.js', import.meta.url);
if (!existsSync(main)) {
  process.stderr.write('dltheory: not built yet: run `make demo` (installs and builds everything) or `npm run build`\n');
  process.exit(2);
}
await import(main.href);
