/**
 * Profiling aid (not part of `npm run bench`): runs one scenario alone so `node --cpu-prof` sees
 * nothing else.
 *
 *   cd test && node --import tsx --cpu-prof --cpu-prof-dir=bench/results/profiles bench/profile.ts resolution [history] [origin|copy] [repetitions]
 *   cd test && node --import tsx --cpu-prof --cpu-prof-dir=bench/results/profiles bench/profile.ts throughput [serial|pipelined|distinct] [commands]
 */
import { type ActorRef, createRuntime, type MemoryStore } from '@troupe/runtime';
import { computeMerge } from '@troupe/runtime/resolution';
import { Counter } from './counter.js';
import { buildDiverged, type ReplicaRole } from './resolution.js';
import { median } from './stats.js';

const [mode = 'resolution', ...rest] = process.argv.slice(2);

if (mode === 'resolution') {
  const history = Number(rest[0] ?? 100_000);
  const role = (rest[1] ?? 'copy') as ReplicaRole;
  const repetitions = Number(rest[2] ?? 10);
  const built = await buildDiverged(history, 50);
  const store: MemoryStore = built.stores[role];
  const actor: ActorRef = built.actor;
  const times: number[] = [];
  for (let i = 0; i < repetitions; i++) {
    const start = performance.now();
    await computeMerge(store, Counter, actor, await store.heads(actor));
    times.push(performance.now() - start);
  }
  console.log(`resolution, history ${history}, ${role} replica: median ${median(times).toFixed(2)} ms over ${repetitions}`);
} else if (mode === 'throughput') {
  const kind = rest[0] ?? 'pipelined';
  const commands = Number(rest[1] ?? 200_000);
  const runtime = createRuntime({ actors: [Counter] });
  const start = performance.now();
  if (kind === 'serial') {
    for (let i = 0; i < commands; i++) await runtime.send(Counter.ref('p'), { type: 'add', payload: { by: 1 } });
  } else if (kind === 'distinct') {
    const actors = 10_000;
    for (let done = 0; done < commands; done += actors) {
      await Promise.all(Array.from({ length: actors }, (_, i) => runtime.send(Counter.ref(`a${i}`), { type: 'add', payload: { by: 1 } })));
    }
  } else {
    for (let done = 0; done < commands; done += 1_000) {
      await Promise.all(Array.from({ length: 1_000 }, () => runtime.send(Counter.ref('p'), { type: 'add', payload: { by: 1 } })));
    }
  }
  console.log(`throughput ${kind}: ${Math.round(commands / ((performance.now() - start) / 1000))} commands/s`);
  await runtime.stop();
} else {
  throw new Error(`unknown mode '${mode}' (resolution | throughput)`);
}
console.log(`peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`);
