import { type ActorRef, AppendConflictError, DuplicateCommandError, type Pack, type Snapshot, VC, actorKey, encodeValue } from '@troupe/runtime/store';
import { ReplicationTimeoutError } from '../errors/index.js';
import type { StoreContext } from './context.js';
import { encodePackChecked, logEntry, parentInfo } from './packCodec.js';
import type { Reply } from './scriptCalls.js';
import { identityFound } from './storeIdentity.js';

/**
 * The conditional append of one pack: one script call (append.lua) that compares the heads and
 * looks up the pack's command ids, then writes pack, parent link, run index, heads, command ids, a
 * snapshot at the pack's own version and the log entry; or writes nothing and reports the heads
 * it found (AppendConflictError), the command id it already holds (DuplicateCommandError) or that
 * the Redis lost the store's data (StoreDataLostError, see storeIdentity.ts). With
 * `replicasToAcknowledge`, a write fewer replicas confirmed in time is a ReplicationTimeoutError,
 * and so is a duplicate command id whose earlier write they have not confirmed.
 */
export async function append(ctx: StoreContext, pack: Pack, expectedHeads: readonly string[], snapshot?: Snapshot): Promise<void> {
  const keys = ctx.keys.actor(pack.actor);
  const version = VC.encode(pack.version);
  const bytes = encodePackChecked(pack, version, ctx.options.packBytesMax);
  const snapshotBytes = snapshot && VC.encode(snapshot.version) === version ? encodeValue(snapshot.state) : '';
  const firstParent = pack.parents.length > 0 ? VC.encode(pack.parents[0]!) : '';
  const dominates = dominatesAll(pack, expectedHeads);
  const identity = ctx.identity.known ?? (await ctx.identity.current());
  const { options } = ctx;
  const wait = options.replicasToAcknowledge > 0 ? { replicas: options.replicasToAcknowledge, timeoutMs: options.replicationTimeoutMs } : undefined;
  batchWrites(ctx.client);
  const { reply, replicasAcknowledged } = await ctx.scripts.write(
    'troupeAppend',
    [keys.log, keys.packs, keys.parents, keys.heads, keys.snapshots, keys.commands, keys.runs, keys.identity],
    [
      logEntry(pack.actor, version, snapshotBytes !== ''),
      version, bytes, parentInfo(pack, bytes, firstParent), snapshotBytes,
      // Dominance, run-index flag, whether a WAIT follows, and head count in one argument (see the script).
      (dominates ? '1' : '0') +
        (pack.kind === 'merge' ? 'm' : dominates && expectedHeads.length === 1 && expectedHeads[0] === firstParent ? 'c' : 's') +
        (wait ? 'w' : '-') +
        expectedHeads.length,
      identity,
      ...expectedHeads, ...pack.commandIds,
    ],
    wait,
  );
  const replies = reply as Reply[];
  const status = String(replies[0]);
  if (status === 'conflict') throw new AppendConflictError(actorKey(pack.actor), expectedHeads, replies.slice(1).map(String).sort());
  if (status === 'lost') throw ctx.identity.lose([identityFound(keys.identity, replies[1])]);
  // A duplicate is checked too: the write that recorded the command id may be on no replica yet
  // (a retry after a ReplicationTimeoutError); the script made the WAIT cover it (see common.lua).
  if (replicasAcknowledged !== undefined && replicasAcknowledged < options.replicasToAcknowledge) {
    throw new ReplicationTimeoutError(ctx.runner.endpoint, replicasAcknowledged, options.replicasToAcknowledge, options.replicationTimeoutMs);
  }
  if (status === 'duplicate') throw new DuplicateCommandError(actorKey(pack.actor), String(replies[1]));
  // A snapshot at another version than the pack's is not part of the append (and not shipped).
  if (snapshot && snapshotBytes === '') await saveSnapshot(ctx, pack.actor, snapshot);
}

/** Sockets corked by `batchWrites` until the next turn of the event loop. */
const corked = new WeakSet<object>();

interface Corkable {
  cork(): void;
  uncork(): void;
}

/**
 * Lets the appends of one event-loop turn leave in one socket write: ioredis writes every command
 * with its own write(2) (~20 µs of CPU each, a third of an append's client-side cost when a
 * worker appends for hundreds of actors at once). The first append of a turn corks the client's
 * socket; an immediate of the next turn uncorks it, so everything written meanwhile (these
 * appends, and any other command of the client) goes out in one writev. Nothing is reordered: a
 * corked socket keeps the order of its writes, and replies still come in that order. A
 * standalone client only (a Cluster's commands go to one socket per master); without the
 * internals (`stream`, `cork`) it does nothing.
 */
function batchWrites(client: StoreContext['client']): void {
  const stream = (client as unknown as { stream?: Partial<Corkable> }).stream;
  if (!stream || typeof stream.cork !== 'function' || typeof stream.uncork !== 'function' || corked.has(stream)) return;
  const socket = stream as Corkable;
  socket.cork();
  corked.add(socket);
  setImmediate(() => {
    corked.delete(socket);
    socket.uncork();
  });
}

/** Stores a snapshot (a cache: not shipped in the log unless written with its pack), unless the Redis lost the data. */
export async function saveSnapshot(ctx: StoreContext, actor: ActorRef, snapshot: Snapshot): Promise<void> {
  const keys = ctx.keys.actor(actor);
  const identity = ctx.identity.known ?? (await ctx.identity.current());
  const reply = (await ctx.scripts.fixed('troupeSaveSnapshot')(keys.identity, keys.snapshots, identity, VC.encode(snapshot.version), encodeValue(snapshot.state))) as Reply[];
  if (String(reply[0]) === 'lost') throw ctx.identity.lose([identityFound(keys.identity, reply[1])]);
}

/** True when the pack's version is at or after every expected head: the append makes it the only head. */
function dominatesAll(pack: Pack, expectedHeads: readonly string[]): boolean {
  if (expectedHeads.length === 0) return true;
  // The usual case, a command on its one head, is checked against the parent without parsing.
  const parent = pack.parents[0];
  if (pack.kind === 'command' && expectedHeads.length === 1 && parent && expectedHeads[0] === VC.encode(parent)) {
    return VC.dominatedBy(parent, pack.version);
  }
  try {
    return expectedHeads.every((head) => VC.dominatedBy(VC.decode(head), pack.version));
  } catch {
    return false; // not a version key: the script finds the heads differ and reports a conflict
  }
}
