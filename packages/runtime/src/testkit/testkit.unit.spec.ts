import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));

/** Every package (bare specifier) the module graph from `entry` imports, following relative imports. */
function packagesImportedFrom(entry: string): Map<string, string> {
  const packages = new Map<string, string>();
  const seen = new Set<string>();
  const pending = [entry];
  while (pending.length > 0) {
    const file = pending.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const source = readFileSync(file, 'utf8');
    // Static imports and re-exports; type-only ones are erased and load nothing.
    for (const match of source.matchAll(/^(?:import|export)(?!\s+type\s)[^'"]*?from\s+'([^']+)'/gm)) {
      const specifier = match[1]!;
      if (specifier.startsWith('.')) pending.push(resolve(dirname(file), specifier.replace(/\.js$/, '.ts')));
      else if (!packages.has(specifier)) packages.set(specifier, file);
    }
  }
  return packages;
}

describe('@troupe/runtime/testkit', () => {
  it('loads no test framework, so the simulator can import it at run time', () => {
    const packages = packagesImportedFrom(resolve(here, 'index.ts'));
    expect(packages.size).toBeGreaterThan(0);
    for (const framework of ['vitest', 'fast-check']) {
      expect(packages.get(framework), `${framework} imported by ${packages.get(framework)}`).toBeUndefined();
    }
  });

  it('the conformance entry point is where vitest is loaded', () => {
    expect(packagesImportedFrom(resolve(here, 'conformance/index.ts')).has('vitest')).toBe(true);
  });
});
