import type { Invariants } from './checkers/index.js';
import type { RunOptions } from './options.js';
import { builtInWorkloads } from './workloads.js';
import type { StoreUsed } from './stores.js';

export interface SimCounts {
  /** Commands that reached a live replica (first sends and retries). */
  commands: number;
  accepted: number;
  rejected: number;
  /** Retries answered with the recorded result (nothing applied). */
  duplicates: number;
  /** Commands sent to a crashed replica (never executed; the client may retry them). */
  unavailable: number;
  /** Commands whose replica crashed after persisting, before replying. */
  lostReplies: number;
  /** Unexpected errors from commands or syncs (none in a healthy run). */
  errors: number;
  /** Faults injected inside store calls that fired (append, merge, log read, snapshot write, checkpoint save, sync cut). */
  storeFaults: number;
  /** Commands answered with an injected fault (the client retries them later). */
  faultedCommands: number;
  /** Syncs that failed on an injected fault (the link's next sync picks up from its cursor). */
  faultedSyncs: number;
  /** Real connections cut in the middle of a store call (Redis mode, `connectionDrop`). */
  connectionDrops: number;
  /** Replicators restarted with their checkpoint kept, lost or stale (`replicatorRestart`). */
  replicatorRestarts: number;
  /** Replicator processes killed in the middle of a batch and restarted from their checkpoint (`replicatorCrash`). */
  replicatorCrashes: number;
  partitions: number;
  heals: number;
  syncs: number;
  droppedSyncs: number;
  duplicatedSyncs: number;
  delayedSyncs: number;
  clockSteps: number;
  crashes: number;
  /** Actors passivated (idle at a tick's sweep, or beyond the runtime's live-actor cap), every replica counted. */
  passivations: number;
  /** Resolutions computed (an actor found with several heads at a replica), counting every replica. */
  divergences: number;
  /** Distinct merge packs in the final history. */
  merges: number;
  /** Merges of three or more command heads. */
  threeWayMerges: number;
  /** Compensation events in those merge packs. */
  compensations: number;
}

export interface ReplicaSummary {
  readonly id: string;
  readonly packs: number;
  readonly crashes: number;
  /** The replica's clock at the end minus the virtual time: its accumulated skew, ms. */
  readonly clockSkewMs: number;
}

export interface SimReport {
  readonly seed: number;
  /** sha256 of the canonical trace: same seed and options, same hash. */
  readonly traceHash: string;
  /** True when every invariant held. */
  readonly ok: boolean;
  readonly options: RunOptions;
  /** Which stores the replicas used (the store factory's `used`: `{ kind: 'memory' }`, or e.g. Redis with its URL and key prefixes). */
  readonly store: StoreUsed;
  readonly invariants: Invariants;
  readonly counts: SimCounts;
  readonly replicas: readonly ReplicaSummary[];
  /** Sync rounds after the heal until replication went quiet (convergeRoundsMax + 1 if it never did). */
  readonly convergenceRounds: number;
  readonly traceLength: number;
  readonly durationMs: number;
  /** Part of `durationMs` spent in the checkers (the independent reference model is the slow part). */
  readonly checkMs: number;
  /**
   * `durationMs` by phase: setting up and running the ticks (commands, nemesis, syncs, the I8 views
   * and I9 checks that watch the run), healing until quiet and stable, collecting the final state,
   * and the final checks (`checkMs`).
   */
  readonly phasesMs: { readonly ticks: number; readonly converge: number; readonly collect: number; readonly check: number };
  readonly simulatedCommandsPerSec: number;
}

export function emptyCounts(): SimCounts {
  return {
    commands: 0, accepted: 0, rejected: 0, duplicates: 0, unavailable: 0, lostReplies: 0, errors: 0, storeFaults: 0, faultedCommands: 0, faultedSyncs: 0, connectionDrops: 0, replicatorRestarts: 0, replicatorCrashes: 0,
    partitions: 0, heals: 0, syncs: 0, droppedSyncs: 0, duplicatedSyncs: 0, delayedSyncs: 0, clockSteps: 0, crashes: 0, passivations: 0,
    divergences: 0, merges: 0, threeWayMerges: 0, compensations: 0,
  };
}

