import { describe, expect, it } from 'vitest';
import { InvalidCursorError, LimitExceededError } from '../errors/index.js';
import { makeChain } from '../testkit/fixtures.js';
import { MemoryStore } from './memoryStore.js';

/**
 * The MemoryStore's refusals say what was refused and why. Added for the mutation score of
 * `store` (TESTING.md): emptied messages survived every other test.
 */
describe('MemoryStore refusals', () => {
  it('a history over the limit names the actor, its pack count and the limit', async () => {
    const store = new MemoryStore();
    const actor = { type: 'ledger', id: 'long' };
    await store.merge(makeChain(actor, 3));
    const error = await store.history(actor, { limit: 2 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LimitExceededError);
    expect((error as Error).message).toContain('ledger:long has 3 packs, more than the history limit of 2');
  });

  it('a cursor that is not a log position says what a MemoryStore cursor is', async () => {
    const error = await new MemoryStore().changesSince('abc', 10).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidCursorError);
    expect((error as Error).message).toContain('a MemoryStore cursor is a log position (a decimal integer)');
  });
});
