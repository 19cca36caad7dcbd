import fc from 'fast-check';
import { expect } from 'vitest';
import type { CommandReply } from '../../hosting/index.js';
import { ReferenceModel } from '../../reference/index.js';
import { commandHeads, computeMerge } from '../../resolution/index.js';
import type { EventStore } from '../../store/index.js';
import { VC } from '../../vectorClock/index.js';
import { TestCluster } from '../cluster.js';
import { Ledger, type LedgerState } from '../ledger.js';

/**
 * Random command sequences on 2-5 in-memory replicas with random partitions, one-way syncs,
 * clock skew and clocks stepping back, retried command ids and resolutions racing commands;
 * then a full heal, and the invariants I1-I4 of DESIGN.md on the result.
 */

export const actorCount = 3;

export type Step =
  | { kind: 'command'; replica: number; actor: number; op: 'deposit' | 'withdraw' | 'note'; n: number; retryOf: number | undefined }
  | { kind: 'link'; a: number; b: number; up: boolean }
  | { kind: 'partition'; side: readonly boolean[] }
  | { kind: 'healAll' }
  | { kind: 'sync'; from: number; to: number; resolve: boolean }
  | { kind: 'resolve'; replica: number; actor: number }
  | { kind: 'clock'; replica: number; deltaMs: number }
  | { kind: 'burst'; replica: number; actor: number; n: number };

const replicaIndex = fc.nat({ max: 4 });
export const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 10, arbitrary: fc.record({
    kind: fc.constant('command' as const),
    replica: replicaIndex,
    actor: fc.nat({ max: actorCount - 1 }),
    op: fc.constantFrom('deposit' as const, 'withdraw' as const, 'withdraw' as const, 'note' as const),
    n: fc.integer({ min: 1, max: 40 }),
    retryOf: fc.option(fc.nat({ max: 200 }), { nil: undefined, freq: 6 }),
  }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('link' as const), a: replicaIndex, b: replicaIndex, up: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('partition' as const), side: fc.array(fc.boolean(), { minLength: 5, maxLength: 5 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('healAll' as const) }) },
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('sync' as const), from: replicaIndex, to: replicaIndex, resolve: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('resolve' as const), replica: replicaIndex, actor: fc.nat({ max: actorCount - 1 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('clock' as const), replica: replicaIndex, deltaMs: fc.integer({ min: -20_000, max: 20_000 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('burst' as const), replica: replicaIndex, actor: fc.nat({ max: actorCount - 1 }), n: fc.integer({ min: 2, max: 6 }) }) },
);

export const scenario = fc.record({
  replicas: fc.integer({ min: 2, max: 5 }),
  liveActorsMax: fc.integer({ min: 1, max: 4 }),
  skewMs: fc.array(fc.integer({ min: -60_000, max: 60_000 }), { minLength: 5, maxLength: 5 }),
  steps: fc.array(step, { minLength: 20, maxLength: 80 }),
});

export type Scenario = typeof scenario extends fc.Arbitrary<infer T> ? T : never;

export interface Outcome {
  readonly cluster: TestCluster;
  readonly acks: Map<string, CommandReply[]>;
  readonly trace: string[];
}

