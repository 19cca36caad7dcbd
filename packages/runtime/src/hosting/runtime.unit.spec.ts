import { describe, expect, it } from 'vitest';
import { createRuntime, defineActor, reject, MemoryStore, ReplicationLink, UnknownCommandError, UnknownActorTypeError, InvalidPayloadError } from '../index.js';

const Counter = defineActor({
  type: 'counter',
  initial: () => ({ value: 0 }),
  commands: {
    add: (_s, p: { by: number }) => [{ type: 'added', data: { by: p.by } }],
    take: (s, p: { by: number }) => (s.value >= p.by ? [{ type: 'added', data: { by: -p.by } }] : reject('not enough')),
  },
  events: {
    added: (s, d: { by: number }) => ({ value: s.value + d.by }),
  },
  validate: { add: (p) => (typeof (p as { by?: unknown })?.by === 'number' ? undefined : 'by must be a number') },
  snapshotEvery: 3,
});

describe('Runtime (smoke)', () => {
  it('accepts, rejects and keeps order', async () => {
    const rt = createRuntime({ actors: [Counter] });
    const ref = Counter.ref('c1');
    const replies = await Promise.all(Array.from({ length: 10 }, () => rt.send(ref, { type: 'add', payload: { by: 1 } })));
    expect(replies.every((r) => r.status === 'accepted')).toBe(true);
    expect(await rt.send(ref, { type: 'take', payload: { by: 100 } })).toMatchObject({ status: 'rejected', reason: 'not enough' });
    const view = await rt.inspect<{ value: number }>(ref);
    expect(view.state.value).toBe(10);
    expect(view.version).toEqual({ local: 10 });
    await expect(rt.send(ref, { type: 'nope', payload: {} } as never)).rejects.toBeInstanceOf(UnknownCommandError);
    await expect(rt.send({ type: 'x', id: '1' }, { type: 'add', payload: {} })).rejects.toBeInstanceOf(UnknownActorTypeError);
    await expect(rt.send(ref, { type: 'add', payload: { by: 'x' } } as never)).rejects.toBeInstanceOf(InvalidPayloadError);
    await rt.stop();
  });

  it('partition and heal converge', async () => {
    const a = createRuntime({ actors: [Counter], replicaId: 'a', store: new MemoryStore() });
    const b = createRuntime({ actors: [Counter], replicaId: 'b', store: new MemoryStore() });
    const link = new ReplicationLink(a, b);
    const ref = Counter.ref('c1');
    await a.send(ref, { type: 'add', payload: { by: 5 } });
    await link.settle();
    link.partition();
    await a.send(ref, { type: 'add', payload: { by: 1 } });
    await b.send(ref, { type: 'add', payload: { by: 2 } });
    await b.send(ref, { type: 'add', payload: { by: 3 } });
    link.heal();
    await link.settle();
    const va = await a.inspect<{ value: number }>(ref);
    const vb = await b.inspect<{ value: number }>(ref);
    expect(va.state.value).toBe(11);
    expect(vb).toEqual(va);
    expect(va.version).toEqual({ a: 2, b: 2 });
    await a.stop();
    await b.stop();
  });
});
