import { afterEach, describe, expect, it } from 'vitest';
import {
  type ActorRef,
  AppendConflictError,
  CorruptDataError,
  createRuntime,
  defineActor,
  InvalidActorIdError,
  InvalidPayloadError,
  LimitExceededError,
  MemoryStore,
  type Pack,
  reject,
  type Runtime,
  RuntimeStoppedError,
  TroupeError,
  UnknownActorTypeError,
  UnknownCommandError,
} from '../index.js';
import { encodeValue } from '../codec/index.js';
import type { Snapshot } from '../model/index.js';
import { VC } from '../vectorClock/index.js';

interface CounterState {
  readonly value: number;
  readonly tags: readonly string[];
}

const Counter = defineActor({
  type: 'counter',
  initial: (): CounterState => ({ value: 0, tags: [] }),
  commands: {
    add: (_s, p: { by: number; tag?: string }) => [{ type: 'added', data: { by: p.by, tag: p.tag ?? '' } }],
    take: (s, p: { by: number }) => (s.value >= p.by ? [{ type: 'added', data: { by: -p.by, tag: '' } }] : reject('not enough')),
    explode: () => {
      throw new Error('decider bug');
    },
    poison: () => [{ type: 'poisoned', data: {} }],
    many: (_s, p: { count: number }) => Array.from({ length: p.count }, () => ({ type: 'added' as const, data: { by: 1, tag: '' } })),
    bogus: () => [{ type: 'nonexistent', data: {} } as never],
  },
  events: {
    added: (s, d: { by: number; tag: string }) => ({ value: s.value + d.by, tags: d.tag ? [...s.tags, d.tag] : s.tags }),
    poisoned: (): CounterState => {
      throw new Error('evolve bug');
    },
  },
  validate: {
    add: (p) => (typeof (p as { by?: unknown })?.by === 'number' ? undefined : 'by must be a number'),
  },
  snapshotEvery: 5,
});

let runtimes: Runtime[] = [];
function runtime(options: Partial<Parameters<typeof createRuntime>[0]> = {}): Runtime {
  const rt = createRuntime({ actors: [Counter], ...options });
  runtimes.push(rt);
  return rt;
}
afterEach(async () => {
  await Promise.all(runtimes.map((r) => r.stop()));
  runtimes = [];
});

/** Records how many appends run at once, per actor and overall, with a delay to let them overlap. */
class SlowStore extends MemoryStore {
  inFlight = new Map<string, number>();
  maxPerActor = 0;
  maxOverall = 0;
  private overall = 0;
  override async append(pack: Pack, expected: readonly string[], snapshot?: Snapshot): Promise<void> {
    const key = `${pack.actor.type}:${pack.actor.id}`;
    const mine = (this.inFlight.get(key) ?? 0) + 1;
    this.inFlight.set(key, mine);
    this.overall++;
    this.maxPerActor = Math.max(this.maxPerActor, mine);
    this.maxOverall = Math.max(this.maxOverall, this.overall);
    await new Promise((r) => setTimeout(r, 2));
    try {
      await super.append(pack, expected, snapshot);
    } finally {
      this.inFlight.set(key, this.inFlight.get(key)! - 1);
      this.overall--;
    }
  }
}

