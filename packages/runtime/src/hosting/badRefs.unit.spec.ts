import { afterEach, describe, expect, it } from 'vitest';
import { InvalidActorIdError, InvalidDecisionError, MemoryStore, type Runtime, type UntypedRef, createRuntime, defineActor, untyped } from '../index.js';

const Thing = defineActor({
  type: 'thing',
  initial: () => ({ n: 0 }),
  commands: {
    add: (_s, p: { n: number }) => [{ type: 'added', data: p }],
    notAnArray: () => ({ type: 'added', data: { n: 1 } }) as never,
    unknownEvent: () => [{ type: 'vanished', data: {} } as never],
  },
  events: { added: (s, d: { n: number }) => ({ n: s.n + d.n }) },
});

let runtime: Runtime;
let store: MemoryStore;
afterEach(() => runtime.stop());
function start(): Runtime {
  store = new MemoryStore();
  runtime = createRuntime({ actors: [Thing], store });
  return runtime;
}

describe('bad refs and bad decisions', () => {
  it.each([
    ['an empty id', ''],
    ['an id of 257 characters', 'x'.repeat(257)],
    ['a lone surrogate', 'a\uD800b'],
    ['a number', 42 as unknown as string],
  ])('refuses %s with InvalidActorIdError on send, inspect and resolve; nothing is stored', async (_name, id) => {
    const rt = start();
    const ref = { type: 'thing', id } as UntypedRef;
    for (const call of [() => rt.send(ref, { type: 'add', payload: { n: 1 } }), () => rt.inspect(ref), () => rt.resolve(ref)]) {
      const error = await call().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvalidActorIdError);
      expect(error).toMatchObject({ code: 'INVALID_ACTOR_ID', actorType: 'thing' });
    }
    expect((await store.changesSince(undefined, 10)).packs).toEqual([]);
  });

  it('a decider returning neither events nor reject(), or an undeclared event type, fails with InvalidDecisionError and persists nothing', async () => {
    const rt = start();
    const ref = Thing.ref('t');
    await expect(rt.send(ref, { type: 'notAnArray', payload: undefined as never })).rejects.toMatchObject({
      code: 'INVALID_DECISION',
      actorType: 'thing',
      command: 'notAnArray',
    });
    const error = await rt.send(ref, { type: 'unknownEvent', payload: undefined as never }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidDecisionError);
    expect((error as Error).message).toMatch(/unknown type 'vanished'/);
    expect((await store.changesSince(undefined, 10)).packs).toEqual([]);
  });

  it.each(['commandId', 'correlationId', 'initiatedBy'] as const)(
    'refuses a %s that would not read back the same (a lone surrogate) with InvalidPayloadError; nothing is stored',
    async (field) => {
      const rt = start();
      const error = await rt.send(Thing.ref('t'), { type: 'add', payload: { n: 1 }, [field]: 'a\uD800' }).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'INVALID_PAYLOAD' });
      expect((error as Error).message).toContain(`${field} must be a string of 1-256 characters of well-formed Unicode`);
      expect((await store.changesSince(undefined, 10)).packs).toEqual([]);
    },
  );

  it('untyped(ref) sends a command known only at run time to an actor held by a typed ref, validated at run time', async () => {
    const rt = start();
    const typed = Thing.ref('t');
    const fromJson = JSON.parse('{"type":"add","payload":{"n":2}}') as { type: string; payload: unknown };
    expect(await rt.send(untyped(typed), fromJson)).toMatchObject({ status: 'accepted' });
    await expect(rt.send(untyped(typed), { type: 'nope' })).rejects.toMatchObject({ code: 'UNKNOWN_COMMAND' });
    expect((await rt.inspect(typed)).state).toEqual({ n: 2 });
  });
});
