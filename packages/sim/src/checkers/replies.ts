import { type CommandReply, type DecideContext, type EventRecord, isRejection } from '@troupe/runtime';
import type { HeldRecord } from '../instrumentedStore.js';
import { type Pack, type VectorClock, VC, actorKey } from '@troupe/runtime/store';
import { canonical, canonicalEqual } from '../canonical.js';
import { heldKey } from '../instrumentedStore.js';
import type { ScheduleCommand } from '../schedule.js';
import type { OrderingOracle } from '../oracle/index.js';
import { type CheckContext, type CheckResult, Verdict } from './types.js';

/**
 * An event of a reply, as far as the checkers read it: its type and data (I7 compares them with
 * the decision), and its id (I7 checks which copy a duplicate names; absent in a first execution's
 * record, see `slimReply`).
 */
export interface RepliedEvent {
  readonly id?: string;
  readonly type: string;
  readonly data: unknown;
}

/** An accepted reply, as far as the checkers read it (a runtime `Accepted` is one). */
export interface AcceptedReply {
  readonly status: 'accepted';
  readonly version: VectorClock;
  readonly events: readonly RepliedEvent[];
  readonly duplicate: boolean;
}

/**
 * A reply as the checkers read it (a runtime `CommandReply` is one): what the executor keeps of
 * every reply of a run (`slimReply`), not the whole reply: a long run keeps a million of them.
 */
export type RepliedReply = AcceptedReply | { readonly status: 'rejected'; readonly reason: string };

/**
 * What the checkers read of a reply, copied out of the runtime's reply. A first execution's
 * events are kept as their types and data only (I7 compares those with the decision; I1 finds the
 * events in the histories by the command id), one frozen list per distinct content (`shared`): a
 * long run keeps a record per command. A duplicate's keep their ids (I7 checks the copy it names).
 */
export function slimReply(reply: CommandReply, shared?: Map<string, readonly RepliedEvent[]>): RepliedReply {
  if (reply.status === 'rejected') return { status: 'rejected', reason: reply.reason };
  let events: readonly RepliedEvent[];
  if (reply.duplicate || !shared) events = reply.events.map((e) => ({ id: e.id, type: e.type, data: e.data }));
  else {
    const content = reply.events.map((e) => ({ type: e.type, data: e.data }));
    const text = canonical(content);
    events = shared.get(text) ?? Object.freeze(content);
    if (!shared.has(text)) shared.set(text, events);
  }
  return { status: 'accepted', version: reply.version, events, duplicate: reply.duplicate };
}

/** What a replica held at an append, in one string: its clock, then the version keys of its heads (version keys hold no space). */
export function packHeld(held: HeldRecord): string {
  return held.heads.length === 0 ? `${held.nowMs}` : `${held.nowMs} ${held.heads.join(' ')}`;
}

export function unpackHeld(text: string): HeldRecord {
  const space = text.indexOf(' ');
  if (space === -1) return { nowMs: Number(text), heads: [] };
  return { nowMs: Number(text.slice(0, space)), heads: text.slice(space + 1).split(' ') };
}

/** One reply a client got, as the executor recorded it for I7. */
export interface ReplyRecord {
  /** Index of the replica that answered. */
  readonly replica: number;
  readonly command: ScheduleCommand;
  readonly reply: RepliedReply;
  /**
   * For an accepted first execution: what the replica held at its append, as the store wrapper
   * recorded it (`InstrumentedStore.held`), taken by the executor right after the reply (the
   * wrapper's map is then emptied: a long run keeps no map of every append), in one string
   * (`packHeld`). Without it, the wrapper's map is looked up (records made by hand).
   */
  readonly held?: string;
  /**
   * For a rejection or a duplicate: what the replica held when it answered (`copies`: the version
   * keys of the packs there that applied this command id; a single send's only, [] in a burst). A single send: read
   * right after the reply (nothing runs between the decision and this read; the runtime decides a
   * rejection on the store's current head). A rejection in a burst: inferred from the mailbox
   * order (`Executor.heldInBurst`); absent when an error in the burst left it unknown. Accepted
   * first executions need none: the store wrapper records what was held at their append
   * (`InstrumentedStore.held`).
   */
  readonly after?: { readonly heads: readonly string[]; readonly nowMs: number; readonly copies: readonly string[] };
}

/**
 * I7 every reply checked against a sequential model of the replica that answered:
 * - an accepted first execution: the decision `decide` gives on the state the replica held when it
 *   appended (its heads in the store just before the append, several heads resolved: the merge at
 *   their pointwise-max version, as the converged history computes it) must be this reply (same
 *   event types and data), and its version must be that state's version plus one step at the replica;
 * - a rejection: `decide` on the state held must reject it, for the same reason, and the replica
 *   must not hold the command (a retry of a command it applied is answered with the recorded result);
 * - a duplicate (a retry answered with the recorded result): it must name the copy of
 *   the command that survives a merge among the copies the replica held.
 * I1 only asks that some copy of each acknowledged command is in the final history; this asks that
 * each answer is the one the replica's state called for. The rules (version step, pointwise max,
 * which copy survives) are written here from the README, not imported from the runtime.
 */