/** Runs a scenario on in-memory replicas, or on the given stores (one per replica, at least `s.replicas`). */
export async function run(s: Scenario, stores?: readonly EventStore[]): Promise<Outcome> {
  const cluster = new TestCluster(s.replicas, [Ledger], { liveActorsMax: s.liveActorsMax, skewMs: s.skewMs, ...(stores ? { stores } : {}) });
  const up = new Set<string>();
  const linkKey = (a: number, b: number) => (a < b ? `${a}-${b}` : `${b}-${a}`);
  for (let a = 0; a < s.replicas; a++) for (let b = a + 1; b < s.replicas; b++) up.add(linkKey(a, b));
  const acks = new Map<string, CommandReply[]>();
  const trace: string[] = [];
  const issued: string[] = [];
  const record = (reply: CommandReply) => {
    trace.push(JSON.stringify(reply));
    if (reply.status === 'accepted' && !reply.duplicate) acks.set(reply.commandId, [...(acks.get(reply.commandId) ?? []), reply]);
  };
  const send = (replica: number, actor: number, op: 'deposit' | 'withdraw' | 'note', n: number, commandId: string) => {
    const ref = Ledger.ref(`acc${actor}`);
    const runtime = cluster.runtimes[replica]!;
    return op === 'note'
      ? runtime.send(ref, { type: 'note', payload: { tag: `t${n}` }, commandId })
      : runtime.send(ref, { type: op, payload: { n }, commandId });
  };
  for (const [index, st] of s.steps.entries()) {
    cluster.clocks.forEach((clock, i) => clock.advance(1 + ((index + i) % 3)));
    const at = (r: number) => r % s.replicas;
    switch (st.kind) {
      case 'command': {
        const commandId = st.retryOf !== undefined && issued.length > 0 ? issued[st.retryOf % issued.length]! : `c${issued.length}`;
        if (commandId === `c${issued.length}`) issued.push(commandId);
        record(await send(at(st.replica), st.actor, st.op, st.n, commandId));
        break;
      }
      case 'link':
        if (at(st.a) !== at(st.b)) (st.up ? up.add(linkKey(at(st.a), at(st.b))) : up.delete(linkKey(at(st.a), at(st.b))));
        break;
      case 'partition':
        for (let a = 0; a < s.replicas; a++) {
          for (let b = a + 1; b < s.replicas; b++) if (st.side[a] !== st.side[b]) up.delete(linkKey(a, b));
        }
        break;
      case 'healAll':
        for (let a = 0; a < s.replicas; a++) for (let b = a + 1; b < s.replicas; b++) up.add(linkKey(a, b));
        break;
      case 'sync':
        if (at(st.from) !== at(st.to) && up.has(linkKey(at(st.from), at(st.to)))) {
          await (st.resolve ? cluster.replicators : cluster.copiers)[at(st.from)]![at(st.to)]!.sync();
        }
        break;
      case 'resolve':
        trace.push(JSON.stringify(await cluster.runtimes[at(st.replica)]!.resolve(Ledger.ref(`acc${st.actor}`))));
        break;
      case 'clock':
        cluster.clocks[at(st.replica)]!.advance(st.deltaMs);
        break;
      case 'burst': {
        // Commands racing a resolution of the same actor: the mailbox must serialize them.
        const runtime = cluster.runtimes[at(st.replica)]!;
        const ref = Ledger.ref(`acc${st.actor}`);
        const sends = Array.from({ length: st.n }, (_, i) => {
          const commandId = `c${issued.length}`;
          issued.push(commandId);
          return send(at(st.replica), st.actor, i % 2 ? 'withdraw' : 'deposit', 3 + i, commandId);
        });
        const [replies] = await Promise.all([Promise.all(sends), runtime.resolve(ref)]);
        replies.forEach(record);
        break;
      }
    }
  }
  await cluster.settle();
  return { cluster, acks, trace };
}

/** What the runs reached, so the property cannot pass by never diverging. */
export const reached = { merges: 0, threeWayMerges: 0, compensations: 0, commandsAcceptedTwice: 0, clockStepsBack: 0 };

