import type { ActorRef, ReplicaEndpoint, ReplicatorOptions, SyncReport } from '@troupe/runtime';
import { actorKey } from '@troupe/runtime/store';
import type { ReplicatorFactory, SyncRunner } from '../executor.js';

/**
 * Where a planted replicator bug moves a step to: `saveFirst` saves the batch's cursor before the
 * merge, `publishFirst` reports the batch (`onBatch`, which publishes its position in the frontier
 * table) before the merge, `eagerCursor` advances its own cursor before the merge (so a sync that
 * fails half-way skips the batch for good). Otherwise it copies, resolves and saves as the
 * runtime's Replicator does.
 */
export type ReplicatorBug = 'saveFirst' | 'publishFirst' | 'eagerCursor';

class PlantedReplicator implements SyncRunner {
  private position: string | undefined;
  private loaded = false;
  private readonly unresolved = new Map<string, ActorRef>();

  constructor(
    private readonly bug: ReplicatorBug,
    private readonly source: ReplicaEndpoint,
    private readonly target: ReplicaEndpoint,
    private readonly options: ReplicatorOptions,
  ) {}

  /** Published after each sync (I9): its own position, which moves only after the merge. */
  get cursor(): string | undefined {
    return this.position;
  }

  async sync(): Promise<SyncReport> {
    if (!this.loaded) {
      this.position = await this.options.checkpoint?.load();
      this.loaded = true;
    }
    let copied = 0;
    let skipped = 0;
    const resolved: ActorRef[] = [];
    let failed: { actor: ActorRef; error: unknown }[] = [];
    for (;;) {
      const changes = await this.source.store.changesSince(this.position, this.options.batchSize ?? 500);
      if (changes.packs.length === 0) break;
      // The bug: a step that must follow the merge comes before it.
      if (this.bug === 'saveFirst') await this.options.checkpoint!.save(changes.cursor);
      else if (this.bug === 'publishFirst') await this.options.onBatch?.({ packs: changes.packs, copied: 0, skipped: 0, cursor: changes.cursor });
      else this.position = changes.cursor;
      const report = await this.target.store.merge(changes.packs, changes.snapshots);
      copied += report.added;
      skipped += report.skipped;
      for (const pack of changes.packs) this.unresolved.set(actorKey(pack.actor), pack.actor);
      failed = await this.resolveDiverged(resolved);
      this.position = changes.cursor;
      if (this.bug !== 'saveFirst') await this.options.checkpoint?.save(changes.cursor);
    }
    return { copied, skipped, resolved, failed };
  }

  private async resolveDiverged(resolved: ActorRef[]): Promise<{ actor: ActorRef; error: unknown }[]> {
    const failed: { actor: ActorRef; error: unknown }[] = [];
    for (const [key, actor] of [...this.unresolved]) {
      try {
        if ((await this.target.store.heads(actor)).length > 1) {
          await this.target.resolve(actor);
          resolved.push(actor);
        }
        this.unresolved.delete(key);
      } catch (error) {
        failed.push({ actor, error });
      }
    }
    return failed;
  }
}

/** A replicator factory for the simulator whose replicators carry `bug`. */
export function plantedReplicator(bug: ReplicatorBug): ReplicatorFactory {
  return (source, target, options) => new PlantedReplicator(bug, source, target, options);
}
