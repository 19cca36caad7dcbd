import type { Workload, WorkloadCommand } from '@troupe/runtime';
import { type FaultOp, type FaultTiming, dropOps, faultOps } from './instrumentedStore.js';
import { type PartitionMode, type RunOptions, sideStreams } from './options.js';
import { Rng } from './rng.js';
import { type ScheduleCommand, type ScheduleStep, batchCrashPoints, checkpointLosses } from './schedule.js';

/** What the generator may look at while it draws: whether a step would make sense now. */
export interface GeneratorView {
  isUp(replica: number): boolean;
  readonly partitioned: boolean;
}

type SendStep = Extract<ScheduleStep, { k: 'send' }>;

/**
 * Draws the steps of a run from the seeded PRNG, one tick at a time: the clocks' jitter, the
 * nemesis (partitions, heals, clock steps, crashes), the clients' commands, retries and bursts,
 * and the tick's replication (which links sync, which messages are dropped, held back or
 * duplicated, in what order). It only draws: every step it yields is run by the `Executor`, the
 * same code that runs a recorded schedule.
 *
 * `tick(t)` is a lazy generator: the caller runs each step before asking for the next, so a draw
 * that depends on the state (is the replica up? is anything partitioned?) sees every earlier step
 * of the tick done. The draws happen in a fixed order, which is what makes a seed replay a run.
 */
export class StepGenerator {
  /** Every command drawn so far: their ids are `c<index>`, and a retry picks one of them. */
  private readonly issued: ScheduleCommand[] = [];
  /** Commands whose reply never came (replica down, crash after persist, error): retried first. */
  private readonly unanswered: ScheduleCommand[] = [];
  /** Replication messages held back (`delay`): their sync runs at tick `due`. */
  private delayed: { from: number; to: number; due: number }[] = [];
  /** Replicators killed mid-batch are drawn from a side stream of the seed: the main stream's draws stay as they were without them. */
  private readonly side: Rng;

  constructor(
    private readonly rng: Rng,
    private readonly config: RunOptions,
    private readonly workload: Workload,
    private readonly view: GeneratorView,
  ) {
    this.side = Rng.side(rng.seed, sideStreams.replicatorCrashSteps);
  }

  /** The executor reports a command that got no reply: the next retry sends it again. */
  noReply(command: ScheduleCommand): void {
    this.unanswered.push(command);
  }

  *tick(t: number): Generator<ScheduleStep, void, void> {
    yield { t, k: 'jitter', ms: Array.from({ length: this.config.replicas }, () => this.rng.int(0, 2)) };
    yield* this.nemesis(t);
    for (let c = 0; c < this.config.commandsPerTick; c++) yield* this.client(t);
    yield* this.replication(t);
  }

  private *nemesis(t: number): Generator<ScheduleStep, void, void> {
    const f = this.config.faults;
    const rng = this.rng;
    if (rng.chance(f.partition)) yield { t, k: 'partition', ...drawPartition(this.config.partitionMode, this.config.replicas, rng) };
    if (rng.chance(f.heal) && this.view.partitioned) yield { t, k: 'heal' };
    if (rng.chance(f.clockSkew)) yield { t, k: 'clock', r: this.replica(), deltaMs: rng.int(1_000, 120_000) };
    if (rng.chance(f.clockBack)) yield { t, k: 'clock', r: this.replica(), deltaMs: -rng.int(1_000, 120_000) };
    if (rng.chance(f.crash)) {
      const r = this.replica();
      if (this.view.isUp(r)) yield { t, k: 'crash', r, restartIn: this.restartDelay() };
    }
    // Faults inside operations. A rate of 0 draws nothing, so runs without them draw as before.
    if (f.storeFault > 0 && rng.chance(f.storeFault)) {
      yield { t, k: 'fault', r: this.replica(), op: rng.pick(storeFaultOps), when: this.timing() };
    }
    if (f.checkpointFail > 0 && rng.chance(f.checkpointFail)) yield { t, k: 'fault', r: this.replica(), op: 'checkpoint', when: this.timing() };
    if (f.replicatorRestart > 0 && rng.chance(f.replicatorRestart)) {
      const from = this.replica();
      const to = (from + rng.int(1, this.config.replicas - 1)) % this.config.replicas;
      const checkpoint = rng.pick(checkpointLosses);
      yield { t, k: 'replicator', from, to, checkpoint, ...(checkpoint === 'stale' ? { back: rng.int(1, 4) } : {}) };
    }
    // Drawn only when the stores' connections can be cut (Redis mode); elsewhere the rate is 0.
    if (f.connectionDrop > 0 && rng.chance(f.connectionDrop)) yield { t, k: 'fault', r: this.replica(), op: rng.pick(dropOps), when: 'drop' };
    // A replicator killed mid-batch: drawn from the side stream, so the other steps are drawn as without it.
    const side = this.side;
    if (f.replicatorCrash > 0 && side.chance(f.replicatorCrash)) {
      const from = side.int(0, this.config.replicas - 1);
      const to = (from + side.int(1, this.config.replicas - 1)) % this.config.replicas;
      yield { t, k: 'batchCrash', from, to, at: side.pick(batchCrashPoints) };
    }
  }

