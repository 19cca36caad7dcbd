import { bankWorkload } from '@troupe/bank';
import { InvalidOptionError } from '@troupe/runtime';
import { describe, expect, it } from 'vitest';
import { resolveOptions, workloadFor } from './options.js';
import { formatReport } from './report.js';
import { Rng } from './rng.js';
import { simulate } from './simulate.js';
import { counterWorkload, shapeBounds, shapeDefaults, tapeWorkloadOf } from './workloads.js';

describe('swarm draws the workload and its shape', () => {
  it('draws every candidate, events per command, snapshotEvery 1-200 and a mix, from the seed', () => {
    const drawn = Array.from({ length: 60 }, (_, seed) => resolveOptions(new Rng(seed), { seed, workloads: [bankWorkload] }));
    expect(new Set(drawn.map((o) => o.workload))).toEqual(new Set(['counter', 'tape', 'bank']));
    for (const o of drawn) {
      expect(o.shape!.eventsPerCommand).toBeGreaterThanOrEqual(1);
      expect(o.shape!.eventsPerCommand).toBeLessThanOrEqual(shapeBounds.eventsPerCommandMax);
      expect(o.shape!.snapshotEvery).toBeGreaterThanOrEqual(1);
      expect(o.shape!.snapshotEvery).toBeLessThanOrEqual(shapeBounds.snapshotEveryMax);
      expect(o.shape!.mix).toBeGreaterThanOrEqual(0);
      expect(o.shape!.mix).toBeLessThanOrEqual(1);
    }
    const thresholds = drawn.map((o) => o.shape!.snapshotEvery);
    expect(Math.min(...thresholds)).toBeLessThanOrEqual(3);
    expect(Math.max(...thresholds)).toBeGreaterThanOrEqual(50);
    expect(new Set(drawn.map((o) => o.shape!.eventsPerCommand)).size).toBe(shapeBounds.eventsPerCommandMax);
  });

  it('a drawn workload runs with its shape: definitions re-made with the drawn snapshotEvery', () => {
    const seed = Array.from({ length: 40 }, (_, s) => s).find((s) => resolveOptions(new Rng(s), { seed: s, workloads: [bankWorkload] }).workload === 'bank')!;
    const options = { seed, workloads: [bankWorkload] };
    const config = resolveOptions(new Rng(seed), options);
    const workload = workloadFor(config, options);
    expect(workload.name).toBe('bank');
    expect(workload.actors.map((d) => d.snapshotEvery)).toEqual(bankWorkload.actors.map(() => config.shape!.snapshotEvery));
    expect(workload.actors.map((d) => d.type)).toEqual(bankWorkload.actors.map((d) => d.type));
  });

  it('a given workload is not drawn and keeps its own shape; a given shape wins; without swarm, the counter', () => {
    const given = resolveOptions(new Rng(3), { seed: 3, workload: bankWorkload });
    expect(given.workload).toBe('bank');
    expect(given.shape).toBeUndefined();
    expect(workloadFor(given, { seed: 3, workload: bankWorkload })).toBe(bankWorkload);
    const fixedShape = resolveOptions(new Rng(3), { seed: 3, shape: { snapshotEvery: 7 } });
    const free = resolveOptions(new Rng(3), { seed: 3 });
    expect(fixedShape.shape).toEqual({ ...free.shape, snapshotEvery: 7 });
    expect(fixedShape.workload).toBe(free.workload);
    const noSwarm = resolveOptions(new Rng(3), { seed: 3, swarm: false });
    expect(noSwarm.workload).toBe('counter');
    expect(noSwarm.shape).toBeUndefined();
    expect(workloadFor(noSwarm, { seed: 3, swarm: false }).actors[0]!.snapshotEvery).toBe(counterWorkload.actors[0]!.snapshotEvery);
    expect(() => resolveOptions(new Rng(3), { seed: 3, shape: { snapshotEvery: 0 } })).toThrow(InvalidOptionError);
    expect(() => resolveOptions(new Rng(3), { seed: 3, shape: { mix: 2 } })).toThrow(InvalidOptionError);
  });

  it('a given workload with a shape that has no snapshotEvery keeps its own snapshotEvery; a given snapshotEvery is the only field recorded', async () => {
    const own = bankWorkload.actors.map((d) => d.snapshotEvery);
    expect(own.every((n) => n !== shapeDefaults.snapshotEvery)).toBe(true);
    const mixOnly = { seed: 1, workload: bankWorkload, shape: { mix: 0.3, eventsPerCommand: 4 } };
    const config = resolveOptions(new Rng(1), mixOnly);
    expect(config.shape).toBeUndefined();
    expect(workloadFor(config, mixOnly)).toBe(bankWorkload);
    const fixed = { seed: 1, workload: bankWorkload, shape: { snapshotEvery: 7, mix: 0.3 } };
    const fixedConfig = resolveOptions(new Rng(1), fixed);
    expect(fixedConfig.shape).toEqual({ snapshotEvery: 7 });
    expect(workloadFor(fixedConfig, fixed).actors.map((d) => d.snapshotEvery)).toEqual(own.map(() => 7));
    // A given built-in (the tape) is run as given too: its events per command and mix are its own.
    const tape = tapeWorkloadOf({ eventsPerCommand: 3, snapshotEvery: 9, mix: 0.9 });
    const report = await simulate({ seed: 2, steps: 20, workload: tape, shape: { mix: 0.1, snapshotEvery: 4 } });
    expect(report.options.shape).toEqual({ snapshotEvery: 4 });
    expect(formatReport(report)).toContain('workload=tape (snapshot-every=4)');
  });

  it('the drawn workload and shape are in the report and the trace: same seed, same hash; another shape, another hash', async () => {
    const a = await simulate({ seed: 5, steps: 60 });
    const b = await simulate({ seed: 5, steps: 60 });
    expect(a.traceHash).toBe(b.traceHash);
    expect(a.options.shape).toBeDefined();
    const other = await simulate({ seed: 5, steps: 60, shape: { snapshotEvery: a.options.shape!.snapshotEvery + 1 } });
    expect(other.traceHash).not.toBe(a.traceHash);
  });
});

describe('the order-sensitive tape workload', () => {
  it('10 seeds with several events per command: every invariant holds, with merges, multi-event packs and compensations', async () => {
    const workload = tapeWorkloadOf({ eventsPerCommand: 4, snapshotEvery: 3, mix: 0.5 });
    let merges = 0;
    let compensations = 0;
    for (let seed = 1; seed <= 10; seed++) {
      const report = await simulate({ seed, workload, steps: 150 });
      const failed = Object.entries(report.invariants).filter(([, r]) => !r.ok);
      expect(failed.map(([name, r]) => `${name}: ${r.violations[0]?.detail}`), `seed ${seed}`).toEqual([]);
      merges += report.counts.merges;
      compensations += report.counts.compensations;
    }
    expect(merges).toBeGreaterThan(20);
    expect(compensations).toBeGreaterThan(20);
  });
});
