import { describe, expect, it } from 'vitest';
import { LimitExceededError, MissingAncestorError } from '../errors/index.js';
import type { EventStore } from '../store/index.js';
import { makePack } from '../testkit/fixtures.js';
import { commandHeads, findDivergence } from './ancestry.js';

/**
 * The ancestor walk's limits and its refusal of a history with a hole, each at its exact bound.
 * Added for the mutation score (TESTING.md): no test reached the limits, and a missing parent
 * only ever failed later, with a TypeError.
 */
const actor = { type: 'ledger', id: 'walk' };
/** A store that holds no pack at all: every parent the walk asks for is missing. */
const emptyStore = { getPacks: async (_actor: unknown, keys: readonly string[]) => keys.map(() => undefined) } as unknown as EventStore;
const roots = (n: number) => Array.from({ length: n }, (_, i) => makePack({ actor, version: { [`r${i}`]: 1 } }));
const limits = (headsMax: number, packsVisitedMax: number) => ({ headsMax, packsVisitedMax });

describe('findDivergence limits', () => {
  it('headsMax heads are walked, one more is refused naming the option', async () => {
    await expect(findDivergence(emptyStore, actor, roots(3), limits(3, 100))).resolves.toMatchObject({ packs: expect.any(Array) });
    const refused = findDivergence(emptyStore, actor, roots(3), limits(2, 100));
    await expect(refused).rejects.toThrow(LimitExceededError);
    await expect(findDivergence(emptyStore, actor, roots(3), limits(2, 100))).rejects.toThrow(
      "ledger:walk has 3 heads to resolve, more than 2 (raise the 'headsMax' option if this is expected)",
    );
  });

  it('packsVisitedMax packs are read, one more is refused naming the option', async () => {
    // Two concurrent roots: the walk visits both and finds no common ancestor.
    const walked = await findDivergence(emptyStore, actor, roots(2), limits(30, 2));
    expect(walked.ancestor).toBeUndefined();
    expect(walked.packs).toHaveLength(2);
    await expect(findDivergence(emptyStore, actor, roots(2), limits(30, 1))).rejects.toThrow(
      "resolving ledger:walk visited more than 1 packs (raise the 'packsVisitedMax' option if this is expected)",
    );
  });
});

describe('a missing parent', () => {
  const child = (key: string) => makePack({ actor, version: { a: 1, [key]: 1 }, parents: [{ a: 1 }] });

  it('stops the ancestor walk with MissingAncestorError naming the pack', async () => {
    await expect(findDivergence(emptyStore, actor, [child('b'), child('c')])).rejects.toThrow(MissingAncestorError);
    await expect(findDivergence(emptyStore, actor, [child('b'), child('c')])).rejects.toThrow('pack a:1 of ledger:walk is not in the store');
  });

  it('stops unfolding a merge head with MissingAncestorError naming the pack', async () => {
    const merge = makePack({ actor, kind: 'merge', version: { a: 1, b: 1 }, parents: [{ a: 1 }, { b: 1 }] });
    await expect(commandHeads(emptyStore, actor, [merge])).rejects.toThrow(MissingAncestorError);
    await expect(commandHeads(emptyStore, actor, [merge])).rejects.toThrow('pack a:1 of ledger:walk is not in the store');
  });
});
