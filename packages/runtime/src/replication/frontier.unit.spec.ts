import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../store/index.js';
import type { FrontierEntry, FrontierTable } from '../store/regionLog.js';
import { makeChain, uniqueActor, appendChain } from '../testkit/fixtures.js';
import { cursorAtOrPast, frontierChanges, laterEntry, mergeFrontierTables, parseRegionCursor } from './frontier.js';
import { publishProgress } from './regionReplication.js';

describe('parseRegionCursor', () => {
  it.each([
    ['12', undefined, [12]],
    ['0', undefined, [0]],
    ['store-1:4', 'store-1', [4]],
    ['id:1.2.3', 'id', [1, 2, 3]],
    ['a:b:7', 'a:b', [7]],
    ['x:999999999999999', 'x', [999_999_999_999_999]],
  ] as const)('%s is identity %s, offsets %j', (cursor, identity, offsets) => {
    expect(parseRegionCursor(cursor)).toEqual({ identity, offsets });
  });

  it.each(['', ':1', 'x:', '1.', '.1', '-1', '1e3', ' 1', 'x: 1', '1234567890123456', 'x:1..2', '0x10'])('%j is not a cursor', (cursor) => {
    expect(parseRegionCursor(cursor)).toBeUndefined();
  });

  it('reads every string as the definition does (identity before the last colon, offsets of 1 to 15 digits)', () => {
    // The definition, as the parser was first written: split and a regular expression per offset.
    const definition = (cursor: string) => {
      const colon = cursor.lastIndexOf(':');
      const identity = colon >= 0 ? cursor.slice(0, colon) : undefined;
      const parts = cursor.slice(colon + 1).split('.');
      if (identity === '' || parts.some((part) => !/^\d{1,15}$/.test(part))) return undefined;
      return { identity, offsets: parts.map(Number) };
    };
    const piece = fc.oneof(fc.constantFrom(':', '.', '0', '9', 'a', '-', ' '), fc.stringMatching(/^\d{1,17}$/));
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 8 }), (pieces) => {
        const cursor = pieces.join('');
        expect(parseRegionCursor(cursor)).toEqual(definition(cursor));
      }),
      { numRuns: 2_000 },
    );
  });
});

describe('cursorAtOrPast', () => {
  it.each([
    ['5', '3', true],
    ['3', '3', true],
    ['2', '3', false],
    ['s:4.4', 's:4.3', true],
    ['s:4.2', 's:3.3', false],
    ['s:3.3', 's:3.3', true],
  ] as const)('%s at or past %s: %s', (b, a, expected) => {
    expect(cursorAtOrPast(b, a)).toBe(expected);
  });

  it('is false across stores, shard counts, and for anything not a cursor', () => {
    expect(cursorAtOrPast('t:9', 's:1')).toBe(false);
    expect(cursorAtOrPast('9', 's:1')).toBe(false);
    expect(cursorAtOrPast('s:9.9', 's:1')).toBe(false);
    expect(cursorAtOrPast('s:9', 's:1.1')).toBe(false);
    expect(cursorAtOrPast('junk', '1')).toBe(false);
    expect(cursorAtOrPast('1', 'junk')).toBe(false);
  });
});

describe('laterEntry', () => {
  const entry = (cursor: string, at: number): FrontierEntry => ({ cursor, at });

  it('takes an offered entry for an empty slot, and one further along the same log', () => {
    const offered = entry('3', 10);
    expect(laterEntry(undefined, offered)).toBe(offered);
    const further = entry('5', 5);
    expect(laterEntry(entry('3', 10), further)).toBe(further);
  });

  it('never moves a frontier back: an entry behind the held one is refused, whatever its time', () => {
    const held = entry('5', 10);
    expect(laterEntry(held, entry('3', 99))).toBe(held);
    const sharded = entry('s:5.5', 10);
    expect(laterEntry(sharded, entry('s:6.4', 99))).toBe(sharded);
  });

  it('the same cursor saved later is a heartbeat (taken); saved earlier or at the same time, the held one stays', () => {
    const held = entry('5', 10);
    const heartbeat = entry('5', 11);
    expect(laterEntry(held, heartbeat)).toBe(heartbeat);
    expect(laterEntry(held, entry('5', 10))).toBe(held);
    expect(laterEntry(held, entry('5', 9))).toBe(held);
  });

  it('across stores (the source started over with a new identity, or new shards), the one saved later', () => {
    const held = entry('old:50', 10);
    const restarted = entry('new:2', 11);
    expect(laterEntry(held, restarted)).toBe(restarted);
    expect(laterEntry(held, entry('new:2', 9))).toBe(held);
    const resharded = entry('old:1.1', 11);
    expect(laterEntry(held, resharded)).toBe(resharded);
  });
});

