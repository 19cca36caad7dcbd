import { type ActorRef, type ActorSnapshot, type MergeReport, MissingAncestorError, type Pack, VC, VersionCollisionError, actorKey, encodeValue } from '@troupe/runtime/store';
import { ReplicationTimeoutError } from '../errors/index.js';
import type { StoreContext } from './context.js';
import { identityFound } from './storeIdentity.js';
import type { ActorKeys } from './keySchema.js';
import { packBytes } from './packBytes.js';
import { logEntry, parentInfo } from './packCodec.js';
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
  const snapshotByKey = snapshots.length > 0 ? new Map(snapshots.map((s) => [`${actorKey(s.actor)}@${VC.encode(s.version)}`, s])) : undefined;
  let added = 0;
  let skipped = 0;
  const diverged = new Map<string, ActorRef>();
  let i = 0;
  const { options } = ctx;
  const wait = options.replicasToAcknowledge > 0 ? { replicas: options.replicasToAcknowledge, timeoutMs: options.replicationTimeoutMs } : undefined;
  const identity = packs.length > 0 ? (ctx.identity.known ?? (await ctx.identity.current())) : '';
  // An actor's keys once per merge (a busy actor has many packs in one).
  const keysByActor = new Map<string, ActorKeys>();
  const keysOf = (actor: ActorRef): ActorKeys => {
    const name = `${actor.type}\u0000${actor.id}`;
    let keys = keysByActor.get(name);
    if (keys === undefined) keysByActor.set(name, (keys = ctx.keys.actor(actor)));
    return keys;
  };
  while (i < packs.length) {
    const first = keysOf(packs[i]!.actor);
    const keys: string[] = [first.log, first.identity];
    const args: (string | Buffer)[] = [identity, wait ? 'w' : '-'];
    // The actors of this call, in order (their five keys besides :p are declared after the packs').
    const touched: ActorKeys[] = [];
    let j = i;
    for (; j < packs.length && j - i < mergePacksPerCallMax; j++) {
      const pack = packs[j]!;
      const actorKeys = j === i ? first : keysOf(pack.actor);
      if (actorKeys.log !== first.log) break;
      if (actorKeys.packs !== touched[touched.length - 1]?.packs) touched.push(actorKeys);
      keys.push(actorKeys.packs);
      const version = VC.encode(pack.version);
      const snapshot = snapshotByKey?.get(`${actorKey(pack.actor)}@${version}`);
      const bytes = packBytes(pack, version, ctx.options.packBytesMax);
      // The parents the parent info does not name: a merge pack's, a command pack's after its first.
      const others = pack.kind === 'merge' ? pack.parents : pack.parents.slice(1);
      args.push(
        version, bytes, parentInfo(pack, bytes), logEntry(pack.actor, version, snapshot !== undefined),
        `${pack.commandIds.length}${others.length > 0 ? `+${others.length}` : ''}${snapshot ? 's' : ''}`,
        ...pack.commandIds,
      );
      for (const parent of others) args.push(VC.encode(parent));
      if (snapshot) args.push(encodeValue(snapshot.state));
    }
    // Declared too, after the packs' keys (the script finds them by name): on a Redis Cluster whose
    // slot is migrating, Redis checks the declared keys before the script runs and answers ASK or
    // TRYAGAIN, which the client follows; an undeclared key already moved would instead fail (or,
    // on the importing node, be written empty) in the middle of the script.
    // They are also every key the script touches: a WRONGTYPE reply is searched among them.
    for (const k of touched) keys.push(k.parents, k.heads, k.snapshots, k.commands, k.runs);
    const written = await ctx.scripts.write('troupeMerge', keys, args, wait);
    const reply = written.reply as Reply[];
    if (String(reply[2]) === 'lost') throw ctx.identity.lose([identityFound(first.identity, reply[3])]);
    added += Number(reply[0]);
    skipped += Number(reply[1]);
    // A run that only skipped counts too: the packs it found may be on no replica yet (a retry
    // after a ReplicationTimeoutError); the script made the WAIT cover them (see common.lua).
    if (Number(reply[0]) + Number(reply[1]) > 0 && written.replicasAcknowledged !== undefined && written.replicasAcknowledged < options.replicasToAcknowledge) {
      throw new ReplicationTimeoutError(ctx.runner.endpoint, written.replicasAcknowledged, options.replicasToAcknowledge, options.replicationTimeoutMs);
    }
    const failing = () => actorKey(packs[i + Number(reply[3]) - 1]!.actor);
    if (String(reply[2]) === 'collision') throw new VersionCollisionError(failing(), String(reply[4]));
    if (String(reply[2]) === 'missing') throw new MissingAncestorError(failing(), String(reply[4]));
    for (const number of reply.slice(3)) {
      const actor = packs[i + Number(number) - 1]?.actor;
      if (actor) diverged.set(actorKey(actor), actor);
    }
    i = j;
  }
  return { added, skipped, diverged: [...diverged.values()] };
}
