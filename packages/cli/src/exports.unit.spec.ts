import { describe, expect, it } from 'vitest';

describe('@troupe/cli exports', () => {
  it('the root exports only what an embedder needs (README "API")', async () => {
    expect(Object.keys(await import('./index.js')).sort()).toEqual(['AppModuleError', 'describeError', 'loadApp', 'program', 'run']);
  });

  it('@troupe/cli/stats exports the quantile', async () => {
    expect(Object.keys(await import('./stats.js')).sort()).toEqual(['quantile']);
  });
});
