import { describe, expect, it } from 'vitest';
import { defineActor } from '../actor/index.js';
import { MemoryStore } from '../store/index.js';
import { makeChain } from '../testkit/fixtures.js';
import { stateAt } from './resolve.js';

/**
 * `stateAt` saves a snapshot once a fold took `snapshotEvery` packs, so the next read starts from
 * it. Added for the mutation score (TESTING.md): no test of the package reached that branch.
 */
const actor = { type: 'noter', id: 's' };
const Noter = defineActor({
  type: 'noter',
  snapshotEvery: 3,
  initial: () => [] as string[],
  commands: { note: (_s: string[], p: { at: string }) => [{ type: 'noted', data: { at: p.at } }] },
  events: { noted: (s: string[], d: { at: string }) => [...s, d.at] },
});

describe('stateAt', () => {
  it('below snapshotEvery it folds and saves nothing', async () => {
    const store = new MemoryStore();
    const chain = makeChain(actor, 2);
    await store.merge(chain, []);
    expect(await stateAt(store, Noter, actor, { a: 2 })).toEqual({ state: ['a:1', 'a:2'], sinceSnapshot: 2, packsRead: 2, fromSnapshot: false });
    expect((await store.loadChain(actor, 'a:2')).base).toBeUndefined();
  });

  it('at snapshotEvery it saves the state at that version, and the next read starts there', async () => {
    const store = new MemoryStore();
    await store.merge(makeChain(actor, 4), []);
    expect(await stateAt(store, Noter, actor, { a: 3 })).toEqual({ state: ['a:1', 'a:2', 'a:3'], sinceSnapshot: 0, packsRead: 3, fromSnapshot: false });
    expect((await store.loadChain(actor, 'a:3')).base).toEqual({ version: { a: 3 }, state: ['a:1', 'a:2', 'a:3'] });
    expect(await stateAt(store, Noter, actor, { a: 4 })).toEqual({ state: ['a:1', 'a:2', 'a:3', 'a:4'], sinceSnapshot: 1, packsRead: 1, fromSnapshot: true });
  });
});
