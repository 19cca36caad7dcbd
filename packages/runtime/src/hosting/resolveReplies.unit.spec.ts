import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  AppendConflictError,
  type EventStore,
  MemoryStore,
  type ResolvedObservation,
  type Runtime,
  type RuntimeOptions,
  defineActor,
} from '../index.js';
import type { Pack } from '../model/index.js';
import { Ledger } from '../testkit/index.js';
import { runtimesStoppedAfterEach } from '../specHelpers/runtimes.js';

/**
 * What `resolve` answers and reports, its retry after a conflicting append, and the onMerge
 * check's warning. Added for the mutation score of `hosting` (TESTING.md): each test pins a
 * behaviour a surviving mutant changed while every other test still passed.
 */
const started = runtimesStoppedAfterEach();
afterEach(() => {
  vi.restoreAllMocks();
});
function runtime(options: Partial<RuntimeOptions> & Pick<RuntimeOptions, 'store'>): Runtime {
  return started({ actors: [Ledger], ...options });
}
const alice = Ledger.ref('alice');

/** A store where alice has two heads: a deposit at replica a and one at replica b. */
async function diverged(): Promise<MemoryStore> {
  const here = new MemoryStore();
  const there = new MemoryStore();
  await runtime({ store: here, replicaId: 'a' }).send(alice, { type: 'deposit', payload: { n: 1 } });
  await runtime({ store: there, replicaId: 'b' }).send(alice, { type: 'deposit', payload: { n: 2 } });
  await here.merge((await there.changesSince(undefined, 100)).packs);
  expect(await here.heads(alice)).toHaveLength(2);
  return here;
}

/**
 * Makes the next `conflicts` appends of a `kind` pack (default: merge) fail with AppendConflictError,
 * as a concurrent writer would, or with `failure` when given.
 */
