import { Packr } from 'msgpackr';
import type { ActorRef, EventRecord, Pack, VectorClock } from '@troupe/runtime';
import { VC } from '@troupe/runtime/store';
import { MalformedMessageError } from '../errors/index.js';

/**
 * Version of the publication format (events and merge markers), in every message's
 * `x-troupe-publication` header. A consumer that meets another value should stop rather than guess.
 */
export const publicationVersion = 1;

/** `contentType` of every published message: one plain msgpack value (no troupe frame byte, no msgpackr records). */
export const publicationContentType = 'application/msgpack';

/** Routing key word of a merge marker, after the actor type: `<actorType>.$merge`. */
export const mergeMarkerType = '$merge';

/**
 * The body of a merge marker: how an actor's events after the common ancestor are ordered once
 * its branches are merged, so a consumer that folded them in arrival order can fold them again.
 */
export interface MergeMarker {
  readonly v: typeof publicationVersion;
  readonly kind: 'merge';
  readonly actor: ActorRef;
  /** The merge pack's version. */
  readonly version: VectorClock;
  /** The command heads the merge resolved (its parents), canonical order. */
  readonly heads: readonly VectorClock[];
  /** The latest common ancestor of the heads; absent when the branches share no pack (fold from the initial state). */
  readonly ancestor?: VectorClock;
  /**
   * Ids of the events after the ancestor, in replay order: fold them, in this order, on the state
   * at `ancestor`. Every one of them was published before this marker (earlier in the log).
   */
  readonly replayed: readonly string[];
  /**
   * Ids of events after the ancestor that the merge drops: the events of a command retried and
   * accepted on two branches, whose other copy is in `replayed`. Published before, never to be folded.
   */
  readonly dropped: readonly string[];
  /** Ids of the merge's compensation events (`onMerge`), in order: published right after this marker. */
  readonly compensations: readonly string[];
}

/** One message to publish: where it goes, its body and its AMQP properties. */
export interface OutgoingMessage {
  readonly routingKey: string;
  readonly content: Buffer;
  readonly properties: {
    readonly messageId: string;
    readonly type: string;
    readonly timestamp: number;
    readonly correlationId?: string;
    readonly contentType: string;
    readonly appId: string;
    readonly persistent: true;
    readonly headers: Record<string, unknown>;
  };
}

/** What a consumer reads off one published message. */
export type Publication = { readonly kind: 'event'; readonly event: EventRecord } | { readonly kind: 'merge'; readonly marker: MergeMarker };

// The runtime codec's options, so every value the store decoded encodes again (Dates, Maps, binary).
const packr = new Packr({ useRecords: false, mapsAsObjects: true, moreTypes: true });

/** Headers every message of a pack carries. */
function packHeaders(pack: Pack): Record<string, unknown> {
  return {
    'x-troupe-publication': publicationVersion,
    'x-troupe-actor-type': pack.actor.type,
    'x-troupe-actor-id': pack.actor.id,
    'x-troupe-version': VC.encode(pack.version),
    'x-troupe-pack-kind': pack.kind,
  };
}

/**
 * An event as a message: routing key `<actorType>.<eventType>`, `messageId` the event id (the
 * consumer's deduplication key), `type` the event type, `timestamp` the event's ts in seconds
 * (AMQP's unit; the body keeps the milliseconds), `correlationId` the event's; headers: actor type
 * and id, the pack's version and kind, the causation id, the writing replica. Body: the event
 * record as stored, msgpack.
 */
export function eventMessage(pack: Pack, event: EventRecord): OutgoingMessage {
  return {
    routingKey: `${pack.actor.type}.${event.type}`,
    content: packr.pack(event),
    properties: {
      messageId: event.id,
      type: event.type,
      timestamp: Math.floor(event.ts / 1000),
      ...(event.correlationId === undefined ? {} : { correlationId: event.correlationId }),
      contentType: publicationContentType,
      appId: 'troupe',
      persistent: true,
      headers: {
        ...packHeaders(pack),
        'x-troupe-causation-id': event.causationId,
        'x-troupe-replica': event.replica,
        ...(event.initiatedBy === undefined ? {} : { 'x-troupe-initiated-by': event.initiatedBy }),
      },
    },
  };
}

/**
 * The message id of a merge marker: the same for the same merge wherever and however often it is
 * published (a merge pack is the same on every region that writes it), so consumers dedupe it too.
 */
export function mergeMarkerId(actor: ActorRef, version: VectorClock): string {
  return `merge:${actor.type}:${actor.id}@${VC.encode(version)}`;
}

/**
 * A merge pack's marker: routing key `<actorType>.$merge`, `type` `$merge`, headers with the merge
 * version, its heads (an array of canonical version strings) and its ancestor (absent when none).
 */
export function mergeMarkerMessage(pack: Pack, marker: MergeMarker): OutgoingMessage {
  return {
    routingKey: `${pack.actor.type}.${mergeMarkerType}`,
    content: packr.pack(marker),
    properties: {
      messageId: mergeMarkerId(pack.actor, pack.version),
      type: mergeMarkerType,
      timestamp: Math.floor(pack.ts / 1000),
      correlationId: `merge:${VC.encode(pack.version)}`,
      contentType: publicationContentType,
      appId: 'troupe',
      persistent: true,
      headers: {
        ...packHeaders(pack),
        'x-troupe-heads': marker.heads.map((v) => VC.encode(v)),
        ...(marker.ancestor === undefined ? {} : { 'x-troupe-ancestor': VC.encode(marker.ancestor) }),
      },
    },
  };
}

/**
 * Reads a published message's body: an event record, or a merge marker. Throws
 * MalformedMessageError for bytes that are neither (not msgpack, or another shape).
 */
export function decodePublication(content: Uint8Array): Publication {
  let value: unknown;
  try {
    value = packr.unpack(content);
  } catch (error) {
    throw new MalformedMessageError(`a published message must be one msgpack value: ${(error as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new MalformedMessageError('a published message must be a msgpack map');
  const m = value as Record<string, unknown>;
  if (m.kind === 'merge') {
    if (m.v !== publicationVersion) throw new MalformedMessageError(`unknown publication version ${String(m.v)} (this build reads ${publicationVersion})`);
    if (!Array.isArray(m.replayed) || !Array.isArray(m.dropped) || !Array.isArray(m.compensations) || !isActor(m.actor)) {
      throw new MalformedMessageError('a merge marker needs actor, replayed, dropped and compensations');
    }
    return { kind: 'merge', marker: m as unknown as MergeMarker };
  }
  if (typeof m.id !== 'string' || typeof m.type !== 'string' || !isActor(m.actor)) throw new MalformedMessageError('an event needs id, type and actor');
  return { kind: 'event', event: m as unknown as EventRecord };
}

function isActor(value: unknown): value is ActorRef {
  const a = value as Partial<ActorRef> | null;
  return typeof a === 'object' && a !== null && typeof a.type === 'string' && typeof a.id === 'string';
}
