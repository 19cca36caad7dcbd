import { canonicalSized } from '../codec/index.js';
import { LimitExceededError } from '../errors/index.js';
import type { IdSource } from '../ids/index.js';
import type { ActorRef, EventRecord, Pack } from '../model/index.js';
import { nextTimestamp } from '../resolution/index.js';
import { VC } from '../vectorClock/index.js';

export interface CommandPackInput {
  readonly actor: ActorRef;
  /** The pack the command was decided on; undefined for an actor's first pack. */
  readonly head: Pack | undefined;
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
 * folds exactly what a reload or another replica reads). Pure apart from drawing ids.
 */
export function commandPack(input: CommandPackInput): Pack {
  const { actor, head, replica, commandId } = input;
  const ts = nextTimestamp(input.now, head?.ts);
  const correlationId = input.correlationId ?? commandId;
  const data = input.emitted.map((e) => canonicalSized(e.data));
  const dataBytes = data.reduce((n, d) => n + d.bytes, 0);
  if (input.dataBytesMax !== undefined && dataBytes > input.dataBytesMax) {
    throw new LimitExceededError(
      'packBytesMax',
      `${actor.type}.${commandId}: the ${input.emitted.length} event(s) emitted encode to ${dataBytes} bytes, more than ${input.dataBytesMax}`,
    );
  }
  const events: EventRecord[] = input.emitted.map((e, i) => ({
    id: input.ids.next(),
    actor,
    type: e.type,
    data: data[i]!.value,
    ts,
    correlationId,
    causationId: commandId,
    ...(input.initiatedBy === undefined ? {} : { initiatedBy: input.initiatedBy }),
    replica,
  }));
  return {
    actor,
    kind: 'command',
    version: VC.increment(head?.version ?? VC.emptyClock, replica),
    parents: head ? [head.version] : [],
    events,
    commandIds: [commandId],
    replica,
    ts,
  };
}