export function checkI7(ctx: CheckContext, replies: readonly ReplyRecord[]): CheckResult {
  const verdict = new Verdict();
  // Actor by actor (in the order first answered), so each actor's oracle is made once (`References`).
  const byActor = new Map<string, ReplyRecord[]>();
  for (const record of replies) {
    const key = actorKey(record.command.actor);
    const list = byActor.get(key);
    if (list) list.push(record);
    else byActor.set(key, [record]);
  }
  for (const [key, records] of byActor) {
    // The actor's oracle, fetched once, on first use (`References` keeps the last few).
    let reference: OrderingOracle | undefined | null = null;
    const referenceOf = () => (reference === null ? (reference = ctx.references.get(key)) : reference);
    for (const record of records) {
      checkReply(ctx, verdict, key, record, referenceOf);
    }
  }
  return verdict.result();
}

/** I7 for one reply (see `checkI7`). */
function checkReply(ctx: CheckContext, verdict: Verdict, key: string, record: ReplyRecord, referenceOf: () => OrderingOracle | undefined): void {
  const { command, reply } = record;
  const replica = ctx.replicas[record.replica]!;
  // Written for a failure only (the payload's text for every reply was a good part of I7's time).
  const where = () => `${replica.id}: ${command.id} (${command.type} ${canonical(command.payload)})`;
  if (reply.status === 'accepted' && reply.duplicate) {
    if (!record.after) return;
    verdict.checked++;
    const problem = checkDuplicate(ctx, key, command.id, reply, record.after.copies);
    if (problem) verdict.fail(key, `${where()}: ${problem}`);
    return;
  }
  let held: { readonly heads: readonly string[]; readonly nowMs: number } | undefined;
  if (reply.status === 'accepted') {
    held = record.held !== undefined ? unpackHeld(record.held) : replica.store.held.get(heldKey(command.id, VC.encode(reply.version)));
    if (!held) {
      verdict.checked++;
      verdict.fail(key, `${where()}: accepted at ${VC.encode(reply.version)}, but no append of that pack was seen`);
      return;
    }
  } else {
    held = record.after;
    if (!held) return; // a rejection after an error in a burst: what was held is not known
    if (record.after!.copies.length > 0) {
      // The replica held the command: a retry is answered with the recorded result, whatever the
      // state would decide now (a second `open` of an account it opened is no new decision).
      verdict.checked++;
      verdict.fail(key, `${where()}: rejected (${reply.reason}), but the replica held the command at ${record.after!.copies.join(' | ')}: a retry must be answered with the recorded result`);
      return;
    }
  }
  verdict.checked++;
  const state = heldState(ctx, key, held.heads, referenceOf);
  const expected = decide(ctx, command, state.state, { actor: command.actor, commandId: command.id, now: held.nowMs, replica: replica.id });
  const heldText = () => `heads [${held.heads.join(' | ')}]`;
  if ('error' in expected) {
    verdict.fail(key, `${where()}: decide on the state held (${heldText()}) throws: ${expected.error}`);
  } else if (reply.status === 'rejected') {
    if (!expected.rejected) verdict.fail(key, `${where()}: rejected (${reply.reason}), but decide on the state held (${heldText()}) accepts it: ${canonical(expected.events)}`);
    else if (expected.reason !== reply.reason) verdict.fail(key, `${where()}: rejected for '${reply.reason}', decide on the state held (${heldText()}) rejects for '${expected.reason}'`);
  } else if (expected.rejected) {
    verdict.fail(key, `${where()}: accepted at ${VC.encode(reply.version)}, but decide on the state held (${heldText()}) rejects it: ${expected.reason}`);
  } else {
    const emitted = reply.events.map((e) => ({ type: e.type, data: e.data }));
    if (!canonicalEqual(emitted, expected.events)) {
      verdict.fail(key, `${where()}: emitted ${canonical(emitted).slice(0, 200)}, decide on the state held (${heldText()}) emits ${canonical(expected.events).slice(0, 200)}`);
    }
    const version = VC.encode(step(state.version, replica.id));
    if (VC.encode(reply.version) !== version) verdict.fail(key, `${where()}: accepted at ${VC.encode(reply.version)}, but the state held (${heldText()}) is at ${VC.encode(state.version)}: the next version is ${version}`);
  }
}

type Decision = { rejected: true; reason: string } | { rejected: false; events: { type: string; data: unknown }[] } | { error: string };

