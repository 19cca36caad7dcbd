import { describe, expect, it } from 'vitest';
import { runtimesStoppedAfterEach } from '../specHelpers/runtimes.js';
import { type ActorRef, MemoryStore, ReplicationLink, Replicator, type Runtime } from '../index.js';
import type { ReplicaEndpoint } from './replicator.js';
import { settleReplicators } from './settle.js';
import { Ledger } from '../testkit/index.js';

/**
 * When settling stops, what it counts and how it fails. Added for the mutation score (TESTING.md):
 * each case here let a mutant through before.
 */
const ref = Ledger.ref('acc');
const start = runtimesStoppedAfterEach();
const replica = (id: string): Runtime => start({ actors: [Ledger], replicaId: id, store: new MemoryStore() });
const deposit = (r: Runtime, n = 1) => r.send(ref, { type: 'deposit', payload: { n } });

/** `target`, whose resolutions fail with `error` the first `failures` times. */
function flaky(target: Runtime, failures: number, error: unknown = new Error('boom')): ReplicaEndpoint {
  let left = failures;
  return {
    store: target.store,
    resolve: (actor: ActorRef) => (left-- > 0 ? Promise.reject(error) : target.resolve(actor)),
  };
}

describe('settle', () => {
  it('runs until a round moves nothing, and counts what it copied and skipped', async () => {
    const [a, b] = [replica('a'), replica('b')];
    await deposit(a);
    await deposit(b);
    // Round 1: b gets a's pack and resolves; a gets b's pack and the merge (its own pack skipped).
    // Round 2 moves nothing: b skips the two packs a's log now carries.
    const report = await new ReplicationLink(a, b).settle();
    expect(report).toEqual({ rounds: 2, copied: 3, skipped: 3, resolved: [ref] });
    expect(await a.store.heads(ref)).toEqual(await b.store.heads(ref));
  });

  it('a round that copies and resolves as much is not a quiet round', async () => {
    const [a, b] = [replica('a'), replica('b')];
    await deposit(a);
    await deposit(b);
    // One replicator: round 1 copies one pack and resolves one actor; only round 2 is quiet.
    expect(await settleReplicators([new Replicator(a, b)])).toMatchObject({ rounds: 2, copied: 1, resolved: [ref] });
  });

  it('a resolution that fails in an early round is retried, and settling succeeds', async () => {
    const [a, b] = [replica('a'), replica('b')];
    await deposit(a);
    await deposit(b);
    const report = await settleReplicators([new Replicator(a, flaky(b, 1))]);
    expect(report.resolved).toEqual([ref]);
    expect(await b.store.heads(ref)).toHaveLength(1);
  });

  it('resolutions still failing in the last round throw an AggregateError naming the first cause', async () => {
    const [a, b] = [replica('a'), replica('b')];
    await deposit(a);
    await deposit(b);
    const failing = settleReplicators([new Replicator(a, flaky(b, 99))], 2);
    await expect(failing).rejects.toThrow(AggregateError);
    await expect(settleReplicators([new Replicator(a, flaky(b, 99))], 2)).rejects.toThrow(/^resolving 1 actor\(s\) failed: boom$/);
    // A cause that is not an Error is named as it is.
    await expect(settleReplicators([new Replicator(a, flaky(b, 99, null))], 2)).rejects.toThrow(/^resolving 1 actor\(s\) failed: null$/);
  });

  it('throws when it does not go quiet within roundsMax', async () => {
    const [a, b] = [replica('a'), replica('b')];
    await deposit(a);
    await expect(settleReplicators([new Replicator(a, b)], 1)).rejects.toThrow(
      "replication did not settle within 1 rounds (raise settle's roundsMax if replicas keep writing while it runs)",
    );
  });
});
