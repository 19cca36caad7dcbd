import { bankWorkload } from '@troupe/bank';
import { describe, expect, it, vi } from 'vitest';
import { simulate } from './simulate.js';

/**
 * The planted bug (a mutant that survived the runtime's mutation run, TESTING.md): the entity
 * skips its lookup of a caller's command id before deciding, so a retry of a command the replica
 * applied is decided again on the current state. A retry that state accepts still ends in the
 * store's duplicate check and the recorded result; one it refuses (a second `open` of the account,
 * a withdrawal the first one emptied) is answered with a rejection. I7 used to check only that the
 * rejection matched `decide` on the state held, which it does.
 */
vi.mock('../../runtime/src/hosting/entity.ts', async (importOriginal) => {
  const original = await importOriginal<Record<string, unknown>>();
  type EntityLike = { handle(envelope: { callerChoseId: boolean }): Promise<unknown>; earlierResult(commandId: string): Promise<unknown> };
  const Base = original.Entity as new (...args: unknown[]) => EntityLike;
  class SkipsTheFirstLookup extends Base {
    private skipLookup = false;
    override handle(envelope: { callerChoseId: boolean }): Promise<unknown> {
      this.skipLookup = envelope.callerChoseId;
      return super.handle(envelope);
    }
    override earlierResult(commandId: string): Promise<unknown> {
      if (this.skipLookup) {
        this.skipLookup = false;
        return Promise.resolve(undefined);
      }
      return super.earlierResult(commandId);
    }
  }
  return { ...original, Entity: SkipsTheFirstLookup };
});

describe('a retry of a command the replica applied, answered with a rejection', () => {
  it('is caught by I7 alone within a few bank seeds', async () => {
    const caught: number[] = [];
    for (let seed = 1; seed <= 8; seed++) {
      const report = await simulate({ seed, workload: bankWorkload, steps: 150, faults: { retry: 0.1 } });
      const failed = Object.entries(report.invariants).filter(([, r]) => !r.ok).map(([name]) => name);
      if (failed.length === 0) continue;
      caught.push(seed);
      expect(failed, `seed ${seed}`).toEqual(['I7']);
      expect(report.invariants.I7.violations[0]!.detail).toMatch(/rejected \(.*\), but the replica held the command at .*: a retry must be answered with the recorded result/);
    }
    expect(caught.length).toBeGreaterThanOrEqual(3);
  }, 120_000);
});
