import { describe, expect, it } from 'vitest';
import { defineActor } from '../actor/index.js';
import { createRuntime } from '../hosting/index.js';
import { ReplicationLink } from '../replication/index.js';
import { MemoryStore } from '../store/index.js';
import { statesProjection } from './defineProjection.js';
import { MemoryView } from './memoryView.js';

/** A handler that changes the state it is given (the runtime hands it a state of its own to change). */
const Tally = defineActor({
  type: 'tally',
  initial: (): { n: number } => ({ n: 0 }),
  commands: { add: (_s, p: { by: number }) => [{ type: 'added', data: { by: p.by } }] },
  events: {
    added: (s, d: { by: number }) => {
      s.n += d.by;
      return s;
    },
  },
});

describe('MemoryView after a merge (found in review of #17)', () => {
  it('folds the packs after a merge pack onto a state of its own, not the frozen merge state the store keeps', async () => {
    const euStore = new MemoryStore();
    const eu = createRuntime({ actors: [Tally], store: euStore, replicaId: 'eu', machineId: 1 });
    const us = createRuntime({ actors: [Tally], store: new MemoryStore(), replicaId: 'us', machineId: 2 });
    const link = new ReplicationLink(eu, us);
    const view = new MemoryView(statesProjection(Tally), euStore);
    try {
      link.partition();
      await eu.send(Tally.ref('t'), { type: 'add', payload: { by: 1 } });
      await us.send(Tally.ref('t'), { type: 'add', payload: { by: 10 } });
      link.heal();
      await link.settle();
      await view.catchUp();
      expect((view.current.get('t') as { n: number }).n).toBe(11);
      await eu.send(Tally.ref('t'), { type: 'add', payload: { by: 100 } });
      await view.catchUp();
      expect((view.current.get('t') as { n: number }).n).toBe(111);
      expect(await eu.inspect(Tally.ref('t'))).toMatchObject({ state: { n: 111 } });
    } finally {
      await Promise.all([eu.stop(), us.stop()]);
    }
  });
});
