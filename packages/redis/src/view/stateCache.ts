import type { VectorClock } from '@troupe/runtime';

/** An actor's state at one version. */
export interface HeldState {
  readonly version: VectorClock;
  readonly versionKey: string;
  readonly state: unknown;
}

/**
 * Actor states a runner keeps between batches, so a pack that extends one in line is folded onto
 * it instead of loading the actor again (as MemoryView does). A state at a version is a pure
 * function of the history up to it, so an entry stays right whatever happens to the view (a lost
 * lease, a rebuild's swap): it is only an accelerator. At most `max` entries, the least recently
 * used dropped first.
 */
export class StateCache {
  private readonly entries = new Map<string, HeldState>();
  constructor(private readonly max: number) {}

  get(actor: string): HeldState | undefined {
    const held = this.entries.get(actor);
    if (held) {
      this.entries.delete(actor);
      this.entries.set(actor, held);
    }
    return held;
  }

  set(actor: string, held: HeldState): void {
    this.entries.delete(actor);
    this.entries.set(actor, held);
    if (this.entries.size > this.max) this.entries.delete(this.entries.keys().next().value!);
  }
}
