#!/usr/bin/env node
// Committed shim, so npm links the `troupe` command at install time, before the first build.
try {
  await import('../dist/main.js');
} catch (error) {
  if (error?.code === 'ERR_MODULE_NOT_FOUND' && String(error.message).includes('dist/main.js')) {
    console.error('troupe: the CLI is not built yet: run `npm run build` at the repository root');
    process.exitCode = 1;
  } else {
    throw error;
  }
}
