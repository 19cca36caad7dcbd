import { afterEach, describe, expect, it, vi } from 'vitest';
import { InvalidOptionError, MemoryStore, type Runtime, type RuntimeOptions, UnknownActorTypeError, UnknownCommandError } from '../index.js';
import { runtimesStoppedAfterEach } from '../specHelpers/runtimes.js';
import { Ledger } from '../testkit/index.js';

/**
 * What a command carries onto its events, a retry answered from the record, the options'
 * refusals and the observer's guard. Added for the mutation score of `hosting` (TESTING.md): each
 * test pins a behaviour a surviving mutant changed while every other test still passed.
 */
const started = runtimesStoppedAfterEach();
afterEach(() => {
  vi.restoreAllMocks();
});
function runtime(options: Partial<RuntimeOptions> = {}): Runtime {
  return started({ actors: [Ledger], ...options });
}
const alice = Ledger.ref('alice');

describe('what a command carries onto its events', () => {
  it('a given correlationId is on every event; without one, the command id is', async () => {
    const rt = runtime();
    const given = await rt.send(alice, { type: 'deposit', payload: { n: 1 }, commandId: 'cmd-1', correlationId: 'order-7' });
    const defaulted = await rt.send(alice, { type: 'deposit', payload: { n: 1 }, commandId: 'cmd-2' });
    expect(given.status === 'accepted' && given.events.map((e) => [e.correlationId, e.causationId])).toEqual([['order-7', 'cmd-1']]);
    expect(defaulted.status === 'accepted' && defaulted.events.map((e) => e.correlationId)).toEqual(['cmd-2']);
  });

  it('a given initiatedBy is on every event and in the store; without one, the field is absent', async () => {
    const store = new MemoryStore();
    const rt = runtime({ store });
    await rt.send(alice, { type: 'deposit', payload: { n: 1 }, initiatedBy: 'user:bob' });
    const without = await rt.send(alice, { type: 'deposit', payload: { n: 1 } });
    // Not even as a key set to undefined on the events the reply hands back.
    expect(without.status === 'accepted' && without.events.every((e) => !('initiatedBy' in e))).toBe(true);
    const [first, second] = await store.history(alice);
    expect(first!.events.map((e) => e.initiatedBy)).toEqual(['user:bob']);
    expect(second!.events.every((e) => !('initiatedBy' in e))).toBe(true);
  });
});

describe('a retry with the caller\'s command id', () => {
  it('is answered with the recorded acceptance although the current state would refuse the command', async () => {
    const rt = runtime();
    await rt.send(alice, { type: 'deposit', payload: { n: 5 } });
    const first = await rt.send(alice, { type: 'withdraw', payload: { n: 5 }, commandId: 'w-1' });
    const again = await rt.send(alice, { type: 'withdraw', payload: { n: 5 }, commandId: 'w-1' });
    expect(first).toMatchObject({ status: 'accepted', duplicate: false });
    expect(again).toMatchObject({ status: 'accepted', duplicate: true, version: first.status === 'accepted' ? first.version : undefined });
    expect((await rt.inspect<{ balance: number }>(alice)).state.balance).toBe(0);
  });
});

describe('refused commands and refs', () => {
  it('an unknown command type, a missing command and a missing ref are the runtime\'s own errors', async () => {
    const rt = runtime();
    await expect(rt.send(alice, { type: 'nope', payload: {} } as never)).rejects.toBeInstanceOf(UnknownCommandError);
    await expect(rt.send(alice, null as never)).rejects.toBeInstanceOf(UnknownCommandError);
    await expect(rt.send(alice, { type: 5 } as never)).rejects.toBeInstanceOf(UnknownCommandError);
    await expect(rt.send(undefined as never, { type: 'deposit', payload: { n: 1 } })).rejects.toBeInstanceOf(UnknownActorTypeError);
  });

  it('a command id of 256 characters is taken, one of 257 is not', async () => {
    const rt = runtime();
    expect(await rt.send(alice, { type: 'deposit', payload: { n: 1 }, commandId: 'x'.repeat(256) })).toMatchObject({ status: 'accepted' });
    await expect(rt.send(alice, { type: 'deposit', payload: { n: 1 }, commandId: 'y'.repeat(257) })).rejects.toThrow(/commandId/);
  });
});

describe('runtime options: each refusal names the option and the value', () => {
  const refused = (options: Partial<RuntimeOptions>, message: RegExp) => {
    let error: unknown;
    try {
      runtime(options);
    } catch (e) {
      error = e;
    }
    expect(error, JSON.stringify(options)).toBeInstanceOf(InvalidOptionError);
    expect((error as Error).message).toMatch(message);
  };

  it('replicaId, onMergeCheck, idleSweepEveryMs, integer and ms options', () => {
    refused({ replicaId: 'has space' }, /replicaId.*must be 1-64 characters of \[A-Za-z0-9_.-\], got 'has space'/);
    refused({ onMergeCheck: 'loud' as never }, /onMergeCheck.*must be 'warn', 'throw' or 'off', got 'loud'/);
    refused({ idleSweepEveryMs: -1 }, /idleSweepEveryMs.*must be 0 \(no timer\) or a positive number of ms, got -1/);
    refused({ conflictRetriesMax: -1 }, /conflictRetriesMax.*must be an integer >= 0, got -1/);
    refused({ idleTimeoutMs: -1 }, /idleTimeoutMs.*must be a number of ms >= 0, got -1/);
    refused({ idleTimeoutMs: Number.NaN }, /idleTimeoutMs/);
  });

  it('idleTimeoutMs 0 is taken (never passivate)', () => {
    expect(() => runtime({ idleTimeoutMs: 0, idleSweepEveryMs: 0 })).not.toThrow();
  });

  it('ancestryLimits.headsMax is an integer in 2..30', () => {
    for (const headsMax of [1, 31, 2.5]) refused({ ancestryLimits: { headsMax } }, new RegExp(`ancestryLimits.headsMax.*must be an integer in 2\\.\\.30, got ${headsMax}`));
    for (const headsMax of [2, 30]) expect(() => runtime({ ancestryLimits: { headsMax } })).not.toThrow();
  });
});

describe('the observer guard', () => {
  it('a callback that throws a non-Error, or rejects, is a TroupeObserverWarning; one that returns a value is not', async () => {
    const warnings = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    let calls = 0;
    const throwing = runtime({
      observer: {
        loaded: () => {
          throw undefined;
        },
      },
    });
    const rejecting = runtime({ observer: { loaded: () => Promise.reject(new Error('async boom')) } });
    const returning = runtime({ observer: { loaded: () => (calls++, 42) as never } });
    for (const rt of [throwing, rejecting, returning]) await rt.send(alice, { type: 'deposit', payload: { n: 1 } });
    await new Promise((r) => setTimeout(r, 10));
    expect(calls).toBe(1);
    expect(warnings.mock.calls.map((c) => [String(c[0]), c[1]])).toEqual([
      ["troupe: the runtime observer's 'loaded' threw: undefined", 'TroupeObserverWarning'],
      ["troupe: the runtime observer's 'loaded' threw: async boom", 'TroupeObserverWarning'],
    ]);
  });
});
