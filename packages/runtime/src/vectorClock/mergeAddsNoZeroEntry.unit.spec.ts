import { describe, expect, it } from 'vitest';
import { VC } from './index.js';

/**
 * Found by mutation testing (TESTING.md): `merge` with `>=` instead of `>` passed every other
 * check. Clocks travel in packs: a stray zero entry changes a clock's object form (and anything
 * that serialises it, e.g. a pack's bytes) without changing the version it names.
 */
describe('VC.merge adds no zero entry', () => {
  it('a replica at 0 in b and absent from a stays absent', () => {
    expect(Object.keys(VC.merge({ a: 1 }, { z: 0 }))).toEqual(['a']);
    expect(Object.keys(VC.mergeAll([{}, { z: 0 }]))).toEqual([]);
  });
});
