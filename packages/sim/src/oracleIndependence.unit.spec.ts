import { type EventRecord, MemoryStore } from '@troupe/runtime';
import { VC } from '@troupe/runtime/store';
import { compareEvents, computeMerge } from '@troupe/runtime/resolution';
import { ReferenceModel, makeEvent, makePack } from '@troupe/runtime/testkit';
import { describe, expect, it, vi } from 'vitest';
import { OrderingOracle } from './oracle/index.js';
import { simulate } from './simulate.js';
import { Tape, counterWorkloadOf, tapeWorkloadOf } from './workloads.js';

/**
 * The planted bug: the runtime's own replay comparator with its id tie-break reversed, replaced
 * in the runtime's module for this file only, so computeMerge, survivingCopy and the runtime's
 * ReferenceModel (which imports this very comparator) all use it. The old I3 compared the
 * runtime with a reference built on the same comparator and passed 300 seeds; the oracle has its
 * own comparator, and I3 checks the order inside each pack.
 */
vi.mock('../../runtime/src/actor/fold.ts', async (importOriginal) => {
  const original = await importOriginal<Record<string, unknown>>();
  return {
    ...original,
    compareEvents(a: EventRecord, b: EventRecord): number {
      if (a.ts !== b.ts) return a.ts - b.ts;
      if (a.id !== b.id) return a.id < b.id ? 1 : -1; // reversed
      return a.replica < b.replica ? -1 : a.replica > b.replica ? 1 : 0;
    },
  };
});

const event = (id: string): EventRecord =>
  ({ id, ts: 1, replica: 'r1', actor: { type: 't', id: '1' }, type: 'x', data: {}, correlationId: 'c', causationId: 'c' }) as EventRecord;

describe('the ordering oracle is independent of the runtime', () => {
  it('the planted comparator is the one the runtime uses', () => {
    expect(compareEvents(event('00000000000000000001'), event('00000000000000000002'))).toBeGreaterThan(0);
  });

  it("the runtime's ReferenceModel moves with the bug; the oracle does not", async () => {
    // Two branches from one root, each a command emitting `set` then `doubled` (one ts per command).
    const actor = Tape.ref('t1');
    const command = (version: Record<string, number>, parent: Record<string, number> | undefined, v: number, ts: number, replica: string) => {
      const commandId = `cmd-${replica}-${v}`;
      const events = [
        makeEvent(actor, { type: 'set', data: { v }, ts, replica, causationId: commandId }),
        makeEvent(actor, { type: 'doubled', data: { factor: 2 }, ts, replica, causationId: commandId }),
      ];
      return makePack({ actor, version, ...(parent ? { parents: [parent] } : {}), events, commandIds: [commandId], replica, ts });
    };
    const root = command({ r1: 1 }, undefined, 1, 1_000, 'r1');
    const left = command({ r1: 2 }, { r1: 1 }, 5, 2_000, 'r1');
    const right = command({ r1: 1, r2: 1 }, { r1: 1 }, 7, 3_000, 'r2');
    const store = new MemoryStore();
    await store.merge([root, left, right]);
    const outcome = await computeMerge(store, Tape, actor, [left, right]);
    const packs = [root, left, right, outcome.pack];
    const mergeKey = VC.encode(outcome.pack.version);
    // The buggy runtime replays `doubled` before `set`: 7, where the rules give 14.
    expect((outcome.state as { value: number }).value).toBe(7);
    expect((new ReferenceModel(Tape, packs).stateAt(mergeKey) as { value: number }).value).toBe(7);
    expect((new OrderingOracle(Tape, packs).stateAt(mergeKey) as { value: number }).value).toBe(14);
  });

  it('I3 catches a reversed id tie-break in the runtime on the order-sensitive workload', async () => {
    const workload = tapeWorkloadOf({ eventsPerCommand: 4, snapshotEvery: 5, mix: 0.5 });
    for (const seed of [1, 2, 3, 4, 5]) {
      const report = await simulate({ seed, workload, steps: 120 });
      expect(report.counts.merges, `seed ${seed}`).toBeGreaterThan(0);
      expect(report.invariants.I3.ok, `seed ${seed}`).toBe(false);
      expect(report.invariants.I3.violations[0]!.detail).toMatch(/differs from the reference/);
    }
  });

  it('and on a commutative counter whose commands emit several events: the fold order differs', async () => {
    const report = await simulate({ seed: 1, workload: counterWorkloadOf({ eventsPerCommand: 3, snapshotEvery: 5, mix: 0 }), steps: 120 });
    expect(report.counts.merges).toBeGreaterThan(0);
    expect(report.invariants.I3.ok).toBe(false);
  });
});
