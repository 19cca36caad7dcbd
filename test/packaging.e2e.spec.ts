import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = fileURLToPath(new URL('..', import.meta.url));

/**
 * The packages as a user gets them: built dist, plain Node ESM, no vitest source aliases.
 * Catches missing .js extensions, broken CommonJS interop (nact, msgpackr) and bad exports maps.
 */
describe('built packages in plain Node', () => {
  it('@troupe/runtime and @troupe/runtime/testkit import and run from dist', async () => {
    expect(existsSync(`${root}/packages/runtime/dist/index.js`), 'run the build first (npm test does)').toBe(true);
    const script = `
      import { createRuntime, defineActor, MemoryStore, ReplicationLink, VC } from '@troupe/runtime';
      import { runStoreConformance } from '@troupe/runtime/testkit/conformance';
      const Tally = defineActor({
        type: 'tally', initial: () => ({ n: 0 }),
        commands: { inc: () => [{ type: 'inc', data: {} }] },
        events: { inc: (s) => ({ n: s.n + 1 }) },
      });
      const a = createRuntime({ actors: [Tally], replicaId: 'a', store: new MemoryStore() });
      const b = createRuntime({ actors: [Tally], replicaId: 'b', store: new MemoryStore() });
      const link = new ReplicationLink(a, b);
      link.partition();
      await a.send(Tally.ref('t'), { type: 'inc' });
      await b.send(Tally.ref('t'), { type: 'inc' });
      link.heal();
      await link.settle();
      const [va, vb] = [await a.inspect(Tally.ref('t')), await b.inspect(Tally.ref('t'))];
      await a.stop(); await b.stop();
      console.log(JSON.stringify({ a: va, b: vb, testkit: typeof runStoreConformance, key: VC.encode(va.version) }));
    `;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: root });
    const result = JSON.parse(stdout.trim());
    expect(result.a.state).toEqual({ n: 2 });
    expect(result.b).toEqual(result.a);
    expect(result.key).toBe('a:1,b:1');
    expect(result.testkit).toBe('function');
  });
});
