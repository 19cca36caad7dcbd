/**
 * The actors a replicator had yet to resolve are read from `unresolvedCheckpoint` whether or not a
 * `cursor` is given (found in review: a given cursor used to skip reading them, and the first save
 * then wrote over them).
 */
import { describe, expect, it } from 'vitest';
import { createRuntime } from '../hosting/index.js';
import { MemoryStore } from '../store/index.js';
import { Ledger } from '../testkit/ledger.js';
import { Replicator } from './replicator.js';

describe('Replicator unresolvedCheckpoint', () => {
  it('is read before the first sync even when a cursor is given, and its actors are resolved', async () => {
    const [eu, us] = [new MemoryStore(), new MemoryStore()];
    const euRuntime = createRuntime({ actors: [Ledger], store: eu, replicaId: 'eu' });
    const usRuntime = createRuntime({ actors: [Ledger], store: us, replicaId: 'us' });
    const ref = Ledger.ref('alice');
    await euRuntime.send(ref, { type: 'deposit', payload: { n: 5 } });
    await usRuntime.send(ref, { type: 'deposit', payload: { n: 7 } });
    // us's packs are in eu already (copied by a replicator that then died before resolving).
    await eu.merge((await us.changesSince(undefined, 100)).packs);
    expect(await eu.heads(ref)).toHaveLength(2);
    const pending = eu.checkpoint('from-us/unresolved');
    await pending.save(JSON.stringify([[ref.type, ref.id]]));
    const cursor = (await us.changesSince(undefined, 100)).cursor;
    const restarted = new Replicator(usRuntime, euRuntime, { cursor, unresolvedCheckpoint: pending });
    const report = await restarted.sync();
    expect(report.resolved).toEqual([ref]);
    expect(await eu.heads(ref)).toHaveLength(1);
    expect(await pending.load()).toBe('[]');
    await Promise.all([euRuntime.stop(), usRuntime.stop()]);
  });
});
