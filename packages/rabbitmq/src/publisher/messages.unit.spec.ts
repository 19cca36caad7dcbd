import { describe, expect, it } from 'vitest';
import { Packr } from 'msgpackr';
import type { EventRecord, Pack } from '@troupe/runtime';
import { MalformedMessageError } from '../errors/index.js';
import { type MergeMarker, decodePublication, eventMessage, mergeMarkerId, mergeMarkerMessage, publicationContentType, publicationVersion } from './messages.js';

const event: EventRecord = {
  id: '0000018c2f3a4b5c-0001-0000',
  actor: { type: 'account', id: 'a-1' },
  type: 'deposited',
  data: { amount: 5, at: new Date(1_700_000_000_123), raw: new Uint8Array([1, 2, 3]) },
  ts: 1_700_000_000_123,
  correlationId: 'corr-1',
  causationId: 'cmd-1',
  initiatedBy: 'alice',
  replica: 'eu',
};
const pack: Pack = {
  actor: { type: 'account', id: 'a-1' },
  kind: 'command',
  version: { us: 1, eu: 3 },
  parents: [{ us: 1, eu: 2 }],
  events: [event],
  commandIds: ['cmd-1'],
  replica: 'eu',
  ts: event.ts,
};

describe('published messages', () => {
  it('an event goes out as <actorType>.<eventType>, its id as messageId, persistent, with the pack in its headers and the whole record as its body', () => {
    const m = eventMessage(pack, event);
    expect(m.routingKey).toBe('account.deposited');
    expect(m.properties).toMatchObject({
      messageId: event.id,
      type: 'deposited',
      timestamp: 1_700_000_000,
      correlationId: 'corr-1',
      contentType: publicationContentType,
      persistent: true,
    });
    expect(m.properties.headers).toEqual({
      'x-troupe-publication': publicationVersion,
      'x-troupe-actor-type': 'account',
      'x-troupe-actor-id': 'a-1',
      'x-troupe-version': 'eu:3,us:1',
      'x-troupe-pack-kind': 'command',
      'x-troupe-causation-id': 'cmd-1',
      'x-troupe-replica': 'eu',
      'x-troupe-initiated-by': 'alice',
    });
    // Values JSON could not carry (a Date, bytes) come back as they were stored.
    expect(decodePublication(m.content)).toEqual({ kind: 'event', event });
  });

  it('a merge marker goes out as <actorType>.$merge with a stable id, the merge version, heads and ancestor in its headers', () => {
    const merge: Pack = { ...pack, kind: 'merge', version: { us: 2, eu: 3 }, parents: [{ us: 2, eu: 1 }, { eu: 3, us: 1 }], events: [], commandIds: [], replica: 'merge' };
    const marker: MergeMarker = {
      v: publicationVersion,
      kind: 'merge',
      actor: merge.actor,
      version: merge.version,
      heads: merge.parents,
      ancestor: { us: 1, eu: 1 },
      replayed: ['e2', 'e1'],
      dropped: ['e3'],
      compensations: [],
    };
    const m = mergeMarkerMessage(merge, marker);
    expect(m.routingKey).toBe('account.$merge');
    expect(m.properties.messageId).toBe(mergeMarkerId(merge.actor, { eu: 3, us: 2 }));
    expect(m.properties.messageId).toBe('merge:account:a-1@eu:3,us:2');
    expect(m.properties.type).toBe('$merge');
    expect(m.properties.headers).toMatchObject({
      'x-troupe-version': 'eu:3,us:2',
      'x-troupe-pack-kind': 'merge',
      'x-troupe-heads': ['eu:1,us:2', 'eu:3,us:1'],
      'x-troupe-ancestor': 'eu:1,us:1',
    });
    expect(decodePublication(m.content)).toEqual({ kind: 'merge', marker });
    const rootless = mergeMarkerMessage(merge, { ...marker, ancestor: undefined } as MergeMarker);
    expect(rootless.properties.headers).not.toHaveProperty('x-troupe-ancestor');
  });

  it('decodePublication refuses what is not a publication', () => {
    const packr = new Packr({ useRecords: false });
    for (const bytes of [Buffer.from([0xc1]), packr.pack([1, 2]), packr.pack({ id: 'x' }), packr.pack({ kind: 'merge', v: 2, actor: { type: 'a', id: 'b' }, replayed: [], dropped: [], compensations: [] })]) {
      expect(() => decodePublication(bytes)).toThrow(MalformedMessageError);
    }
  });
});
