/**
 * Views across merges (#16): a view kept up to date while replicas diverge, merge and
 * compensate ends, at quiescence, equal to the view computed from scratch over the converged
 * histories, on every replica, and the replicas' views are equal. The views follow the stores
 * during the run: every append and merge is followed by a catch-up of the replica's view, so the
 * incremental paths (a pack in line, a diverged actor left as it was, a merge read again) all run.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ActorRef } from '../model/index.js';
import { MemoryStore } from '../store/index.js';
import { afterEveryWrite } from '../testkit/afterEveryWrite.js';
import { Ledger, type LedgerState } from '../testkit/ledger.js';
import { run as runScenario, scenario, actorCount } from '../testkit/conformance/replicationScenario.js';
import { defineProjection } from './defineProjection.js';
import { MemoryView } from './memoryView.js';
import { viewFromScratch } from './fromScratch.js';

/** A balance and the order of applied events per account, and sums across accounts (combined rows). */
const Balances = defineProjection({
  name: 'balances',
  version: 1,
  from: [Ledger],
  rows: (actor, state: LedgerState) => [
    [`balance:${actor.id}`, state.balance],
    [`order:${actor.id}`, state.applied.length],
    ['total', state.balance],
    ['overdrawn', state.overdrawn],
  ],
  combine: (a: number, b: number) => a + b,
});

describe('views across merges', () => {
  it('a view followed through partitions, merges and compensations equals the from-scratch view, on every replica', async () => {
    let merged = 0;
    await fc.assert(
      fc.asyncProperty(scenario, fc.integer({ min: 1, max: 6 }), async (s, batchSize) => {
        const raw = Array.from({ length: s.replicas }, () => new MemoryStore());
        const views = raw.map((store) => new MemoryView(Balances, store, { batchSize }));
        const stores = raw.map((store, i) => afterEveryWrite(store, () => views[i]!.catchUp()));
        const { cluster } = await runScenario(s, stores);
        try {
          const actors: ActorRef[] = Array.from({ length: actorCount }, (_, i) => Ledger.ref(`acc${i}`));
          const expected = await viewFromScratch(Balances, raw[0]!, actors);
          for (const [i, view] of views.entries()) {
            const rows = await view.read();
            expect(new Map(rows)).toEqual(new Map(await viewFromScratch(Balances, raw[i]!, actors)));
            expect(new Map(rows)).toEqual(new Map(expected));
          }
          for (const store of raw) for (const actor of actors) merged += (await store.history(actor)).filter((p) => p.kind === 'merge').length;
        } finally {
          await cluster.stop();
        }
      }),
      { numRuns: 60 },
    );
    // The runs merged (and so rewrote histories under the views).
    expect(merged).toBeGreaterThan(0);
  }, 120_000);
});
