import { type ActorRef, CorruptDataError, type Pack, VC, type VectorClock } from '@troupe/runtime/store';
import { ReplicationTimeoutError } from '../errors/index.js';
import type { StoreContext } from './context.js';
import { decodePackAt } from './packCodec.js';
import type { Reply } from './scriptCalls.js';
import { identityFound } from './storeIdentity.js';

/**
 * The actor's heads with their packs (one script call), in code-unit order of their version keys.
 * The script checks the store identity first (StoreDataLostError): every load starts here.
 */
export async function heads(ctx: StoreContext, actor: ActorRef): Promise<Pack[]> {
  const keys = ctx.keys.actor(actor);
  const identity = ctx.identity.known ?? (await ctx.identity.current());
  const reply = (await ctx.scripts.fixed('troupeHeads')(keys.packs, keys.heads, keys.identity, identity)) as Buffer[];
  if (String(reply[0]) === 'lost') throw ctx.identity.lose([identityFound(keys.identity, reply[1])]);
  const found: { key: string; bytes: Buffer }[] = [];
  for (let i = 1; i < reply.length; i += 2) found.push({ key: String(reply[i]), bytes: reply[i + 1]! });
  // Sorted here, in code-unit order: Lua's order depends on the server's locale.
  found.sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : 0));
  return found.map(({ key, bytes }) => {
    if (bytes.length === 0) throw new CorruptDataError(`${keys.packs} field ${key}`, `the heads set ${keys.heads} names a pack that is not stored`);
    return decodePackAt(bytes, keys.packs, key);
  });
}

/** The packs at the given version keys (one HMGET), undefined where absent. */
export async function getPacks(ctx: StoreContext, actor: ActorRef, versionKeys: readonly string[]): Promise<(Pack | undefined)[]> {
  if (versionKeys.length === 0) return [];
  const keys = ctx.keys.actor(actor);
  const reply = await ctx.runner.run(() => ctx.client.hmgetBuffer(keys.packs, ...versionKeys), [keys.packs]);
  return reply.map((bytes, i) => (bytes ? decodePackAt(bytes, keys.packs, versionKeys[i]!) : undefined));
}

/**
 * The versions of the packs that applied a command id (one HGET of a '|'-separated list). The
 * runtime answers a retry from them (with `getPacks`) instead of applying the command again, so
 * with `replicasToAcknowledge` a recorded id is confirmed like a write: the script
 * commandVersions.lua reads it again and makes the `WAIT` after it (same pipeline, same master)
 * cover the write that recorded it, whoever made it; fewer replicas in time is a
 * ReplicationTimeoutError, as the first attempt was. An id not recorded needs no replica (one
 * HGET, no WAIT: the command is applied now, and its append waits).
 */
export async function commandVersions(ctx: StoreContext, actor: ActorRef, commandId: string): Promise<VectorClock[]> {
  const keys = ctx.keys.actor(actor);
  let versions = await ctx.runner.run(() => ctx.client.hget(keys.commands, commandId), [keys.commands]);
  if (versions === null) return [];
  const { options } = ctx;
  if (options.replicasToAcknowledge > 0) {
    const identity = ctx.identity.known ?? (await ctx.identity.current());
    const { reply, replicasAcknowledged } = await ctx.scripts.write('troupeCommandVersions', [keys.commands, keys.identity], [identity, commandId], {
      replicas: options.replicasToAcknowledge,
      timeoutMs: options.replicationTimeoutMs,
    });
    const replies = reply as Reply[];
    if (String(replies[0]) === 'lost') throw ctx.identity.lose([identityFound(keys.identity, replies[1])]);
    // Read again on the master the WAIT ran on (a failover in between may have lost the id).
    versions = replies[1] === undefined || replies[1] === null ? null : String(replies[1]);
    if (versions === null) return [];
    if (replicasAcknowledged !== undefined && replicasAcknowledged < options.replicasToAcknowledge) {
      throw new ReplicationTimeoutError(ctx.runner.endpoint, replicasAcknowledged, options.replicasToAcknowledge, options.replicationTimeoutMs);
    }
  }
  try {
    return versions.split('|').map(VC.decode);
  } catch (error) {
    throw new CorruptDataError(`${keys.commands} field ${commandId}`, (error as Error).message, error);
  }
}
