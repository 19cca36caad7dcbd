import { describe, expect, it } from 'vitest';
import { createRuntime } from '../hosting/index.js';
import { MemoryStore } from '../store/index.js';
import { Ledger } from '../testkit/ledger.js';
import { statesProjection } from './defineProjection.js';
import { MemoryView, type ViewChange } from './memoryView.js';

describe('statesProjection: following actors live', () => {
  it('a subscriber is told which actors changed, with their new state', async () => {
    const store = new MemoryStore();
    const runtime = createRuntime({ actors: [Ledger], store, replicaId: 'eu' });
    const view = new MemoryView(statesProjection(Ledger), store);
    const changes: ViewChange<unknown>[] = [];
    view.subscribe((change) => change.changed.length > 0 && changes.push(change));
    await runtime.send(Ledger.ref('a'), { type: 'deposit', payload: { n: 5 } });
    await runtime.send(Ledger.ref('b'), { type: 'deposit', payload: { n: 7 } });
    await view.catchUp();
    expect(changes.flatMap((c) => c.changed)).toEqual(['a', 'b']);
    expect((view.current.get('b') as { balance: number }).balance).toBe(7);
    expect(statesProjection(Ledger).id).toBe('ledger-states-1');
    await runtime.stop();
  });
});
