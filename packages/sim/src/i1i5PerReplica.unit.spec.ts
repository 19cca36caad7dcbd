import type { ActorView, AnyActorDefinition, Pack } from '@troupe/runtime';
import { makeEvent, makePack } from '@troupe/runtime/testkit';
import { describe, expect, it } from 'vitest';
import { checkI1, checkI5 } from './checkers/index.js';
import type { CheckContext, FinalReplica, ReplyRecord } from './checkers/index.js';
import { type TracedState, appliedLogOf, traced } from './traced.js';
import { Tape } from './workloads.js';

/**
 * I1 and I5 check each distinct fold order once and report it for every replica that folded it
 * (`reportPerReplica`): replicas sharing a digest share the outcome, a replica with another fold
 * order is checked on its own, and each failure names the replica it is about.
 */
const tape = traced(Tape);
const actor = Tape.ref('t1');
const log = appliedLogOf(tape)!;

/** A traced state that folded these ids, in this order. */
function folded(ids: readonly string[]): TracedState {
  let applied = '';
  for (const id of ids) applied = log.append(applied, id);
  return { inner: {}, applied, count: ids.length };
}

function replica(id: string, state: TracedState | undefined): FinalReplica {
  const view = state && ({ state } as unknown as ActorView);
  return { id, views: new Map([['tape:t1', view]]), store: { appendsChecked: 0, isolationViolations: [] } } as unknown as FinalReplica;
}

// Command c1 emitted e1, e2 (pack A); c2 emitted e3 (pack B) and, retried on another branch, e4 (pack C).
const e = (id: string, causationId: string) => makeEvent(actor, { id, type: 'appended', data: { item: 1 }, causationId });
const packA = makePack({ actor, version: { r1: 1 }, events: [e('e1', 'c1'), e('e2', 'c1')], commandIds: ['c1'] });
const packB = makePack({ actor, version: { r1: 2 }, parents: [{ r1: 1 }], events: [e('e3', 'c2')], commandIds: ['c2'] });
const packC = makePack({ actor, version: { r1: 1, r2: 1 }, parents: [{ r1: 1 }], events: [e('e4', 'c2')], commandIds: ['c2'] });
const ack = (commandId: string) => ({ command: { id: commandId, actor, type: 'append', payload: {} }, reply: { status: 'accepted', events: [{ type: 'appended' }] } }) as unknown as ReplyRecord;

function context(replicas: FinalReplica[]): CheckContext {
  const packs = new Map<string, Pack>([['r1:1', packA], ['r1:2', packB], ['r1:1,r2:1', packC]]);
  return {
    replicas,
    actors: [actor],
    definitions: new Map<string, AnyActorDefinition>([['tape', tape]]),
    acks: new Map([['c1', [ack('c1')]], ['c2', [ack('c2')]]]),
    allPacks: new Map([['tape:t1', packs]]),
  } as unknown as CheckContext;
}

describe('I1 and I5 per replica, once per fold order', () => {
  const good = ['e1', 'e2', 'e3'];
  it('replicas with one good fold order pass, every replica counted', () => {
    const ctx = context([replica('r0', folded(good)), replica('r1', folded(good)), replica('r2', folded(good)), replica('r3', undefined)]);
    expect(checkI1(ctx)).toMatchObject({ ok: true, checked: 6 });
    expect(checkI5(ctx)).toMatchObject({ ok: true, checked: 6 });
  });

  it('a replica whose fold order differs is checked on its own, and only it is blamed', () => {
    const twice = ['e1', 'e2', 'e3', 'e1'];
    const lost = ['e1', 'e2'];
    const bothCopies = ['e1', 'e2', 'e3', 'e4'];
    const ctx = context([replica('r0', folded(good)), replica('r1', folded(twice)), replica('r2', folded(good)), replica('r3', folded(lost)), replica('r4', folded(bothCopies)), replica('r5', folded(twice))]);
    const i1 = checkI1(ctx);
    expect(i1.checked).toBe(12);
    expect(i1.violations.map((v) => v.detail)).toEqual([
      'r1: event e1 (appended) is in the history twice',
      'r3: acknowledged command c2 (appended) lost: none of its events is in the final history',
      'r4: command c2 is in the history through 2 copies',
      'r5: event e1 (appended) is in the history twice',
    ]);
    const i5 = checkI5(ctx);
    expect(i5.violations.map((v) => v.detail)).toEqual(['r4: command c2 applied 2 times (packs r1:2 | r1:1,r2:1)']);
    expect(i5.checked).toBe(2 + 2 + 2 + 1 + 2 + 2);
  });
});
