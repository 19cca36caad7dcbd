import { afterEach, describe, expect, it } from 'vitest';
import { InvalidOptionError, ReplicationMesh, type Runtime, createRuntime } from '../index.js';
import { Ledger } from '../testkit/index.js';

/** Added for the mutation score (TESTING.md): the unnamed group and each refusal's reason. */
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
