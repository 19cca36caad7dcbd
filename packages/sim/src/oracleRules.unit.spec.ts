import type { AnyActorDefinition, Pack, VectorClock } from '@troupe/runtime';
import { makePack } from '@troupe/runtime/testkit';
import { describe, expect, it } from 'vitest';
import { OrderingOracle, clockAtOrBefore, clockKey, clockWeight } from './oracle/index.js';
import { ClockTable } from './oracle/clockTable.js';
import { Tape } from './workloads.js';
import { lcg } from './testing/lcg.js';
import { PlainRules } from './testing/plainRules.js';

/**
 * The ordering oracle keeps its bookkeeping in indices, marks and number tables (for the checks'
 * speed); these are the rules it follows written the plain way (key sets, filters, sorts), and
 * the oracle must give the same answers on random histories: merges of two or three branches,
 * criss-cross merges, packs whose parents are missing, several roots, clocks with zero entries.
 */
const actor = Tape.ref('t1');

/** A random history: command packs on random parents at random replicas, merges of random packs. */
function randomHistory(seed: number): Pack[] {
  const rand = lcg(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rand() * items.length)]!;
  const packs: Pack[] = [];
  const known = new Set<string>();
  const add = (pack: Pack) => {
    if (known.has(clockKey(pack.version))) return;
    known.add(clockKey(pack.version));
    packs.push(pack);
  };
  for (let n = 0; n < 40; n++) {
    const r = rand();
    if (packs.length === 0 || r < 0.08) {
      // A root (a zero entry now and then: the key leaves it out).
      add(makePack({ actor, version: rand() < 0.5 ? { [pick(['a', 'b', 'c'])]: 1 } : { a: 1, b: 0 } }));
    } else if (r < 0.75) {
      const parent = pick(packs);
      const replica = pick(['a', 'b', 'c']);
      const version: VectorClock = { ...parent.version, [replica]: (parent.version[replica] ?? 0) + 1 };
      add(makePack({ actor, version, parents: [parent.version] }));
    } else {
      const heads = [pick(packs), pick(packs), ...(rand() < 0.3 ? [pick(packs)] : [])];
      const version: Record<string, number> = {};
      for (const h of heads) for (const [replica, counter] of Object.entries(h.version)) version[replica] = Math.max(version[replica] ?? 0, counter);
      add(makePack({ actor, kind: 'merge', version, parents: heads.map((h) => h.version), events: [], state: {} }));
    }
  }
  // Now and then a pack whose parent the history lacks.
  if (rand() < 0.3) add(makePack({ actor, version: { z: 9 }, parents: [{ y: 1 }] }));
  return packs;
}

const attempt = <T>(f: () => T): T | string => {
  try {
    return f();
  } catch (error) {
    return `throws ${(error as Error).message}`;
  }
};

describe('the ordering oracle follows its rules exactly', () => {
  it('ClockTable compares and weighs versions as clockAtOrBefore and clockWeight do', () => {
    const rand = lcg(5);
    const clock = (): VectorClock => {
      const out: Record<string, number> = {};
      for (const replica of ['a', 'b', 'c', 'd']) if (rand() < 0.6) out[replica] = Math.floor(rand() * 4) - (rand() < 0.05 ? 1 : 0);
      return out;
    };
    const versions = Array.from({ length: 60 }, clock);
    const table = new ClockTable(versions);
    versions.forEach((a, i) => {
      expect(table.weights[i]).toBe(clockWeight(a));
      for (const [j, b] of versions.entries()) expect(table.rowAtOrBefore(i, j), `${clockKey(a)} <= ${clockKey(b)}`).toBe(clockAtOrBefore(a, b));
      const outside = { ...clock(), e: 2 };
      expect(table.atOrBefore(i, table.row(outside))).toBe(clockAtOrBefore(a, outside));
    });
  });

  it('command heads, latest cuts and ancestries as the plain rules give them, on random histories', () => {
    let cuts = 0;
    for (let seed = 1; seed <= 60; seed++) {
      const packs = randomHistory(seed);
      const oracle = new OrderingOracle(Tape, packs);
      const plain = new PlainRules(Tape as unknown as AnyActorDefinition, packs);
      const keys = packs.map((p) => clockKey(p.version));
      const rand = lcg(seed * 7);
      for (const key of keys) {
        const version = oracle.get(key).version;
        expect(attempt(() => oracle.commandHeadsAt(version)), `seed ${seed} heads at ${key}`).toEqual(plain.commandHeadsAt(version));
        expect(attempt(() => [...oracle.ancestry(key)].sort()), `seed ${seed} ancestry ${key}`).toEqual(attempt(() => [...plain.ancestry(key)].sort()));
      }
      for (let n = 0; n < 30; n++) {
        const heads = [...new Set(Array.from({ length: 1 + Math.floor(rand() * 3) }, () => keys[Math.floor(rand() * keys.length)]!))];
        const expected = attempt(() => plain.latestCut(heads));
        expect(attempt(() => oracle.latestCut(heads)), `seed ${seed} cut of ${heads.join(' ')}`).toBe(expected);
        // Asked again (kept): the same answer.
        expect(attempt(() => oracle.latestCut([...heads].reverse()))).toBe(expected);
        if (typeof expected === 'string' && !expected.startsWith('throws')) {
          cuts++;
          const below = plain.ancestry(expected);
          expect(oracle.countInAncestry(expected, [...keys, 'nowhere'])).toBe(keys.filter((k) => below.has(k)).length);
        }
      }
    }
    expect(cuts).toBeGreaterThan(500);
  });
});
