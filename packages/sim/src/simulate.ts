import { createHash, randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { connectRedisStore } from '@troupe/redis';
import {
  type Accepted,
  type ActorRef,
  type AnyActorDefinition,
  type CommandReply,
  FlakeIdSource,
  ManualClock,
  MemoryStore,
  type MergeStrategy,
  Replicator,
  type Runtime,
  type UntypedRef,
  VC,
  actorKey,
  type EventStore,
  computeMerge,
  createRuntime,
} from '@troupe/runtime';
import { canonical } from './canonical.js';
import { type ResolutionRecord, checkAll } from './checkers/index.js';
import { InstrumentedStore, SimulatedCrash } from './instrumentedStore.js';
import { Network } from './nemesis.js';
import { collectFinalState } from './collect.js';
import { type RunOptions, type SimOptions, defaultRedisUrl, redisShards, resolveOptions, workloadOf } from './options.js';
import { deletePrefixes } from './redisKeys.js';
import { type SimCounts, type SimReport, type StoreUsed, emptyCounts } from './report.js';
import { Rng } from './rng.js';
import type { ScheduleCommand, ScheduleFields, ScheduleStep } from './schedule.js';
import { traced } from './traced.js';
import type { WorkloadCommand } from './workloads.js';

const epochMs = 1_700_000_000_000;

interface Replica {
  readonly index: number;
  readonly id: string;
  readonly clock: ManualClock;
  /** Survives restarts (as a persisted last timestamp would), so ids stay unique per replica. */
  readonly ids: FlakeIdSource;
  readonly store: InstrumentedStore;
  /** Redis mode: the key prefix of this replica's RedisStore (kept across crashes). */
  readonly prefix?: string;
  /** False between a crash and the restart in Redis mode (the crashed process's connection is closed). */
  storeOpen: boolean;
  readonly strategy: MergeStrategy;
  runtime: Runtime;
  up: boolean;
  restartAt: number;
  crashes: number;
}

interface Issued extends WorkloadCommand {
  readonly commandId: string;
}

interface ScheduledSync {
  readonly from: number;
  readonly to: number;
  readonly due: number;
}

/** A command as a schedule step holds it: plain JSON. */
function plainCommand(c: Issued): ScheduleCommand {
  return { id: c.commandId, actor: { type: c.actor.type, id: c.actor.id }, type: c.type, payload: c.payload };
}

function issuedOf(c: ScheduleCommand): Issued {
  return { commandId: c.id, actor: { type: c.actor.type, id: c.actor.id }, type: c.type, payload: c.payload };
}

/**
 * One deterministic run: N replicas with memory stores, virtual clocks and one-way replicators
 * between every pair, clients sending the workload's commands to random replicas, a nemesis
 * (partitions, dropped / duplicated / delayed syncs, clock skew and steps back, crashes) for
 * `steps` ticks; then a full heal and a bounded number of sync rounds to converge; then the
 * checkers of I1-I6. Everything is drawn from one PRNG seeded by `options.seed`, and every
 * observable step is appended to a trace whose sha256 is the report's `traceHash`.
 */
export async function simulate(options: SimOptions): Promise<SimReport & ScheduleFields> {
  return (await run(options, false)).report;
}

/** One event of the trace (the canonical line parsed back), with its position `i` in the trace and its tick `t`. */
export interface TraceEvent {
  readonly i: number;
  readonly t: number;
  readonly k: string;
  readonly [field: string]: unknown;
}

/** A resolution computed at a replica (not part of the hashed trace): `i` is the index of the next trace event. */
export interface TraceResolution {
  readonly i: number;
  readonly t: number;
  readonly r: number;
  readonly actor: string;
  readonly heads: number;
}

/** What a run recorded, for reports such as the HTML timeline. The hashed trace is `events` (minus `i`). */
export interface SimTrace {
  readonly events: readonly TraceEvent[];
  readonly resolutions: readonly TraceResolution[];
}

/** Like `simulate`, and also returns the trace events (same run, same `traceHash`). */
export function simulateWithTrace(options: SimOptions): Promise<{ report: SimReport; trace: SimTrace }> {
  return run(options, true);
}

async function run(options: SimOptions, keepTrace: boolean): Promise<{ report: SimReport; trace: SimTrace }> {
  const started = performance.now();
  const sim = new Simulation(options, keepTrace);
  let result: { report: SimReport; trace: SimTrace };
  try {
    await sim.open();
    result = { report: await sim.run(started), trace: sim.exposeTrace() };
  } catch (error) {
    // Clean up (Redis keys included), but let the run's own error win over a cleanup failure.
    await sim.stop().catch(() => undefined);
    throw error;
  }
  await sim.stop();
  return result;
}

class Simulation {
  private readonly rng: Rng;
  readonly config: RunOptions;
  private readonly definitions: Map<string, AnyActorDefinition>;
  private readonly replicas: Replica[] = [];
  private readonly replicators: Replicator[][] = [];
  private readonly network: Network;
  /** The trace's lines, kept only for `simulateWithTrace` (a long run's trace is large); always hashed and counted. */
  private readonly trace: string[] = [];
  private traceLength = 0;
  private readonly traceHasher = createHash('sha256');
  private readonly counts: SimCounts = emptyCounts();
  private readonly acks = new Map<string, Accepted[]>();
  private readonly issued: Issued[] = [];
  /** Commands whose reply never came (crash after persist, replica down): retried first. */
  private readonly unanswered: Issued[] = [];
  private readonly resolutions: ResolutionRecord[] = [];
  /** When each resolution happened (kept out of the hashed trace). */
  private readonly resolutionTimes: TraceResolution[] = [];
  private pending: ScheduledSync[] = [];
  private tick = 0;
  private virtualMs = 0;
  /** Every step drawn (record mode), in the order it ran: what `options.schedule` replays. */
  private readonly steps: ScheduleStep[] = [];
  /** The step running now: a crash during it records (or, replaying, reads) its restart delay there. */
  private current: ScheduleStep | undefined;
  private readonly replaying: boolean;
  readonly storeUsed: StoreUsed;
  private readonly redisUrl: string;
  /** Redis mode: `sim-<seed>-<random>`; replica i uses `<base>-r<i>`. Random, outside the seeded PRNG: never in the trace. */
  private readonly prefixBase: string;
  private stopped = false;

  constructor(
    private readonly options: SimOptions,
    private readonly keepTrace: boolean,
  ) {
    this.rng = new Rng(options.seed);
    this.config = resolveOptions(this.rng, options);
    this.replaying = options.schedule !== undefined;
    const workload = workloadOf(options);
    this.definitions = new Map(workload.actors.map((d) => [d.type, traced(d)]));
    this.network = new Network(this.config.replicas);
    const store = options.store ?? 'memory';
    if (store !== 'memory' && store !== 'redis') throw new Error(`unknown store '${String(store)}'`);
    this.redisUrl = options.redisUrl ?? defaultRedisUrl;
    this.prefixBase = `sim-${options.seed}-${randomBytes(4).toString('hex')}`;
    this.storeUsed =
      store === 'redis'
        ? { kind: 'redis', url: this.redisUrl, shards: redisShards, prefixes: Array.from({ length: this.config.replicas }, (_, i) => `${this.prefixBase}-r${i}`) }
        : { kind: 'memory' };
  }

  /** I6's bound on a load outside resolutions: the traced definition's snapshotEvery. */
  private readonly loadBound = (type: string): number => this.definitions.get(type)?.snapshotEvery ?? Infinity;

  /** Opens every replica's store (connects to Redis in Redis mode), runtime and replicators. Draws nothing from the PRNG. */
  async open(): Promise<void> {
    for (let i = 0; i < this.config.replicas; i++) {
      const id = `r${i}`;
      const clock = new ManualClock(epochMs);
      const prefix = this.storeUsed.kind === 'redis' ? this.storeUsed.prefixes[i] : undefined;
      // If a connect fails, stop() still closes the stores opened so far and clears every prefix.
      const replica: Replica = {
        index: i,
        id,
        clock,
        ids: new FlakeIdSource({ machineId: i + 1, clock }),
        store: new InstrumentedStore(prefix ? await this.connectStore(prefix) : new MemoryStore(), id, this.loadBound),
        ...(prefix ? { prefix } : {}),
        storeOpen: true,
        strategy: this.options.mergeStrategy?.(id) ?? computeMerge,
        runtime: undefined as unknown as Runtime,
        up: true,
        restartAt: -1,
        crashes: 0,
      };
      replica.runtime = this.startRuntime(replica);
      this.replicas.push(replica);
    }
    const endpoint = (r: Replica) => ({ store: r.store, resolve: (actor: ActorRef) => r.runtime.resolve(actor) });
    for (const from of this.replicas) this.replicators.push(this.replicas.map((to) => new Replicator(endpoint(from), endpoint(to))));
    // commandsPerTick is left out of the trace at its default, so runs that predate it keep their trace hashes.
    const { commandsPerTick, ...shared } = this.config;
    this.record({ k: 'options', ...shared, ...(commandsPerTick === 1 ? {} : { commandsPerTick }) });
  }

  async run(started: number): Promise<SimReport & ScheduleFields> {
    const workload = workloadOf(this.options);
    const next = workload.nextCommand.bind(workload);
    if (this.options.schedule) await this.replay(this.options.schedule);
    else {
      for (this.tick = 0; this.tick < this.config.steps; this.tick++) {
        this.advanceClocks();
        await this.nemesis();
        for (let c = 0; c < this.config.commandsPerTick; c++) await this.clients(next);
        await this.replicate();
        this.options.onProgress?.(this.tick + 1, this.config.steps);
      }
    }
    const convergence = await this.healAndConverge();
    for (const r of this.replicas) r.store.watching = false;
    const context = await collectFinalState(
      { replicas: this.replicas, definitions: this.definitions, acks: this.acks, resolutions: this.resolutions, counts: this.counts },
      convergence,
    );
    const checkStarted = performance.now();
    const invariants = await checkAll(context);
    const checkMs = Math.round(performance.now() - checkStarted);
    const durationMs = Math.max(1, Math.round(performance.now() - started));
    return {
      seed: this.options.seed,
      traceHash: this.traceHasher.digest('hex'),
      ok: Object.values(invariants).every((r) => r.ok),
      options: this.config,
      store: this.storeUsed,
      invariants,
      counts: this.counts,
      replicas: this.replicas.map((r) => ({
        id: r.id,
        packs: [...context.replicas[r.index]!.packs.values()].reduce((n, keys) => n + keys.length, 0),
        crashes: r.crashes,
        clockSkewMs: r.clock.now() - epochMs - this.virtualMs,
      })),
      convergenceRounds: convergence.rounds,
      traceLength: this.traceLength,
      durationMs,
      checkMs,
      simulatedCommandsPerSec: Math.round((this.counts.commands * 1000) / durationMs),
      ...(this.options.recordSchedule && !this.replaying ? { schedule: this.steps } : {}),
      ...(this.replaying ? { replayedSteps: this.options.schedule!.length } : {}),
    };
  }

  exposeTrace(): SimTrace {
    return {
      events: this.trace.map((line, i) => ({ ...(JSON.parse(line) as { t: number; k: string }), i })),
      resolutions: [...this.resolutionTimes],
    };
  }

  /** Stops the runtimes; in Redis mode closes the stores and deletes every key of the run's prefixes. Idempotent. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const stopping = await Promise.allSettled(this.replicas.filter((r) => r.up).map((r) => r.runtime.stop()));
    if (this.storeUsed.kind !== 'redis') {
      for (const s of stopping) if (s.status === 'rejected') throw s.reason;
      return;
    }
    await Promise.allSettled(this.replicas.filter((r) => r.storeOpen).map((r) => r.store.inner.close()));
    for (const r of this.replicas) r.storeOpen = false;
    // Every prefix of the run, also those whose store never connected.
    await deletePrefixes(this.redisUrl, this.storeUsed.prefixes);
    for (const s of stopping) if (s.status === 'rejected') throw s.reason;
  }

  private connectStore(prefix: string): Promise<EventStore> {
    return connectRedisStore({ url: this.redisUrl, prefix, shards: redisShards });
  }

  private startRuntime(replica: Replica): Runtime {
    const inner = replica.strategy;
    const store = replica.store;
    // Every resolution goes through here: counted, and the packs it reads recorded (I6).
    const strategy: MergeStrategy = async (s, definition, actor, heads, limits) => {
      this.counts.divergences++;
      const { result, recorder } = await store.recordReads(actor, () => inner(s, definition, actor, heads, limits));
      this.resolutions.push({
        replica: replica.index,
        actor: { type: actor.type, id: actor.id },
        headKeys: result.heads.map((h) => VC.encode(h.version)),
        version: VC.encode(result.pack.version),
        readKeys: [...recorder.keys],
      });
      if (this.keepTrace) this.resolutionTimes.push({ i: this.traceLength, t: this.tick, r: replica.index, actor: actorKey(actor), heads: result.heads.length });
      return result;
    };
    return createRuntime({
      actors: [...this.definitions.values()],
      store,
      replicaId: replica.id,
      machineId: replica.index + 1,
      clock: replica.clock,
      idSource: replica.ids,
      // Passivation runs on the real clock: keep it out of the simulation.
      idleTimeoutMs: 1e12,
      mergeStrategy: strategy,
    });
  }

  /** Keeps a drawn step for `report.schedule` (only when recording one: a long run would hold every step). */
  private keep(step: ScheduleStep): void {
    if (this.options.recordSchedule) this.steps.push(step);
  }

  private record(entry: Record<string, unknown>): void {
    const line = canonical({ t: this.tick, ...entry });
    // Hashed as it is written: the same digest as hashing the lines joined by '\n', without
    // building one string as long as the whole trace at the end.
    this.traceHasher.update(this.traceLength === 0 ? line : `\n${line}`);
    this.traceLength++;
    if (this.keepTrace) this.trace.push(line);
  }

  private advanceClocks(): void {
    const step = 5;
    this.virtualMs += step;
    const ms = this.replicas.map(() => this.rng.int(0, 2));
    this.keep({ t: this.tick, k: 'jitter', ms });
    for (const r of this.replicas) r.clock.advance(step + ms[r.index]!);
  }

  private async nemesis(): Promise<void> {
    const f = this.config.faults;
    const rng = this.rng;
    for (const r of this.replicas) {
      if (!r.up && r.restartAt <= this.tick) await this.restart(r);
    }
    if (rng.chance(f.partition)) {
      const what = this.network.partition(this.config.partitionMode, rng);
      this.keep({ t: this.tick, k: 'partition', ...what });
      this.partitioned(what);
    }
    if (rng.chance(f.heal) && this.network.partitioned) {
      this.keep({ t: this.tick, k: 'heal' });
      this.heal();
    }
    if (rng.chance(f.clockSkew)) this.stepClock(rng.pick(this.replicas), rng.int(1_000, 120_000));
    if (rng.chance(f.clockBack)) this.stepClock(rng.pick(this.replicas), -rng.int(1_000, 120_000));
    if (rng.chance(f.crash)) {
      const victim = rng.pick(this.replicas);
      if (victim.up) {
        this.current = { t: this.tick, k: 'crash', r: victim.index };
        this.keep(this.current);
        await this.crash(victim, 'crash');
        this.current = undefined;
      }
    }
  }

  private partitioned(what: { mode: string; side?: number[]; link?: [number, number] }): void {
    this.counts.partitions++;
    this.record({ k: 'partition', mode: what.mode, ...(what.side ? { side: what.side } : { link: what.link }), down: this.network.downLinks() });
  }

  private heal(): void {
    this.network.heal();
    this.counts.heals++;
    this.record({ k: 'heal' });
  }

  private stepClock(replica: Replica, deltaMs: number): void {
    if (!this.replaying) this.keep({ t: this.tick, k: 'clock', r: replica.index, deltaMs });
    replica.clock.advance(deltaMs);
    this.counts.clockSteps++;
    this.record({ k: 'clock', r: replica.index, deltaMs });
  }

  private async crash(replica: Replica, why: string): Promise<void> {
    await replica.runtime.stop();
    replica.up = false;
    if (replica.prefix) {
      // The process died with its connection; the data stays in Redis under the prefix.
      replica.storeOpen = false;
      await replica.store.inner.close();
    }
    replica.crashes++;
    // Drawn when recording (and kept on the step that crashed it); read back from that step when replaying.
    const step = this.current as { restartIn?: number } | undefined;
    const restartIn = this.replaying ? (step?.restartIn ?? 1) : this.rng.int(1, 5);
    if (!this.replaying && step) step.restartIn = restartIn;
    replica.restartAt = this.tick + restartIn;
    this.counts.crashes++;
    this.record({ k: 'crash', r: replica.index, why, restartAt: replica.restartAt });
  }

  /**
   * A new runtime on the same store: every cached state is gone. In Redis mode the restarted
   * process connects a new RedisStore on the replica's prefix (same data, new connection).
   */
  private async restart(replica: Replica): Promise<void> {
    if (replica.prefix && !replica.storeOpen) {
      replica.store.reopen(await this.connectStore(replica.prefix));
      replica.storeOpen = true;
    }
    replica.runtime = this.startRuntime(replica);
    replica.up = true;
    this.record({ k: 'restart', r: replica.index });
  }

  private async clients(next: (rng: Rng, step: number, actors: number) => WorkloadCommand): Promise<void> {
    const f = this.config.faults;
    const rng = this.rng;
    if (rng.chance(f.burst)) {
      // Several commands to one actor at once, racing a resolution of it: the mailbox serializes them.
      const replica = rng.pick(this.replicas);
      const first = this.newCommand(next(rng, this.tick, this.config.actors));
      const rest = Array.from({ length: rng.int(1, 4) }, () => this.newCommand({ ...next(rng, this.tick, this.config.actors), actor: first.actor }));
      const commands = [first, ...rest];
      this.current = { t: this.tick, k: 'burst', r: replica.index, commands: commands.map(plainCommand) };
      this.keep(this.current);
      await this.burst(replica, commands);
      this.current = undefined;
      return;
    }
    let command: Issued;
    let retry = false;
    if (rng.chance(f.retry) && this.issued.length > 0) {
      command = this.unanswered.length > 0 ? this.unanswered.shift()! : rng.pick(this.issued);
      retry = true;
      this.record({ k: 'retry', id: command.commandId });
    } else {
      command = this.newCommand(next(rng, this.tick, this.config.actors));
    }
    const replica = rng.pick(this.replicas);
    const step: ScheduleStep & { k: 'send' } = { t: this.tick, k: 'send', r: replica.index, ...plainCommand(command), ...(retry ? { retry } : {}) };
    this.keep(step);
    if (!replica.up) return this.unavailable(replica, command);
    if (rng.chance(f.crashAfterPersist)) step.crashAfterPersist = true;
    await this.send(replica, command, step);
  }

  /** One command at one replica (a first send or a retry), possibly crashing it after the persist. */
  private async send(replica: Replica, command: Issued, step: ScheduleStep & { k: 'send' }): Promise<void> {
    if (step.crashAfterPersist) replica.store.crashAfterNextAppend();
    this.current = step;
    await this.settleReply(replica, command, await this.attempt(replica, command));
    this.current = undefined;
  }

  /** Several commands to one actor at once, racing a resolution of it. */
  private async burst(replica: Replica, commands: Issued[]): Promise<void> {
    this.record({ k: 'burst', r: replica.index, ids: commands.map((c) => c.commandId) });
    if (!replica.up) {
      for (const c of commands) this.unavailable(replica, c);
      return;
    }
    const first = commands[0]!;
    const resolving = replica.runtime.resolve(first.actor).then(
      (reply) => ({ resolved: reply.resolved }),
      (error: Error) => ({ error: error.message }),
    );
    const replies = await Promise.all(commands.map((c) => this.attempt(replica, c)));
    this.record({ k: 'burst-resolve', r: replica.index, ...(await resolving) });
    for (const [i, outcome] of replies.entries()) await this.settleReply(replica, commands[i]!, outcome);
  }

  private newCommand(c: WorkloadCommand): Issued {
    const issued = { ...c, commandId: `c${this.issued.length}` };
    this.issued.push(issued);
    return issued;
  }

  private unavailable(replica: Replica, command: Issued): void {
    this.counts.unavailable++;
    this.unanswered.push(command);
    this.record({ k: 'unavailable', r: replica.index, id: command.commandId });
  }

  private attempt(replica: Replica, c: Issued): Promise<{ reply: CommandReply } | { error: unknown }> {
    return replica.runtime
      .send(c.actor as UntypedRef, { type: c.type, payload: c.payload, commandId: c.commandId })
      .then((reply) => ({ reply }), (error: unknown) => ({ error }));
  }

  private async settleReply(replica: Replica, c: Issued, outcome: { reply: CommandReply } | { error: unknown }): Promise<void> {
    this.counts.commands++;
    if ('error' in outcome) {
      const crashed = outcome.error instanceof SimulatedCrash;
      if (crashed) this.counts.lostReplies++;
      else this.counts.errors++;
      this.unanswered.push(c);
      this.record({ k: crashed ? 'lost-reply' : 'error', r: replica.index, id: c.commandId, error: (outcome.error as Error).message });
      if (crashed && replica.up) await this.crash(replica, 'after-persist');
      return;
    }
    const reply = outcome.reply;
    const actor = actorKey(c.actor);
    if (reply.status === 'rejected') {
      this.counts.rejected++;
      this.record({ k: 'cmd', r: replica.index, id: c.commandId, actor, type: c.type, payload: c.payload, status: 'rejected', reason: reply.reason });
      return;
    }
    if (reply.duplicate) this.counts.duplicates++;
    else {
      this.counts.accepted++;
      if (reply.events.length > 0) this.acks.set(c.commandId, [...(this.acks.get(c.commandId) ?? []), reply]);
    }
    this.record({
      k: 'cmd', r: replica.index, id: c.commandId, actor, type: c.type, payload: c.payload, status: 'accepted',
      duplicate: reply.duplicate, version: VC.encode(reply.version), events: reply.events.map((e) => e.id),
    });
  }

  /** This tick's replication: which links sync, which messages are dropped, duplicated or held back, in what order. */
  private async replicate(): Promise<void> {
    const f = this.config.faults;
    const rng = this.rng;
    const now: ScheduledSync[] = this.pending.filter((p) => p.due <= this.tick);
    this.pending = this.pending.filter((p) => p.due > this.tick);
    for (const from of this.replicas) {
      for (const to of this.replicas) {
        if (from === to || !rng.chance(f.sync)) continue;
        const link = { from: from.index, to: to.index };
        if (rng.chance(f.drop)) {
          this.keep({ t: this.tick, k: 'drop', ...link });
          this.messageFault({ k: 'drop', ...link });
        } else if (rng.chance(f.delay)) {
          const due = this.tick + rng.int(1, 4);
          this.pending.push({ ...link, due });
          this.keep({ t: this.tick, k: 'delay', ...link, due });
          this.messageFault({ k: 'delay', ...link, due });
        } else {
          now.push({ ...link, due: this.tick });
          if (rng.chance(f.duplicate)) {
            now.push({ ...link, due: this.tick });
            this.keep({ t: this.tick, k: 'duplicate', ...link });
            this.messageFault({ k: 'duplicate', ...link });
          }
        }
      }
    }
    for (const s of rng.shuffle(now)) {
      this.keep({ t: this.tick, k: 'sync', from: s.from, to: s.to });
      await this.sync(s.from, s.to);
    }
  }

  /** A dropped, held back or duplicated message: counted and traced (the sync itself is its own step). */
  private messageFault(entry: { k: 'drop' | 'delay' | 'duplicate'; from: number; to: number; due?: number }): void {
    if (entry.k === 'drop') this.counts.droppedSyncs++;
    else if (entry.k === 'delay') this.counts.delayedSyncs++;
    else this.counts.duplicatedSyncs++;
    this.record(entry);
  }

  /**
   * Runs a recorded schedule instead of drawing one: the same ticks, each with its steps in the
   * order they were recorded. Steps that no longer make sense (a replica index out of range, a
   * crash of a replica that is down, a heal with nothing partitioned) are skipped, so any subset
   * of a recorded schedule is a valid schedule.
   */
  private async replay(schedule: readonly ScheduleStep[]): Promise<void> {
    const n = this.replicas.length;
    const inRange = (...indices: number[]) => indices.every((i) => Number.isInteger(i) && i >= 0 && i < n);
    const byTick = new Map<number, ScheduleStep[]>();
    for (const step of schedule) byTick.set(step.t, [...(byTick.get(step.t) ?? []), step]);
    for (this.tick = 0; this.tick < this.config.steps; this.tick++) {
      const steps = byTick.get(this.tick) ?? [];
      this.virtualMs += 5;
      const jitter = steps.find((s) => s.k === 'jitter');
      for (const r of this.replicas) r.clock.advance(5 + (jitter?.k === 'jitter' ? (jitter.ms[r.index] ?? 0) : 0));
      for (const r of this.replicas) if (!r.up && r.restartAt <= this.tick) await this.restart(r);
      for (const step of steps) {
        switch (step.k) {
          case 'jitter':
            break;
          case 'partition':
            if (step.side ? !inRange(...step.side) : !step.link || !inRange(...step.link) || step.link[0] === step.link[1]) break;
            if (step.side) this.network.split(step.side);
            else this.network.cut(step.link![0], step.link![1]);
            this.partitioned(step);
            break;
          case 'heal':
            if (this.network.partitioned) this.heal();
            break;
          case 'clock':
            if (inRange(step.r)) this.stepClock(this.replicas[step.r]!, step.deltaMs);
            break;
          case 'crash':
            if (inRange(step.r) && this.replicas[step.r]!.up) {
              this.current = step;
              await this.crash(this.replicas[step.r]!, 'crash');
              this.current = undefined;
            }
            break;
          case 'send': {
            if (!inRange(step.r)) break;
            const command = issuedOf(step);
            if (step.retry) this.record({ k: 'retry', id: command.commandId });
            const replica = this.replicas[step.r]!;
            if (!replica.up) this.unavailable(replica, command);
            else await this.send(replica, command, step);
            break;
          }
          case 'burst':
            if (!inRange(step.r) || step.commands.length === 0) break;
            this.current = step;
            await this.burst(this.replicas[step.r]!, step.commands.map(issuedOf));
            this.current = undefined;
            break;
          case 'drop':
          case 'duplicate':
            if (inRange(step.from, step.to)) this.messageFault({ k: step.k, from: step.from, to: step.to });
            break;
          case 'delay':
            if (inRange(step.from, step.to)) this.messageFault({ k: 'delay', from: step.from, to: step.to, due: step.due });
            break;
          case 'sync':
            if (inRange(step.from, step.to) && step.from !== step.to) await this.sync(step.from, step.to);
            break;
        }
      }
    }
  }

  /** Runs one sync if both replicas are up and the link is; returns the work it did (copies + resolutions) and failures. */
  private async sync(from: number, to: number): Promise<{ work: number; failed: number }> {
    if (!this.replicas[from]!.up || !this.replicas[to]!.up || !this.network.isUp(from, to)) {
      this.record({ k: 'sync-lost', from, to });
      return { work: 0, failed: 0 };
    }
    this.counts.syncs++;
    try {
      const report = await this.replicators[from]![to]!.sync();
      this.record({ k: 'sync', from, to, copied: report.copied, skipped: report.skipped, resolved: report.resolved.map(actorKey), failed: report.failed.map((x) => actorKey(x.actor)) });
      return { work: report.copied + report.resolved.length, failed: report.failed.length };
    } catch (error) {
      this.counts.errors++;
      this.record({ k: 'sync-error', from, to, error: (error as Error).message });
      return { work: 0, failed: 1 };
    }
  }

  /** Liveness: heal everything, restart crashed replicas, then sync every ordered pair in rounds until nothing moves. */
  private async healAndConverge(): Promise<{ converged: boolean; rounds: number; detail?: string }> {
    this.network.heal();
    this.pending = [];
    for (const r of this.replicas) if (!r.up) await this.restart(r);
    this.record({ k: 'heal-all' });
    const max = this.config.convergeRoundsMax;
    let failures = 0;
    for (let round = 1; round <= max; round++) {
      let work = 0;
      failures = 0;
      for (let from = 0; from < this.replicas.length; from++) {
        for (let to = 0; to < this.replicas.length; to++) {
          if (from === to) continue;
          const done = await this.sync(from, to);
          work += done.work;
          failures += done.failed;
        }
      }
      if (work === 0 && failures === 0) {
        this.record({ k: 'converged', rounds: round });
        return { converged: true, rounds: round };
      }
    }
    this.record({ k: 'not-converged', rounds: max });
    return { converged: false, rounds: max + 1, detail: `replication did not go quiet within ${max} sync rounds after the heal${failures ? ` (${failures} failed syncs or resolutions in the last round)` : ''}` };
  }
}
