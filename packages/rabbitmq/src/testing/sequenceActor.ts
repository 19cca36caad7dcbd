import { defineActor, reject } from '@troupe/runtime';

/**
 * Test actor that records the order commands reached it: `record { client, seq }` appends the
 * pair; `explode` throws (an actor bug), `refuse` rejects. Its history shows order, loss and
 * duplication at a glance.
 */
export interface SequenceState {
  readonly seen: readonly (readonly [string, number])[];
}

export const SequenceLog = defineActor({
  type: 'seqlog',
  initial: (): SequenceState => ({ seen: [] }),
  commands: {
    record: (_s: SequenceState, p: { client: string; seq: number }) => [{ type: 'recorded', data: { client: p.client, seq: p.seq } }],
    refuse: (_s: SequenceState, p: { why: string }) => reject(p.why),
    explode: (_s: SequenceState, _p: Record<string, never>): { type: 'recorded'; data: { client: string; seq: number } }[] => {
      throw new Error('boom: this actor has a bug');
    },
  },
  events: {
    recorded: (s: SequenceState, d: { client: string; seq: number }) => ({ seen: [...s.seen, [d.client, d.seq] as const] }),
  },
  validate: {
    record: (p) => {
      const v = p as { client?: unknown; seq?: unknown } | null;
      return v && typeof v.client === 'string' && Number.isInteger(v.seq) ? undefined : 'record needs { client: string, seq: integer }';
    },
  },
});
