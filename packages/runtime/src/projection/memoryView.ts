import { type AnyActorDefinition, fold } from '../actor/index.js';
import { InvalidOptionError, ProjectionError, ViewTimeoutError } from '../errors/index.js';
import { type ActorRef, actorKey, type Pack } from '../model/index.js';
import { stateAt } from '../resolution/index.js';
import type { EventStore } from '../store/index.js';
import { VC, type VectorClock } from '../vectorClock/index.js';
import { canonicalBounded } from '../codec/index.js';
import type { ProjectionDefinition } from './defineProjection.js';
import { ViewState } from './viewState.js';

export interface MemoryViewOptions {
  /** Packs read from the log per round trip. Default 500. */
  readonly batchSize?: number;
  /** How often `start()` polls the log for new packs. Default 100 ms. */
  readonly pollMs?: number;
}

/** What a subscriber is told after each change: the keys whose row changed, and the whole view. */
export interface ViewChange<Row> {
  readonly changed: readonly string[];
  readonly rows: ReadonlyMap<string, Row>;
}

interface Held {
  readonly version: VectorClock;
  readonly state: unknown;
}

/**
 * A view kept in memory, fed by a store's log (#16): it reads `changesSince` from its position,
 * and for every actor of its types whose packs arrive, recomputes that actor's rows from its state
 * after them (see `stateAfter`: folded onto the held state, or a merge pack's state) and replaces
 * the actor's contribution. A pack of another branch (the actor diverged, not merged yet) leaves
 * the contribution as it was until the merge arrives. So at quiescence the view equals
 * `viewFromScratch` over the converged histories.
 *
 * `current` reads without waiting; `read()` catches up first; `ready` resolves after the first
 * catch-up; `subscribe` is told each change (merge corrections included); `waitUntil(predicate)`
 * and `waitFor(actor, version)` (read-your-writes: the view reflects a reply's version) wait.
 */
export class MemoryView<Row = unknown> {
  private readonly state: ViewState<Row>;
  private readonly held = new Map<string, Held>();
  private readonly definitions = new Map<string, AnyActorDefinition>();
  private readonly listeners = new Set<(change: ViewChange<Row>) => void>();
  private readonly batchSize: number;
  private readonly pollMs: number;
  private position: string | undefined;
  private catching: Promise<void> | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private running = false;
  private failure: ProjectionError | undefined;
  private markReady!: () => void;
  /** Resolves once the view has caught up with the log for the first time. */
  readonly ready: Promise<void> = new Promise((resolve) => (this.markReady = resolve));
  private isReady = false;

  constructor(
    readonly projection: ProjectionDefinition<Row>,
    private readonly store: EventStore,
    options: MemoryViewOptions = {},
  ) {
    this.batchSize = options.batchSize ?? 500;
    this.pollMs = options.pollMs ?? 100;
    if (!Number.isSafeInteger(this.batchSize) || this.batchSize < 1) throw new InvalidOptionError('batchSize', `must be a positive integer, got ${String(options.batchSize)}`);
    if (!(this.pollMs > 0) || !Number.isFinite(this.pollMs)) throw new InvalidOptionError('pollMs', `must be a finite number > 0, got ${String(options.pollMs)}`);
    this.state = new ViewState<Row>(projection);
    for (const definition of projection.from) this.definitions.set(definition.type, definition);
  }

  /** The view as of its last catch-up, without waiting (immutable). */
  get current(): ReadonlyMap<string, Row> {
    return this.state.current();
  }

  /** The position in the store's log read so far (a cursor of the store). */
  get cursor(): string | undefined {
    return this.position;
  }

  /** Whether the view has caught up with the log at least once. */
  get isCaughtUp(): boolean {
    return this.isReady;
  }

  /** Catches up with everything the log holds now, then returns the view. */
  async read(): Promise<ReadonlyMap<string, Row>> {
    await this.catchUp();
    return this.current;
  }

  /**
   * Reads the log from the view's position to its end and applies it. Concurrent calls share one
   * run. Throws ProjectionError (and stays stopped at that actor) when `rows` throws.
   */
  catchUp(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    this.catching ??= this.run().finally(() => (this.catching = undefined));
    return this.catching;
  }

  /** Polls the log every `pollMs` (catching up each time) until `stop()`. */
  start(): void {
    if (this.running) return;
    this.running = true;
    const tick = () => {
      if (!this.running) return;
      this.catchUp().then(
        () => (this.timer = setTimeout(tick, this.pollMs)),
        () => (this.running = false),
      );
    };
    tick();
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    await this.catching?.catch(() => undefined);
  }

