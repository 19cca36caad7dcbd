import { describe, expect, it } from 'vitest';
import { runtimesStoppedAfterEach } from '../specHelpers/runtimes.js';
import { MemoryStore, ReplicationLink, Replicator, type Runtime } from '../index.js';
import { Ledger } from '../testkit/index.js';

/**
 * How a replicator uses its cursor, checkpoint and pause, and that a link passes its options on.
 * Added for the mutation score (TESTING.md): each case here let a mutant through before.
 */
const ref = Ledger.ref('acc');
const start = runtimesStoppedAfterEach();
const replica = (id: string): Runtime => start({ actors: [Ledger], replicaId: id, store: new MemoryStore() });
const deposit = (r: Runtime, n = 1) => r.send(ref, { type: 'deposit', payload: { n } });

describe('Replicator cursor, checkpoint and pause', () => {
  it('a given cursor wins over the checkpoint, which is then never loaded', async () => {
    const [a, b] = [replica('a'), replica('b')];
    for (let i = 0; i < 3; i++) await deposit(a);
    const first = new Replicator(a, b);
    await first.sync();
    await deposit(a);
    let loads = 0;
    const checkpoint = { load: async () => (loads++, undefined), save: async () => {} };
    expect(await new Replicator(a, b, { cursor: first.cursor, checkpoint }).sync()).toMatchObject({ copied: 1, skipped: 0 });
    expect(loads).toBe(0);
  });

  it('loads the checkpoint once, before the first sync only', async () => {
    const [a, b] = [replica('a'), replica('b')];
    let saved: string | undefined;
    let loads = 0;
    const checkpoint = { load: async () => (loads++, saved), save: async (cursor: string) => void (saved = cursor) };
    const replicator = new Replicator(a, b, { checkpoint });
    await deposit(a);
    await replicator.sync();
    await deposit(a);
    await replicator.sync();
    expect(loads).toBe(1);
  });

  it('a paused replicator does nothing at all, not even load its checkpoint', async () => {
    const [a, b] = [replica('a'), replica('b')];
    let loads = 0;
    const checkpoint = { load: async () => (loads++, undefined), save: async () => {} };
    const replicator = new Replicator(a, b, { checkpoint });
    replicator.pause();
    expect(replicator.isPaused).toBe(true);
    await deposit(a);
    expect(await replicator.sync()).toEqual({ copied: 0, skipped: 0, resolved: [], failed: [] });
    expect(loads).toBe(0);
  });

  it('a pause during a sync stops it after the batch in flight', async () => {
    const [a, b] = [replica('a'), replica('b')];
    for (let i = 0; i < 3; i++) await deposit(a);
    let replicator: Replicator | undefined = undefined;
    const checkpoint = { load: async () => undefined, save: async () => replicator!.pause() };
    replicator = new Replicator(a, b, { checkpoint, batchSize: 1 });
    expect((await replicator.sync()).copied).toBe(1);
    replicator.resume();
    expect((await replicator.sync()).copied).toBe(1);
  });
});

describe('ReplicationLink options', () => {
  it('shared options reach both directions, per-direction ones their own', async () => {
    const [a, b] = [replica('a'), replica('b')];
    let savedForward: string | undefined;
    let savedBackward: string | undefined;
    const link = new ReplicationLink(a, b, {
      resolve: false,
      forward: { checkpoint: { load: async () => undefined, save: async (c) => void (savedForward = c) } },
      backward: { checkpoint: { load: async () => undefined, save: async (c) => void (savedBackward = c) } },
    });
    await deposit(a);
    await deposit(b);
    // resolve: false on both sides: each copy leaves two heads, and neither direction resolves them.
    expect(await link.forward.sync()).toMatchObject({ copied: 1, resolved: [] });
    expect(await link.backward.sync()).toMatchObject({ copied: 1, skipped: 1, resolved: [] });
    expect(await a.store.heads(ref)).toHaveLength(2);
    expect(await b.store.heads(ref)).toHaveLength(2);
    expect(savedForward).toBe(link.forward.cursor);
    expect(savedBackward).toBe(link.backward.cursor);
    expect(savedForward).toBeDefined();
    expect(savedBackward).toBeDefined();
  });
});
