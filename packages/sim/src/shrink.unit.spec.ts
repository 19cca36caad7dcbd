import { bankWorkload } from '@troupe/bank';
import { describe, expect, it } from 'vitest';
import { type BrokenStrategyName, brokenStrategies } from './brokenStrategies.js';
import type { InvariantName } from './checkers/index.js';
import { shrink } from './shrink.js';
import { simulate } from './simulate.js';
import { counterWorkload } from './workloads.js';

const failing = (report: { invariants: Record<InvariantName, { ok: boolean }> }) =>
  (Object.keys(report.invariants) as InvariantName[]).filter((k) => !report.invariants[k].ok);

describe('shrinking a failing run', () => {
  it('recording the schedule changes nothing, and replaying it gives the same run', async () => {
    for (const workload of [bankWorkload, counterWorkload]) {
      const plain = await simulate({ seed: 42, workload, steps: 120 });
      const recorded = await simulate({ seed: 42, workload, steps: 120, recordSchedule: true });
      expect(plain.schedule).toBeUndefined();
      expect(recorded.traceHash).toBe(plain.traceHash);
      expect(recorded.schedule!.length).toBeGreaterThan(120);
      // Plain JSON: a schedule survives a round trip through a file.
      const schedule = JSON.parse(JSON.stringify(recorded.schedule));
      const replayed = await simulate({ seed: 42, workload, steps: 120, schedule });
      expect(replayed.traceHash).toBe(plain.traceHash);
      expect(replayed.counts).toEqual(plain.counts);
      expect(replayed.replayedSteps).toBe(schedule.length);
    }
  });

  const cases: { name: BrokenStrategyName; seed: number }[] = [
    { name: 'arrivalOrder', seed: 1 },
    { name: 'dropBranch', seed: 1 },
    { name: 'dropBranch', seed: 4 },
  ];
  for (const { name, seed } of cases) {
    it(`${name} (seed ${seed}): a much smaller schedule still fails the same invariant, and replays deterministically`, async () => {
      const options = { seed, workload: bankWorkload, steps: 120, mergeStrategy: brokenStrategies[name], mergeStrategyName: name };
      const result = await shrink(options, undefined, { maxRuns: 300, timeBudgetMs: 15_000 });
      console.log(
        `${name} seed ${seed}: ${result.originalSize} -> ${result.size} steps (${result.originalReport.options.replicas} -> ${result.options.replicas} replicas, ` +
          `${result.originalReport.options.steps} -> ${result.options.steps} ticks), ${result.runs} runs, ${result.durationMs} ms, stopped: ${result.stoppedBy}, ` +
          `invariant ${result.invariant}\n  ${JSON.stringify(result.schedule)}`,
      );
      expect(result.status).toBe('shrunk');
      const invariant = failing(result.originalReport)[0]!;
      expect(result.invariant).toBe(invariant);
      expect(result.size).toBeLessThanOrEqual(result.originalSize * 0.25);
      expect(result.runs).toBeLessThanOrEqual(300);
      expect(failing(result.report)).toContain(invariant);
      const again = await simulate({ ...result.options, schedule: result.schedule });
      const twice = await simulate({ ...result.options, schedule: JSON.parse(JSON.stringify(result.schedule)) });
      expect(failing(again)).toContain(invariant);
      expect(again.traceHash).toBe(result.report.traceHash);
      expect(twice.traceHash).toBe(again.traceHash);
    });
  }

  it('a passing run is not shrunk', async () => {
    const result = await shrink({ seed: 1, workload: bankWorkload, steps: 120 });
    expect(result.status).toBe('passed');
    expect(result.runs).toBe(1);
    expect(result.invariant).toBeUndefined();
    expect(result.size).toBe(result.originalSize);
    expect(result.report.ok).toBe(true);
  });

  it('stops at maxRuns with the best schedule so far', async () => {
    const result = await shrink({ seed: 2, workload: bankWorkload, steps: 120, mergeStrategy: brokenStrategies.arrivalOrder }, undefined, { maxRuns: 5 });
    expect(result.runs).toBe(5);
    expect(result.stoppedBy).toBe('maxRuns');
    expect(result.size).toBeLessThanOrEqual(result.originalSize);
    expect(result.report.ok).toBe(false);
  });
});