describe('Runtime hosting', () => {
  it('runs one actor\'s commands one at a time, in order; different actors concurrently', async () => {
    const store = new SlowStore();
    const rt = runtime({ store });
    const one = Counter.ref('one');
    const replies = await Promise.all(
      Array.from({ length: 50 }, (_, i) => rt.send(one, { type: 'add', payload: { by: 1, tag: `t${i}` } })),
    );
    expect(replies.map((r) => (r.status === 'accepted' ? r.version.local : -1))).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect((await rt.inspect<CounterState>(one)).state.tags).toEqual(Array.from({ length: 50 }, (_, i) => `t${i}`));
    expect(store.maxPerActor).toBe(1);
    await Promise.all(Array.from({ length: 20 }, (_, i) => rt.send(Counter.ref(`many-${i}`), { type: 'add', payload: { by: 1 } })));
    expect(store.maxPerActor).toBe(1);
    expect(store.maxOverall).toBeGreaterThan(1);
  });

  it('answers rejections without persisting anything', async () => {
    const store = new MemoryStore();
    const rt = runtime({ store });
    const ref = Counter.ref('r');
    await rt.send(ref, { type: 'add', payload: { by: 2 } });
    const before = store.packCount;
    expect(await rt.send(ref, { type: 'take', payload: { by: 5 } })).toMatchObject({ status: 'rejected', reason: 'not enough' });
    expect(store.packCount).toBe(before);
  });

  it('gives typed errors for bad input and persists nothing', async () => {
    const store = new MemoryStore();
    const rt = runtime({ store });
    const ref = Counter.ref('bad');
    await rt.send(ref, { type: 'add', payload: { by: 1 } });
    const before = store.packCount;
    // @ts-expect-error unknown command is a compile error
    await expect(rt.send(ref, { type: 'nope', payload: {} })).rejects.toBeInstanceOf(UnknownCommandError);
    // @ts-expect-error wrong payload type is a compile error
    const invalid = rt.send(ref, { type: 'add', payload: { by: 'x' } });
    await expect(invalid).rejects.toBeInstanceOf(InvalidPayloadError);
    await expect(invalid).rejects.toThrow(/counter\.add: by must be a number/);
    await expect(rt.send({ type: 'ghost', id: '1' }, { type: 'add', payload: {} })).rejects.toBeInstanceOf(UnknownActorTypeError);
    await expect(rt.send({ type: 'ghost', id: '1' }, { type: 'add', payload: {} })).rejects.toThrow(/unknown actor type 'ghost' \(registered: counter\)/);
    await expect(rt.send(ref, { type: 'explode', payload: {} })).rejects.toThrow('decider bug');
    await expect(rt.send(ref, { type: 'poison', payload: {} })).rejects.toThrow('evolve bug');
    await expect(rt.send(ref, { type: 'bogus', payload: {} })).rejects.toBeInstanceOf(TroupeError);
    await expect(rt.send(ref, { type: 'many', payload: { count: 1001 } })).rejects.toBeInstanceOf(LimitExceededError);
    await expect(rt.send(ref, { type: 'add', payload: { by: 1 }, commandId: '' })).rejects.toBeInstanceOf(InvalidPayloadError);
    expect(store.packCount).toBe(before);
    // ...and the actor still works afterwards.
    expect(await rt.send(ref, { type: 'add', payload: { by: 1 } })).toMatchObject({ status: 'accepted', version: { local: 2 } });
  });

  it('answers a repeated command id with the first result and applies nothing twice', async () => {
    const store = new MemoryStore();
    const rt = runtime({ store });
    const ref = Counter.ref('idem');
    const first = await rt.send(ref, { type: 'add', payload: { by: 5 }, commandId: 'cmd-1' });
    const again = await rt.send(ref, { type: 'add', payload: { by: 5 }, commandId: 'cmd-1' });
    expect(first).toMatchObject({ status: 'accepted', duplicate: false });
    expect(again).toMatchObject({ status: 'accepted', duplicate: true, version: (first as { version: unknown }).version });
    expect(again.status === 'accepted' && again.events.map((e) => e.id)).toEqual(first.status === 'accepted' && first.events.map((e) => e.id));
    // A restarted replica (new runtime, same store: the crash between persist and ack) also knows it.
    const restarted = runtime({ store });
    expect(await restarted.send(ref, { type: 'add', payload: { by: 5 }, commandId: 'cmd-1' })).toMatchObject({ duplicate: true });
    expect((await restarted.inspect<CounterState>(ref)).state.value).toBe(5);
  });

  it('reloads and re-decides after append conflicts (two runtimes on one store)', async () => {
    const store = new MemoryStore();
    // Distinct machine ids, as writers of the same actors need: default command ids are drawn from
    // the machine id, two runtimes sharing one draw the same ids, and a store applies an id once.
    const a = runtime({ store, replicaId: 'w', machineId: 1 });
    const b = runtime({ store, replicaId: 'w', machineId: 2 });
    const ref = Counter.ref('shared');
    const sends = Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).send(ref, { type: 'add', payload: { by: 1 } }));
    const replies = await Promise.all(sends);
    expect(replies.every((r) => r.status === 'accepted')).toBe(true);
    expect((await a.inspect<CounterState>(ref)).state.value).toBe(40);
    expect((await store.heads(ref))[0]!.version).toEqual({ w: 40 });
  });

  it('gives up with AppendConflictError after conflictRetriesMax', async () => {
    class AlwaysConflicting extends MemoryStore {
      override async append(pack: Pack): Promise<void> {
        throw new AppendConflictError('counter:x', [], [VC.encode(pack.version)]);
      }
    }
    const rt = runtime({ store: new AlwaysConflicting(), conflictRetriesMax: 3 });
    await expect(rt.send(Counter.ref('x'), { type: 'add', payload: { by: 1 } })).rejects.toBeInstanceOf(AppendConflictError);
  });

  it('loads from the latest snapshot plus the packs after it', async () => {
    const store = new MemoryStore();
    const rt = runtime({ store });
    const ref = Counter.ref('snap');
    for (let i = 0; i < 23; i++) await rt.send(ref, { type: 'add', payload: { by: 1 } });
    const head = (await store.heads(ref))[0]!;
    const chain = await store.loadChain(ref, VC.encode(head.version));
    expect(chain.base?.version).toEqual({ local: 20 });
    expect(chain.packs).toHaveLength(3);
    const fresh = runtime({ store });
    expect((await fresh.inspect<CounterState>(ref)).state.value).toBe(23);
  });

  it('passivates idle and least recently used actors and reloads them', async () => {
    const store = new MemoryStore();
    const rt = runtime({ store, liveActorsMax: 10, idleTimeoutMs: 20 });
    for (let i = 0; i < 100; i++) await rt.send(Counter.ref(`p${i}`), { type: 'add', payload: { by: i } });
    expect(rt.liveActors).toBeLessThanOrEqual(10);
    expect((await rt.inspect<CounterState>(Counter.ref('p3'))).state.value).toBe(3);
    const deadline = Date.now() + 3_000;
    while (rt.liveActors > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(rt.liveActors).toBe(0);
    expect(await rt.send(Counter.ref('p7'), { type: 'add', payload: { by: 1 } })).toMatchObject({ version: { local: 2 } });
  });

  it('drains queued commands on stop, then refuses new ones', async () => {
    const rt = runtime({ store: new SlowStore() });
    const ref = Counter.ref('drain');
    const sends = Array.from({ length: 30 }, () => rt.send(ref, { type: 'add', payload: { by: 1 } }));
    await rt.stop();
    const replies = await Promise.all(sends);
    expect(replies.filter((r) => r.status === 'accepted')).toHaveLength(30);
    await expect(rt.send(ref, { type: 'add', payload: { by: 1 } })).rejects.toBeInstanceOf(RuntimeStoppedError);
  });

  it('reports an undecodable pack as CorruptDataError naming it; other actors are unaffected', async () => {
    const store = new MemoryStore();
    const rt = runtime({ store, liveActorsMax: 1 });
    const broken: ActorRef = Counter.ref('broken');
    await rt.send(broken, { type: 'add', payload: { by: 1 } });
    await rt.send(Counter.ref('fine'), { type: 'add', payload: { by: 1 } }); // passivates 'broken'
    store.unsafeOverwritePack(broken, 'local:1', encodeValue({ not: 'a pack' }));
    const failed = rt.send(broken, { type: 'add', payload: { by: 1 } });
    await expect(failed).rejects.toBeInstanceOf(CorruptDataError);
    await expect(failed).rejects.toThrow(/counter:broken@local:1/);
    expect(await rt.send(Counter.ref('fine'), { type: 'add', payload: { by: 1 } })).toMatchObject({ status: 'accepted' });
  });

  it('bounds each mailbox: beyond mailboxMax a command is refused, the queued ones still run', async () => {
    const store = new SlowStore();
    const rt = runtime({ store, mailboxMax: 5 });
    const ref = Counter.ref('busy');
    const sends = Array.from({ length: 8 }, () => rt.send(ref, { type: 'add', payload: { by: 1 } }));
    const settled = await Promise.allSettled(sends);
    expect(settled.filter((r) => r.status === 'fulfilled')).toHaveLength(5);
    const refused = settled.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(refused).toHaveLength(3);
    expect(refused[0]!.reason).toBeInstanceOf(LimitExceededError);
    expect(String(refused[0]!.reason.message)).toMatch(/mailboxMax/);
    expect((await rt.inspect<CounterState>(ref)).state.value).toBe(5);
  });

  it('rejects invalid definitions and options early', () => {
    expect(() => defineActor({ type: 'bad type!', initial: () => 0, commands: { a: () => [] }, events: {} })).toThrow(TroupeError);
    expect(() => createRuntime({ actors: [Counter, Counter] })).toThrow(/registered twice/);
    expect(() => createRuntime({ actors: [Counter], replicaId: 'has space' })).toThrow(/replicaId/);
  });
});

