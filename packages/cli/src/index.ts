/** @troupe/cli: the `troupe` command, and its pieces for embedding. */
export { run, program, describeError } from './program.js';
export { loadApp, defaultApp, type App } from './appModule.js';
export { inspectActor, formatInspect, type InspectView, type AncestorView } from './commands/inspect.js';
export { runLoad, formatLoad, quantile, type LoadReport } from './commands/load.js';
