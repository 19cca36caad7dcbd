import { describe, expect, it } from 'vitest';
import { InvalidCursorError, MemoryStore } from '../index.js';
import { makePack } from '../testkit/index.js';

describe('MemoryStore cursors', () => {
  it('refuses a cursor it did not hand out, or one ahead of its log, with InvalidCursorError naming both positions', async () => {
    const store = new MemoryStore();
    await store.append(makePack({ actor: { type: 't', id: 'a' }, version: { r: 1 } }), []);
    const { cursor } = await store.changesSince(undefined, 10);
    expect(cursor).toBe('1');
    for (const bad of ['', 'x', '-1', '1.5', '01', 'NaN']) {
      await expect(store.changesSince(bad, 10), bad).rejects.toBeInstanceOf(InvalidCursorError);
    }
    const ahead = await store.changesSince('7', 10).catch((e: unknown) => e);
    expect(ahead).toMatchObject({ code: 'INVALID_CURSOR', cursor: '7' });
    expect((ahead as Error).message).toMatch(/ahead of this store's log, which holds 1 entries/);
    expect((await store.changesSince('1', 10)).packs).toEqual([]);
  });
});
