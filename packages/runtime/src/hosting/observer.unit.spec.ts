import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  type AppendConflictObservation,
  type LoadedObservation,
  type PassivatedObservation,
  type ResolvedObservation,
  type ResolvingObservation,
  type Runtime,
  type RuntimeOptions,
  MemoryStore,
  ReplicationLink,
  combineObservers,
  createRuntime,
  defineActor,
} from '../index.js';
import { Ledger, ManualClock } from '../testkit/index.js';

/** Every observation a runtime reported, by callback. */
function recorder() {
  const seen = {
    appendConflict: [] as AppendConflictObservation[],
    resolving: [] as ResolvingObservation[],
    resolved: [] as ResolvedObservation[],
    resolutionFailed: [] as { actor: unknown; error: unknown }[],
    loaded: [] as LoadedObservation[],
    passivated: [] as PassivatedObservation[],
  };
  const observer = {
    appendConflict: (o: AppendConflictObservation) => void seen.appendConflict.push(o),
    resolving: (o: ResolvingObservation) => void seen.resolving.push(o),
    resolved: (o: ResolvedObservation) => void seen.resolved.push(o),
    resolutionFailed: (o: { actor: unknown; error: unknown }) => void seen.resolutionFailed.push(o),
    loaded: (o: LoadedObservation) => void seen.loaded.push(o),
    passivated: (o: PassivatedObservation) => void seen.passivated.push(o),
  };
  return { seen, observer };
}

let runtimes: Runtime[] = [];
function runtime(options: Partial<RuntimeOptions>): Runtime {
  const rt = createRuntime({ actors: [Ledger], ...options });
  runtimes.push(rt);
  return rt;
}
afterEach(async () => {
  await Promise.all(runtimes.map((r) => r.stop()));
  runtimes = [];
});

const alice = Ledger.ref('alice');

