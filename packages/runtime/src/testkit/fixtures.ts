import { FlakeIdSource } from '../ids/index.js';
import type { ActorRef, EventRecord, Pack, PackKind } from '../model/index.js';
import type { EventStore } from '../store/index.js';
import { VC, type VectorClock } from '../vectorClock/index.js';

/**
 * Builders of actors, events and packs for store tests. No test framework here: the simulator and
 * benchmarks load them at run time too.
 */

let uniqueCounter = 0;

/** A string unique within this process and, with overwhelming probability, across processes. */
export function uniqueSuffix(): string {
  uniqueCounter++;
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}-${uniqueCounter}`;
}

/** A fresh actor ref nobody else uses: `{ type, id: label-<random> }`. */
export function uniqueActor(label = 'actor', type = 'conformance'): ActorRef {
  return { type, id: `${label}-${uniqueSuffix()}` };
}

// A machine id no test replica uses, so fixture event ids never collide with a runtime's.
const fixtureIds = new FlakeIdSource({ machineId: 1021 });

export interface MakePackOptions {
  actor: ActorRef;
  version: VectorClock;
  /** Parent versions: none for a first pack, one for a command pack, the merged heads for a merge pack. */
  parents?: readonly VectorClock[];
  /** Default: one event whose data names the version. Pass [] for none. */
  events?: readonly EventRecord[];
  /** Default: 'command'. */
  kind?: PackKind;
  /** Merge packs: the resolved state. Default: none. */
  state?: unknown;
  /** Default: one fresh command id for a command pack, none for a merge pack. */
  commandIds?: readonly string[];
  /** Default: the replica whose counter grew over the parents ('merge' for a merge pack). */
  replica?: string;
  /** Default: 1_700_000_000_000 + weight(version). */
  ts?: number;
}

/** Builds a test event of `actor`: type 'noted', empty data, fresh id and correlation ids, unless overridden. */
export function makeEvent(actor: ActorRef, overrides: Partial<EventRecord> = {}): EventRecord {
  return {
    id: fixtureIds.next(),
    actor: { type: actor.type, id: actor.id },
    type: 'noted',
    data: {},
    ts: 1_700_000_000_000,
    correlationId: `corr-${uniqueSuffix()}`,
    causationId: `cmd-${uniqueSuffix()}`,
    replica: 'r',
    ...overrides,
  };
}

/** The first replica (in key order) whose counter in `version` is above the parents' merged clock. */
function grownReplica(version: VectorClock, parents: readonly VectorClock[]): string {
  const base = VC.mergeAll(parents);
  const keys = Object.keys(version).sort();
  return keys.find((k) => (version[k] ?? 0) > (Object.hasOwn(base, k) ? base[k]! : 0)) ?? keys[0] ?? 'r';
}

/** Builds a pack for store tests. Only `actor` and `version` are required. */
export function makePack(options: MakePackOptions): Pack {
  const kind = options.kind ?? 'command';
  const parents = options.parents ?? [];
  const replica = options.replica ?? (kind === 'merge' ? 'merge' : grownReplica(options.version, parents));
  const ts = options.ts ?? 1_700_000_000_000 + VC.weight(options.version);
  const commandIds = options.commandIds ?? (kind === 'command' ? [`cmd-${uniqueSuffix()}`] : []);
  const events = options.events ?? [
    makeEvent(options.actor, {
      type: 'noted',
      data: { at: VC.encode(options.version) },
      ts,
      causationId: commandIds[0] ?? VC.encode(options.version),
      replica,
    }),
  ];
  return {
    actor: { type: options.actor.type, id: options.actor.id },
    kind,
    version: { ...options.version },
    parents: parents.map((p) => ({ ...p })),
    events: [...events],
    commandIds: [...commandIds],
    replica,
    ts,
    ...(options.state === undefined ? {} : { state: options.state }),
  };
}

/** Appends packs one after the other, each expecting the heads the previous append left. */
export async function appendChain(store: EventStore, packs: readonly Pack[], startHeads: readonly string[] = []): Promise<void> {
  let heads = [...startHeads];
  for (const pack of packs) {
    await store.append(pack, heads);
    heads = [VC.encode(pack.version)];
  }
}

/** Builds a linear chain of `length` command packs at `replica`: versions {replica:1}..{replica:length} (after `from`). */
export function makeChain(actor: ActorRef, length: number, replica = 'a', from: VectorClock = VC.emptyClock): Pack[] {
  const packs: Pack[] = [];
  let parent: VectorClock | undefined = VC.weight(from) > 0 ? from : undefined;
  for (let i = 0; i < length; i++) {
    const version = VC.increment(parent ?? VC.emptyClock, replica);
    packs.push(makePack({ actor, version, parents: parent ? [parent] : [] }));
    parent = version;
  }
  return packs;
}
