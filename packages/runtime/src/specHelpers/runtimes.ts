/** Helpers of this package's own tests (not built, not published). */
import { afterEach } from 'vitest';
import { type Runtime, type RuntimeOptions, createRuntime } from '../hosting/index.js';

/** A `createRuntime` whose runtimes are all stopped after each test of the file that calls this. */
export function runtimesStoppedAfterEach(): (options: RuntimeOptions) => Runtime {
  let running: Runtime[] = [];
  afterEach(async () => {
    await Promise.all(running.map((runtime) => runtime.stop()));
    running = [];
  });
  return (options) => {
    const runtime = createRuntime(options);
    running.push(runtime);
    return runtime;
  };
}
