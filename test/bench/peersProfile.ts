/**
 * CPU time per command of the embedded runtime on the peers' shapes (not part of run.ts):
 * `npx tsx bench/peersProfile.ts [short|long|many] [passes]`; run under `node --cpu-prof --import tsx` for a profile.
 */
import { createRuntime, MemoryStore } from '@troupe/runtime';
import { Counter } from './counter.js';

const shape = process.argv[2] ?? 'short';
const passes = Number(process.argv[3] ?? 20);
const [streams, length, waves] = shape === 'short' ? [40, 100, false] : shape === 'long' ? [1, 10_000, false] : [1_000, 5, true];

async function pass(tag: string): Promise<void> {
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
console.log(`${shape}: ${commands} commands, ${((used.user + used.system) / commands).toFixed(2)} µs CPU/command, ${(commands / ((performance.now() - start) / 1000) / 1000).toFixed(1)} k/s wall`);
