import { describe, expect, it } from 'vitest';
import {
  type EventStore,
  InvalidDecisionError,
  LimitExceededError,
  MemoryStore,
  type Runtime,
  type RuntimeOptions,
  defineActor,
} from '../index.js';
import { Ledger, ManualClock } from '../testkit/index.js';
import { runtimesStoppedAfterEach } from '../specHelpers/runtimes.js';

/**
 * Queued messages: what stop() waits for, the mailbox limit, passivation leaving busy actors alone;
 * and the refusals of a decider's bad answer. Added for the mutation score of `hosting`
 * (TESTING.md): each test pins a behaviour a surviving mutant changed while every other test passed.
 */
const started = runtimesStoppedAfterEach();
function runtime(options: Partial<RuntimeOptions> = {}): Runtime {
  return started({ actors: [Ledger], ...options });
}
const alice = Ledger.ref('alice');

/** A store whose reads of heads wait until `open()`: commands queue behind the first one. */
function gatedStore(): { store: EventStore; open: () => void } {
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  const inner = new MemoryStore();
  const store = new Proxy(inner, {
    get(target, name) {
      if (name === 'heads') return async (...args: Parameters<EventStore['heads']>) => (await gate, target.heads(...args));
      const value: unknown = Reflect.get(target, name, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return { store, open };
}

describe('queued messages', () => {
  it('stop() waits for the commands already queued, then refuses new ones', async () => {
    const { store, open } = gatedStore();
    const rt = runtime({ store });
    const sent = rt.send(alice, { type: 'deposit', payload: { n: 1 } });
    let finished = false;
    void sent.then(() => (finished = true));
    const stopping = rt.stop();
    await new Promise((r) => setTimeout(r, 5));
    expect(finished).toBe(false);
    open();
    await stopping;
    expect(finished).toBe(true);
    expect(await sent).toMatchObject({ status: 'accepted' });
  });

  it('a full mailbox refuses the next message, naming mailboxMax and the queue', async () => {
    const { store, open } = gatedStore();
    const rt = runtime({ store, mailboxMax: 2 });
    const queued = [rt.send(alice, { type: 'deposit', payload: { n: 1 } }), rt.send(alice, { type: 'deposit', payload: { n: 1 } })];
    const refused = await rt.send(alice, { type: 'deposit', payload: { n: 1 } }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(LimitExceededError);
    expect((refused as Error).message).toContain('ledger:alice already has 2 queued messages');
    open();
    expect(await Promise.all(queued)).toMatchObject([{ status: 'accepted' }, { status: 'accepted' }]);
  });

  it('passivateIdle leaves an actor with a queued message live', async () => {
    const { store, open } = gatedStore();
    const clock = new ManualClock(1_000);
    const rt = runtime({ store, clock, idleTimeoutMs: 10, idleSweepEveryMs: 0 });
    const sent = rt.send(alice, { type: 'deposit', payload: { n: 1 } });
    clock.advance(1_000);
    expect(rt.passivateIdle()).toBe(0);
    open();
    await sent;
    expect(rt.passivateIdle()).toBe(1);
  });
});

describe('a decider\'s bad answer', () => {
  const Bad = defineActor({
    type: 'bad',
    initial: () => ({}),
    commands: {
      neither: () => 5 as never,
      many: () => [{ type: 'ok', data: {} }, { type: 'ok', data: {} }, { type: 'ok', data: {} }],
      holey: () => [null] as never,
      disguised: () => [{ type: { toString: () => 'ok' }, data: {} }] as never,
      two: () => [{ type: 'ok', data: {} }, { type: 'ok', data: {} }],
    },
    events: { ok: (s: object) => s },
  });

  it('is refused with a message that says what was wrong', async () => {
    const rt = started({ actors: [Bad], eventsPerCommandMax: 2 });
    const ref = Bad.ref('b');
    const neither = await rt.send(ref, { type: 'neither', payload: {} }).catch((e: unknown) => e);
    expect(neither).toBeInstanceOf(InvalidDecisionError);
    expect((neither as Error).message).toContain('the command handler returned neither an array of events nor reject(reason)');
    const many = await rt.send(ref, { type: 'many', payload: {} }).catch((e: unknown) => e);
    expect(many).toBeInstanceOf(LimitExceededError);
    expect((many as Error).message).toContain('bad.many emitted 3 events, more than 2');
    expect((many as LimitExceededError).message).toContain('eventsPerCommandMax');
    const holey = await rt.send(ref, { type: 'holey', payload: {} }).catch((e: unknown) => e);
    expect(holey).toBeInstanceOf(InvalidDecisionError);
    expect((holey as Error).message).toContain("emitted an event of unknown type 'undefined'");
    // An event type must be a string, not something that reads as a declared one.
    await expect(rt.send(ref, { type: 'disguised', payload: {} })).rejects.toBeInstanceOf(InvalidDecisionError);
    // Exactly eventsPerCommandMax events are taken.
    expect(await rt.send(ref, { type: 'two', payload: {} })).toMatchObject({ status: 'accepted' });
  });
});
