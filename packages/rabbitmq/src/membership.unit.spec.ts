import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ownerOf } from './membership.js';

const ids = (n: number, salt: string) => Array.from({ length: n }, (_, i) => `host.${1000 + i}.${salt}${i.toString(36)}`);

describe('rendezvous ownership of shards', () => {
  it('gives every worker a fair share of the shards', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 6 }), fc.string({ minLength: 1, maxLength: 6 }), (workers, salt) => {
        const members = ids(workers, salt);
        const counts = new Map(members.map((m) => [m, 0]));
        const shards = 256;
        for (let s = 0; s < shards; s++) counts.set(ownerOf(s, members)!, counts.get(ownerOf(s, members)!)! + 1);
        for (const count of counts.values()) expect(count).toBeGreaterThan((shards / workers) * 0.5);
      }),
    );
  });

  it('is the same whatever the order of the member list', () => {
    const members = ids(4, 'x');
    for (let s = 0; s < 64; s++) expect(ownerOf(s, [...members].reverse())).toBe(ownerOf(s, members));
  });

  it('moves only the leaving worker\'s shards when one leaves', () => {
    const members = ids(4, 'y');
    const without = members.slice(1);
    for (let s = 0; s < 256; s++) {
      const before = ownerOf(s, members)!;
      if (before !== members[0]) expect(ownerOf(s, without)).toBe(before);
    }
  });

  it('has no owner without members', () => {
    expect(ownerOf(0, [])).toBeUndefined();
  });
});