describe('RuntimeOptions.observer', () => {
  it('reports an append conflict with the heads the writer expected and the ones it found, then the command succeeds', async () => {
    const store = new MemoryStore();
    const { seen, observer } = recorder();
    const a = runtime({ store, replicaId: 'a', observer });
    const b = runtime({ store, replicaId: 'b' });
    await a.send(alice, { type: 'deposit', payload: { n: 1 } });
    await b.send(alice, { type: 'deposit', payload: { n: 2 } }); // a's cached head is now stale
    const reply = await a.send(alice, { type: 'deposit', payload: { n: 3 } });
    expect(reply.status).toBe('accepted');
    expect(seen.appendConflict).toHaveLength(1);
    const conflict = seen.appendConflict[0]!;
    expect(conflict).toMatchObject({ actor: { type: 'ledger', id: 'alice' }, replica: 'a', attempt: 0 });
    expect(conflict.expectedHeads).toEqual(['a:1']);
    expect(conflict.actualHeads).toEqual(['a:1,b:1']);
  });

  it('reports each resolution twice: resolving with the heads, resolved with the merge details and its duration on the runtime clock', async () => {
    const clock = new ManualClock(1_000);
    const eu = recorder();
    const us = recorder();
    const a = runtime({ replicaId: 'eu', clock, observer: eu.observer });
    const b = runtime({ replicaId: 'us', clock, observer: us.observer });
    const link = new ReplicationLink(a, b);
    await a.send(alice, { type: 'deposit', payload: { n: 100 } });
    await link.settle();
    link.partition();
    await a.send(alice, { type: 'withdraw', payload: { n: 80 } });
    await b.send(alice, { type: 'withdraw', payload: { n: 70 } });
    link.heal();
    const report = await link.settle();
    const resolvedSomewhere = [...eu.seen.resolved, ...us.seen.resolved];
    expect(resolvedSomewhere.length).toBeGreaterThanOrEqual(1);
    expect(report.resolved.length).toBe(resolvedSomewhere.length);
    const first = resolvedSomewhere[0]!;
    expect(first.outcome.heads).toHaveLength(2);
    expect(first.outcome.ancestor && Object.keys(first.outcome.ancestor.version)).toEqual(['eu']);
    expect(first.outcome.replayed.map((e) => e.type).sort()).toEqual(['withdrew', 'withdrew']);
    expect(first.outcome.compensations.map((e) => e.type)).toEqual(['overdraft']);
    expect(first.durationMs).toBe(0); // the manual clock did not move
    const resolving = [...eu.seen.resolving, ...us.seen.resolving];
    expect(resolving).toHaveLength(resolvedSomewhere.length);
    expect(resolving[0]!.heads).toHaveLength(2);
  });

  it('reports loads with the packs folded and whether they started from a snapshot', async () => {
    const store = new MemoryStore();
    const writer = runtime({ store });
    for (let n = 1; n <= 6; n++) await writer.send(alice, { type: 'deposit', payload: { n } }); // snapshotEvery 4
    const { seen, observer } = recorder();
    const reader = runtime({ store, observer });
    await reader.inspect(alice);
    await reader.inspect(Ledger.ref('nobody'));
    expect(seen.loaded).toEqual([
      { actor: { type: 'ledger', id: 'alice' }, replica: 'local', version: { local: 6 }, packsRead: 2, fromSnapshot: true },
      { actor: { type: 'ledger', id: 'nobody' }, replica: 'local', version: undefined, packsRead: 0, fromSnapshot: false },
    ]);
  });

  it('reports a resolution that failed, and the error still reaches the caller', async () => {
    const Strict = defineActor({
      type: 'strict',
      initial: () => ({ n: 0 }),
      commands: { add: (_s, p: { n: number }) => [{ type: 'added', data: p }] },
      events: {
        added: (s, d: { n: number }) => {
          if (s.n + d.n > 1) throw new Error('at most 1');
          return { n: s.n + d.n };
        },
      },
    });
    const { seen, observer } = recorder();
    const a = createRuntime({ actors: [Strict], replicaId: 'a', observer });
    const b = createRuntime({ actors: [Strict], replicaId: 'b' });
    runtimes.push(a, b);
    const link = new ReplicationLink(a, b);
    link.partition();
    await a.send(Strict.ref('x'), { type: 'add', payload: { n: 1 } });
    await b.send(Strict.ref('x'), { type: 'add', payload: { n: 1 } });
    link.heal();
    await expect(link.settle(2)).rejects.toThrow(/event handlers must accept any state/);
    expect(seen.resolutionFailed.length).toBeGreaterThanOrEqual(1);
    expect(seen.resolved).toHaveLength(0);
  });

  it('a throwing observer is reported as a process warning and never fails the command', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => void warnings.push(w.message);
    process.on('warning', onWarning);
    try {
      const rt = runtime({
        observer: {
          loaded: () => {
            throw new Error('observer bug');
          },
        },
      });
      expect((await rt.send(alice, { type: 'deposit', payload: { n: 1 } })).status).toBe('accepted');
      await new Promise((resolve) => setImmediate(resolve)); // warnings are emitted on the next tick
      expect(warnings.some((m) => m.includes("'loaded' threw: observer bug"))).toBe(true);
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('an async observer that rejects is reported as a process warning too, never an unhandled rejection', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => void warnings.push(w.message);
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => void unhandled.push(reason);
    process.on('warning', onWarning);
    process.on('unhandledRejection', onUnhandled);
    try {
      const rt = runtime({ observer: { loaded: async () => Promise.reject(new Error('metrics sink down')) } });
      expect((await rt.send(alice, { type: 'deposit', payload: { n: 1 } })).status).toBe('accepted');
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(warnings.some((m) => m.includes("'loaded' threw: metrics sink down"))).toBe(true);
      expect(unhandled).toEqual([]);
    } finally {
      process.off('warning', onWarning);
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('combineObservers calls every observer that has the callback, in order', () => {
    const calls: string[] = [];
    const combined = combineObservers(
      { passivated: () => void calls.push('first') },
      undefined,
      { loaded: () => void calls.push('never') },
      { passivated: () => void calls.push('second') },
    );
    combined.passivated!({ actor: { type: 't', id: 'i' }, replica: 'r', reason: 'idle' });
    expect(calls).toEqual(['first', 'second']);
    expect(combined.appendConflict).toBeUndefined();
  });
});

describe('passivation on the runtime clock', () => {
  it('passivateIdle() passivates the actors idle for idleTimeoutMs on the injected clock, and they reload on their next message', async () => {
    const clock = new ManualClock(0);
    const { seen, observer } = recorder();
    const rt = runtime({ clock, idleTimeoutMs: 1_000, idleSweepEveryMs: 0, observer });
    await rt.send(alice, { type: 'deposit', payload: { n: 5 } });
    clock.advance(500);
    await rt.send(Ledger.ref('bob'), { type: 'deposit', payload: { n: 1 } });
    expect(rt.passivateIdle()).toBe(0);
    clock.advance(500); // alice idle 1,000 ms, bob 500 ms
    expect(rt.passivateIdle()).toBe(1);
    expect(seen.passivated).toEqual([{ actor: { type: 'ledger', id: 'alice' }, replica: 'local', reason: 'idle' }]);
    expect(rt.liveActors).toBe(1);
    // A command (not inspect, which always reads the store) shows the reload: the cached state is gone.
    const loadsBefore = seen.loaded.length;
    expect(await rt.send(alice, { type: 'deposit', payload: { n: 1 } })).toMatchObject({ status: 'accepted' });
    expect(seen.loaded.length).toBe(loadsBefore + 1);
    expect(await rt.send(alice, { type: 'deposit', payload: { n: 1 } })).toMatchObject({ status: 'accepted' });
    expect(seen.loaded.length).toBe(loadsBefore + 1); // cached again: no load
    expect(rt.liveActors).toBe(2);
  });

  it('the wall clock does not passivate when the injected clock stands still', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      const clock = new ManualClock(0);
      const rt = runtime({ clock, idleTimeoutMs: 1_000, idleSweepEveryMs: 0 });
      await rt.send(alice, { type: 'deposit', payload: { n: 5 } });
      vi.setSystemTime(Date.now() + 3_600_000);
      expect(rt.passivateIdle()).toBe(0);
      expect(rt.liveActors).toBe(1);
    } finally {
      vi.useRealTimers();
    }
  });

  it('reports capacity passivations beyond liveActorsMax', async () => {
    const { seen, observer } = recorder();
    const rt = runtime({ liveActorsMax: 2, observer });
    for (const id of ['a', 'b', 'c']) await rt.send(Ledger.ref(id), { type: 'deposit', payload: { n: 1 } });
    expect(seen.passivated).toEqual([{ actor: { type: 'ledger', id: 'a' }, replica: 'local', reason: 'capacity' }]);
  });

  it('refuses a negative idleSweepEveryMs with InvalidOptionError naming it', () => {
    expect(() => createRuntime({ actors: [Ledger], idleSweepEveryMs: -1 })).toThrow(/option 'idleSweepEveryMs'/);
  });
});
