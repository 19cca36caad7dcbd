import { type ActorRef, actorKey } from '@troupe/runtime/store';

/**
 * Runs one actor's work one piece after another, in the order it was queued, while different
 * actors run concurrently; also tracks background work, so a stop can wait for all of it.
 */
export class ActorChains {
  private readonly chains = new Map<string, Promise<void>>();
  private readonly background = new Set<Promise<void>>();

  /** Queues `work` behind the actor's earlier work. `work` must not reject, or the chain would break. */
  enqueue(ref: ActorRef, work: () => Promise<void>): void {
    const key = actorKey(ref);
    const previous = this.chains.get(key) ?? Promise.resolve();
    const next = previous.then(work);
    this.chains.set(key, next);
    void next.then(() => {
      if (this.chains.get(key) === next) this.chains.delete(key);
    });
  }

  /** Tracks work that belongs to no actor (dead-lettering an undecodable message) until it settles. */
  track(work: Promise<void>): void {
    this.background.add(work);
    void work.then(
      () => this.background.delete(work),
      () => this.background.delete(work),
    );
  }

  /** Resolves once every chain and every tracked piece of work has settled, including work queued meanwhile. */
  async settled(): Promise<void> {
    while (this.chains.size > 0 || this.background.size > 0) {
      await Promise.allSettled([...this.chains.values(), ...this.background]);
    }
  }
}
