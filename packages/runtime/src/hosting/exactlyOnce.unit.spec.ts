import { afterEach, describe, expect, it } from 'vitest';
import { DuplicateCommandError, MemoryStore, type Runtime, createRuntime } from '../index.js';
import { Ledger, ManualClock, makePack } from '../testkit/index.js';

let runtimes: Runtime[] = [];
afterEach(async () => {
  await Promise.all(runtimes.map((r) => r.stop()));
  runtimes = [];
});

describe('exactly once per store, whatever the message says (#14 defect 3)', () => {
  it('a command id resent with checkDuplicate: false is answered with the first result and applied once', async () => {
    const store = new MemoryStore();
    const rt = createRuntime({ actors: [Ledger], store });
    runtimes.push(rt);
    const alice = Ledger.ref('alice');
    const first = await rt.send(alice, { type: 'deposit', payload: { n: 5 }, commandId: 'pay-1' });
    const again = await rt.send(alice, { type: 'deposit', payload: { n: 5 }, commandId: 'pay-1', checkDuplicate: false });
    expect(first).toMatchObject({ status: 'accepted', duplicate: false });
    expect(again).toMatchObject({ status: 'accepted', duplicate: true, version: first.status === 'accepted' ? first.version : undefined });
    expect((await rt.inspect<{ balance: number }>(alice)).state.balance).toBe(5);
    expect((await store.history(alice)).length).toBe(1);
  });

  it('a resend with checkDuplicate: false that the current state would refuse still gets the first result', async () => {
    const rt = createRuntime({ actors: [Ledger] });
    runtimes.push(rt);
    const alice = Ledger.ref('alice');
    await rt.send(alice, { type: 'deposit', payload: { n: 5 } });
    const first = await rt.send(alice, { type: 'withdraw', payload: { n: 5 }, commandId: 'w-1' });
    const again = await rt.send(alice, { type: 'withdraw', payload: { n: 5 }, commandId: 'w-1', checkDuplicate: false });
    expect(first).toMatchObject({ status: 'accepted', duplicate: false });
    expect(again).toMatchObject({ status: 'accepted', duplicate: true });
    // A genuinely new command that the state refuses is still refused.
    expect(await rt.send(alice, { type: 'withdraw', payload: { n: 5 }, commandId: 'w-2', checkDuplicate: false })).toMatchObject({ status: 'rejected' });
  });

  it('from another runtime on the same store, too (one id, one pack)', async () => {
    const store = new MemoryStore();
    const a = createRuntime({ actors: [Ledger], store, replicaId: 'a' });
    const b = createRuntime({ actors: [Ledger], store, replicaId: 'b' });
    runtimes.push(a, b);
    const alice = Ledger.ref('alice');
    await b.inspect(alice); // b caches the empty actor
    await a.send(alice, { type: 'deposit', payload: { n: 5 }, commandId: 'pay-1' });
    const again = await b.send(alice, { type: 'deposit', payload: { n: 5 }, commandId: 'pay-1', checkDuplicate: false });
    expect(again).toMatchObject({ status: 'accepted', duplicate: true });
    expect((await store.history(alice)).length).toBe(1);
  });

  it('the store refuses to append a pack with a recorded command id, and writes nothing', async () => {
    const store = new MemoryStore();
    const actor = { type: 'ledger', id: 'x' };
    const first = makePack({ actor, version: { r: 1 }, commandIds: ['cmd-1'] });
    await store.append(first, []);
    const second = makePack({ actor, version: { r: 2 }, parents: [{ r: 1 }], commandIds: ['cmd-1'] });
    const error = await store.append(second, ['r:1']).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DuplicateCommandError);
    expect(error).toMatchObject({ code: 'DUPLICATE_COMMAND', commandId: 'cmd-1', actorKey: 'ledger:x' });
    expect((await store.heads(actor)).map((p) => p.version)).toEqual([{ r: 1 }]);
    // merge() still takes a copy applied on another branch (resolution keeps one of them).
    const otherBranch = makePack({ actor, version: { q: 1, r: 1 }, parents: [{ r: 1 }], commandIds: ['cmd-1'] });
    expect(await store.merge([otherBranch])).toMatchObject({ added: 1, skipped: 0 });
  });
});

describe('ids the runtime draws itself', () => {
  it('two runtimes with one replica id and one machine id on one store never swallow each other\'s commands', async () => {
    const store = new MemoryStore();
    const clock = new ManualClock(1_000); // both draw the same flake ids in the same millisecond
    const a = createRuntime({ actors: [Ledger], store, replicaId: 'w', clock });
    const b = createRuntime({ actors: [Ledger], store, replicaId: 'w', clock });
    runtimes.push(a, b);
    const alice = Ledger.ref('alice');
    const replies = [];
    for (let i = 0; i < 10; i++) {
      replies.push(await a.send(alice, { type: 'deposit', payload: { n: 1 } }));
      replies.push(await b.send(alice, { type: 'deposit', payload: { n: 1 } }));
    }
    expect(replies.every((r) => r.status === 'accepted' && !r.duplicate)).toBe(true);
    expect(new Set(replies.map((r) => r.commandId)).size).toBe(20);
    expect((await a.inspect<{ balance: number }>(alice)).state.balance).toBe(20);
    expect((await store.history(alice)).length).toBe(20);
  });
});
