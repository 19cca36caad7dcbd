import { bankWorkload } from '@troupe/bank';
import { describe, expect, it } from 'vitest';
import { simulate } from './simulate.js';

/** Connection drops are drawn only where a connection can be cut (Redis mode: connectionDrops.int.spec.ts). */
describe('connectionDrop without a cuttable connection', () => {
  it('is 0 in memory mode, whatever swarm draws, and no drop step is drawn', async () => {
    for (const seed of [1, 2, 3, 4]) {
      const report = await simulate({ seed, workload: bankWorkload, steps: 40, recordSchedule: true });
      expect(report.options.faults.connectionDrop).toBe(0);
      expect(report.schedule!.some((s) => s.k === 'fault' && s.when === 'drop')).toBe(false);
      expect(report.counts.connectionDrops).toBe(0);
    }
  });

  it('given above 0 in memory mode is an InvalidOptionError naming the option', async () => {
    await expect(simulate({ seed: 1, workload: bankWorkload, steps: 5, faults: { connectionDrop: 0.1 } })).rejects.toThrow(/faults\.connectionDrop.*Redis mode/);
  });

  it('a recorded drop step replayed on memory stores is skipped (nothing to cut)', async () => {
    const report = await simulate({
      seed: 1, workload: bankWorkload, steps: 3, replicas: 2,
      schedule: [{ t: 0, k: 'fault', r: 0, op: 'append', when: 'drop' }, { t: 1, k: 'send', r: 0, id: 'c0', actor: { type: 'account', id: 'a0' }, type: 'open', payload: { owner: 'x' } }],
    });
    expect(report.counts.connectionDrops).toBe(0);
    expect(report.counts.accepted + report.counts.rejected).toBe(1);
  });
});
