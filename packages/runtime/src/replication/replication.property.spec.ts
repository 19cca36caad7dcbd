import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { actorCount, checkInvariants, reached, run, scenario } from '../testkit/conformance/replicationScenario.js';
import { Ledger } from '../testkit/ledger.js';

/**
 * Random command sequences on 2-5 in-memory replicas with random partitions, one-way syncs,
 * clock skew and clocks stepping back, retried command ids and resolutions racing commands;
 * then a full heal, and the invariants I1-I4 of DESIGN.md on the result.
 */
const numRuns = Number(process.env.FC_NUM_RUNS ?? 300);

describe('replication under partitions (property)', () => {
  it('converges with no acknowledged event lost, deterministic order, idempotent resolution (I1-I4)', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async (s) => {
        reached.clockStepsBack += s.steps.filter((st) => st.kind === 'clock' && st.deltaMs < 0).length;
        const outcome = await run(s);
        try {
          await checkInvariants(outcome);
        } finally {
          await outcome.cluster.stop();
        }
      }),
      { numRuns, ...(process.env.FC_SEED ? { seed: Number(process.env.FC_SEED) } : {}) },
    );
    console.log('replication property reached:', reached);
    expect(reached.merges).toBeGreaterThan(numRuns / 2);
    expect(reached.threeWayMerges).toBeGreaterThan(0);
    expect(reached.compensations).toBeGreaterThan(0);
    expect(reached.commandsAcceptedTwice).toBeGreaterThan(0);
    expect(reached.clockStepsBack).toBeGreaterThan(0);
  }, 240_000);

  it('is deterministic: the same scenario gives the same replies, versions and states', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async (s) => {
        const first = await run(s);
        const second = await run(s);
        try {
          expect(second.trace).toEqual(first.trace);
          for (let a = 0; a < actorCount; a++) {
            const ref = Ledger.ref(`acc${a}`);
            expect(await second.cluster.runtimes[0]!.inspect(ref)).toEqual(await first.cluster.runtimes[0]!.inspect(ref));
          }
        } finally {
          await first.cluster.stop();
          await second.cluster.stop();
        }
      }),
      { numRuns: Math.ceil(numRuns / 5) },
    );
  }, 240_000);
});
