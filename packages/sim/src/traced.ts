import { type AnyActorDefinition, type EventRecord, defineActor } from '@troupe/runtime';

/**
 * State of a traced actor: the actor's own state plus a digest of the ids of the events folded
 * into it, in fold order, and their count. The checkers read the fold order back from the
 * definition's `AppliedLog` (I1, I3, I5), whatever the actor keeps in its own state.
 *
 * Why a digest and not the list itself: a list grows with the history, so every fold copied it
 * and every snapshot and merge pack encoded it: the simulator slowed down as runs grew (a
 * 2,000-step run spent ~4 of its 6 s of simulation on it). Equal digests mean the same ids in
 * the same order, so comparing two states still compares their histories.
 */
export interface TracedState<S = unknown> {
  readonly inner: S;
  /** Digest of the applied event ids, in order ('' for none); look the ids up with `AppliedLog.ids`. */
  readonly applied: string;
  readonly count: number;
}

/**
 * Log of fold orders, as a prefix tree shared by every replica of a run: each digest names one
 * node (a base-36 number), the node of `id` folded onto `previous`. Every fold of the same ids in
 * the same order, on any replica, lands on the same nodes, so equal digests mean equal fold orders
 * and the log holds each distinct prefix once.
 *
 * Interned, not hashed: a sha1 per folded event (every fold of every replica, view and oracle)
 * was 6 % of a simulation's CPU. The digests are only meaningful within the run (the log is made
 * per `traced` call, one per simulation), which is all the checkers ask of them.
 */
export class AppliedLog {
  /** Node n (digest `(n + 1).toString(36)`): its parent node (-1 for the root '') and its event id. */
  private readonly parents: number[] = [];
  private readonly ids_: string[] = [];
  private readonly digests: string[] = [];
  /** The first child of each node (at `previous` node + 1, 0 for the root) and its event id: most nodes have one. */
  private readonly firstChildIds: (string | undefined)[] = [];
  private readonly firstChildNodes: number[] = [];
  /** Further children, by `<previous digest> <id>`. */
  private readonly moreChildren = new Map<string, number>();

  /** The digest after folding `id` onto `previous`, recorded. */
  append(previous: string, id: string): string {
    const parent = this.node(previous);
    const slot = parent + 1;
    const firstId = this.firstChildIds[slot];
    if (firstId !== undefined) {
      if (firstId === id) return this.digests[this.firstChildNodes[slot]!]!;
      const key = `${previous} ${id}`;
      const known = this.moreChildren.get(key);
      if (known !== undefined) return this.digests[known]!;
      const node = this.add(parent, id);
      this.moreChildren.set(key, node);
      return this.digests[node]!;
    }
    const node = this.add(parent, id);
    while (this.firstChildIds.length < slot) {
      this.firstChildIds.push(undefined);
      this.firstChildNodes.push(-1);
    }
    this.firstChildIds[slot] = id;
    this.firstChildNodes[slot] = node;
    return this.digests[node]!;
  }

  /** The event ids a digest stands for, in fold order; throws on a digest this log never made. */
  ids(digest: string): string[] {
    const out: string[] = [];
    for (let at = this.node(digest); at !== -1; at = this.parents[at]!) out.push(this.ids_[at]!);
    return out.reverse();
  }

  get size(): number {
    return this.parents.length;
  }

  private add(parent: number, id: string): number {
    const node = this.parents.length;
    this.parents.push(parent);
    this.ids_.push(id);
    this.digests.push((node + 1).toString(36));
    return node;
  }

  /** The node a digest names (-1 for ''); throws on a digest this log never made. */
  private node(digest: string): number {
    if (digest === '') return -1;
    // parseInt reads any prefix it can: the exact digest of the node it names is compared.
    const node = parseInt(digest, 36) - 1;
    if (!(node >= 0) || node >= this.parents.length || this.digests[node] !== digest) throw new Error(`applied log: unknown digest ${digest}`);
    return node;
  }
}

const logs = new WeakMap<AnyActorDefinition, AppliedLog>();

/** The log a traced definition records its fold orders in. */
export function appliedLogOf(definition: AnyActorDefinition): AppliedLog | undefined {
  return logs.get(definition);
}

/**
 * Wraps a definition without changing its behaviour: same type name, commands, validators,
 * events, compensations and snapshot threshold; the state just also records what was applied.
 * Each call makes a fresh log (one per simulation).
 */
export function traced(definition: AnyActorDefinition): AnyActorDefinition {
  const log = new AppliedLog();
  const commands: Record<string, (s: TracedState, p: unknown, c: never) => unknown> = {};
  for (const [name, decide] of Object.entries(definition.commands)) {
    commands[name] = (s, p, c) => (decide as (s: unknown, p: unknown, c: unknown) => unknown)(s.inner, p, c);
  }
  const events: Record<string, (s: TracedState, d: unknown, e: EventRecord) => TracedState> = {};
  for (const [name, evolve] of Object.entries(definition.events)) {
    events[name] = (s, d, e) => ({
      inner: (evolve as (s: unknown, d: unknown, e: EventRecord) => unknown)(s.inner, d, e),
      applied: log.append(s.applied, e.id),
      count: s.count + 1,
    });
  }
  const onMerge = definition.onMerge;
  const wrapped = defineActor<TracedState, Record<string, unknown>, Record<string, unknown>>({
    type: definition.type,
    initial: () => ({ inner: definition.initial(), applied: '', count: 0 }),
    commands: commands as never,
    events: events as never,
    ...(definition.validate ? { validate: definition.validate } : {}),
    ...(onMerge
      ? {
          onMerge: (merged, ctx) =>
            onMerge(merged.inner, { ...ctx, ancestorState: ctx.ancestorState.inner }) as never,
        }
      : {}),
    snapshotEvery: definition.snapshotEvery,
  });
  logs.set(wrapped, log);
  return wrapped;
}
