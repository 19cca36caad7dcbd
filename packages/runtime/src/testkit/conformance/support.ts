import { beforeEach, expect, it } from 'vitest';
import { type ActorRef, type EventRecord, type Pack, actorKey } from '../../model/index.js';
import type { EventStore } from '../../store/index.js';
import { VC, type VectorClock } from '../../vectorClock/index.js';

/**
 * What every group of the conformance suite shares: the store under test and the assertions the
 * groups are written with.
 */

/** The store of the running test: a fresh one per test, created by the suite's `beforeEach`. */
export type CurrentStore = () => EventStore;

export const key = VC.encode;

export function keysOf(packs: readonly (Pack | undefined)[]): (string | undefined)[] {
  return packs.map((p) => (p ? key(p.version) : undefined));
}

export function sortedKeys(keys: readonly string[]): string[] {
  return [...keys].sort();
}

/** Reads the log from `cursor` until an empty page; returns what it read and the final cursor. */
export async function drain(store: EventStore, cursor: string | undefined, limit = 1000): Promise<{ packs: Pack[]; cursor: string }> {
  const packs: Pack[] = [];
  for (let page = 0; page < 10_000; page++) {
    const changes = await store.changesSince(cursor, limit);
    expect(changes.packs.length).toBeLessThanOrEqual(limit);
    expect(typeof changes.cursor).toBe('string');
    if (changes.packs.length === 0) return { packs, cursor: changes.cursor };
    packs.push(...changes.packs);
    cursor = changes.cursor;
  }
  throw new Error('changesSince never returned an empty page');
}

/** The packs of the given actors, in log order (the log may hold other tests' actors). */
export function mine(packs: readonly Pack[], actors: readonly ActorRef[]): Pack[] {
  const wanted = new Set(actors.map(actorKey));
  return packs.filter((p) => wanted.has(actorKey(p.actor)));
}

export function logKeys(packs: readonly Pack[]): string[] {
  return packs.map((p) => `${actorKey(p.actor)}@${key(p.version)}`);
}

/** Awaits `promise`, expects it to reject with an instance of `type`, and returns that error. */
export async function expectRejection<E extends Error>(promise: Promise<unknown>, type: new (...args: never[]) => E): Promise<E> {
  let outcome: unknown;
  try {
    await promise;
  } catch (error) {
    outcome = error;
  }
  expect(outcome, `expected a ${type.name}`).toBeInstanceOf(type);
  return outcome as E;
}

/** The first version that recorded a command id (most tests apply each command once). */
export async function firstCommandVersion(store: EventStore, actor: ActorRef, commandId: string): Promise<VectorClock | undefined> {
  const versions = await store.commandVersions(actor, commandId);
  return versions[0];
}

/** Everything observable about an actor, to show that a refused operation wrote nothing. */
export async function observe(store: EventStore, actor: ActorRef, versionKeys: readonly string[], commandIds: readonly string[]) {
  const heads = await store.heads(actor);
  const packs = await store.getPacks(actor, versionKeys);
  const commands = await Promise.all(commandIds.map((id) => firstCommandVersion(store, actor, id)));
  return { heads, packs, commands };
}

/** Data with every msgpack-relevant shape a pack must carry unchanged. */
export const richData = {
  text: 'héllo wörld ✓ 日本',
  empty: '',
  int: 42,
  negative: -17,
  zero: 0,
  big: 2 ** 53 - 1,
  fraction: 0.1 + 0.2,
  tiny: 5e-324,
  ts: 1700000000000.0009765625,
  yes: true,
  no: false,
  nothing: null,
  list: [1, 'two', { three: [3, [3.5]] }, null, true],
  emptyList: [],
  emptyObject: {},
  nested: { a: { b: { c: { d: ['deep', { e: -0.5 }] } } } },
};

/**
 * What the groups of an optional capability (region log, merge log) get beside the current store:
 * whether the suite's options say the store must implement it, and how to reach the store's data
 * through a second store object.
 */
export interface CapabilitySuite {
  readonly current: CurrentStore;
  /** The options said the store implements the capability: a store without it fails instead of skipping. */
  readonly required: boolean;
  /** A new store object over the data of `store` (a reconnect), or undefined when the store has none. */
  readonly reopen: ((store: EventStore) => Promise<EventStore>) | undefined;
}

/**
 * Registers, in the current describe block, the test that the store implements a capability and
 * a hook that skips every test of the block when it does not (or fails them when `required`), so a
 * store without the capability still passes the suite unless its options claim it.
 */
export function capabilityGate(suite: CapabilitySuite, name: string, has: (store: object) => boolean): void {
  const missing = () => `the suite's options say the store implements ${name}, but it does not`;
  beforeEach((context) => {
    if (has(suite.current())) return;
    if (suite.required) throw new Error(missing());
    context.skip(`the store does not implement ${name}`);
  });
  it(`the store implements ${name}${suite.required ? '' : ' (otherwise this group is skipped)'}`, () => {
    expect(has(suite.current()), missing()).toBe(true);
  });
}

/**
 * Tries to change a pack read from a store in every part (its events, version, data and state),
 * and says how each attempt ended. What a store returns is either a copy (the change lands on the
 * copy) or frozen (the change throws a TypeError: MemoryStore shares its deep-frozen packs); any
 * other outcome breaks the contract. Either way the store must be unchanged afterwards, which the
 * caller checks.
 */
export function tryToMutate(pack: Pack, extra: EventRecord): void {
  const attempts: (() => void)[] = [
    () => (pack.events as EventRecord[]).push(extra),
    () => ((pack.events as EventRecord[]).length = 0),
    () => ((pack.version as Record<string, number>)['a'] = 99),
    () => ((pack.parents as Record<string, number>[]).push({ z: 1 })),
    () => ((pack.commandIds as string[]).push('cmd-injected')),
    () => ((pack as { ts: number }).ts = 0),
    () => ((pack.actor as { id: string }).id = 'someone-else'),
  ];
  for (const event of pack.events) {
    attempts.push(() => ((event as { type: string }).type = 'changed'));
    if (event.data !== null && typeof event.data === 'object') attempts.push(() => ((event.data as Record<string, unknown>)['injected'] = 1));
  }
  if (pack.state !== null && typeof pack.state === 'object') attempts.push(() => ((pack.state as Record<string, unknown>)['injected'] = 1));
  const frozen = Object.isFrozen(pack);
  for (const attempt of attempts) {
    if (frozen) expect(attempt, 'a frozen pack refuses every change (deep-frozen)').toThrow(TypeError);
    else attempt();
  }
}