describe('mergeFrontierTables and frontierChanges', () => {
  const a: FrontierTable = { eu: { us: { cursor: '5', at: 1 }, ap: { cursor: '2', at: 1 } }, us: { eu: { cursor: '7', at: 1 } } };
  const b: FrontierTable = { eu: { us: { cursor: '3', at: 2 }, ap: { cursor: '4', at: 2 } }, ap: { eu: { cursor: '1', at: 2 } } };

  it('merges entry by entry, each the later one, and changes neither table', () => {
    const before = structuredClone({ a, b });
    const merged = mergeFrontierTables(a, b);
    expect(merged).toEqual({
      eu: { us: { cursor: '5', at: 1 }, ap: { cursor: '4', at: 2 } },
      us: { eu: { cursor: '7', at: 1 } },
      ap: { eu: { cursor: '1', at: 2 } },
    });
    expect(mergeFrontierTables(b, a)).toEqual(merged);
    expect({ a, b }).toEqual(before);
  });

  it('frontierChanges lists only the entries that would change the held table', () => {
    expect(frontierChanges(a, b)).toEqual({ eu: { ap: { cursor: '4', at: 2 } }, ap: { eu: { cursor: '1', at: 2 } } });
    expect(frontierChanges(a, a)).toEqual({});
    expect(frontierChanges(a, { us: { eu: { cursor: '7', at: 2 } } })).toEqual({ us: { eu: { cursor: '7', at: 2 } } });
    expect(frontierChanges({}, {})).toEqual({});
  });
});

describe('publishProgress', () => {
  it("publishes the link's position in this region's table and merges the source's table, except this region's own row", async () => {
    const here = new MemoryStore();
    const source = new MemoryStore();
    await appendChain(source, makeChain(uniqueActor(), 3, 'us'));
    await source.mergeFrontier({
      us: { ap: { cursor: '8', at: 1 } },
      ap: { us: { cursor: '2', at: 1 } },
      eu: { us: { cursor: '999', at: Date.now() + 60_000 }, ap: { cursor: '999', at: Date.now() + 60_000 } },
    });
    const before = Date.now();
    expect(await publishProgress('eu', here, { region: 'us', store: source }, '3')).toBe('3');
    const table = await here.frontier();
    expect(table.us).toEqual({ ap: { cursor: '8', at: 1 } });
    expect(table.ap).toEqual({ us: { cursor: '2', at: 1 } });
    expect(Object.keys(table.eu!)).toEqual(['us']);
    expect(table.eu!.us!.cursor).toBe('3');
    expect(table.eu!.us!.at).toBeGreaterThanOrEqual(before);
  });

  it('a link that has copied nothing from an empty source publishes the start of its log', async () => {
    const here = new MemoryStore();
    expect(await publishProgress('eu', here, { region: 'us', store: new MemoryStore() }, undefined)).toBe('0');
    expect((await here.frontier()).eu?.us?.cursor).toBe('0');
  });

  it('a later call moves the entry forward, never back', async () => {
    const here = new MemoryStore();
    const source = new MemoryStore();
    await appendChain(source, makeChain(uniqueActor(), 3, 'us'));
    await publishProgress('eu', here, { region: 'us', store: source }, '3');
    await publishProgress('eu', here, { region: 'us', store: source }, '1');
    expect((await here.frontier()).eu?.us?.cursor).toBe('3');
  });
});
