/**
 * Profiling aid for the simulator (not part of `npm run bench`): where one `sim` run (the bench's
 * shape: counter workload, swarm off, 3 replicas, 1,000 actors, 50 client steps per tick) allocates,
 * counting objects the GC already collected (what `--heap-prof` leaves out, and what costs the GC
 * time). A warm-up run first, then one sampled run; prints allocation sites by bytes per command.
 *
 *   cd test && npx tsx bench/simAlloc.ts [steps=400] [top=40] [focus=sort,next]
 */
import { Session } from 'node:inspector/promises';
import { counterWorkload, simulate } from '@troupe/sim';

const [stepsArg = '400', topArg = '40', focusArg = ''] = process.argv.slice(2);
/** Frames (function names) whose callers to list: `sort,next` lists who allocates in sort and in iterators. */
const focus = new Set(focusArg.split(',').filter(Boolean));
const steps = Number(stepsArg);
const top = Number(topArg);

interface Node {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: Node[];
}

const shape = { workload: counterWorkload, replicas: 3, swarm: false, actors: 1_000, commandsPerTick: 50, idleTimeoutMs: 0 } as const;
await simulate({ ...shape, seed: 999, steps: 20 });
const session = new Session();
session.connect();
await session.post('HeapProfiler.startSampling', { samplingInterval: 4096, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true } as never);
const report = await simulate({ ...shape, seed: 1, steps });
const { profile } = (await session.post('HeapProfiler.stopSampling')) as unknown as { profile: { head: Node } };
const commands = report.counts.commands;

const self = new Map<string, number>();
const byFile = new Map<string, number>();
const stacks = new Map<string, number>();
const callers = new Map<string, number>();
let total = 0;
const walk = (node: Node, path: string[]): void => {
  const frame = `${node.callFrame.functionName || '(anon)'} ${node.callFrame.url.split('/').slice(-2).join('/')}:${node.callFrame.lineNumber + 1}`;
  const here = [...path, frame];
  if (node.selfSize > 0) {
    total += node.selfSize;
    self.set(frame, (self.get(frame) ?? 0) + node.selfSize);
    const file = node.callFrame.url.split('/').slice(-3).join('/') || node.callFrame.functionName;
    byFile.set(file, (byFile.get(file) ?? 0) + node.selfSize);
    const key = here.slice(-4).reverse().join(' < ');
    stacks.set(key, (stacks.get(key) ?? 0) + node.selfSize);
    if (focus.has(node.callFrame.functionName)) {
      const caller = `${node.callFrame.functionName} < ${path.slice(-2).reverse().join(' < ')}`;
      callers.set(caller, (callers.get(caller) ?? 0) + node.selfSize);
    }
  }
  for (const child of node.children) walk(child, here);
};
walk(profile.head, []);
const per = (bytes: number): string => (bytes / commands).toFixed(0).padStart(7);
console.log(`${commands} commands, ${report.durationMs} ms; allocated ${(total / 1024 / 1024).toFixed(0)} MiB sampled, ${(total / commands).toFixed(0)} B per command`);
for (const [frame, bytes] of [...self].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${per(bytes)} B/cmd  ${frame}`);
console.log('\nby file');
for (const [file, bytes] of [...byFile].sort((a, b) => b[1] - a[1]).slice(0, 25)) console.log(`${per(bytes)} B/cmd  ${file}`);
console.log('\nby stack (4 frames)');
for (const [key, bytes] of [...stacks].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${per(bytes)} B/cmd  ${key}`);
if (focus.size > 0) {
  console.log(`\ncallers of ${[...focus].join(', ')}`);
  for (const [key, bytes] of [...callers].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${per(bytes)} B/cmd  ${key}`);
}
process.exit(0);
