import type { ActorRef, ActorView, AnyActorDefinition, Runtime } from '@troupe/runtime';
import type { Pack } from '@troupe/runtime/store';
import type { MergeStrategy } from '@troupe/runtime/resolution';
import type { InstrumentedStore } from '../instrumentedStore.js';
import type { OrderingOracle } from '../oracle/index.js';
import type { ReplyRecord } from './replies.js';

export interface Violation {
  /** `type:id` of the actor, or '*' for the whole run. */
  readonly actor: string;
  readonly detail: string;
}

export interface CheckResult {
  readonly ok: boolean;
  /** How many things were checked (commands, actors x replicas, resolutions...: see each checker). */
  readonly checked: number;
  readonly violations: readonly Violation[];
}

/** One resolution a runtime computed, with the packs it read (recorded by the store wrapper). */
export interface ResolutionRecord {
  readonly replica: number;
  readonly actor: ActorRef;
  /** Command heads it merged (version keys). */
  readonly headKeys: readonly string[];
  readonly version: string;
  /** Version keys of the packs it read from the store. */
  readonly readKeys: readonly string[];
}

/** One replica after the run, as the checkers see it. */
export interface FinalReplica {
  readonly id: string;
  readonly store: InstrumentedStore;
  readonly runtime: Runtime;
  /** Merge strategy this replica's runtime used (uninstrumented). */
  readonly strategy: MergeStrategy;
  /** Version keys of every pack in the store, by actor key, in log order (the packs themselves are in `CheckContext.allPacks`). */
  readonly packs: ReadonlyMap<string, readonly string[]>;
  /** Heads by actor key, read before anything could resolve them. */
  readonly heads: ReadonlyMap<string, readonly Pack[]>;
  /** `inspect` of each actor with one head (undefined when the actor still had several). */
  readonly views: ReadonlyMap<string, ActorView | undefined>;
}

/**
 * The ordering oracle of each actor, by actor key (a `Map` is one). `collectFinalState` builds
 * them on demand and keeps the last few (`OracleCache`): one per actor kept at once, with every
 * state it computed, was most of a long run's peak memory. So checkers go actor by actor.
 */
export interface References {
  get(actorKey: string): OrderingOracle | undefined;
}

export interface CheckContext {
  readonly replicas: readonly FinalReplica[];
  /** Every actor any replica holds, sorted by key. */
  readonly actors: readonly ActorRef[];
  /** Traced definitions by actor type. */
  readonly definitions: ReadonlyMap<string, AnyActorDefinition>;
  /** First accepted (non-duplicate) replies per command id: several when it was retried on two branches. */
  readonly acks: ReadonlyMap<string, readonly ReplyRecord[]>;
  /** The ordering oracle (`oracle/`) over the union of every replica's packs, by actor key. */
  readonly references: References;
  /** Every pack of every replica by actor key then version key. */
  readonly allPacks: ReadonlyMap<string, ReadonlyMap<string, Pack>>;
  readonly resolutions: readonly ResolutionRecord[];
  readonly convergence: { readonly converged: boolean; readonly rounds: number; readonly detail?: string };
}

/** Collects violations, at most `max` of them (the count of checks still grows). */
export class Verdict {
  readonly violations: Violation[] = [];
  checked = 0;
  private dropped = 0;
  constructor(private readonly max = 50) {}
  fail(actor: string, detail: string): void {
    if (this.violations.length < this.max) this.violations.push({ actor, detail });
    else this.dropped++;
  }
  result(): CheckResult {
    const violations = this.dropped > 0 ? [...this.violations, { actor: '*', detail: `${this.dropped} more violations not listed` }] : this.violations;
    return { ok: this.violations.length === 0, checked: this.checked, violations };
  }
}
