import { describe, expect, it } from 'vitest';
import type { Pack } from '../model/index.js';
import { makeEvent, makePack } from '../testkit/fixtures.js';
import { type CommandCopy, copiesOf, survivingCopy } from './survivingCopy.js';

/**
 * The rule that picks which copy of a retried command survives a merge, checked on its own: the
 * merges and the simulator reach it only with copies that carry one event each. Added for the
 * mutation score (TESTING.md): every branch of `survivingCopy` had no test.
 */
const actor = { type: 'ledger', id: 'copies' };
const event = (ts: number, causationId = 'cmd') => makeEvent(actor, { ts, causationId });
const copy = (key: string, ...tss: number[]): CommandCopy => ({
  pack: makePack({ actor, version: { [key]: 1 } }),
  key,
  events: tss.map((ts) => event(ts)),
});

describe('survivingCopy', () => {
  it('the copy whose earliest event replays first survives, wherever that event sits in its pack', () => {
    const late = copy('a', 3);
    expect(survivingCopy([late, copy('b', 5, 1)]).key).toBe('b');
    expect(survivingCopy([late, copy('c', 1, 5)]).key).toBe('c');
    expect(survivingCopy([copy('d', 1, 5), late]).key).toBe('d');
    expect(survivingCopy([copy('e', 5, 4), late]).key).toBe('a');
  });

  it('a copy with events survives one without, in either order', () => {
    expect(survivingCopy([copy('a'), copy('z', 9)]).key).toBe('z');
    expect(survivingCopy([copy('z', 9), copy('a')]).key).toBe('z');
  });

  it('between copies without events the smaller version key survives, in either order', () => {
    expect(survivingCopy([copy('b'), copy('a')]).key).toBe('a');
    expect(survivingCopy([copy('a'), copy('b')]).key).toBe('a');
  });

  it('throws on no copies', () => {
    expect(() => survivingCopy([])).toThrow('survivingCopy: no copies');
  });
});

describe('copiesOf', () => {
  it('keeps, per pack that lists the command, only the events that command caused', () => {
    const mine = event(2, 'mine');
    const other = event(1, 'other');
    const pack: Pack = { ...makePack({ actor, version: { a: 1 }, commandIds: ['mine', 'other'] }), events: [other, mine] };
    const unrelated = makePack({ actor, version: { b: 1 }, commandIds: ['other'] });
    const copies = copiesOf('mine', [pack, unrelated]);
    expect(copies).toHaveLength(1);
    expect(copies[0]!.key).toBe('a:1');
    expect(copies[0]!.events).toEqual([mine]);
  });
});