  /** Calls `listener` after each change; returns the function that unsubscribes it. */
  subscribe(listener: (change: ViewChange<Row>) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Resolves with the view once `predicate` holds for it (checked now and after every change); ViewTimeoutError after `timeoutMs`. */
  waitUntil(predicate: (rows: ReadonlyMap<string, Row>) => boolean, options: { readonly timeoutMs?: number } = {}): Promise<ReadonlyMap<string, Row>> {
    return this.waitFor_(() => predicate(this.current), 'the condition', options.timeoutMs ?? 30_000);
  }

  /**
   * Read-your-writes: resolves once the view reflects `actor` at `version` or later (e.g. the
   * version of a command's reply). ViewTimeoutError after `timeoutMs`.
   */
  waitFor(actor: ActorRef, version: VectorClock, options: { readonly timeoutMs?: number } = {}): Promise<ReadonlyMap<string, Row>> {
    const key = actorKey(actor);
    return this.waitFor_(
      () => {
        const held = this.held.get(key);
        return held !== undefined && VC.dominatedBy(version, held.version);
      },
      `${key}@${VC.encode(version)}`,
      options.timeoutMs ?? 30_000,
    );
  }

  private waitFor_(done: () => boolean, what: string, timeoutMs: number): Promise<ReadonlyMap<string, Row>> {
    if (done()) return Promise.resolve(this.current);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        unsubscribe();
        reject(new ViewTimeoutError(this.projection.id, what, timeoutMs));
      }, timeoutMs);
      const unsubscribe = this.subscribe(() => {
        if (!done()) return;
        clearTimeout(timer);
        unsubscribe();
        resolve(this.current);
      });
      // Not running on its own: catch up now, so a one-off wait does not depend on start().
      if (!this.running) this.catchUp().catch(() => undefined);
    });
  }

  private async run(): Promise<void> {
    for (;;) {
      const changes = await this.store.changesSince(this.position, this.batchSize);
      if (changes.packs.length > 0) await this.apply(changes.packs);
      this.position = changes.cursor;
      if (changes.packs.length < this.batchSize) break;
    }
    if (!this.isReady) {
      this.isReady = true;
      this.markReady();
    }
    // Listeners waiting for a version already held (or a condition already true) are told too.
    this.notify([]);
  }

  /** Applies one batch: each touched actor once, in the batch's order. */
  private async apply(packs: readonly Pack[]): Promise<void> {
    const touched = new Map<string, { actor: ActorRef; packs: Pack[] }>();
    for (const pack of packs) {
      if (!this.projection.types.has(pack.actor.type)) continue;
      const key = actorKey(pack.actor);
      const entry = touched.get(key) ?? { actor: pack.actor, packs: [] };
      entry.packs.push(pack);
      touched.set(key, entry);
    }
    const changed = new Set<string>();
    for (const [key, { actor, packs: arrived }] of touched) {
      // Awaited only when it had to read the store (rare): one await per actor and catch-up was
      // a large part of a view's cost where batches touch many actors once each.
      const after = this.stateAfter(key, actor, arrived);
      const next = after instanceof Promise ? await after : after;
      if (!next) continue;
      let rows;
      try {
        rows = [...this.projection.rows(actor, next.state)];
      } catch (error) {
        this.failure = new ProjectionError(this.projection.id, key, VC.encode(next.version), error);
        throw this.failure;
      }
      this.held.set(key, next);
      for (const k of this.state.replace(key, rows)) changed.add(k);
    }
    if (changed.size > 0 || touched.size > 0) this.notify([...changed]);
  }

  /**
   * The actor's state after the packs that arrived, read from the packs themselves: a command
   * pack that extends the held version is folded onto the held state (a root onto `initial()`); a
   * merge pack carries its state; a pack concurrent with the held version (another branch, not
   * merged yet) leaves the held state as it is until its merge arrives; a pack after the held
   * version that extends nothing held (rare: a view that skipped part of a branch) is read with
   * `stateAt`. Undefined when nothing changed. No heads are read: at quiescence an actor's last
   * pack in the log is its single head (the log lists every pack after its parents), so the view
   * ends at every actor's head.
   */
  private stateAfter(key: string, actor: ActorRef, arrived: readonly Pack[]): Held | undefined | Promise<Held> {
    const held = this.held.get(key);
    const definition = this.definitions.get(actor.type)!;
    let current = held;
    let readAt: VectorClock | undefined;
    for (const pack of arrived) {
      const base = current?.version;
      if (base !== undefined && VC.compare(pack.version, base) !== 'after') continue;
      if (pack.kind === 'merge') {
        current = { version: pack.version, state: pack.state };
        readAt = undefined;
      } else if (readAt === undefined && (base === undefined ? pack.parents.length === 0 : pack.parents.length === 1 && sameVersion(pack.parents[0]!, base))) {
        current = { version: pack.version, state: fold(definition, current ? ownState(current.state) : definition.initial(), pack.events) };
      } else {
        readAt = pack.version;
        current = { version: pack.version, state: undefined };
      }
    }
    if (current === held || current === undefined) return undefined;
    if (readAt !== undefined) {
      const version = readAt;
      return stateAt(this.store, definition, actor, version).then((read) => ({ version, state: read.state }));
    }
    return current;
  }

  private notify(changed: readonly string[]): void {
    // No subscriber, nothing to tell: `current` sorts the whole view after a change (per catch-up, that was most of a view's cost).
    if (this.listeners.size === 0) return;
    const change = { changed, rows: this.current };
    for (const listener of [...this.listeners]) {
      try {
        listener(change);
      } catch (error) {
        process.emitWarning(`a view subscriber threw: ${(error as Error)?.message ?? String(error)}`);
      }
    }
  }
}

function sameVersion(a: VectorClock, b: VectorClock): boolean {
  // The same frozen clock (a pack's parent is often its parent's own version object), or equal entries: no keys encoded.
  return a === b || VC.compare(a, b) === 'equal';
}

/**
 * A state the view may hand to event handlers: a merge pack's state as the MemoryStore keeps it is
 * deep-frozen (the store's own), and a handler may build the next state by changing the one it
 * gets, as it may in the runtime (whose loadChain base is a copy), so a frozen state is copied first.
 */
function ownState(state: unknown): unknown {
  return state !== null && typeof state === 'object' && Object.isFrozen(state) ? canonicalBounded(state).value : state;
}
