import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../index.js';
import { messagesPerSlice } from './runtime.js';
import { Ledger } from '../testkit/index.js';
import { runtimesStoppedAfterEach } from '../specHelpers/runtimes.js';

/**
 * The runtime's own mailboxes (#17: an entity is no longer a nact actor): a message is never
 * handled inside send(), the event loop gets a turn at least every `messagesPerSlice` messages
 * even when the store never does I/O, and what a command's reply carries is the frozen pack the
 * MemoryStore holds (so it cannot be changed through the reply).
 */
const started = runtimesStoppedAfterEach();
const alice = Ledger.ref('alice');

describe('mailboxes', () => {
  it('send() returns before the command is decided: the caller\'s next statement runs first', async () => {
    const store = new MemoryStore();
    const rt = started({ actors: [Ledger], store });
    const sent = rt.send(alice, { type: 'deposit', payload: { n: 1 } });
    expect(store.packCount).toBe(0);
    await sent;
    expect(store.packCount).toBe(1);
  });

  it(`gives the event loop a turn at least every ${messagesPerSlice} messages on a store without I/O`, async () => {
    const rt = started({ actors: [Ledger] });
    let turns = 0;
    let counting = true;
    const tick = (): void => {
      turns++;
      if (counting) setImmediate(tick);
    };
    setImmediate(tick);
    const commands = messagesPerSlice * 10;
    for (let i = 0; i < commands; i++) await rt.send(alice, { type: 'deposit', payload: { n: 1 } });
    counting = false;
    expect(turns).toBeGreaterThanOrEqual(commands / messagesPerSlice - 1);
    expect((await rt.inspect<{ balance: number }>(alice)).state.balance).toBe(commands);
  });

  it('keeps one actor\'s messages in order and one at a time across slices, with many actors in flight', async () => {
    const rt = started({ actors: [Ledger] });
    const refs = Array.from({ length: 50 }, (_, i) => Ledger.ref(`a${i}`));
    const replies = await Promise.all(refs.flatMap((ref) => Array.from({ length: 5 }, (_, n) => rt.send(ref, { type: 'note', payload: { tag: `${ref.id}-${n}` } }))));
    expect(replies.every((r) => r.status === 'accepted')).toBe(true);
    for (const ref of refs) {
      const history = await rt.store.history(ref);
      expect(history.map((p) => (p.events[0]!.data as { tag: string }).tag)).toEqual(Array.from({ length: 5 }, (_, n) => `${ref.id}-${n}`));
      expect(history.map((p) => p.version)).toEqual(Array.from({ length: 5 }, (_, n) => ({ local: n + 1 })));
    }
  });

  it('a reply\'s events are frozen: changing them throws and the stored pack is unchanged', async () => {
    const rt = started({ actors: [Ledger] });
    const reply = await rt.send(alice, { type: 'deposit', payload: { n: 5 } });
    if (reply.status !== 'accepted') throw new Error('not accepted');
    expect(() => ((reply.events[0]!.data as { n: number }).n = 500)).toThrow(TypeError);
    expect(() => (reply.events as unknown[]).push({})).toThrow(TypeError);
    expect(() => ((reply.version as Record<string, number>)['local'] = 9)).toThrow(TypeError);
    const [head] = await rt.store.heads(alice);
    expect(head!.events[0]!.data).toEqual({ n: 5 });
    expect(head!.version).toEqual({ local: 1 });
    expect((await rt.inspect<{ balance: number }>(alice)).state.balance).toBe(5);
  });
});
