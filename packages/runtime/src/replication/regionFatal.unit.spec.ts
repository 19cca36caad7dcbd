/**
 * A store that lost its data (or refuses the credentials) is not a transient failure: retrying
 * cannot bring it back. A source in that state breaks its link; this region's own store in that
 * state stops the whole replicator (`fatal`), as a worker stops on it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createRuntime, type Runtime } from '../hosting/index.js';
import { MemoryStore } from '../store/index.js';
import { Ledger } from '../testkit/ledger.js';
import { RegionReplication } from './regionReplication.js';
import { behind } from '../specHelpers/regions.js';

class DataLost extends Error {
  readonly code = 'STORE_DATA_LOST';
}

const runtimes: Runtime[] = [];
afterEach(async () => {
  await Promise.all(runtimes.splice(0).map((r) => r.stop()));
});

function region(id: string, store = new MemoryStore()) {
  const runtime = createRuntime({ actors: [Ledger], store, replicaId: id });
  runtimes.push(runtime);
  return { store, runtime };
}

describe('fatal store errors', () => {
  it('a source whose store lost its data breaks its link; the other links go on', async () => {
    let lost = false;
    const eu = region('eu');
    const us = region('us');
    const ap = region('ap');
    await us.runtime.send(Ledger.ref('a'), { type: 'note', payload: { tag: 'u1' } });
    await ap.runtime.send(Ledger.ref('b'), { type: 'note', payload: { tag: 'p1' } });
    const usSeen = behind(us.store, () => lost, () => new DataLost('us lost its data'));
    const replication = new RegionReplication({
      region: 'eu', store: eu.store, resolve: (a) => eu.runtime.resolve(a), idleMs: 5, backoff: { initialMs: 5, maxMs: 10 },
      sources: [{ region: 'us', store: usSeen }, { region: 'ap', store: ap.store }],
    });
    await replication.start();
    await waitFor(() => replication.status().every((l) => l.state === 'up'));
    lost = true;
    await ap.runtime.send(Ledger.ref('b'), { type: 'note', payload: { tag: 'p2' } });
    await waitFor(() => replication.status().find((l) => l.source === 'us')!.state === 'broken');
    expect(replication.status().find((l) => l.source === 'us')!.error).toMatch(/us lost its data/);
    await waitFor(async () => (await eu.store.heads(Ledger.ref('b')))[0]?.version.ap === 2);
    expect(replication.status().find((l) => l.source === 'ap')!.state).toBe('up');
    await replication.stop();
  });

  it('this region\'s own store losing its data stops every link and resolves `fatal` with the error', async () => {
    let lost = false;
    const euStore = new MemoryStore();
    const eu = region('eu', behind(euStore, () => lost, () => new DataLost('eu lost its data')) as MemoryStore);
    const us = region('us');
    const replication = new RegionReplication({
      region: 'eu', store: eu.store, resolve: (a) => eu.runtime.resolve(a), idleMs: 5, backoff: { initialMs: 5, maxMs: 10 },
      sources: [{ region: 'us', store: us.store }],
    });
    await replication.start();
    await waitFor(() => replication.status()[0]!.state === 'up');
    lost = true;
    await us.runtime.send(Ledger.ref('a'), { type: 'note', payload: { tag: 'u1' } });
    const error = await Promise.race([replication.fatal, new Promise((r) => setTimeout(() => r('no fatal within 2 s'), 2_000))]);
    expect(error).toBeInstanceOf(DataLost);
    expect(replication.status()[0]!.state).toBe('broken');
    await replication.stop();
  });
});

async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}
