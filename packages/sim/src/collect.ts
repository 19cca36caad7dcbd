import type { ActorRef, ActorView, AnyActorDefinition, Runtime } from '@troupe/runtime';
import { type Pack, VC, actorKey } from '@troupe/runtime/store';
import type { MergeStrategy } from '@troupe/runtime/resolution';
import type { CheckContext, FinalReplica, ReplyRecord, ResolutionRecord } from './checkers/index.js';
import type { References } from './checkers/types.js';
import type { InstrumentedStore } from './instrumentedStore.js';
import { OrderingOracle } from './oracle/index.js';
import type { SimCounts } from './report.js';

/** What the end of a run hands over: the replicas as they are, and what the run recorded. */
export interface RunRecord {
  readonly replicas: readonly { readonly id: string; readonly store: InstrumentedStore; readonly runtime: Runtime; readonly strategy: MergeStrategy }[];
  readonly definitions: ReadonlyMap<string, AnyActorDefinition>;
  /** Every reply a client got (the accepted first executions with events are I1's acknowledged commands). */
  readonly replies: readonly ReplyRecord[];
  readonly resolutions: readonly ResolutionRecord[];
  /** Merge, three-way merge and compensation counts are added here. */
  readonly counts: SimCounts;
}

/** Packs per `changesSince` call when reading a replica's whole log (checkers). */
export const collectPageSize = 10_000;

/**
 * Reads every replica's final packs, heads and states for the checkers, and builds one
 * OrderingOracle per actor from the union of all replicas' packs.
 */
export async function collectFinalState(run: RunRecord, convergence: { converged: boolean; rounds: number; detail?: string }): Promise<CheckContext> {
  const finals: FinalReplica[] = [];
  const allPacks = new Map<string, Map<string, Pack>>();
  const refs = new Map<string, ActorRef>();
  // The actor and version keys of each pack object, made once: stores that share packs (memory
  // stores hold the same frozen objects) share the replicas' key lists' strings too, instead of one
  // copy per replica, and a pack met again (at another replica) is already in allPacks. A WeakMap,
  // not a Map: stores that decode their log (Redis) give each replica its own copies, and a Map
  // would hold every copy of every replica until the end of this function, the whole log once per
  // replica (the peak paging avoids; collectRetention.unit.spec.ts).
  const keys = new WeakMap<Pack, { readonly actor: string; readonly version: string }>();
  for (const r of run.replicas) {
    // Page through the log: a long run's log decoded at once, once per replica, was most of the
    // run's peak memory. Only the first copy of each pack is kept (in allPacks); a replica keeps keys.
    const byActor = new Map<string, string[]>();
    let cursor: string | undefined;
    for (;;) {
      const page = await r.store.inner.changesSince(cursor, collectPageSize);
      if (page.packs.length === 0) break;
      for (const p of page.packs) {
        let packKeys = keys.get(p);
        if (packKeys === undefined) {
          keys.set(p, (packKeys = { actor: actorKey(p.actor), version: VC.encode(p.version) }));
          let known = allPacks.get(packKeys.actor);
          if (!known) {
            allPacks.set(packKeys.actor, (known = new Map<string, Pack>()));
            refs.set(packKeys.actor, { type: p.actor.type, id: p.actor.id });
          }
          if (!known.has(packKeys.version)) known.set(packKeys.version, p);
        }
        const list = byActor.get(packKeys.actor);
        if (list) list.push(packKeys.version);
        else byActor.set(packKeys.actor, [packKeys.version]);
      }
      cursor = page.cursor;
    }
    finals.push({ id: r.id, store: r.store, runtime: r.runtime, strategy: r.strategy, packs: byActor, heads: new Map(), views: new Map() });
  }
  const actors = [...refs.keys()].sort().map((k) => refs.get(k)!);
  for (const final of finals) {
    for (const actor of actors) {
      const heads = await final.store.inner.heads(actor);
      (final.heads as Map<string, Pack[]>).set(actorKey(actor), heads);
    }
    for (const actor of actors) {
      // inspect would resolve an actor that still has several heads: leave those to I2.
      let view: ActorView | undefined;
      if (final.heads.get(actorKey(actor))!.length === 1) view = await final.runtime.inspect(actor).catch(() => undefined);
      (final.views as Map<string, ActorView | undefined>).set(actorKey(actor), view);
    }
  }
  const references = new OracleCache((key) => {
    const packs = allPacks.get(key);
    const definition = packs ? run.definitions.get(refs.get(key)!.type) : undefined;
    return packs && definition ? new OrderingOracle(definition, packs.values()) : undefined;
  });
  for (const actor of actors) {
    const key = actorKey(actor);
    for (const pack of allPacks.get(key)!.values()) {
      if (pack.kind !== 'merge') continue;
      run.counts.merges++;
      if (pack.parents.length >= 3) run.counts.threeWayMerges++;
      run.counts.compensations += pack.events.length;
    }
  }
  return {
    replicas: finals,
    actors,
    definitions: run.definitions,
    acks: acknowledged(run.replies),
    references,
    allPacks,
    resolutions: run.resolutions,
    convergence,
  };
}

/**
 * The ordering oracles of a run's actors, made on first use and kept, least recently used first
 * out, while the histories of those kept hold at most `packsKeptMax` packs (each oracle keeps
 * every state it computed): a run of up to that many packs makes each oracle once; a longer one
 * keeps a bounded part of them (the checkers go actor by actor, so each oracle is then made about
 * once per checker that reads it).
 */
export class OracleCache implements References {
  static readonly packsKeptMax = 100_000;
  private readonly kept = new Map<string, OrderingOracle | undefined>();
  private packsKept = 0;
  /** Oracles made so far (a figure for tests and profiles). */
  made = 0;

  constructor(private readonly make: (actorKey: string) => OrderingOracle | undefined) {}

  get(actorKey: string): OrderingOracle | undefined {
    if (this.kept.has(actorKey)) {
      const oracle = this.kept.get(actorKey);
      // Most recently used last.
      this.kept.delete(actorKey);
      this.kept.set(actorKey, oracle);
      return oracle;
    }
    const oracle = this.make(actorKey);
    if (oracle) this.made++;
    const size = oracle?.size ?? 0;
    for (const [key, old] of this.kept) {
      if (this.packsKept + size <= OracleCache.packsKeptMax) break;
      this.kept.delete(key);
      this.packsKept -= old?.size ?? 0;
    }
    this.kept.set(actorKey, oracle);
    this.packsKept += size;
    return oracle;
  }
}

/** The accepted first executions that emitted events, by command id (several when it was retried on two branches), in reply order. */
function acknowledged(replies: readonly ReplyRecord[]): Map<string, ReplyRecord[]> {
  const acks = new Map<string, ReplyRecord[]>();
  for (const record of replies) {
    const reply = record.reply;
    if (reply.status !== 'accepted' || reply.duplicate || reply.events.length === 0) continue;
    const list = acks.get(record.command.id);
    if (list) list.push(record);
    else acks.set(record.command.id, [record]);
  }
  return acks;
}
