import { afterEach, describe, expect, it } from 'vitest';
import { LimitExceededError, MemoryStore, type Runtime, createRuntime, defineActor } from '../index.js';

const Blob = defineActor({
  type: 'blob',
  initial: () => ({ n: 0 }),
  commands: {
    put: (_s, p: { text: string }) => [{ type: 'stored', data: { length: p.text.length } }],
    inflate: (_s, p: { bytes: number }) => [{ type: 'inflated', data: { text: 'x'.repeat(p.bytes) } }],
  },
  events: {
    stored: (s) => ({ n: s.n + 1 }),
    inflated: (s) => ({ n: s.n + 1 }),
  },
});

let runtime: Runtime;
let store: MemoryStore;
afterEach(() => runtime.stop());
function start(options: { commandBytesMax?: number; packBytesMax?: number } = {}): Runtime {
  store = new MemoryStore();
  runtime = createRuntime({ actors: [Blob], store, ...options });
  return runtime;
}

describe('size limits of the embedded runtime (#14 defect 5)', () => {
  it('refuses a payload over commandBytesMax (1 MiB by default, as the bus) with LimitExceededError naming it; nothing persisted', async () => {
    const rt = start();
    const error = await rt.send(Blob.ref('b'), { type: 'put', payload: { text: 'x'.repeat(8 << 20) } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LimitExceededError);
    expect(error).toMatchObject({ code: 'LIMIT_EXCEEDED', limit: 'commandBytesMax' });
    expect((error as Error).message).toMatch(/encodes to \d+ bytes, more than 1048576 \(raise the 'commandBytesMax' option/);
    expect((await store.changesSince(undefined, 10)).packs).toEqual([]);
    expect(await rt.send(Blob.ref('b'), { type: 'put', payload: { text: 'x'.repeat(1000) } })).toMatchObject({ status: 'accepted' });
  });

  it('refuses events over packBytesMax (1 MiB by default) with LimitExceededError naming it; nothing persisted', async () => {
    const rt = start();
    const error = await rt.send(Blob.ref('b'), { type: 'inflate', payload: { bytes: 4 << 20 } }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'LIMIT_EXCEEDED', limit: 'packBytesMax' });
    expect((await store.changesSince(undefined, 10)).packs).toEqual([]);
  });

  it('takes raised limits, and refuses limits that are not positive integers', async () => {
    const rt = start({ commandBytesMax: 16 << 20, packBytesMax: 16 << 20 });
    expect(await rt.send(Blob.ref('b'), { type: 'inflate', payload: { bytes: 4 << 20 } })).toMatchObject({ status: 'accepted' });
    expect(() => createRuntime({ actors: [Blob], commandBytesMax: 0 })).toThrow(/option 'commandBytesMax'/);
    expect(() => createRuntime({ actors: [Blob], packBytesMax: 1.5 })).toThrow(/option 'packBytesMax'/);
  });

  it.each([
    ['idleTimeoutMs', -5],
    ['idleTimeoutMs', Number.NaN],
    ['mailboxMax', 0],
    ['liveActorsMax', 0],
    ['conflictRetriesMax', -1],
    ['eventsPerCommandMax', 0],
  ] as const)('refuses %s = %s with InvalidOptionError naming it', (option, value) => {
    expect(() => createRuntime({ actors: [Blob], [option]: value })).toThrow(new RegExp(`option '${option}'`));
  });
});
