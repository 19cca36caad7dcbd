import { replicationState } from '@troupe/runtime';
import { type ActorRef, VC, actorKey } from '@troupe/runtime/store';
import type { InstrumentedStore } from '../instrumentedStore.js';
import { type CheckResult, Verdict } from './types.js';

/** What the stability checks need of a replica: its id, its (instrumented) store, and whether its process is up. */
export interface StabilityReplica {
  readonly id: string;
  readonly store: InstrumentedStore;
  readonly up: boolean;
}

/** Actors checked at one replica after each change of its frontier table (all of them when there are no more). */
export const stabilitySampleMax = 8;

/**
 * Sync rounds (every ordered pair once, each publishing its progress) allowed after convergence
 * for every pack to be known held by every region: one for every link to publish its final
 * position into its target's table, one for that row to reach the region it is about (gossip
 * runs with the sync of the opposite link, which may come first in a round).
 */
export const stabilityRoundsMax = 2;

/**
 * I9, stability (causal stability, #15): what `replicationState` answers at a region from its
 * frontier table is never wrong, and after the final heal it becomes complete.
 *
 * - Safety (`check`, after each change of the rows of a replica's frontier table about its own
 *   log, which only a `publishProgress` into it brings): for a sample of actors, every head the replica holds (holding a
 *   head means holding its ancestors: a store takes no pack before its parents), asked with
 *   `replicationState` at the replica's mark for the actor (taken after the actor's last write
 *   there): every region it names as holding the pack must hold it in its store (a region whose
 *   process is down is skipped: its store may be closed; the claim is checked again at the next
 *   change). Claims can only turn wrong when those rows change (stores never lose packs, and a
 *   later write only moves an actor's mark further), so checking after each change misses no
 *   claim of the sampled actors (a cursor ahead of the log, which only a bug writes, is ignored by
 *   the runtime until the log reaches it: the final pass over every actor checks it then).
 * - Liveness (`unstable`, after convergence): every head of every actor at every replica is known
 *   held by every region, within `stabilityRoundsMax` extra rounds of syncs.
 *
 * Checked only when every replica's store is a region log (MemoryStore, RedisStore).
 */
export class StabilityWatch {
  private readonly verdict = new Verdict();
  private offset = 0;

  constructor(
    private readonly replicas: readonly StabilityReplica[],
    /** The actors the clients addressed so far (in the order first addressed). */
    private readonly actors: () => readonly ActorRef[],
  ) {}

  /** Whether stability is checked at all: every store takes part in region replication. */
  get enabled(): boolean {
    return this.replicas.every((r) => r.store.regionLog !== undefined);
  }

  /** Safety at `here`, whose frontier table just changed: a rotating sample of actors. */
  async check(here: StabilityReplica): Promise<void> {
    if (!this.enabled) return;
    const actors = this.actors();
    const take = Math.min(actors.length, stabilitySampleMax);
    const start = actors.length > take ? this.offset % actors.length : 0;
    this.offset += take;
    for (let i = 0; i < take; i++) await this.guarded(here, actors[(start + i) % actors.length]!);
  }

  /**
   * Liveness, with safety on every claim: the packs (heads) of every actor at every replica that
   * some region is not yet known to hold, one line each; empty when everything is stable.
   */
  async unstable(): Promise<string[]> {
    if (!this.enabled) return [];
    const out: string[] = [];
    for (const here of this.replicas) for (const actor of this.actors()) out.push(...(await this.guarded(here, actor)));
    return out;
  }

  /** `checkActor`, with a failure of the runtime's answer itself (it must answer) as a violation. */
  private async guarded(here: StabilityReplica, actor: ActorRef): Promise<string[]> {
    try {
      return await this.checkActor(here, actor);
    } catch (error) {
      this.verdict.fail(actorKey(actor), `replicationState of ${actorKey(actor)} at ${here.id} failed: ${(error as Error)?.message ?? String(error)}`);
      return [];
    }
  }

  /** The final verdict: `detail` lines of what `unstable` still found after the allowed rounds. */
  result(stillUnstable: readonly string[], rounds: number): CheckResult {
    for (const line of stillUnstable) this.verdict.fail(line.split('@')[0]!, `${line}, ${rounds} sync round(s) after convergence`);
    return this.verdict.result();
  }

  /** Checks the claims about `actor`'s heads at `here`; returns the heads some region is not known to hold. */
  private async checkActor(here: StabilityReplica, actor: ActorRef): Promise<string[]> {
    const log = here.store.regionLog!;
    const key = actorKey(actor);
    const heads = await log.heads(actor);
    if (heads.length === 0) return [];
    const mark = here.store.lastMarks.get(key) ?? (await log.logMark(actor));
    const missing: string[] = [];
    for (const head of heads) {
      const version = VC.encode(head.version);
      const state = await replicationState(log, here.id, actor, head.version, mark);
      this.verdict.checked++;
      for (const region of state.holding) {
        if (region === here.id) continue;
        const holder = this.replicas.find((r) => r.id === region);
        if (!holder) {
          this.verdict.fail(key, `${key}@${version} of ${here.id}: ${here.id}'s frontier table names ${region} as holding it, but there is no such replica`);
          continue;
        }
        if (!holder.up) continue;
        const [pack] = await holder.store.regionLog!.getPacks(actor, [version]);
        if (!pack) {
          const entry = (await log.frontier())[region]?.[here.id];
          this.verdict.fail(
            key,
            `${key}@${version} of ${here.id}: ${here.id}'s frontier table names ${region} as holding it ` +
              `(its cursor into ${here.id}'s log, ${entry?.cursor ?? '?'}, reached the mark ${mark}), but ${region}'s store lacks it`,
          );
        }
      }
      if (state.missing.length > 0) missing.push(`${key}@${version} of ${here.id}: not known held by ${state.missing.join(', ')}`);
    }
    return missing;
  }
}
