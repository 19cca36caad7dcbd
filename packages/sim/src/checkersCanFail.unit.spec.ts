import { type AnyActorDefinition, type EventStore, MemoryStore, type Runtime, createRuntime, defineActor } from '@troupe/runtime';
import { VC } from '@troupe/runtime/store';
import { type MergeStrategy, computeMerge } from '@troupe/runtime/resolution';
import { describe, expect, it } from 'vitest';
import { checkI4, checkI6 } from './checkers/index.js';
import type { CheckContext, FinalReplica } from './checkers/types.js';
import { collectPageSize } from './collect.js';
import { InstrumentedStore } from './instrumentedStore.js';

/**
 * The checkers that no longer read a list of everything the run did (I6's loads, checked as they
 * happen; I4's re-merge, paged) must still be able to fail.
 */
const Tally = defineActor({
  type: 'tally',
  initial: () => ({ n: 0 }),
  commands: { add: (_s, p: { n: number }) => [{ type: 'added', data: { n: p.n } }] },
  events: { added: (s: { n: number }, d: { n: number }) => ({ n: s.n + d.n }) },
  // Never snapshots in these tests: every load reads the whole chain.
  snapshotEvery: 1_000_000,
});

async function write(store: EventStore, replicaId: string, commands: number, actors = 1, n = 1): Promise<void> {
  const runtime = createRuntime({ actors: [Tally], store, replicaId });
  for (let i = 0; i < commands; i++) await runtime.send(Tally.ref(`t${i % actors}`), { type: 'add', payload: { n } });
  await runtime.stop();
}

function finalReplica(id: string, store: InstrumentedStore): FinalReplica {
  return { id, store, runtime: undefined as unknown as Runtime, strategy: computeMerge as MergeStrategy, packs: new Map(), heads: new Map(), views: new Map() };
}

function context(replicas: FinalReplica[]): CheckContext {
  return {
    replicas,
    actors: [],
    definitions: new Map<string, AnyActorDefinition>([[Tally.type, Tally]]),
    acks: new Map(),
    references: new Map(),
    allPacks: new Map(),
    resolutions: [],
    convergence: { converged: true, rounds: 1 },
  };
}

describe('I6: a load above the bound is reported', () => {
  it('a cold load of a chain longer than the bound fails I6; loads inside resolutions or while not watching are not counted', async () => {
    const store = new InstrumentedStore(new MemoryStore(), 'r0', (type) => (type === Tally.type ? 3 : Infinity));
    await write(store, 'r0', 10);
    expect(store.loadsChecked).toBe(0); // the live entity never loaded its chain
    const head = (await store.heads(Tally.ref('t0')))[0]!;
    await store.loadChain(Tally.ref('t0'), VC.encode(head.version));
    expect(store.loadsChecked).toBe(1);
    expect(store.oversizeLoads).toEqual([{ actor: 'tally:t0', version: VC.encode(head.version), packs: 10, bound: 3 }]);
    // A load inside a resolution is the resolution's read (I6's other half), not a load.
    await store.recordReads(Tally.ref('t0'), () => store.loadChain(Tally.ref('t0'), VC.encode(head.version)));
    store.watching = false;
    await store.loadChain(Tally.ref('t0'), VC.encode(head.version));
    expect(store.loadsChecked).toBe(1);
    const result = checkI6(context([finalReplica('r0', store)]));
    expect(result.ok).toBe(false);
    expect(result.checked).toBe(1);
    expect(result.violations.map((v) => v.detail)).toEqual([`r0: loading ${VC.encode(head.version)} read 10 packs (snapshotEvery 3)`]);
  });

  it('a restarted runtime on the same store: its first load is checked against the type bound', async () => {
    const store = new InstrumentedStore(new MemoryStore(), 'r0', (type) => (type === Tally.type ? 4 : Infinity));
    await write(store, 'r0', 6);
    await write(store, 'r0', 1); // a new runtime loads t0's chain of 6 packs, then appends
    expect(store.loadsChecked).toBeGreaterThan(0);
    expect(store.oversizeLoads.map((l) => [l.actor, l.packs, l.bound])).toEqual([['tally:t0', 6, 4]]);
    store.reopen(store.inner); // Redis mode's reconnect keeps what was recorded
    expect(checkI6(context([finalReplica('r0', store)])).ok).toBe(false);
  });

  it('loads within the bound pass', async () => {
    const store = new InstrumentedStore(new MemoryStore(), 'r0', () => 10);
    await write(store, 'r0', 6);
    await write(store, 'r0', 1);
    const result = checkI6(context([finalReplica('r0', store)]));
    expect(result.ok).toBe(true);
    expect(result.checked).toBe(store.loadsChecked);
    expect(result.checked).toBeGreaterThan(0);
  });
});

describe('I4: merging a log again that adds packs, or fails, is reported', () => {
  it(`a target missing packs: every page of the log (more than ${collectPageSize} packs) is merged, parents first across pages`, async () => {
    const source = new InstrumentedStore(new MemoryStore(), 'r0');
    const commands = collectPageSize + 57;
    await write(source, 'r0', commands, 3);
    const empty = new InstrumentedStore(new MemoryStore(), 'r1');
    const result = await checkI4(context([finalReplica('r0', source), finalReplica('r1', empty)]));
    expect(result.checked).toBe(4);
    expect(result.ok).toBe(false);
    // r0's log fills r1 (all of it: no page lost, no missing parent at a page boundary); r1's log then adds nothing anywhere.
    expect(result.violations.map((v) => v.detail)).toEqual([`merging r0's log into r1 again added ${commands} packs`]);
  }, 60_000);

  it('a target whose merge throws (on the first of two pages) is reported once, as failed', async () => {
    const source = new InstrumentedStore(new MemoryStore(), 'r0');
    await write(source, 'r0', collectPageSize + 3);
    // The same replica id writing other events: the same versions, other packs (a collision).
    const other = new InstrumentedStore(new MemoryStore(), 'r2');
    await write(other, 'r0', 2, 1, 7);
    const result = await checkI4(context([finalReplica('r0', source), finalReplica('r2', other)]));
    expect(result.checked).toBe(4);
    const details = result.violations.map((v) => v.detail);
    expect(details.filter((d) => d.startsWith("merging r0's log into r2 again"))).toHaveLength(1);
    expect(details.find((d) => d.startsWith("merging r0's log into r2 again"))).toMatch(/again failed: /);
    expect(details.some((d) => d.startsWith("merging r2's log into r0 again failed: "))).toBe(true);
    expect(details.some((d) => d.includes('into r0 again added') || d.includes("r0's log into r0"))).toBe(false);
  }, 60_000);

  it('converged replicas pass', async () => {
    const a = new InstrumentedStore(new MemoryStore(), 'r0');
    await write(a, 'r0', 20, 2);
    const b = new InstrumentedStore(new MemoryStore(), 'r1');
    await b.merge((await a.changesSince(undefined, 1_000)).packs);
    const result = await checkI4(context([finalReplica('r0', a), finalReplica('r1', b)]));
    expect(result).toEqual({ ok: true, checked: 4, violations: [] });
  });
});
