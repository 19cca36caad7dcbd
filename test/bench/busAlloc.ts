/**
 * Profiling aid for the bus (not part of `npm run bench`): where the troupe side of figure 1
 * allocates, counting objects the GC already collected (what `--heap-prof` leaves out, and what
 * costs the GC time). Runs a warm-up round, then samples allocations over `commands` commands
 * (W in flight over W actors, worker and client in this process) and prints the allocation sites
 * by bytes.
 *
 *   cd test && npx tsx bench/busAlloc.ts [commands=20000] [window=1000] [top=40]
 *   LIVE=300 npx tsx bench/busAlloc.ts ...   (the objects alive 300 ms into the round, per command in flight)
 */
import { Session } from 'node:inspector/promises';
import { workerDefaults } from '@troupe/rabbitmq';
import { probeShape, throughputRound, withBusBench, withWorker } from './bus.js';

const [commandsArg = '20000', windowArg = '1000', topArg = '40'] = process.argv.slice(2);
const commands = Number(commandsArg);
const window = Number(windowArg);
/** LIVE=<ms>: sample the objects still alive that many ms into the round instead of all allocations. */
const live = Number(process.env.LIVE ?? 0);
const per = live ? window : commands;

interface Node {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: Node[];
}

const shape = probeShape;

const session = new Session();
session.connect();
let profile: { head: Node } | undefined;
await withBusBench(shape, async ({ ctx }) => {
  const prefetch = workerDefaults.prefetch;
  await withWorker(ctx, prefetch, async (worker) => {
    await throughputRound(ctx, prefetch, 'warm', 3_000, ['troupe'], worker, { window, actors: window });
    await session.post('HeapProfiler.startSampling', { samplingInterval: 1024, includeObjectsCollectedByMajorGC: !live, includeObjectsCollectedByMinorGC: !live } as never);
    const round = throughputRound(ctx, prefetch, 'prof', commands, ['troupe'], worker, { window, actors: window });
    if (live) {
      // What is still alive `live` ms into the round (the commands in flight hold most of it): what the GC copies.
      await new Promise((resolve) => setTimeout(resolve, live));
      profile = ((await session.post('HeapProfiler.stopSampling')) as unknown as { profile: { head: Node } }).profile;
    }
    const s = await round;
    if (!live) profile = ((await session.post('HeapProfiler.stopSampling')) as unknown as { profile: { head: Node } }).profile;
    console.log(`${commands} commands at ${Math.round(s.troupe)}/s, node ${s.cpuTroupe.toFixed(0)} µs/command${live ? `; live sampled objects ${live} ms into the round, per command in flight (${window})` : ''}`);
  });
});

const self = new Map<string, number>();
const stacks = new Map<string, number>();
let total = 0;
const walk = (node: Node, path: string[]) => {
  const frame = `${node.callFrame.functionName || '(anon)'} ${node.callFrame.url.split('/').slice(-2).join('/')}:${node.callFrame.lineNumber + 1}`;
  const here = [...path, frame];
  if (node.selfSize > 0) {
    total += node.selfSize;
    self.set(frame, (self.get(frame) ?? 0) + node.selfSize);
    const key = here.slice(-4).reverse().join(' < ');
    stacks.set(key, (stacks.get(key) ?? 0) + node.selfSize);
  }
  for (const child of node.children) walk(child, here);
};
walk(profile!.head, []);
const top = Number(topArg);
console.log(`${live ? 'live' : 'allocated'} ${(total / 1024 / 1024).toFixed(1)} MiB sampled, ${(total / per).toFixed(0)} B per command${live ? ' in flight' : ''}`);
for (const [frame, bytes] of [...self].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${(bytes / per).toFixed(0).padStart(6)} B/cmd  ${frame}`);
console.log('\nby stack (4 frames)');
for (const [key, bytes] of [...stacks].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${(bytes / per).toFixed(0).padStart(6)} B/cmd  ${key}`);
process.exit(0);
