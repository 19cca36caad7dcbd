import type { RuntimeObserver } from '@troupe/runtime';
import { VC, actorKey } from '@troupe/runtime/store';
import type { ResolutionRecord } from './checkers/index.js';
import type { Replica } from './replicas.js';
import type { SimCounts } from './report.js';
import type { TraceLog } from './trace.js';

/**
 * What the run learns from its runtimes' observers: every resolution (counted as a divergence
 * when it starts; recorded with the packs it read once its merge pack is written, for I6) and
 * every passivation.
 */
export class RunObserver {
  readonly resolutions: ResolutionRecord[] = [];

  constructor(
    private readonly counts: SimCounts,
    private readonly trace: TraceLog,
  ) {}

  /** The observer of one replica's runtime (a new runtime after each restart gets a new one). */
  of(replica: Replica): RuntimeObserver {
    const store = replica.store;
    return {
      resolving: ({ actor }) => {
        this.counts.divergences++;
        store.startReads(actor);
      },
      resolved: ({ actor, outcome }) => {
        const recorder = store.stopReads(actor);
        this.resolutions.push({
          replica: replica.index,
          actor: { type: actor.type, id: actor.id },
          headKeys: outcome.heads.map((h) => VC.encode(h.version)),
          version: VC.encode(outcome.pack.version),
          readKeys: recorder ? [...recorder.keys] : [],
        });
        this.trace.resolution(replica.index, actorKey(actor), outcome.heads.length);
      },
      // A resolution that did not write its merge (it is retried later): its reads are not kept.
      resolutionFailed: ({ actor }) => void store.stopReads(actor),
      appendConflict: ({ actor }) => void store.stopReads(actor),
      passivated: () => {
        this.counts.passivations++;
      },
    };
  }
}
