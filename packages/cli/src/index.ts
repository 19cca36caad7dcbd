/**
 * @troupe/cli: the `troupe` command, and what an embedder needs to run it in process or to load
 * an app module the way `--app` does. The commands' pieces stay internal, so they can change
 * with the CLI; the quantile of the reports is the `@troupe/cli/stats` subpath.
 */
export { run, program, describeError } from './program.js';
export { loadApp, type App } from './appModule.js';
export { AppModuleError, type AppModuleErrorCode } from './appResolution.js';
