import { describe, expect, it } from 'vitest';
import type { AppendConflictObservation, ResolvedObservation, RuntimeObserver } from '@troupe/runtime';
import { WorkerMetrics } from './metrics.js';
import { workerObserver } from './observer.js';

const actor = { type: 'counter', id: 'c1' };

describe('workerObserver', () => {
  it('counts conflicts, resolutions and passivations, and calls the user observer too', async () => {
    const metrics = new WorkerMetrics(() => 0, false);
    const seen: AppendConflictObservation[] = [];
    const user: RuntimeObserver = { appendConflict: (o) => seen.push(o) };
    const observer = workerObserver(metrics, user);
    const conflict = { actor, replica: 'r', attempt: 0, expectedHeads: ['a'], actualHeads: ['b'] };
    observer.appendConflict?.(conflict);
    observer.appendConflict?.({ ...conflict, attempt: 1 });
    // The counter reads nothing of the merge outcome.
    const resolved: ResolvedObservation = { actor, replica: 'r', outcome: {} as ResolvedObservation['outcome'], durationMs: 3, record: {} as ResolvedObservation['record'] };
    observer.resolved?.(resolved);
    observer.resolved?.({ ...resolved, durationMs: 5 });
    observer.resolutionFailed?.({ actor, replica: 'r', error: new Error('x') });
    observer.passivated?.({ actor, replica: 'r', reason: 'idle' });
    observer.passivated?.({ actor, replica: 'r', reason: 'capacity' });
    observer.passivated?.({ actor, replica: 'r', reason: 'idle' });
    expect(seen.map((o) => o.attempt)).toEqual([0, 1]);
    expect((await metrics.appendConflicts.get()).values[0]?.value).toBe(2);
    expect((await metrics.resolutions.get()).values[0]?.value).toBe(2);
    expect((await metrics.resolutionFailures.get()).values[0]?.value).toBe(1);
    const passivations = Object.fromEntries((await metrics.passivations.get()).values.map((v) => [v.labels.reason, v.value]));
    expect(passivations).toEqual({ idle: 2, capacity: 1 });
  });

  it('works without a user observer', async () => {
    const metrics = new WorkerMetrics(() => 0, false);
    workerObserver(metrics, undefined).appendConflict?.({ actor, replica: 'r', attempt: 0, expectedHeads: [], actualHeads: [] });
    expect((await metrics.appendConflicts.get()).values[0]?.value).toBe(1);
  });
});
