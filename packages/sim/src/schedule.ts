import type { FaultOp, FaultTiming } from './instrumentedStore.js';

/** What a restarted replicator finds in its checkpoint (`replicator` step): its last saved cursor, none, or an older one. */
export const checkpointLosses = ['kept', 'lost', 'stale'] as const;
export type CheckpointLoss = (typeof checkpointLosses)[number];
/**
 * Where a replicator process dies in the middle of a batch (`batchCrash` step): right after the
 * batch's merge into the target took effect (`merged`: its diverged actors not resolved, its
 * cursor not saved), or after they were resolved, as its cursor save begins (`resolved`: not saved).
 */
export const batchCrashPoints = ['merged', 'resolved'] as const;
export type BatchCrashPoint = (typeof batchCrashPoints)[number];
import type { PartitionMode } from './options.js';

/** A command as a schedule holds it (plain JSON): its id, actor, type and payload. */
export interface ScheduleCommand {
  readonly id: string;
  readonly actor: { readonly type: string; readonly id: string };
  readonly type: string;
  readonly payload: unknown;
}

/**
 * One step a run drew, as plain JSON. `t` is the tick. `simulate({ recordSchedule: true })` returns
 * every step in the order it ran (`report.schedule`); `simulate({ seed, schedule })` runs exactly
 * those steps instead of drawing them, and the full recorded schedule replays the very same trace
 * (same `traceHash`). Any subset of a schedule is a valid schedule (steps that no longer apply are
 * skipped), which is what `shrink` relies on.
 *
 * - `jitter`: extra ms (0-2) each replica's clock advances this tick on top of the 5 ms of virtual
 *   time (without the step: none);
 * - `partition`, `heal`, `clock` (a skew or step back), `crash` (restarting `restartIn` ticks later);
 * - `send`: a command (or a `retry` of an earlier id) at replica `r`; with `crashAfterPersist` the
 *   replica dies right after persisting it (restarting `restartIn` ticks later), if it persists it;
 * - `burst`: several commands to one actor at replica `r`, racing a resolution of it;
 * - `drop`, `delay`, `duplicate`: what happened to a replication message (traced and counted; a
 *   delayed or duplicated sync runs as its own `sync` step);
 * - `fault`: the next `op` call of replica `r`'s store (an append, a merge, a log read, a
 *   snapshot write, or a replicator's checkpoint save into `r`) fails `before` or `after` taking
 *   effect (after: it took effect, the caller gets an error, as with a lost reply); it stays armed
 *   until it fires, a crash of `r` drops it (a new process), and so does the final heal; `when`
 *   `drop` (Redis mode): the store's real connection is cut right after the call's first command
 *   is written (the call fails with the client's own error, the server may have run it);
 * - `replicator`: the replicator of the link `from` -> `to` restarts and loads its checkpoint,
 *   `kept` (the last saved cursor), `lost` (none: it reads the source's log from the start) or
 *   `stale` (the cursor `back` saves before the last; fewer saves: none);
 * - `batchCrash`: the replicator of the link `from` -> `to` dies in the middle of its next batch,
 *   `at` `merged` (the batch merged into `to`, nothing resolved or saved) or `resolved` (merged and
 *   resolved, its cursor not saved); it restarts at once from its checkpoint. Armed until a batch
 *   comes; a crash of `to` drops it, and so does the final heal;
 * - `sync`: one replicator run from `from` to `to` (skipped by the run itself if either is down or
 *   the link is cut); with `cutAfter` the connection drops after that many batches were read
 *   from the source (the next read fails).
 *
 * Everything a step needs is on it (drawn with it), so running a step draws nothing: that is what
 * lets one `Executor` run drawn and recorded steps alike. `restartIn` missing (a hand-written
 * step): 1. Restarts and passivation sweeps are not steps: they follow from the time (`restartIn`,
 * `idleTimeoutMs`).
 */
export type ScheduleStep =
  | { t: number; k: 'jitter'; ms: number[] }
  | { t: number; k: 'partition'; mode: PartitionMode; side?: number[]; link?: [number, number] }
  | { t: number; k: 'heal' }
  | { t: number; k: 'clock'; r: number; deltaMs: number }
  | { t: number; k: 'crash'; r: number; restartIn?: number }
  | ({ t: number; k: 'send'; r: number; retry?: boolean; crashAfterPersist?: boolean; restartIn?: number } & ScheduleCommand)
  | { t: number; k: 'burst'; r: number; commands: ScheduleCommand[] }
  | { t: number; k: 'drop' | 'duplicate'; from: number; to: number }
  | { t: number; k: 'delay'; from: number; to: number; due: number }
  | { t: number; k: 'fault'; r: number; op: FaultOp; when: FaultTiming }
  | { t: number; k: 'replicator'; from: number; to: number; checkpoint: CheckpointLoss; back?: number }
  | { t: number; k: 'batchCrash'; from: number; to: number; at: BatchCrashPoint }
  | { t: number; k: 'sync'; from: number; to: number; cutAfter?: number };

export type Schedule = readonly ScheduleStep[];

/** What `simulate` adds to its report when it records or replays a schedule. */
export interface ScheduleFields {
  /** Every step the run drew (with `recordSchedule: true`, not when replaying). */
  readonly schedule?: ScheduleStep[];
  /** The number of steps replayed (with `schedule`). */
  readonly replayedSteps?: number;
}
