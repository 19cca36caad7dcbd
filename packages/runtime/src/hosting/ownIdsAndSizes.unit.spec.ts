import { describe, expect, it } from 'vitest';
import { DuplicateCommandError, InvalidPayloadError, LimitExceededError, MemoryStore, type Runtime, type RuntimeOptions } from '../index.js';
import { FlakeIdSource } from '../ids/index.js';
import { Ledger, ManualClock } from '../testkit/index.js';
import { runtimesStoppedAfterEach } from '../specHelpers/runtimes.js';

/**
 * Ids the runtime draws itself, and the size limit of a command's events. Added for the mutation
 * score of `hosting` (TESTING.md): each test pins a behaviour a surviving mutant changed while
 * every other test still passed.
 */
const started = runtimesStoppedAfterEach();
function runtime(options: Partial<RuntimeOptions> = {}): Runtime {
  return started({ actors: [Ledger], ...options });
}
const alice = Ledger.ref('alice');

describe('an id the runtime drew itself that the store already holds', () => {
  // Two processes of one region left on one replica id and machine id, on the same clock: they draw the same ids.
  const twins = (store: MemoryStore, options: Partial<RuntimeOptions> = {}) =>
    [1, 2].map(() => runtime({ store, replicaId: 'a', machineId: 7, clock: new ManualClock(1_700_000_000_000), ...options }));

  it('is no retry: a new id is drawn, the command applied, its correlation id the new id unless one was given', async () => {
    const store = new MemoryStore();
    const [first, second] = twins(store);
    const one = await first!.send(alice, { type: 'deposit', payload: { n: 1 } });
    const two = await second!.send(alice, { type: 'deposit', payload: { n: 2 } });
    expect(one).toMatchObject({ status: 'accepted', duplicate: false });
    expect(two).toMatchObject({ status: 'accepted', duplicate: false });
    if (one.status !== 'accepted' || two.status !== 'accepted') return;
    // Both drew this id first: the second runtime's append met the first one's command.
    expect(one.commandId).toBe(`a.${new FlakeIdSource({ machineId: 7, clock: new ManualClock(1_700_000_000_000) }).next()}`);
    expect(two.commandId).not.toBe(one.commandId);
    expect(two.commandId).toMatch(/^a\.\S+$/);
    expect(two.events.map((e) => [e.causationId, e.correlationId])).toEqual([[two.commandId, two.commandId]]);
    expect((await second!.inspect<{ balance: number }>(alice)).state.balance).toBe(3);

    const given = await twins(new MemoryStore()).reduce(async (previous, rt, i) => {
      await previous;
      return rt.send(alice, { type: 'deposit', payload: { n: 1 }, correlationId: `order-${i}` });
    }, Promise.resolve(undefined as unknown));
    expect(given).toMatchObject({ status: 'accepted', duplicate: false, events: [{ correlationId: 'order-1' }] });
  });

  it('with conflictRetriesMax 0 the collision is the store\'s DuplicateCommandError', async () => {
    const store = new MemoryStore();
    const [first, second] = twins(store, { conflictRetriesMax: 0 });
    await first!.send(alice, { type: 'deposit', payload: { n: 1 } });
    await expect(second!.send(alice, { type: 'deposit', payload: { n: 2 } })).rejects.toBeInstanceOf(DuplicateCommandError);
  });
});

describe('the size of a command\'s events', () => {
  it('data of exactly packBytesMax bytes is taken; one byte less is refused, naming the sizes', async () => {
    let size: number | undefined;
    let refusal = '';
    for (let limit = 1; limit <= 64 && size === undefined; limit++) {
      const reply = await runtime({ packBytesMax: limit }).send(alice, { type: 'deposit', payload: { n: 1 } }).catch((e: unknown) => e);
      if (reply instanceof LimitExceededError) refusal = reply.message;
      else size = limit;
    }
    expect(size).toBeDefined();
    expect(refusal).toContain(`ledger.`);
    expect(refusal).toContain(`the 1 event(s) emitted encode to ${size} bytes, more than ${size! - 1}`);
  });
});

describe('ids that are no strings', () => {
  it('are the runtime\'s InvalidPayloadError, not a TypeError', async () => {
    const rt = runtime();
    for (const commandId of [['x'], 7, { length: 3 }]) {
      await expect(rt.send(alice, { type: 'deposit', payload: { n: 1 }, commandId: commandId as never })).rejects.toBeInstanceOf(InvalidPayloadError);
    }
  });
});