function decide(ctx: CheckContext, command: ScheduleCommand, state: unknown, context: DecideContext): Decision {
  const handler = ctx.definitions.get(command.actor.type)?.commands[command.type] as ((s: unknown, p: unknown, c: DecideContext) => unknown) | undefined;
  if (!handler) return { error: `no command '${command.type}' on '${command.actor.type}'` };
  try {
    const decision = handler(state, command.payload, context);
    if (isRejection(decision)) return { rejected: true, reason: decision.reason };
    return { rejected: false, events: (decision as { type: string; data: unknown }[]).map((e) => ({ type: e.type, data: e.data })) };
  } catch (error) {
    return { error: (error as Error)?.message ?? String(error) };
  }
}

/**
 * The state a replica held with these heads: none = the initial state; one = the history folded up
 * to it; several = their merge, the converged state at their pointwise-max version (the merge pack
 * there if the history has it, else the reference's merge of the command heads at that version).
 */
function heldState(ctx: CheckContext, key: string, heads: readonly string[], referenceOf: () => OrderingOracle | undefined): { state: unknown; version: VectorClock } {
  const reference = referenceOf();
  if (heads.length === 0 || !reference) {
    const type = key.slice(0, key.indexOf(':'));
    return { state: ctx.definitions.get(type)!.initial(), version: {} };
  }
  if (heads.length === 1) return { state: reference.stateAt(heads[0]!), version: VC.decode(heads[0]!) };
  const version = heads.map((h) => VC.decode(h)).reduce(pointwiseMax, {});
  const at = VC.encode(version);
  if (ctx.allPacks.get(key)?.has(at)) return { state: reference.stateAt(at), version };
  return { state: reference.merge(reference.commandHeadsAt(version)).state, version };
}

/** Every replica's counter, the larger of the two (the version of a merge). */
function pointwiseMax(a: VectorClock, b: VectorClock): VectorClock {
  const out: Record<string, number> = { ...a };
  for (const [replica, n] of Object.entries(b)) out[replica] = Math.max(out[replica] ?? 0, n);
  return out;
}

/** The version a command pack written on `version` at `replica` takes: one step of that replica's counter. */
function step(version: VectorClock, replica: string): VectorClock {
  // A copy by a loop, not a spread with a computed key (which made a slow dictionary object per reply).
  const out: Record<string, number> = {};
  for (const r of Object.keys(version)) out[r] = version[r]!;
  out[replica] = (version[replica] ?? 0) + 1;
  return out;
}

/**
 * A duplicate must name the copy that survives among the copies the replica held (README, "which
 * copy survives"): the copy whose first event replays first (ts, then id, then replica), a copy
 * with events before one without, and between copies without events the smaller version key.
 */
function checkDuplicate(ctx: CheckContext, key: string, commandId: string, reply: AcceptedReply, copyKeys: readonly string[]): string | undefined {
  const packs = ctx.allPacks.get(key);
  const copies = copyKeys
    .map((k) => ({ key: k, pack: packs?.get(k) }))
    .filter((c): c is { key: string; pack: Pack } => c.pack !== undefined && c.pack.commandIds.includes(commandId))
    .map((c) => ({ key: c.key, events: c.pack.events.filter((e) => e.causationId === commandId) }));
  if (copies.length === 0) return `answered as a duplicate of ${VC.encode(reply.version)}, but the replica held no copy of the command`;
  let best = copies[0]!;
  for (const copy of copies.slice(1)) if (survivesOver(copy, best)) best = copy;
  const answered = VC.encode(reply.version);
  const ids = canonical(reply.events.map((e) => e.id));
  const expectedIds = canonical(best.events.map((e) => e.id));
  if (answered !== best.key || ids !== expectedIds) {
    return `a retry answered with the copy at ${answered} (events ${ids}), but the copy that survives among the ${copies.length} held is ${best.key} (events ${expectedIds})`;
  }
  return undefined;
}

function survivesOver(a: { key: string; events: readonly EventRecord[] }, b: { key: string; events: readonly EventRecord[] }): boolean {
  const x = earliest(a.events);
  const y = earliest(b.events);
  if (x && y) return replaysBefore(x, y);
  if (x || y) return x !== undefined;
  return a.key < b.key;
}

function earliest(events: readonly EventRecord[]): EventRecord | undefined {
  let first: EventRecord | undefined;
  for (const e of events) if (!first || replaysBefore(e, first)) first = e;
  return first;
}

/** Replay order (README): timestamp, then event id, then replica. */
function replaysBefore(a: EventRecord, b: EventRecord): boolean {
  if (a.ts !== b.ts) return a.ts < b.ts;
  if (a.id !== b.id) return a.id < b.id;
  return a.replica < b.replica;
}
