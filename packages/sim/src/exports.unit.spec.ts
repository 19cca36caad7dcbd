import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import * as sim from './index.js';

/** The root's run-time exports, as README.md's "API" section documents them (types are not listed by Object.keys). */
const documented = [
  'Counter',
  'Tape',
  'brokenStrategies',
  'counterTotals',
  'counterWorkload',
  'defaultFaults',
  'formatReport',
  'ioredisConnection',
  'memoryStores',
  'memoryViews',
  'partitionModes',
  'prefixedStores',
  'renderHtml',
  'shapeDefaults',
  'shrink',
  'simDefaults',
  'simulate',
  'simulateWithTrace',
  'tapeDigests',
  'tapeWorkload',
  'writeHtmlReport',
];

describe('the package root', () => {
  it('exports exactly the documented names', () => {
    expect(Object.keys(sim).sort()).toEqual(documented);
  });

  it('README.md documents each of them in its API section', async () => {
    const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8');
    const api = readme.slice(readme.indexOf('\n## API'), readme.indexOf('\n## ', readme.indexOf('\n## API') + 1));
    expect(api.length).toBeGreaterThan(0);
    for (const name of documented) expect(api, name).toContain(`\`${name}`);
  });

  it('README.md names each exported type in its API section', async () => {
    const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8');
    const api = readme.slice(readme.indexOf('\n## API'), readme.indexOf('\n## ', readme.indexOf('\n## API') + 1));
    const index = await readFile(new URL('./index.ts', import.meta.url), 'utf8');
    // `type X` inside `export { ... }`, and every name of `export type { ... }`.
    const inline = [...index.matchAll(/\btype (\w+)(?=[,\s}])/g)].map((m) => m[1]!);
    const typeOnly = [...index.matchAll(/export type \{([^}]*)\}/g)].flatMap((m) => m[1]!.split(',').map((n) => n.trim()).filter(Boolean));
    const types = [...new Set([...inline, ...typeOnly])];
    expect(types).toContain('ReplyRecord');
    for (const name of types) expect(api, name).toContain(`\`${name}\``);
  });
});