  private timing(): FaultTiming {
    return this.rng.chance(0.5) ? 'before' : 'after';
  }

  /** One client step: a burst, a retry or a new command. */
  private *client(t: number): Generator<ScheduleStep, void, void> {
    const f = this.config.faults;
    const rng = this.rng;
    if (rng.chance(f.burst)) {
      // Several commands to one actor at once, racing a resolution of it: the mailbox serializes them.
      const r = this.replica();
      const first = this.newCommand(this.nextCommand(t));
      const rest = Array.from({ length: rng.int(1, 4) }, () => this.newCommand({ ...this.nextCommand(t), actor: first.actor }));
      yield { t, k: 'burst', r, commands: [first, ...rest] };
      return;
    }
    let command: ScheduleCommand;
    let retry = false;
    if (rng.chance(f.retry) && this.issued.length > 0) {
      command = this.unanswered.shift() ?? rng.pick(this.issued);
      retry = true;
    } else {
      command = this.newCommand(this.nextCommand(t));
    }
    const r = this.replica();
    const step: SendStep = { t, k: 'send', r, ...command, ...(retry ? { retry } : {}) };
    // A command to a replica that is down is never executed: no crash to draw for it.
    if (this.view.isUp(r) && rng.chance(f.crashAfterPersist)) {
      step.crashAfterPersist = true;
      step.restartIn = this.restartDelay();
    }
    yield step;
  }

  /** This tick's replication: which links sync, which messages are dropped, duplicated or held back, in what order. */
  private *replication(t: number): Generator<ScheduleStep, void, void> {
    const f = this.config.faults;
    const rng = this.rng;
    const now = this.delayed.filter((d) => d.due <= t);
    this.delayed = this.delayed.filter((d) => d.due > t);
    const n = this.config.replicas;
    for (let from = 0; from < n; from++) {
      for (let to = 0; to < n; to++) {
        if (from === to || !rng.chance(f.sync)) continue;
        if (rng.chance(f.drop)) {
          yield { t, k: 'drop', from, to };
        } else if (rng.chance(f.delay)) {
          const due = t + rng.int(1, 4);
          this.delayed.push({ from, to, due });
          yield { t, k: 'delay', from, to, due };
        } else {
          now.push({ from, to, due: t });
          if (rng.chance(f.duplicate)) {
            now.push({ from, to, due: t });
            yield { t, k: 'duplicate', from, to };
          }
        }
      }
    }
    for (const s of rng.shuffle(now)) {
      // A connection dropped between batches: after 0-2 batches read from the source.
      const cut = f.syncCut > 0 && rng.chance(f.syncCut);
      yield { t, k: 'sync', from: s.from, to: s.to, ...(cut ? { cutAfter: rng.int(0, 2) } : {}) };
    }
  }

  private replica(): number {
    return this.rng.int(0, this.config.replicas - 1);
  }

  /** Ticks until a crashed replica restarts. */
  private restartDelay(): number {
    return this.rng.int(1, 5);
  }

  private nextCommand(t: number): WorkloadCommand {
    return this.workload.nextCommand(this.rng, t, this.config.actors);
  }

  /** A command as a schedule holds it (plain JSON), with the next id. */
  private newCommand(c: WorkloadCommand): ScheduleCommand {
    const command = { id: `c${this.issued.length}`, actor: { type: c.actor.type, id: c.actor.id }, type: c.type, payload: c.payload };
    this.issued.push(command);
    return command;
  }
}

/** The store calls a `storeFault` lands in (a checkpoint save has its own rate, `checkpointFail`). */
const storeFaultOps: readonly FaultOp[] = faultOps.filter((op) => op !== 'checkpoint');

/**
 * A partition of the given mode, drawn for `size` replicas: halves = a random half against the
 * rest; majority = a minority (at most half) against a majority; isolate = one replica against
 * all; asymmetric = one direction of one link; mixed = one of those at random.
 */
export function drawPartition(mode: PartitionMode, size: number, rng: Rng): { mode: PartitionMode; side?: number[]; link?: [number, number] } {
  const all = Array.from({ length: size }, (_, i) => i);
  const actual = mode === 'mixed' ? rng.pick(['halves', 'majority', 'isolate', 'asymmetric'] as const) : mode;
  if (actual === 'asymmetric') {
    const from = rng.int(0, size - 1);
    const to = (from + rng.int(1, size - 1)) % size;
    return { mode: actual, link: [from, to] };
  }
  const shuffled = rng.shuffle(all);
  const sideSize = actual === 'halves' ? Math.floor(size / 2) : actual === 'isolate' ? 1 : rng.int(1, Math.max(1, Math.floor((size - 1) / 2)));
  return { mode: actual, side: shuffled.slice(0, sideSize).sort((a, b) => a - b) };
}
