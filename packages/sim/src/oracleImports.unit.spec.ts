import { readFile, readdir } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';

/**
 * The oracle's independence from the runtime (see `oracle/orderingOracle.ts`), as its imports:
 * orderingOracle.unit.spec.ts checks that what comes from `@troupe/runtime` is types only; the
 * runtime's logic can also be reached by a relative path (`../../../runtime/src/...`) or through
 * a module of the simulator that imports it (`../traced.js` imports `defineActor`). So every
 * module specifier of the oracle's files is either type-only `@troupe/runtime` or a sibling
 * (`./x.js`), and nothing is loaded at run time (`import(...)`, `require(...)`).
 */
const importPattern = /^\s*(?:import|export)\s+([^;]*?)\s+from\s+'([^']+)'/gms;

function offences(file: string, source: string): string[] {
  const found: string[] = [];
  for (const [, what, from] of source.matchAll(importPattern)) {
    if (from!.startsWith('@troupe/runtime')) {
      if (!/^type\s/.test(what!)) found.push(`${file}: values from ${from}`);
    } else if (!/^\.\/[^/]+\.js$/.test(from!)) {
      found.push(`${file}: imports ${from} (only siblings in oracle/ and types from @troupe/runtime)`);
    }
  }
  if (/\bimport\s*\(|\brequire\s*\(/.test(source)) found.push(`${file}: loads a module at run time`);
  return found;
}

describe('the oracle reaches no code outside oracle/', () => {
  it('its files import types from @troupe/runtime and values from each other only', async () => {
    const dir = new URL('./oracle/', import.meta.url);
    const files = (await readdir(dir)).filter((f) => f.endsWith('.ts') && !f.endsWith('.spec.ts'));
    expect(files.length).toBeGreaterThan(4);
    for (const file of files) expect(offences(file, await readFile(new URL(file, dir), 'utf8'))).toEqual([]);
  });

  it('the check itself sees a relative path into the runtime, a simulator module, a value import and a dynamic import', () => {
    expect(offences('x.ts', "import { encode } from '../../../runtime/src/vectorClock/vectorClock.js';")).toHaveLength(1);
    expect(offences('x.ts', "import { traced } from '../traced.js';")).toHaveLength(1);
    expect(offences('x.ts', "import { VC } from '@troupe/runtime/store';")).toHaveLength(1);
    expect(offences('x.ts', "const m = await import('@troupe/runtime');")).toHaveLength(1);
    expect(offences('x.ts', "import type { Pack } from '@troupe/runtime';\nimport { clockKey } from './clock.js';")).toEqual([]);
  });
});
