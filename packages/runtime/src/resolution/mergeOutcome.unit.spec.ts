import { describe, expect, it } from 'vitest';
import { defineActor } from '../actor/index.js';
import { InvalidOptionError } from '../errors/index.js';
import type { EventRecord } from '../model/index.js';
import { MemoryStore } from '../store/index.js';
import { makePack } from '../testkit/fixtures.js';
import { computeMerge } from './resolve.js';

/**
 * What `computeMerge` reports besides the merged state: each branch's replayed events and the
 * duplicates it dropped, and that a TroupeError from a handler passes through unwrapped. Added for
 * the mutation score (TESTING.md): these fields reached onMerge and the observer with no test.
 */
const actor = { type: 'noter', id: 'm' };
/** A handler that refuses one event with a TroupeError of its own (a runtime error is not a broken handler). */
const refusal = new InvalidOptionError('probe', 'thrown by a handler');
const Noter = defineActor({
  type: 'noter',
  initial: () => [] as string[],
  commands: { note: (_s: string[], p: { at: string }) => [{ type: 'noted', data: { at: p.at } }] },
  events: {
    noted: (s: string[], d: { at: string }) => {
      if (d.at === 'refuse') throw refusal;
      return [...s, d.at];
    },
  },
});

async function diverged(lastAt?: string) {
  // root a:1; branch A (a:2) applied command 'dup'; branch B (a:1,b:1) applied 'dup' too (a retry),
  // then B2 (a:1,b:2) applied 'c2'. A's copy of 'dup' replays first (same ts, smaller event id).
  const root = makePack({ actor, version: { a: 1 } });
  const a = makePack({ actor, version: { a: 2 }, parents: [{ a: 1 }], commandIds: ['dup'] });
  const b = makePack({ actor, version: { a: 1, b: 1 }, parents: [{ a: 1 }], commandIds: ['dup'] });
  const b2Base = makePack({ actor, version: { a: 1, b: 2 }, parents: [{ a: 1, b: 1 }], commandIds: ['c2'] });
  const b2 = lastAt ? { ...b2Base, events: [{ ...b2Base.events[0]!, data: { at: lastAt } }] } : b2Base;
  const store = new MemoryStore();
  await store.merge([root, a, b, b2], []);
  return { store, a, b, b2, ev: (p: { events: readonly EventRecord[] }) => p.events[0]! };
}

describe('computeMerge outcome', () => {
  it("reports each command head's branch without the dropped duplicate, and the duplicate", async () => {
    const { store, a, b, b2, ev } = await diverged();
    const outcome = await computeMerge(store, Noter, actor, [a, b2]);
    // Heads in canonical order: 'a:1,b:2' before 'a:2'.
    expect(outcome.heads.map((p) => p.version)).toEqual([{ a: 1, b: 2 }, { a: 2 }]);
    expect(outcome.branches).toEqual([[ev(b2)], [ev(a)]]);
    expect(outcome.droppedDuplicates).toEqual([ev(b)]);
    expect(outcome.replayed).toEqual([ev(a), ev(b2)]);
    // The same outcome from the heads given the other way round.
    expect(await computeMerge(store, Noter, actor, [b2, a])).toEqual(outcome);
  });

  it("a branch's events come in replay order, not in the order the walk read its packs (newest first)", async () => {
    const { store, a, b2, ev } = await diverged();
    const a2 = makePack({ actor, version: { a: 3 }, parents: [{ a: 2 }], commandIds: ['c3'] });
    await store.merge([a2], []);
    const outcome = await computeMerge(store, Noter, actor, [a2, b2]);
    expect(outcome.branches[1]).toEqual([ev(a), ev(a2)]);
  });

  it('a TroupeError thrown by a handler during the replay passes through as it is', async () => {
    const { store, a, b2 } = await diverged('refuse');
    await expect(computeMerge(store, Noter, actor, [a, b2])).rejects.toBe(refusal);
  });
});
