import { describe, expect, it } from 'vitest';
import { fold } from '@troupe/runtime/resolution';
import { AppliedLog, type TracedState, appliedLogOf, traced } from './traced.js';
import { Counter } from './workloads.js';

const event = (id: string, n: number) => ({ id, actor: { type: 'counter', id: 'c' }, type: 'added', data: { n }, ts: 1, correlationId: id, causationId: id, replica: 'r' });

describe('traced states', () => {
  it('record the fold order as a digest the log turns back into the ids', () => {
    const definition = traced(Counter);
    const events = [event('e1', 1), event('e2', 2), event('e3', 3)];
    const state = fold(definition, definition.initial(), events) as TracedState<{ value: number }>;
    expect(state.inner.value).toBe(6);
    expect(state.count).toBe(3);
    expect(appliedLogOf(definition)!.ids(state.applied)).toEqual(['e1', 'e2', 'e3']);
  });

  it('give equal digests for the same ids in the same order only, on any fold', () => {
    const definition = traced(Counter);
    const a = fold(definition, definition.initial(), [event('e1', 1), event('e2', 2)]) as TracedState;
    const again = fold(definition, fold(definition, definition.initial(), [event('e1', 1)]), [event('e2', 2)]) as TracedState;
    const swapped = fold(definition, definition.initial(), [event('e2', 2), event('e1', 1)]) as TracedState;
    expect(again.applied).toBe(a.applied);
    expect(swapped.applied).not.toBe(a.applied);
    expect(appliedLogOf(definition)!.ids(swapped.applied)).toEqual(['e2', 'e1']);
  });

  it('refuse a digest the log never made', () => {
    expect(() => new AppliedLog().ids('nope')).toThrow(/unknown digest/);
    const log = new AppliedLog();
    const one = log.append('', 'e1');
    expect(log.ids(one)).toEqual(['e1']);
    for (const digest of ['2', `${one}.5`, `${one}!`, '0', '-1', ' ']) expect(() => log.ids(digest)).toThrow(/unknown digest/);
  });

  it('tell every distinct fold order apart, branches of branches included, and keep each prefix once', () => {
    const log = new AppliedLog();
    const orders = [['a'], ['a', 'b'], ['a', 'c'], ['b', 'a'], ['a', 'c', 'b'], ['a', 'b', 'c'], ['c'], ['a', 'd'], ['a', 'c', 'd']];
    const digestOf = (ids: readonly string[]) => ids.reduce((previous, id) => log.append(previous, id), '');
    const digests = orders.map(digestOf);
    expect(new Set(digests).size).toBe(orders.length);
    orders.forEach((ids, i) => expect(log.ids(digests[i]!)).toEqual(ids));
    // Folding them all again lands on the same digests and adds nothing.
    const size = log.size;
    expect(orders.map(digestOf)).toEqual(digests);
    expect(log.size).toBe(size);
    // Distinct prefixes: a, ab, ac, b, ba, acb, abc, c, ad, acd.
    expect(size).toBe(10);
  });
});
