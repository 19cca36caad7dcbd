import { afterEach, describe, expect, it } from 'vitest';
import { InvalidOptionError, ReplicationMesh, type Runtime, createRuntime } from '../index.js';
import { Ledger } from '../testkit/index.js';

let runtimes: Runtime[] = [];
afterEach(async () => {
  await Promise.all(runtimes.map((r) => r.stop()));
  runtimes = [];
});
function replicas(...ids: string[]): Runtime[] {
  const made = ids.map((replicaId) => createRuntime({ actors: [Ledger], replicaId }));
  runtimes.push(...made);
  return made;
}
const alice = Ledger.ref('alice');
const balance = async (r: Runtime) => (await r.inspect<{ balance: number }>(alice)).state.balance;

describe('ReplicationMesh', () => {
  it('links inside a partition group keep replicating, links across groups are cut; after the heal every replica converges', async () => {
    const [eu, us, ap] = replicas('eu', 'us', 'ap') as [Runtime, Runtime, Runtime];
    const mesh = new ReplicationMesh([eu, us, ap]);
    await eu.send(alice, { type: 'deposit', payload: { n: 100 } });
    const first = await mesh.settle();
    expect(first.copied).toBe(2); // the pack reached us and ap
    expect(first.resolved).toEqual([]);

    mesh.partition([eu], [us, ap]);
    await eu.send(alice, { type: 'withdraw', payload: { n: 80 } });
    await us.send(alice, { type: 'withdraw', payload: { n: 70 } });
    const during = await mesh.settle();
    expect(during.copied).toBe(1); // us -> ap only
    expect([await balance(eu), await balance(us), await balance(ap)]).toEqual([20, 30, 30]);

    mesh.heal();
    const after = await mesh.settle();
    expect(after.resolved.length).toBeGreaterThanOrEqual(1);
    const views = await Promise.all([eu, us, ap].map((r) => r.inspect(alice)));
    expect(views[1]).toEqual(views[0]);
    expect(views[2]).toEqual(views[0]);
    expect(views[0]!.state).toMatchObject({ balance: -50, overdrawn: 50 });
  });

  it('cutOneWay stops copying in one direction only', async () => {
    const [a, b] = replicas('a', 'b') as [Runtime, Runtime];
    const mesh = new ReplicationMesh([a, b]);
    mesh.cutOneWay(a, b);
    await a.send(alice, { type: 'deposit', payload: { n: 1 } });
    await b.send(Ledger.ref('bob'), { type: 'deposit', payload: { n: 2 } });
    const report = await mesh.settle();
    expect(report.copied).toBe(1);
    expect((await a.inspect(Ledger.ref('bob'))).version).toEqual({ b: 1 });
    expect((await b.inspect(alice)).version).toBeUndefined();
  });

  it('refuses an endpoint listed twice, fewer than two endpoints, and an endpoint not in the mesh', () => {
    const [a, b, c] = replicas('a', 'b', 'c') as [Runtime, Runtime, Runtime];
    expect(() => new ReplicationMesh([a, a])).toThrow(InvalidOptionError);
    expect(() => new ReplicationMesh([a])).toThrow(/at least 2 endpoints/);
    const mesh = new ReplicationMesh([a, b]);
    expect(() => mesh.partition([a], [c])).toThrow(/not an endpoint of this mesh/);
    expect(() => mesh.partition([a], [a])).toThrow(/in two groups/);
    expect(() => mesh.replicator(a, a)).toThrow(/does not replicate to itself/);
  });
});

// Added for the mutation score (TESTING.md): the unnamed group and each refusal's reason.
describe('ReplicationMesh partition groups', () => {
  it('endpoints no group names form a group of their own, cut from every named group', () => {
    const [a, b, c, d] = replicas('a', 'b', 'c', 'd') as [Runtime, Runtime, Runtime, Runtime];
    const mesh = new ReplicationMesh([a, b, c, d]);
    mesh.partition([a], [b]);
    for (const [from, to] of [[c, b], [b, c], [c, a], [a, c], [a, b]] as const) expect(mesh.replicator(from, to).isPaused).toBe(true);
    expect(mesh.replicator(c, d).isPaused).toBe(false);
    expect(mesh.replicator(d, c).isPaused).toBe(false);
  });

  it('each refusal is an InvalidOptionError that says why', () => {
    const [a, b, stranger] = replicas('a', 'b', 's') as [Runtime, Runtime, Runtime];
    const refused = (f: () => unknown, option: string, detail: string) => {
      expect(f).toThrow(InvalidOptionError);
      expect(f).toThrow(`option '${option}': ${detail}`);
    };
    refused(() => new ReplicationMesh([a, a, b]), 'endpoints', 'an endpoint is listed twice');
    refused(() => new ReplicationMesh([a]), 'endpoints', 'a mesh needs at least 2 endpoints, got 1');
    const mesh = new ReplicationMesh([a, b]);
    refused(() => mesh.replicator(a, a), 'to', 'an endpoint does not replicate to itself');
    refused(() => mesh.partition([a], [a, b]), 'groups', 'an endpoint is in two groups');
    refused(() => mesh.cutOneWay(stranger, a), 'endpoint', 'not an endpoint of this mesh');
  });
});
