import { afterEach, describe, expect, it } from 'vitest';
import { InvalidPayloadError, ReplicationLink, type Runtime, createRuntime, defineActor, reject } from '../index.js';
import { canonical, decodePack, decodeValue, encodePack, encodeValue } from './index.js';
import { makePack } from '../testkit/index.js';

interface Inventory {
  readonly stock: number;
  readonly reservations: Readonly<Record<string, number>>;
}

/** The reproduction of #14's first defect: reservations keyed by an order id that comes from the user. */
const Inventory = defineActor({
  type: 'inventory',
  initial: (): Inventory => ({ stock: 0, reservations: {} }),
  commands: {
    restock: (_s, p: { qty: number }) => [{ type: 'restocked', data: { qty: p.qty } }],
    reserve: (s, p: { order: string; qty: number }) =>
      s.stock >= p.qty ? [{ type: 'reserved', data: p }] : reject('out of stock'),
    cancel: (s, p: { order: string }) =>
      Object.hasOwn(s.reservations, p.order) ? [{ type: 'cancelled', data: p }] : reject('no reservation'),
  },
  events: {
    restocked: (s, d: { qty: number }) => ({ ...s, stock: s.stock + d.qty }),
    reserved: (s, d: { order: string; qty: number }) => ({ stock: s.stock - d.qty, reservations: { ...s.reservations, [d.order]: d.qty } }),
    cancelled: (s, d: { order: string }) => {
      const held = s.reservations[d.order] ?? 0;
      const reservations = Object.fromEntries(Object.entries(s.reservations).filter(([order]) => order !== d.order));
      return { stock: s.stock + held, reservations };
    },
  },
  snapshotEvery: 5,
});

let runtimes: Runtime[] = [];
afterEach(async () => {
  await Promise.all(runtimes.map((r) => r.stop()));
  runtimes = [];
});

describe('keys named __proto__ (#14, defect 1)', () => {
  it('a state keyed "__proto__" reads back from a snapshot, a merge pack and canonical() as the live state, with no prototype touched', () => {
    const state = { reservations: { ['__proto__']: 2, ['__proto_']: 3, a: 1 }, list: [{ ['__proto__']: { deep: true } }] };
    for (const back of [decodeValue(encodeValue(state), 'snapshot'), canonical(state)] as (typeof state)[]) {
      expect(back).toEqual(state);
      expect(Object.keys(back.reservations)).toEqual(['__proto__', '__proto_', 'a']);
      expect(Object.getPrototypeOf(back.reservations)).toBe(Object.prototype);
      expect(Object.getPrototypeOf(back.list[0])).toBe(Object.prototype);
    }
    const pack = { ...makePack({ actor: { type: 'inventory', id: 'i' }, version: { a: 1 }, kind: 'merge', parents: [] }), state };
    expect(decodePack(encodePack(pack), 'merge pack').state).toEqual(state);
    expect(({} as Record<string, unknown>).deep).toBeUndefined();
  });

  it('the partition scenario: both replicas cancel the "__proto__" order, and after the heal it is gone everywhere', async () => {
    const eu = createRuntime({ actors: [Inventory], replicaId: 'eu' });
    const us = createRuntime({ actors: [Inventory], replicaId: 'us' });
    runtimes.push(eu, us);
    const link = new ReplicationLink(eu, us);
    const item = Inventory.ref('widget');
    for (let i = 0; i < 4; i++) await eu.send(item, { type: 'restock', payload: { qty: 1 } });
    // The fifth event writes a snapshot whose state holds the reservation.
    expect(await eu.send(item, { type: 'reserve', payload: { order: '__proto__', qty: 2 } })).toMatchObject({ status: 'accepted' });
    await link.settle(); // us loads from the snapshot that travelled with the pack
    link.partition();
    expect(await eu.send(item, { type: 'cancel', payload: { order: '__proto__' } })).toMatchObject({ status: 'accepted' });
    expect(await us.send(item, { type: 'cancel', payload: { order: '__proto__' } })).toMatchObject({ status: 'accepted' });
    link.heal();
    await link.settle();
    const [a, b] = await Promise.all([eu.inspect<Inventory>(item), us.inspect<Inventory>(item)]);
    expect(b).toEqual(a);
    expect(Object.keys(a.state.reservations)).toEqual([]);
  });

  it('refuses a payload with a key named __proto__ anywhere, with InvalidPayloadError naming its path; nothing is persisted', async () => {
    const rt = createRuntime({ actors: [Inventory] });
    runtimes.push(rt);
    const payload = JSON.parse('{"order":"o1","qty":1,"meta":[{"__proto__":{"polluted":true}}]}') as { order: string; qty: number };
    const error = await rt.send(Inventory.ref('w'), { type: 'reserve', payload }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidPayloadError);
    expect((error as Error).message).toContain('payload.meta[0].__proto__');
    expect((await rt.store.changesSince(undefined, 10)).packs).toEqual([]);
    // A string value "__proto__" is ordinary data.
    expect(await rt.send(Inventory.ref('w'), { type: 'cancel', payload: { order: '__proto__' } })).toMatchObject({ status: 'rejected' });
  });
});
