import vm from 'node:vm';
import v8 from 'node:v8';
import type { AnyActorDefinition, Pack } from '@troupe/runtime';
import { makeChain } from '@troupe/runtime/testkit';
import { describe, expect, it } from 'vitest';
import { type RunRecord, collectFinalState } from './collect.js';
import type { InstrumentedStore } from './instrumentedStore.js';

/**
 * `collectFinalState` pages through each replica's log so that only the first copy of each pack
 * (the one `allPacks` keeps) outlives its page. Stores that decode their log (Redis) hand out new
 * objects at every read, one copy per replica: keeping every copy met until the end of the
 * collection (e.g. in a strong map from pack objects to their keys) holds the whole log once per
 * replica, the peak the paging exists to avoid.
 */
v8.setFlagsFromString('--expose_gc');
const gc = vm.runInNewContext('gc') as () => void;

const actor = { type: 'tally', id: 't0' };
const pageSize = 500;

/** A replica whose store decodes a fresh copy of each pack at every read, as a Redis store does. */
function decodingReplica(id: string, log: readonly Pack[], onCopy: (copy: Pack) => void, atHeads: () => void) {
  const inner = {
    async changesSince(cursor: string | undefined, limit: number) {
      const from = cursor === undefined ? 0 : Number(cursor);
      const packs = log.slice(from, from + Math.min(limit, pageSize)).map((p) => structuredClone(p));
      for (const copy of packs) onCopy(copy);
      return { packs, cursor: String(from + packs.length) };
    },
    async heads() {
      // A new task first: the WeakRefs made in this one keep their targets until it ends.
      await new Promise((resolve) => setImmediate(resolve));
      atHeads();
      return [];
    },
  };
  return { id, store: { inner } as unknown as InstrumentedStore, runtime: {} as never, strategy: (async () => undefined) as never };
}

describe('collectFinalState keeps one copy of each pack', () => {
  it("another replica's decoded copies do not outlive their page", async () => {
    const log = makeChain(actor, 3_000, 'r1');
    const tracked: WeakRef<Pack>[] = [];
    let alive = -1;
    const countAlive = () => {
      if (alive !== -1) return;
      gc();
      alive = tracked.filter((ref) => ref.deref() !== undefined).length;
    };
    const run: RunRecord = {
      replicas: [
        decodingReplica('r1', log, () => {}, countAlive),
        // The copies of the second replica are never the first of their version: tracked.
        decodingReplica('r2', log, (copy) => tracked.push(new WeakRef(copy)), countAlive),
        // A third, so that the last pages read (which a suspended function may still hold) are not the tracked ones.
        decodingReplica('r3', log, () => {}, countAlive),
      ],
      definitions: new Map<string, AnyActorDefinition>(),
      replies: [],
      resolutions: [],
      counts: { merges: 0, threeWayMerges: 0, compensations: 0 } as never,
    };
    const context = await collectFinalState(run, { converged: true, rounds: 0 });
    expect(tracked.length).toBe(log.length);
    expect(context.allPacks.get('tally:t0')!.size).toBe(log.length);
    // Measured in the middle of the collection (at the first `heads` read, after every log is read).
    expect(alive, `${alive} of ${tracked.length} copies of r2 still held`).toBe(0);
  });
});
