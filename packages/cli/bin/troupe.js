#!/usr/bin/env node
// Committed shim, so npm links the `troupe` command at install time, before the first build.
import { existsSync } from 'node:fs';

const main = new URL('../dist/main.js', import.meta.url);
// Checked before importing: a module missing *inside* the CLI is a real error, not "not built".
if (existsSync(main)) {
  await import(main.href);
} else {
  console.error('troupe: the CLI is not built yet: run `npm run build` at the repository root');
  process.exitCode = 1;
}
