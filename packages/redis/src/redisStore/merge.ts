import { type ActorRef, type ActorSnapshot, type MergeReport, MissingAncestorError, type Pack, VC, VersionCollisionError, actorKey, encodeValue } from '@troupe/runtime/store';
import { ReplicationTimeoutError } from '../errors/index.js';
import type { StoreContext } from './context.js';
import { identityFound } from './storeIdentity.js';
import { encodePackChecked, parentInfo } from './packCodec.js';
import type { Reply } from './scriptCalls.js';

/** Most packs per merge script call: bounds the arguments of one call and how long it blocks Redis. */
const mergePacksPerCallMax = 500;

/**
 * Copies packs from another store, idempotently: one script call (merge.lua) per run of
 * consecutive packs of one shard (at most `mergePacksPerCallMax`), in order. A missing parent or
 * a different pack under a held version stops it; runs merged before the error stay merged. A
 * Redis that lost the store's data takes nothing (StoreDataLostError); with
 * `replicasToAcknowledge`, a run fewer replicas confirmed in time is a ReplicationTimeoutError
 * (merge is idempotent: call it again with the same packs), a run that only skipped packs held
 * already included: a retry resolves only once the replicas hold them.
 */
export async function merge(ctx: StoreContext, packs: readonly Pack[], snapshots: readonly ActorSnapshot[] = []): Promise<MergeReport> {
  const snapshotByKey = new Map(snapshots.map((s) => [`${actorKey(s.actor)}@${VC.encode(s.version)}`, s]));
  let added = 0;
  let skipped = 0;
  const diverged = new Map<string, ActorRef>();
  let i = 0;
  const { options } = ctx;
  const wait = options.replicasToAcknowledge > 0 ? { replicas: options.replicasToAcknowledge, timeoutMs: options.replicationTimeoutMs } : undefined;
  const identity = packs.length > 0 ? (ctx.identity.known ?? (await ctx.identity.current())) : '';
  while (i < packs.length) {
    const shard = ctx.keys.shardOf(packs[i]!.actor);
    const keys: string[] = [ctx.keys.log(shard), ctx.keys.identity(shard)];
    const args: (string | Buffer)[] = [identity, wait ? 'w' : '-'];
    let j = i;
    for (; j < packs.length && j - i < mergePacksPerCallMax && ctx.keys.shardOf(packs[j]!.actor) === shard; j++) {
      const pack = packs[j]!;
      const actorKeys = ctx.keys.actor(pack.actor);
      keys.push(actorKeys.packs, actorKeys.parents, actorKeys.heads, actorKeys.snapshots, actorKeys.commands, actorKeys.runs);
      const version = VC.encode(pack.version);
      const snapshot = snapshotByKey.get(`${actorKey(pack.actor)}@${version}`);
      const bytes = encodePackChecked(pack, version, ctx.options.packBytesMax);
      args.push(
        pack.actor.type, pack.actor.id, version, bytes, parentInfo(pack, bytes),
        JSON.stringify(pack.parents.map(VC.encode)), JSON.stringify(pack.commandIds),
        snapshot ? encodeValue(snapshot.state) : '',
      );
    }
    const written = await ctx.scripts.write('troupeMerge', keys, args, wait);
    const reply = written.reply as Reply[];
    if (String(reply[2]) === 'lost') throw ctx.identity.lose([identityFound(ctx.keys.identity(shard), reply[3])]);
    added += Number(reply[0]);
    skipped += Number(reply[1]);
    // A run that only skipped counts too: the packs it found may be on no replica yet (a retry
    // after a ReplicationTimeoutError); the script made the WAIT cover them (see common.lua).
    if (Number(reply[0]) + Number(reply[1]) > 0 && written.replicasAcknowledged !== undefined && written.replicasAcknowledged < options.replicasToAcknowledge) {
      throw new ReplicationTimeoutError(ctx.runner.endpoint, written.replicasAcknowledged, options.replicasToAcknowledge, options.replicationTimeoutMs);
    }
    if (String(reply[2]) === 'collision') throw new VersionCollisionError(String(reply[3]), String(reply[4]));
    if (String(reply[2]) === 'missing') throw new MissingAncestorError(String(reply[3]), String(reply[4]));
    for (const number of reply.slice(3)) {
      const actor = packs[i + Number(number) - 1]?.actor;
      if (actor) diverged.set(actorKey(actor), actor);
    }
    i = j;
  }
  return { added, skipped, diverged: [...diverged.values()] };
}
