import { canonicalBoundedFrozen, canonicalSized } from '../codec/index.js';
import { CanonicalPack, frozenClock, frozenRef } from '../model/canonicalPack.js';
import { LimitExceededError } from '../errors/index.js';
import type { IdSource } from '../ids/index.js';
import type { ActorRef, EventRecord, Pack } from '../model/index.js';
import { nextTimestamp } from '../resolution/index.js';
import { VC, type VectorClock } from '../vectorClock/index.js';

export interface CommandPackInput {
  readonly actor: ActorRef;
  /** The pack the command was decided on (its version and ts); undefined for an actor's first pack. */
  readonly head: Pick<Pack, 'version' | 'ts'> | undefined;
  /** The writing replica: its counter grows in the new version. */
  readonly replica: string;
  readonly commandId: string;
  /** Default: the command id. */
  readonly correlationId?: string;
  readonly initiatedBy?: string;
  /** The writer's clock, ms; raised above the head's ts if it is behind (hybrid time). */
  readonly now: number;
  readonly ids: IdSource;
  /** The events the decider emitted. */
  readonly emitted: readonly { readonly type: string; readonly data: unknown }[];
  /** Most bytes the events' data may take, encoded; more throws LimitExceededError naming `packBytesMax`. Default: no limit. */
  readonly dataBytesMax?: number;
}

/**
 * The pack a command writes on top of its head: one version step at the writing replica, events
 * with fresh ids and one hybrid timestamp, data in the codec's canonical form (so the live state
 * folds exactly what a reload or another replica reads). Pure apart from drawing ids. The pack is
 * deep-frozen (its data included: an event handler must not change the data it folds), and a
 * MemoryStore keeps it without copying it.
 */
const noParents: readonly VectorClock[] = Object.freeze([]);

export function commandPack(input: CommandPackInput): Pack {
  const { head, replica, commandId } = input;
  const actor = frozenRef(input.actor);
  const ts = nextTimestamp(input.now, head?.ts);
  const correlationId = input.correlationId ?? commandId;
  // Plain data is copied (deep-frozen) without a trip through msgpack; its size is bounded from
  // above, and only a bound over the limit makes the exact sizes worth computing.
  const n = input.emitted.length;
  let frozen = true;
  let dataBytes = 0;
  const data: unknown[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const copy = canonicalBoundedFrozen(input.emitted[i]!.data);
    data[i] = copy.value;
    dataBytes += copy.bound;
    if (!copy.frozen) frozen = false;
  }
  if (input.dataBytesMax !== undefined && dataBytes > input.dataBytesMax) {
    dataBytes = input.emitted.reduce((n, e) => n + canonicalSized(e.data).bytes, 0);
    if (dataBytes > input.dataBytesMax) {
      throw new LimitExceededError(
        'packBytesMax',
        `${actor.type}.${commandId}: the ${input.emitted.length} event(s) emitted encode to ${dataBytes} bytes, more than ${input.dataBytesMax}`,
      );
    }
  }
  const initiatedBy = input.initiatedBy;
  const events: EventRecord[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const id = input.ids.next();
    const type = input.emitted[i]!.type;
    events[i] = Object.freeze(
      initiatedBy === undefined
        ? { id, actor, type, data: data[i], ts, correlationId, causationId: commandId, replica }
        : { id, actor, type, data: data[i], ts, correlationId, causationId: commandId, replica, initiatedBy },
    );
  }
  const version = Object.freeze(VC.increment(head?.version ?? VC.emptyClock, replica));
  const parents = head ? Object.freeze([frozenClock(head.version)]) : noParents;
  const commandIds = Object.freeze([commandId]);
  Object.freeze(events);
  // Canonical and frozen throughout: a MemoryStore keeps this very pack (no copy).
  if (frozen && !Object.is(ts, -0) && shellStringsPlain(actor, replica, commandId, correlationId, initiatedBy, events)) {
    return new CanonicalPack(actor, 'command', version, parents, events, commandIds, replica, ts);
  }
  const pack: Pack = { actor, kind: 'command', version, parents, events, commandIds, replica, ts };
  return pack;
}

/** The pack's strings read back unchanged from the codec (well-formed): it may be a CanonicalPack. */
function shellStringsPlain(actor: ActorRef, replica: string, commandId: string, correlationId: string, initiatedBy: string | undefined, events: readonly EventRecord[]): boolean {
  if (!actor.type.isWellFormed() || !actor.id.isWellFormed() || !replica.isWellFormed() || !commandId.isWellFormed() || !correlationId.isWellFormed()) return false;
  if (initiatedBy !== undefined && !initiatedBy.isWellFormed()) return false;
  for (const e of events) if (!e.id.isWellFormed() || !e.type.isWellFormed()) return false;
  return true;
}
