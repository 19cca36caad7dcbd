import { readFile, readdir } from 'node:fs/promises';
import { MemoryStore } from '@troupe/runtime';
import { VC } from '@troupe/runtime/store';
import { computeMerge } from '@troupe/runtime/resolution';
import { makeEvent, makePack } from '@troupe/runtime/testkit';
import { describe, expect, it } from 'vitest';
import { OrderingOracle } from './oracle/index.js';
import { Tape } from './workloads.js';

const actor = Tape.ref('t1');

/** A command pack of the tape appending `items` (one ts for the command, ids in emission order). */
function append(version: Record<string, number>, parent: Record<string, number> | undefined, items: number[], ts: number, replica: string, commandId = `cmd-${replica}-${ts}`) {
  const events = items.map((item) => makeEvent(actor, { type: 'appended', data: { item }, ts, replica, causationId: commandId }));
  return makePack({ actor, version, ...(parent ? { parents: [parent] } : {}), events, commandIds: [commandId], replica, ts });
}

describe('the ordering oracle', () => {
  it("imports nothing but types from @troupe/runtime (its comparator, fold, clocks and tick are its own)", async () => {
    const dir = new URL('./oracle/', import.meta.url);
    const files = (await readdir(dir)).filter((f) => f.endsWith('.ts'));
    expect(files.length).toBeGreaterThan(3);
    for (const file of files) {
      const source = await readFile(new URL(file, dir), 'utf8');
      const imports = [...source.matchAll(/^(?:import|export)\s+([^;]*?)\s+from\s+'([^']+)'/gms)];
      for (const [, what, from] of imports) {
        if (!from!.startsWith('@troupe/runtime')) continue;
        expect(what, `${file} imports values from ${from}`).toMatch(/^type\s/);
      }
      expect(source, file).not.toMatch(/import\(\s*'@troupe\/runtime/);
    }
  });

  it('merges as the rules say, and as the correct runtime does: order, surviving copy, version, compensations', async () => {
    // Root, then two branches; the retry of command 'dup' was accepted on both (its left copy replays first).
    const root = append({ r1: 1 }, undefined, [1, 2], 1_000, 'r1');
    const left = append({ r1: 2 }, { r1: 1 }, [3, 4, 5], 2_000, 'r1', 'dup');
    const left2 = append({ r1: 3 }, { r1: 2 }, [6], 4_000, 'r1');
    const right = append({ r1: 1, r2: 1 }, { r1: 1 }, [7, 8], 3_000, 'r2');
    const rightDup = append({ r1: 1, r2: 2 }, { r1: 1, r2: 1 }, [3, 4, 5], 3_500, 'r2', 'dup');
    const packs = [root, left, left2, right, rightDup];
    const oracle = new OrderingOracle(Tape, packs);
    const heads = [VC.encode(left2.version), VC.encode(rightDup.version)];
    const merge = oracle.merge(heads);
    expect(merge.version).toBe('r1:3,r2:2');
    expect(merge.ancestor).toBe('r1:1');
    expect(merge.replayed.map((e) => (e.data as { item: number }).item)).toEqual([3, 4, 5, 7, 8, 6]);
    expect(merge.compensations.map((e) => [e.id, e.ts, e.type, e.causationId, e.replica])).toEqual([
      ['mr1:3,r2:2#0000', 4_000 + 1 / 1024, 'marked', 'merge:r1:3,r2:2', 'merge'],
      ['mr1:3,r2:2#0001', 4_000 + 1 / 1024, 'doubled', 'merge:r1:3,r2:2', 'merge'],
    ]);
    const store = new MemoryStore();
    await store.merge(packs);
    const outcome = await computeMerge(store, Tape, actor, [left2, rightDup]);
    expect(VC.encode(outcome.pack.version)).toBe(merge.version);
    expect(outcome.replayed).toEqual(merge.replayed);
    expect(outcome.compensations).toEqual(merge.compensations);
    expect(outcome.state).toEqual(merge.state);
    // The merge pack's state is recomputed from its command heads, and a command pack folds its events in order.
    const all = new OrderingOracle(Tape, [...packs, outcome.pack]);
    expect(all.stateAt(merge.version)).toEqual(merge.state);
    expect((all.stateAt('r1:2') as { tail: number[] }).tail).toEqual([1, 2, 3, 4, 5]);
    expect(all.commandHeadsAt(outcome.pack.version)).toEqual([...heads].sort());
  });
});