function conflicting(store: EventStore, conflicts: number, kind: Pack['kind'] = 'merge', failure?: Error): EventStore {
  let left = conflicts;
  return new Proxy(store, {
    get(target, name) {
      if (name === 'append') {
        return async (pack: Pack, expected: readonly string[], snapshot?: unknown) => {
          if (pack.kind === kind && left > 0) {
            left--;
            throw failure ?? new AppendConflictError('ledger:alice', expected, ['someone-else']);
          }
          return target.append(pack, expected, snapshot as never);
        };
      }
      const value: unknown = Reflect.get(target, name, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

describe('resolve', () => {
  it('with one head: not resolved, no compensation, the head\'s version', async () => {
    const store = new MemoryStore();
    const rt = runtime({ store });
    const sent = await rt.send(alice, { type: 'deposit', payload: { n: 1 } });
    expect(await rt.resolve(alice)).toEqual({ resolved: false, headsMerged: 1, compensations: [], version: sent.status === 'accepted' ? sent.version : undefined });
  });

  it('with two heads: resolved, both merged, and the observer told who resolved what and how long it took', async () => {
    const store = await diverged();
    const resolved: ResolvedObservation[] = [];
    let nowMs = 1_700_000_000_000;
    const rt = runtime({ store, replicaId: 'a', clock: { now: () => (nowMs += 5) }, observer: { resolved: (o) => void resolved.push(o) } });
    const reply = await rt.resolve(alice);
    expect(reply).toMatchObject({ resolved: true, headsMerged: 2, compensations: [] });
    expect(resolved).toHaveLength(1);
    expect(resolved[0]).toMatchObject({ actor: alice, replica: 'a' });
    expect(resolved[0]!.durationMs).toBeGreaterThan(0);
  });

  it('a merge whose append conflicts is retried (resolve and a command\'s load alike), up to conflictRetriesMax', async () => {
    const rt = runtime({ store: conflicting(await diverged(), 1), replicaId: 'a' });
    expect(await rt.resolve(alice)).toMatchObject({ resolved: true, headsMerged: 2 });
    const loading = runtime({ store: conflicting(await diverged(), 1), replicaId: 'a' });
    expect(await loading.send(alice, { type: 'withdraw', payload: { n: 3 } })).toMatchObject({ status: 'accepted' });
    const strict = runtime({ store: conflicting(await diverged(), 1), replicaId: 'a', conflictRetriesMax: 0 });
    await expect(strict.resolve(alice)).rejects.toBeInstanceOf(AppendConflictError);
    const strictLoad = runtime({ store: conflicting(await diverged(), 1), replicaId: 'a', conflictRetriesMax: 0 });
    await expect(strictLoad.send(alice, { type: 'deposit', payload: { n: 1 } })).rejects.toBeInstanceOf(AppendConflictError);
    // Two retries, five conflicts: the third attempt's conflict is thrown, resolve and load alike.
    const limited = runtime({ store: conflicting(await diverged(), 5), replicaId: 'a', conflictRetriesMax: 2 });
    await expect(limited.resolve(alice)).rejects.toBeInstanceOf(AppendConflictError);
    const limitedLoad = runtime({ store: conflicting(await diverged(), 5), replicaId: 'a', conflictRetriesMax: 2 });
    await expect(limitedLoad.send(alice, { type: 'deposit', payload: { n: 1 } })).rejects.toBeInstanceOf(AppendConflictError);
  });

  it('each conflicting merge append is reported to the observer, with its attempt', async () => {
    const conflicts: { attempt: number }[] = [];
    const rt = runtime({ store: conflicting(await diverged(), 2), replicaId: 'a', observer: { appendConflict: (o) => void conflicts.push(o) } });
    await rt.resolve(alice);
    expect(conflicts).toMatchObject([{ actor: alice, replica: 'a', attempt: 0 }, { actor: alice, replica: 'a', attempt: 1 }]);
  });

  it('a resolution that fails otherwise is reported with its actor and replica', async () => {
    const failures: { actor: unknown; replica: string }[] = [];
    const store = await diverged();
    const broken = new Proxy(store, {
      get: (target, name) => (name === 'append' ? () => Promise.reject(new Error('disk full')) : ((v: unknown) => (typeof v === 'function' ? v.bind(target) : v))(Reflect.get(target, name, target))),
    });
    const rt = runtime({ store: broken, replicaId: 'a', observer: { resolutionFailed: (o) => void failures.push(o) } });
    await expect(rt.resolve(alice)).rejects.toThrow('disk full');
    expect(failures).toMatchObject([{ actor: alice, replica: 'a' }]);
  });
});

describe('a command\'s append', () => {
  it('that conflicts is decided again, up to conflictRetriesMax retries', async () => {
    const retried = runtime({ store: conflicting(new MemoryStore(), 2, 'command'), conflictRetriesMax: 2 });
    expect(await retried.send(alice, { type: 'deposit', payload: { n: 1 } })).toMatchObject({ status: 'accepted' });
    const limited = runtime({ store: conflicting(new MemoryStore(), 3, 'command'), conflictRetriesMax: 2 });
    await expect(limited.send(alice, { type: 'deposit', payload: { n: 1 } })).rejects.toBeInstanceOf(AppendConflictError);
  });

  it('that fails otherwise is not retried: the caller gets the store\'s error (the append may have landed)', async () => {
    const rt = runtime({ store: conflicting(new MemoryStore(), 1, 'command', new Error('connection reset')) });
    await expect(rt.send(alice, { type: 'deposit', payload: { n: 1 } })).rejects.toThrow('connection reset');
  });
});

describe('the onMerge check', () => {
  // Emits on every merge, so it emits again on its own result: not idempotent.
  const noisy = (type: string) =>
    defineActor({
      type,
      initial: () => ({ n: 0 }),
      commands: { add: () => [{ type: 'added', data: {} }] },
      events: { added: (s: { n: number }) => ({ n: s.n + 1 }), marked: (s: { n: number }) => s },
      onMerge: () => [{ type: 'marked', data: {} }],
    });

  async function mergeTwice(type: string, onMergeCheck: 'warn' | 'off'): Promise<void> {
    const definition = noisy(type);
    const here = new MemoryStore();
    for (const id of ['x', 'y']) {
      const ref = definition.ref(id);
      const there = new MemoryStore();
      const a = started({ actors: [definition], store: here, replicaId: 'a', onMergeCheck });
      const b = started({ actors: [definition], store: there, replicaId: 'b', onMergeCheck });
      await a.send(ref, { type: 'add', payload: {} });
      await b.send(ref, { type: 'add', payload: {} });
      await here.merge((await there.changesSince(undefined, 100)).packs);
      expect(await a.resolve(ref)).toMatchObject({ resolved: true });
    }
  }

  it('warns once per actor type with TroupeOnMergeWarning, however many merges', async () => {
    const warnings = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    await mergeTwice('noisyWarn', 'warn');
    const mine = warnings.mock.calls.filter((c) => String(c[0]).includes('noisyWarn'));
    expect(mine).toHaveLength(1);
    expect(mine[0]![1]).toBe('TroupeOnMergeWarning');
  });

  it('is silent with onMergeCheck off', async () => {
    const warnings = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    await mergeTwice('noisyOff', 'off');
    expect(warnings.mock.calls.filter((c) => String(c[0]).includes('noisyOff'))).toEqual([]);
  });
});