export async function checkInvariants({ cluster, acks }: Outcome): Promise<void> {
  for (const replies of acks.values()) if (replies.length > 1) reached.commandsAcceptedTwice++;
  for (let a = 0; a < actorCount; a++) {
    const ref = Ledger.ref(`acc${a}`);
    // I2 convergence: one head everywhere, same version, same state, same packs.
    const heads = await Promise.all(cluster.stores.map((s) => s.heads(ref)));
    const views = await Promise.all(cluster.runtimes.map((r) => r.inspect<LedgerState>(ref)));
    for (let r = 0; r < cluster.size; r++) {
      expect(heads[r]!.length, `I2: replica r${r} heads of ${ref.id}`).toBeLessThanOrEqual(1);
      expect(heads[r]!.map((h) => VC.encode(h.version)), `I2: heads r${r} vs r0`).toEqual(heads[0]!.map((h) => VC.encode(h.version)));
      expect(views[r], `I2: state r${r} vs r0`).toEqual(views[0]);
    }
    const packSets = await Promise.all(cluster.runtimes.map((_, r) => cluster.allPacks(r, ref)));
    const keys = packSets.map((ps) => ps.map((p) => VC.encode(p.version)).sort());
    for (const k of keys) expect(k).toEqual(keys[0]);
    if (heads[0]!.length === 0) continue;

    // I3 deterministic order: the state equals an independent full-history recomputation, and
    // every merge pack carries the state the reference computes for its version.
    const reference = new ReferenceModel(Ledger, packSets[0]!);
    const head = heads[0]![0]!;
    expect(reference.heads()).toEqual([VC.encode(head.version)]);
    expect(views[0]!.state, `I3: state of ${ref.id}`).toEqual(reference.stateAt(VC.encode(head.version)));
    // Causality: an event never replays before an event of an ancestor pack.
    const position = new Map(views[0]!.state.applied.map((id, i) => [id, i]));
    for (const pack of packSets[0]!) {
      for (const ancestorKey of reference.ancestry(VC.encode(pack.version))) {
        for (const cause of reference.get(ancestorKey).events) {
          for (const effect of pack.events) {
            if (cause === effect || !position.has(cause.id) || !position.has(effect.id)) continue;
            expect(position.get(cause.id)!, `I3: ${cause.id} must replay before ${effect.id}`).toBeLessThan(position.get(effect.id)!);
          }
        }
      }
    }
    for (const pack of packSets[0]!) {
      if (pack.kind !== 'merge') continue;
      reached.merges++;
      if (pack.parents.length >= 3) reached.threeWayMerges++;
      reached.compensations += pack.events.length;
      expect(pack.parents.map(VC.encode).sort(), 'merge parents are the command heads at its version').toEqual(reference.commandHeadsAt(pack.version));
      expect(pack.state, `I3: merge ${VC.encode(pack.version)}`).toEqual(reference.stateAt(VC.encode(pack.version)));
    }

    // I4 idempotent resolution: recomputing the final merge on every replica gives the same pack.
    if (head.kind === 'merge') {
      for (const store of cluster.stores) {
        const merged = await commandHeads(store, ref, [head]);
        const again = await computeMerge(store, Ledger, ref, merged);
        expect(again.pack).toEqual(head);
      }
    }

    // I1 no lost acknowledged event: each acked command's events are in the final history exactly
    // once (a command id accepted at two replicas during a partition counts once).
    const applied = views[0]!.state.applied;
    expect(new Set(applied).size, 'I1: no event applied twice').toBe(applied.length);
    const appliedSet = new Set(applied);
    for (const [commandId, replies] of acks) {
      const mine = replies.filter((r) => r.status === 'accepted' && r.events[0]!.actor.id === ref.id);
      if (mine.length === 0) continue;
      const present = mine.filter((r) => r.status === 'accepted' && r.events.every((e) => appliedSet.has(e.id)));
      expect(present.length, `I1: command ${commandId} on ${ref.id}`).toBe(1);
    }
  }
  // I4: merging everything again changes nothing; resolving again does nothing.
  for (let from = 0; from < cluster.size; from++) {
    const { packs } = await cluster.stores[from]!.changesSince(undefined, Number.MAX_SAFE_INTEGER);
    for (const store of cluster.stores) expect((await store.merge(packs)).added).toBe(0);
  }
  for (const runtime of cluster.runtimes) {
    for (let a = 0; a < actorCount; a++) expect((await runtime.resolve(Ledger.ref(`acc${a}`))).resolved).toBe(false);
  }
}

