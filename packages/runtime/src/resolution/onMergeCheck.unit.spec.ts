import { afterEach, describe, expect, it } from 'vitest';
import { OnMergeNotIdempotentError, ReplicationLink, type Runtime, type RuntimeOptions, createRuntime, defineActor } from '../index.js';

/** Stock that may be oversold during a partition; the merge books the oversell. */
function stock(onMerge: 'record' | 'delta') {
  return defineActor({
    type: `stock-${onMerge}`,
    initial: () => ({ onHand: 0, oversold: 0 }),
    commands: {
      receive: (_s, p: { n: number }) => [{ type: 'received', data: p }],
      sell: (s, p: { n: number }) => (s.onHand >= p.n ? [{ type: 'sold', data: p }] : []),
    },
    events: {
      received: (s, d: { n: number }) => ({ ...s, onHand: s.onHand + d.n }),
      sold: (s, d: { n: number }) => ({ ...s, onHand: s.onHand - d.n }),
      oversold: (s, d: { n: number }) => ({ ...s, oversold: onMerge === 'record' ? d.n : s.oversold + d.n }),
    },
    onMerge: (merged) => {
      const short = Math.max(0, -merged.onHand);
      if (onMerge === 'record') return short !== merged.oversold ? [{ type: 'oversold', data: { n: short } }] : [];
      return short > 0 ? [{ type: 'oversold', data: { n: short } }] : []; // a delta: books again every time
    },
  });
}

let runtimes: Runtime[] = [];
afterEach(async () => {
  await Promise.all(runtimes.map((r) => r.stop()));
  runtimes = [];
});

async function oversell(kind: 'record' | 'delta', options: Partial<RuntimeOptions>) {
  const Stock = stock(kind);
  const a = createRuntime({ actors: [Stock], replicaId: 'a', ...options });
  const b = createRuntime({ actors: [Stock], replicaId: 'b', ...options });
  runtimes.push(a, b);
  const link = new ReplicationLink(a, b);
  const item = Stock.ref('i');
  await a.send(item, { type: 'receive', payload: { n: 10 } });
  await link.settle();
  link.partition();
  await a.send(item, { type: 'sell', payload: { n: 8 } });
  await b.send(item, { type: 'sell', payload: { n: 7 } });
  link.heal();
  return { settled: link.settle(2), a, item };
}

describe("RuntimeOptions.onMergeCheck: onMerge applied to its own result must emit nothing (#14, guard rail 10)", () => {
  it("'throw' fails the resolution of a delta-style onMerge with OnMergeNotIdempotentError naming the type and the rule", async () => {
    const { settled } = await oversell('delta', { onMergeCheck: 'throw' });
    const error = await settled.catch((e: unknown) => e);
    const cause = (error as AggregateError).errors?.[0] ?? error;
    expect(cause).toBeInstanceOf(OnMergeNotIdempotentError);
    expect(cause).toMatchObject({ code: 'INVALID_DEFINITION', actorType: 'stock-delta' });
    expect((cause as Error).message).toMatch(/onMerge of 'stock-delta' is not idempotent.*emitted \[oversold\] again.*only if the merged state does not record it yet/);
  });

  it("'throw' accepts an onMerge that records the compensation only if the merged state lacks it", async () => {
    const { settled, a, item } = await oversell('record', { onMergeCheck: 'throw' });
    await settled;
    expect((await a.inspect(item)).state).toEqual({ onHand: -5, oversold: 5 });
  });

  it("'warn' (the default) merges anyway and emits one process warning per actor type", async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => void warnings.push(w.message);
    process.on('warning', onWarning);
    try {
      const { settled } = await oversell('delta', {});
      await settled;
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings.filter((m) => m.includes("onMerge of 'stock-delta' is not idempotent"))).toHaveLength(1);
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('refuses an unknown onMergeCheck value with InvalidOptionError', () => {
    expect(() => createRuntime({ actors: [], onMergeCheck: 'loud' as never })).toThrow(/option 'onMergeCheck'/);
  });
});