/** A short terminal summary: verdict, options, counts, and the violations if any. */
export function formatReport(report: SimReport): string {
  const o = report.options;
  const c = report.counts;
  const faults = Object.entries(o.faults).map(([k, v]) => `${k}=${v}`).join(' ');
  const lines = [
    `troupe sim seed ${report.seed}: ${report.ok ? 'OK' : 'FAILED'}  trace ${report.traceHash.slice(0, 16)}`,
    `  options   workload=${o.workload}${shapeText(o)} replicas=${o.replicas} actors=${o.actors} steps=${o.steps}${o.commandsPerTick === 1 ? '' : ` commands-per-tick=${o.commandsPerTick}`} partition=${o.partitionMode} idle-timeout=${o.idleTimeoutMs === 0 ? 'off' : `${o.idleTimeoutMs}ms`} merge=${o.mergeStrategy}${o.swarm ? ' (swarm)' : ''}`,
    `  faults    ${faults}`,
    `  store     ${describeStore(report.store)}`,
    `  commands  ${c.commands} (accepted ${c.accepted}, rejected ${c.rejected}, duplicates ${c.duplicates}, unavailable ${c.unavailable}, lost replies ${c.lostReplies}, errors ${c.errors})`,
    `  nemesis   partitions ${c.partitions}, heals ${c.heals}, clock steps ${c.clockSteps}, crashes ${c.crashes}, passivations ${c.passivations}; syncs ${c.syncs} (dropped ${c.droppedSyncs}, duplicated ${c.duplicatedSyncs}, delayed ${c.delayedSyncs})`,
    `  op faults ${c.storeFaults} fired inside store calls and syncs (failed commands ${c.faultedCommands}, failed syncs ${c.faultedSyncs}), connection drops ${c.connectionDrops}, replicator restarts ${c.replicatorRestarts}, replicator crashes mid-batch ${c.replicatorCrashes}`,
    `  merging   divergences ${c.divergences}, merges ${c.merges} (three-way+ ${c.threeWayMerges}), compensations ${c.compensations}; converged in ${report.convergenceRounds} round(s)`,
  ];
  for (const [name, result] of Object.entries(report.invariants)) {
    lines.push(`  ${name}  ${result.ok ? 'ok  ' : 'FAIL'}  ${result.checked} checked${result.ok ? '' : `, ${result.violations.length} violation(s)`}`);
    for (const v of result.violations.slice(0, 5)) lines.push(`        ${v.actor}: ${v.detail}`);
  }
  const p = report.phasesMs;
  lines.push(`  ${report.durationMs} ms (ticks ${p.ticks} ms, converging ${p.converge} ms, collecting ${p.collect} ms, checkers ${report.checkMs} ms), ${report.simulatedCommandsPerSec} simulated commands/s`);
  return lines.join('\n');
}

/** `kind` then every other detail as `name=value` (lists joined by spaces), e.g. `redis url=redis://... shards=4 prefixes=a b`. */
export function describeStore(store: StoreUsed): string {
  const details = Object.entries(store)
    .filter(([name]) => name !== 'kind')
    .map(([name, value]) => `${name}=${Array.isArray(value) ? value.join(' ') : String(value)}`);
  return [store.kind, ...details].join(' ');
}

/**
 * The workload's shape for the summary: every field for a drawn built-in workload, `snapshotEvery`
 * alone for another (an app's commands are its own) and for any given workload (only that field is
 * recorded, even when the given one is a built-in such as `tapeWorkloadOf(...)`).
 */
export function shapeText(o: RunOptions): string {
  if (!o.shape) return '';
  if (!Object.hasOwn(builtInWorkloads, o.workload) || o.shape.eventsPerCommand === undefined) return ` (snapshot-every=${o.shape.snapshotEvery})`;
  // The mix is the share of the tape's `append`; the counter has one command.
  return ` (events-per-command<=${o.shape.eventsPerCommand} snapshot-every=${o.shape.snapshotEvery}${o.workload === 'tape' ? ` mix=${o.shape.mix}` : ''})`;
}
