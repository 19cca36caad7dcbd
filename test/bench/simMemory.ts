/**
 * What a long simulation holds as it grows (for sim-1m's peak RSS): the sim-1m shape (counter,
 * 10,000 actors, 50 client steps per tick, 3 replicas, memory stores) for `steps` ticks, with the
 * live heap after a full GC and the RSS at every tenth of the ticks, per 1,000 commands.
 *   node --expose-gc --import tsx bench/simMemory.ts <steps> [actors]
 */
import { counterWorkload, simulate } from '@troupe/sim';

const steps = Number(process.argv[2] ?? 1_000);
const actors = Number(process.argv[3] ?? 10_000);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');
const mib = (b: number) => Math.round(b / 2 ** 20);
gc();
const heap0 = process.memoryUsage().heapUsed;
const rss0 = process.memoryUsage().rss;
const started = performance.now();
const cpu0 = process.cpuUsage();
let lastTenth = 0;
let ticksDone = 0;
const commandsPerTick = 50;
const report = await simulate({
  seed: 1, workload: counterWorkload, idleTimeoutMs: 0, replicas: 3, swarm: false, steps, actors, commandsPerTick,
  onProgress: (tick) => {
    const tenth = Math.floor((tick * 10) / steps);
    if (tenth > lastTenth) {
      lastTenth = tenth;
      gc();
      const m = process.memoryUsage();
      const approxCommands = tick * commandsPerTick;
      const cpu = process.cpuUsage(cpu0);
      process.stderr.write(`  ${tenth * 10}% ${tick} ticks ~${approxCommands} cmds, ${((performance.now() - started) / 1000).toFixed(1)} s (CPU ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s), live heap ${mib(m.heapUsed - heap0)} MiB (${(((m.heapUsed - heap0) / 2 ** 20) * 1000 / approxCommands).toFixed(2)} MiB/1k cmd), RSS ${mib(m.rss)} MiB\n`);
    }
    if (tick === steps) ticksDone = performance.now();
  },
});
const cpu = process.cpuUsage(cpu0);
console.log(JSON.stringify({
  steps, actors, ok: report.ok, commands: report.counts.commands, ticksS: ((ticksDone - started) / 1000).toFixed(1), totalS: ((performance.now() - started) / 1000).toFixed(1),
  cpuS: ((cpu.user + cpu.system) / 1e6).toFixed(1), checkMs: report.checkMs, peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024), rss0MiB: mib(rss0),
  peakRssMiBPer1kCommands: ((process.resourceUsage().maxRSS / 1024 - rss0 / 2 ** 20) * 1000 / report.counts.commands).toFixed(2),
}));
