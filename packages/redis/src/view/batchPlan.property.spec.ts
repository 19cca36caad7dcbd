/**
 * The batch plan against an oracle that shares no code with it: after any sequence of batches
 * (each replacing some actors' rows), the stored rows equal, per key, the latest rows of every
 * actor under it combined in actor-key order, and the stored parts and contributions say exactly
 * who contributes what. With a non-commutative `combine` (string concatenation) the order shows.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type ActorRows, affectedKeys, planBatch, rowMap } from './batchPlan.js';
import type { Contribution, Parts } from './viewCodec.js';

const actor = fc.constantFrom('a:1', 'a:2', 'b:1', 'b:10', 'c:x');
const rows = fc.array(fc.tuple(fc.constantFrom('k1', 'k2', 'k3', 'total'), fc.string({ maxLength: 3 })), { maxLength: 4 });
const batch = fc.uniqueArray(fc.tuple(actor, rows), { selector: ([a]) => a, maxLength: 4 });

describe('planBatch', () => {
  it('keeps rows equal to every actor\'s latest rows combined per key, whatever the batches', () => {
    let moved = 0;
    fc.assert(
      fc.property(fc.array(batch, { maxLength: 8 }), fc.boolean(), (batches, withCombine) => {
        const combine = withCombine ? (x: string, y: string) => `${x}+${y}` : undefined;
        const stored = { rows: new Map<string, string>(), parts: new Map<string, Parts<string>>(), contributions: new Map<string, Contribution>() };
        const latest = new Map<string, Map<string, string>>();
        let version = 0;
        for (const updates of batches) {
          const actorRows: ActorRows<string>[] = updates.map(([a, r]) => ({ actor: a, version: `v${++version}`, rows: rowMap(r), previous: stored.contributions.get(a) }));
          const keys = affectedKeys(actorRows);
          const writes = planBatch(actorRows, new Map(keys.filter((k) => stored.parts.has(k)).map((k) => [k, stored.parts.get(k)!])), combine);
          for (const [a, c] of writes.contributions) stored.contributions.set(a, c);
          for (const [k, p] of writes.partsSet) stored.parts.set(k, p);
          for (const k of writes.partsDeleted) stored.parts.delete(k);
          for (const [k, r] of writes.rowsSet) stored.rows.set(k, r);
          for (const k of writes.rowsDeleted) stored.rows.delete(k);
          for (const [a, r] of updates) {
            const before = latest.get(a);
            const next = new Map<string, string>(r);
            if (before && [...before.keys()].some((k) => !next.has(k))) moved++;
            latest.set(a, next);
          }
        }
        // The oracle: per key, the contributors' rows in actor-key order.
        const expected = new Map<string, string>();
        for (const a of [...latest.keys()].sort()) {
          for (const [k, r] of latest.get(a)!) expected.set(k, expected.has(k) ? (combine ? combine(expected.get(k)!, r) : expected.get(k)!) : r);
        }
        expect(new Map([...stored.rows].sort())).toEqual(new Map([...expected].sort()));
        for (const [a, r] of latest) expect(stored.contributions.get(a)!.keys).toEqual([...r.keys()].sort());
        for (const [k, parts] of stored.parts) {
          expect(parts.map(([a]) => a)).toEqual([...latest.keys()].filter((a) => latest.get(a)!.has(k)).sort());
          expect(parts.length).toBeGreaterThan(0);
        }
      }),
      { numRuns: 500 },
    );
    // Rows did leave keys (retraction was exercised).
    expect(moved).toBeGreaterThan(50);
  });

  it('keeps an actor with no rows as a contribution (its version answers waitFor) and touches no key for it', () => {
    const writes = planBatch([{ actor: 'a:1', version: 'eu:1', rows: new Map(), previous: undefined }], new Map());
    expect(writes).toEqual({ contributions: [['a:1', { version: 'eu:1', keys: [] }]], partsSet: [], partsDeleted: [], rowsSet: [], rowsDeleted: [] });
  });
});
