/**
 * One `sim` scenario run (counter workload, swarm off, 3 replicas, 1,000 actors, 50 client steps
 * per tick, memory stores) for profiling: `node --cpu-prof --import tsx bench/simProfile.ts <steps> <seed>`.
 * Prints commands, wall and CPU time per command, and the report's per-invariant checks.
 */
import { counterWorkload, simulate } from '@troupe/sim';

const steps = Number(process.argv[2] ?? 160);
const seed = Number(process.argv[3] ?? 1);
const shape = { workload: counterWorkload, replicas: 3, swarm: false, actors: 1_000, commandsPerTick: 50, idleTimeoutMs: 0 } as const;
await simulate({ ...shape, seed: 999, steps: 20 });
const cpu0 = process.cpuUsage();
const t0 = performance.now();
const report = await simulate({ ...shape, seed, steps });
const wall = performance.now() - t0;
const cpu = process.cpuUsage(cpu0);
const cpuMs = (cpu.user + cpu.system) / 1000;
const c = report.counts.commands;
console.log(JSON.stringify({
  steps, seed, ok: report.ok, commands: c, wallMs: Math.round(wall), cpuMs: Math.round(cpuMs), checkMs: report.checkMs,
  cmdPerCpuSec: Math.round((c * 1000) / cpuMs), cmdPerWallSec: Math.round((c * 1000) / wall),
  traceHash: report.traceHash.slice(0, 16), divergences: report.counts.divergences, merges: report.counts.merges,
  checked: Object.fromEntries(Object.entries(report.invariants).map(([k, v]) => [k, v.checked])),
}));
