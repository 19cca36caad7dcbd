import { bankWorkload } from '@troupe/bank';
import { type EventStore, MemoryView } from '@troupe/runtime';
import { describe, expect, it } from 'vitest';
import { simulate } from './simulate.js';
import type { ViewFactory } from './views.js';
import { viewRebuildLogMax } from './checkers/i8.js';
import { counterWorkload, tapeWorkload } from './workloads.js';

/** The store as a view sees it, less the merge packs of its log: a view that never recomputes an actor on a merge. */
function withoutMerges(store: EventStore): EventStore {
  return new Proxy(store, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      if (property !== 'changesSince') return value.bind(target);
      return async (cursor: string | undefined, limit: number) => {
        const changes = await target.changesSince(cursor, limit);
        return { ...changes, packs: changes.packs.filter((p) => p.kind !== 'merge') };
      };
    },
  });
}

/** The planted view bug (test only): the runtime's MemoryView, fed a log without merge packs. */
const mergeBlind: ViewFactory = (projection, store) => new MemoryView(projection, withoutMerges(store));

const seeds = [1, 2, 3, 4, 5, 6];

describe('I8 views: each replica\'s view, followed through the run, equals the from-scratch view at quiescence', () => {
  it('the runtime\'s MemoryView passes on the bank (the simulator\'s own view) and on the swarm\'s workloads (their projections); views follow every write and restart with their replica', async () => {
    let catchUps = 0;
    let made = 0;
    let replicasStarted = 0;
    const counting: ViewFactory = (projection, store) => {
      made++;
      const view = new MemoryView(projection, store);
      return { catchUp: () => (catchUps++, view.catchUp()), read: () => view.read() };
    };
    for (const seed of seeds) {
      for (const workload of [bankWorkload, tapeWorkload, undefined]) {
        const report = await simulate({ seed, steps: 120, ...(workload ? { workload } : {}), view: counting });
        for (const [name, result] of Object.entries(report.invariants)) expect(result.violations, `seed ${seed} ${report.options.workload} ${name}`).toEqual([]);
        expect(report.invariants.I8.checked, `seed ${seed}`).toBeGreaterThan(0);
        replicasStarted += report.options.replicas + report.counts.crashes;
      }
    }
    // One view per replica process: every start and every restart after a crash.
    expect(made).toBe(replicasStarted);
    expect(catchUps).toBeGreaterThan(made * 10);
  }, 180_000);

  it('a view that never recomputes an actor on a merge pack is caught by I8 within a few seeds, and only by I8', async () => {
    const caught: number[] = [];
    for (const seed of seeds) {
      const report = await simulate({ seed, steps: 150, workload: bankWorkload, view: mergeBlind });
      if (!report.invariants.I8.ok) {
        caught.push(seed);
        expect(report.invariants.I8.violations[0]!.detail).toMatch(/^r\d's view has .* at \S+, (the from-scratch view of its store|r\d's view) /);
      }
      for (const name of ['I1', 'I2', 'I3', 'I4', 'I5', 'I6', 'I7', 'I9'] as const) expect(report.invariants[name].violations, `seed ${seed} ${name}`).toEqual([]);
    }
    expect(caught.length, `caught on seeds ${caught.join(', ')}`).toBeGreaterThanOrEqual(3);
    expect(caught[0]).toBeLessThanOrEqual(3);
  }, 180_000);

  it('with more than 256 actors addressed, views catch up at each tick\'s end: still equal at quiescence, and the merge-blind view is still caught', async () => {
    for (const seed of [1, 2]) {
      const options = { seed, workload: tapeWorkload, steps: 40, actors: 400, commandsPerTick: 20 };
      let catchUps = 0;
      const counting: ViewFactory = (projection, store) => {
        const view = new MemoryView(projection, store);
        return { catchUp: () => (catchUps++, view.catchUp()), read: () => view.read() };
      };
      const atTickEnd: number[] = [];
      const report = await simulate({ ...options, view: counting, onProgress: () => void atTickEnd.push(catchUps) });
      for (const [name, result] of Object.entries(report.invariants)) expect(result.violations, `seed ${seed} ${name}`).toEqual([]);
      expect(report.counts.merges).toBeGreaterThan(0);
      // Catch-ups per tick: one per write in the first ticks (20 commands a tick), then at most one per replica.
      const perTick = atTickEnd.map((n, i) => n - (atTickEnd[i - 1] ?? 0));
      expect(perTick[0]).toBeGreaterThan(report.options.replicas);
      for (const n of perTick.slice(-10)) expect(n).toBeLessThanOrEqual(report.options.replicas);
      expect(perTick.slice(-10).some((n) => n > 0)).toBe(true);
      const planted = await simulate({ ...options, view: mergeBlind });
      expect(planted.invariants.I8.ok, `seed ${seed}`).toBe(false);
    }
  }, 120_000);

  it(`once a replica's log is longer than ${viewRebuildLogMax} packs, a crash loses its view only when the log has doubled since the view started (else the view survives and keeps following): still equal at quiescence, and the merge-blind view is still caught`, async () => {
    const options = { seed: 1, workload: counterWorkload, steps: 100, actors: 1_000, commandsPerTick: 50, idleTimeoutMs: 0 };
    let made = 0;
    const counting: ViewFactory = (projection, store) => {
      made++;
      return new MemoryView(projection, store);
    };
    const report = await simulate({ ...options, view: counting });
    for (const [name, result] of Object.entries(report.invariants)) expect(result.violations, name).toEqual([]);
    const longest = Math.max(...report.replicas.map((r) => r.packs));
    expect(longest).toBeGreaterThan(2 * viewRebuildLogMax);
    // Some views survived their replica's crash; some were rebuilt (the log short, or doubled).
    expect(report.counts.crashes).toBeGreaterThan(3);
    expect(made).toBeLessThan(report.options.replicas + report.counts.crashes);
    expect(made).toBeGreaterThan(report.options.replicas);
    const planted = await simulate({ ...options, view: mergeBlind });
    expect(planted.invariants.I8.ok).toBe(false);
    for (const name of ['I1', 'I2', 'I3', 'I4', 'I5', 'I6', 'I7', 'I9'] as const) expect(planted.invariants[name].violations, name).toEqual([]);
  }, 120_000);
});