describe('Runtime input', () => {
  // R4: the entity decided later on the caller's own object, so a change after send() was decided.
  it('decides the payload as it was when send() was called, not as the caller mutated it afterwards', async () => {
    const rt = runtime({ store: new MemoryStore() });
    const ref = Counter.ref('mutated');
    const payload = { by: 10 };
    const sent = rt.send(ref, { type: 'add', payload });
    payload.by = 999; // still a valid payload: only the copy taken by send() may count
    expect(await sent).toMatchObject({ status: 'accepted', events: [{ data: { by: 10 } }] });
    expect((await rt.inspect<CounterState>(ref)).state.value).toBe(10);
  });

  // R12: ids are store keys; a lone surrogate does not read back the same from every store.
  it('refuses actor ids and command ids that are not well-formed Unicode, and persists nothing', async () => {
    const store = new MemoryStore();
    const rt = runtime({ store });
    const badActor = await rt.send(Counter.ref('x\ud800'), { type: 'add', payload: { by: 1 } }).catch((e: unknown) => e);
    expect(badActor).toBeInstanceOf(InvalidActorIdError);
    expect(badActor).toMatchObject({ code: 'INVALID_ACTOR_ID' });
    expect((badActor as Error).message).toMatch(/well-formed/);
    const badCommandId = await rt.send(Counter.ref('x'), { type: 'add', payload: { by: 1 }, commandId: 'c\ud83d' }).catch((e: unknown) => e);
    expect(badCommandId).toBeInstanceOf(InvalidPayloadError);
    expect(badCommandId).toMatchObject({ code: 'INVALID_PAYLOAD' });
    expect((badCommandId as Error).message).toMatch(/well-formed/);
    expect(store.packCount).toBe(0);
  });
});
