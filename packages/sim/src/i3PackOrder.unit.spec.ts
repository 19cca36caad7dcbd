import type { ActorView, AnyActorDefinition, EventRecord, Runtime } from '@troupe/runtime';
import { VC, actorKey } from '@troupe/runtime/store';
import type { MergeStrategy } from '@troupe/runtime/resolution';
import { makeEvent, makePack } from '@troupe/runtime/testkit';
import { describe, expect, it } from 'vitest';
import { checkI3 } from './checkers/index.js';
import type { CheckContext, FinalReplica } from './checkers/types.js';
import type { InstrumentedStore } from './instrumentedStore.js';
import { OrderingOracle } from './oracle/index.js';
import { traced } from './traced.js';
import { Tape } from './workloads.js';

/** I3 reads the fold order from the traced state: fold one pack's events in a given order and check. */
function checkFoldOrder(order: (events: readonly EventRecord[]) => EventRecord[]) {
  const definition = traced(Tape);
  const actor = Tape.ref('t1');
  const key = actorKey(actor);
  const events = [1, 2, 3].map((item) => makeEvent(actor, { type: 'appended', data: { item }, ts: 1_000, replica: 'r0', causationId: 'cmd-1' }));
  const pack = makePack({ actor, version: { r0: 1 }, events, commandIds: ['cmd-1'], replica: 'r0', ts: 1_000 });
  let state = definition.initial();
  for (const e of order(events)) state = (definition.events[e.type] as (s: unknown, d: unknown, e: EventRecord) => unknown)(state, e.data, e);
  const replica: FinalReplica = {
    id: 'r0',
    store: undefined as unknown as InstrumentedStore,
    runtime: undefined as unknown as Runtime,
    strategy: undefined as unknown as MergeStrategy,
    packs: new Map([[key, [VC.encode(pack.version)]]]),
    heads: new Map([[key, [pack]]]),
    views: new Map([[key, { state } as unknown as ActorView]]),
  };
  const context: CheckContext = {
    replicas: [replica],
    actors: [actor],
    definitions: new Map<string, AnyActorDefinition>([[Tape.type, definition]]),
    acks: new Map(),
    references: new Map([[key, new OrderingOracle(definition, [pack])]]),
    allPacks: new Map([[key, new Map([[VC.encode(pack.version), pack]])]]),
    resolutions: [],
    convergence: { converged: true, rounds: 1 },
  };
  return checkI3(context);
}

describe('I3: the events of one pack are folded in the order the pack lists them', () => {
  it('the pack order passes', () => {
    expect(checkFoldOrder((events) => [...events]).ok).toBe(true);
  });

  it('one command\'s events folded in another order fail, naming the two events', () => {
    const result = checkFoldOrder((events) => [...events].reverse());
    expect(result.ok).toBe(false);
    expect(result.violations.map((v) => v.detail)).toEqual(
      expect.arrayContaining([expect.stringMatching(/^r0: event \d+ of pack r0:1 is folded before \d+, which the pack lists before it$/)]),
    );
  });
});
