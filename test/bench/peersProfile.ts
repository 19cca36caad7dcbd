/**
 * CPU time per command of the embedded runtime on the peers' shapes (not part of run.ts):
 * `npx tsx bench/peersProfile.ts [short|long|many] [passes] [troupe|emmett]`; run under `node --cpu-prof --import tsx` for a profile.
 */
import { getInMemoryEventStore } from '@event-driven-io/emmett';
import { createRuntime, MemoryStore } from '@troupe/runtime';
import { Counter } from './counter.js';
import { emmettCounter } from './peerWorkload.js';

const shape = process.argv[2] ?? 'short';
const passes = Number(process.argv[3] ?? 20);
const side = process.argv[4] ?? 'troupe';
const [streams, length, waves] = shape === 'short' ? [40, 100, false] : shape === 'long' ? [1, 10_000, false] : [1_000, 5, true];

async function emmettPass(tag: string): Promise<void> {
  const store = getInMemoryEventStore();
  const ids = Array.from({ length: streams }, (_, i) => `counter-${tag}-${i}`);
  if (!waves) {
    for (const id of ids) for (let i = 0; i < length; i++) await emmettCounter(store, id, { type: 'add', data: { by: 1 } });
  } else {
    for (let w = 0; w < length; w++) await Promise.all(ids.map((id) => emmettCounter(store, id, { type: 'add', data: { by: 1 } })));
  }
}

async function pass(tag: string): Promise<void> {
  if (side === 'emmett') return emmettPass(tag);
  const runtime = createRuntime({ actors: [Counter], store: new MemoryStore() });
  const refs = Array.from({ length: streams }, (_, i) => Counter.ref(`${tag}-${i}`));
  if (!waves) {
    for (const ref of refs) for (let i = 0; i < length; i++) if ((await runtime.send(ref, { type: 'add', payload: { by: 1 } })).status !== 'accepted') throw new Error('rejected');
  } else {
    for (let w = 0; w < length; w++) await Promise.all(refs.map((ref) => runtime.send(ref, { type: 'add', payload: { by: 1 } })));
  }
  await runtime.stop();
}

for (let i = 0; i < 3; i++) await pass(`w${i}`);
const cpu = process.cpuUsage();
const start = performance.now();
for (let i = 0; i < passes; i++) await pass(`p${i}`);
const used = process.cpuUsage(cpu);
const commands = passes * streams * length;
console.log(`${side} ${shape}: ${commands} commands, ${((used.user + used.system) / commands).toFixed(2)} µs CPU/command, ${(commands / ((performance.now() - start) / 1000) / 1000).toFixed(1)} k/s wall`);
