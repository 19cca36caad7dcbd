import type { ActorRef, Pack } from '../model/index.js';
import type { MergeOutcome } from '../resolution/index.js';
import type { MergeRecord } from '../store/regionLog.js';
import type { VectorClock } from '../vectorClock/index.js';

/** An append refused because the actor's heads moved (another writer, or packs replicated in); the command is decided again. */
export interface AppendConflictObservation {
  readonly actor: ActorRef;
  readonly replica: string;
  /** 0 for the first try of this command or resolution. */
  readonly attempt: number;
  readonly expectedHeads: readonly string[];
  readonly actualHeads: readonly string[];
}

/** A resolution about to merge several heads (its reads follow, serialized with the actor's commands). */
export interface ResolvingObservation {
  readonly actor: ActorRef;
  readonly replica: string;
  readonly heads: readonly Pack[];
}

/** A merge pack written: what diverged, the common ancestor, what was replayed and compensated. */
export interface ResolvedObservation {
  readonly actor: ActorRef;
  readonly replica: string;
  readonly outcome: MergeOutcome;
  /** From `resolving` to the merge pack being durable, on the runtime's clock. */
  readonly durationMs: number;
  /** The merge record kept in the store (when it keeps them: `MergeLog`). */
  readonly record: MergeRecord;
  /** Set when the store failed to keep the record (the merge itself is durable). */
  readonly recordError?: unknown;
}

/** A resolution that failed (it is retried on the actor's next message or sync). */
export interface ResolutionFailedObservation {
  readonly actor: ActorRef;
  readonly replica: string;
  readonly error: unknown;
}

/** An actor's state read from the store (on its first message, after passivation or a stale cache). */
export interface LoadedObservation {
  readonly actor: ActorRef;
  readonly replica: string;
  /** Undefined for an actor with no packs. */
  readonly version: VectorClock | undefined;
  /** Packs folded on top of the base (I6 bounds this by the type's `snapshotEvery`). */
  readonly packsRead: number;
  /** True when the load started from a snapshot or a merge pack's state rather than `initial()`. */
  readonly fromSnapshot: boolean;
}

export interface PassivatedObservation {
  readonly actor: ActorRef;
  readonly replica: string;
  /** 'idle': unused for `idleTimeoutMs`; 'capacity': least recently used beyond `liveActorsMax`. */
  readonly reason: 'idle' | 'capacity';
}

/**
 * What a runtime reports as it works, for metrics, logs and simulators. Every callback is optional
 * and called synchronously on the actor's turn; it must not block. An exception thrown by a
 * callback is caught and reported with `process.emitWarning`, never let into the actor's work.
 */
export interface RuntimeObserver {
  appendConflict?(observation: AppendConflictObservation): void;
  resolving?(observation: ResolvingObservation): void;
  resolved?(observation: ResolvedObservation): void;
  resolutionFailed?(observation: ResolutionFailedObservation): void;
  loaded?(observation: LoadedObservation): void;
  passivated?(observation: PassivatedObservation): void;
}

type Callbacks = { [K in keyof RuntimeObserver]-?: NonNullable<RuntimeObserver[K]> };

/** Every callback of `RuntimeObserver`, for the functions below that wrap each one. */
const callbackNames = ['appendConflict', 'resolving', 'resolved', 'resolutionFailed', 'loaded', 'passivated'] as const satisfies readonly (keyof RuntimeObserver)[];

/** The observer with every callback present and guarded, so callers neither test nor catch. */
export function guardedObserver(observer: RuntimeObserver | undefined): Callbacks {
  const guarded = {} as Record<(typeof callbackNames)[number], (observation: never) => void>;
  for (const name of callbackNames) {
    const callback = observer?.[name] as ((observation: unknown) => void) | undefined;
    const warn = (error: unknown) =>
      process.emitWarning(`troupe: the runtime observer's '${name}' threw: ${(error as Error)?.message ?? String(error)}`, 'TroupeObserverWarning');
    guarded[name] = callback
      ? (observation: unknown) => {
          try {
            // An async callback's rejection is caught too: an unhandled one would end the process.
            const result = callback.call(observer, observation) as unknown;
            if (result && typeof (result as Promise<unknown>).then === 'function') (result as Promise<unknown>).then(undefined, warn);
          } catch (error) {
            warn(error);
          }
        }
      : () => undefined;
  }
  return guarded as unknown as Callbacks;
}

/**
 * Combines observers (e.g. a worker's metrics and the user's own): each callback calls every
 * observer that has it, in order.
 */
export function combineObservers(...observers: readonly (RuntimeObserver | undefined)[]): RuntimeObserver {
  const present = observers.filter((o): o is RuntimeObserver => o !== undefined);
  const combined: RuntimeObserver = {};
  for (const name of callbackNames) {
    const having = present.filter((o) => o[name] !== undefined);
    if (having.length > 0) {
      (combined as Record<string, (observation: unknown) => void>)[name] = (observation: unknown) => {
        for (const o of having) (o[name] as (observation: unknown) => void).call(o, observation);
      };
    }
  }
  return combined;
}
