/**
 * Measuring aid for the bus (not part of `npm run bench`): CPU per command of every process on
 * the path, troupe against raw amqplib in the same run, so a change can be judged on a shared,
 * noisy machine where wall-clock rates swing by ±30 %. For each window W (W actors, W in flight)
 * and each pair (troupe round, raw round, order alternating): rate, and CPU time per command of
 * this Node process (client + worker, or publisher + consumer), of the RabbitMQ node (beam.smp)
 * and of redis-server, from /proc (10 ms ticks; other users of the same broker and Redis count
 * too). The sum is what one command costs the machine; with every process busy it bounds the
 * rate at `cores / sum`.
 *
 *   cd test && npx tsx bench/busCpu.ts [pairs=3] [windows=1000,256,16,1] [commands=4000]
 */
import { readdirSync, readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { workerDefaults } from '@troupe/rabbitmq';
import { probeShape, throughputRound, withBusBench, withWorker } from './bus.js';

const [pairsArg = '3', windowsArg = '1000,256,16,1', commandsArg = '4000'] = process.argv.slice(2);
const pairs = Number(pairsArg);
const windows = windowsArg.split(',').map(Number);
const commandsMax = Number(commandsArg);

/** The pid of the first process whose command name is `comm` and whose command line contains `marker`. */
function pidOf(comm: string, marker = ''): number | undefined {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() !== comm) continue;
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(marker)) return Number(entry);
    } catch {
      // gone
    }
  }
  return undefined;
}

/** This process's read and write system calls and bytes written so far (/proc/self/io; zeros where there is none). */
function ioOf(): { reads: number; writes: number; written: number } {
  try {
    const fields = Object.fromEntries(readFileSync('/proc/self/io', 'utf8').trim().split('\n').map((line) => line.split(': ') as [string, string]));
    return { reads: Number(fields.syscr), writes: Number(fields.syscw), written: Number(fields.wchar) };
  } catch {
    return { reads: 0, writes: 0, written: 0 };
  }
}

/** Per command: this process's read and write system calls (socket reads and writes, mostly) and bytes written. */
function ioPerCommand(before: ReturnType<typeof ioOf>, commands: number): string {
  const now = ioOf();
  return `syscalls r ${((now.reads - before.reads) / commands).toFixed(2)} w ${((now.writes - before.writes) / commands).toFixed(2)} (${Math.round((now.written - before.written) / commands)} B)`;
}

/** utime + stime of `pid`, µs (0 when it is gone). */
function cpuOf(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10_000;
  } catch {
    return 0;
  }
}

// The broker's node (its command line names the rabbit application) and the Redis the bench uses (port 6379).
const beam = pidOf('beam.smp', 'rabbit');
const redis = pidOf('redis-server', ':6379');
const shape = probeShape;

interface Row {
  side: 'troupe' | 'raw';
  rate: number;
  node: number;
  beam: number;
  redis: number;
}

const rows = new Map<number, Row[]>();
/**
 * A/B mode (`AB=<name>`): no raw rounds; each pair runs the troupe side with
 * `globalThis.__busAb[<name>]` false and true (order alternating), for experiments that read the flag.
 */
const ab = process.env.AB;
const flags: Record<string, boolean> = ((globalThis as { __busAb?: Record<string, boolean> }).__busAb = {});
const abRows = new Map<number, { off: Row[]; on: Row[] }>();
const t0 = { beam: cpuOf(beam), redis: cpuOf(redis) };
console.log(`busCpu: ${cpus().length} cores, load ${loadavg().map((x) => x.toFixed(2)).join(' ')}, beam ${beam}, redis ${redis}`);
await withBusBench(shape, async ({ ctx }) => {
  const prefetch = workerDefaults.prefetch;
  await withWorker(ctx, prefetch, async (worker) => {
    await throughputRound(ctx, prefetch, 'warm', 2_000, ['troupe', 'raw'], worker, { window: 256, actors: 256 });
    for (let pair = 0; pair < pairs; pair++) {
      for (const w of windows) {
        const commands = Math.min(commandsMax, Math.max(300, w * 20));
        if (ab) {
          const entry = abRows.get(w) ?? { off: [], on: [] };
          abRows.set(w, entry);
          for (const on of pair % 2 === 0 ? [false, true] : [true, false]) {
            flags[ab] = on;
            const before = { beam: cpuOf(beam), redis: cpuOf(redis), io: ioOf() };
            const s = await throughputRound(ctx, prefetch, `p${pair}w${w}${on}`, commands, ['troupe'], worker, { window: w, actors: w });
            const io = ioPerCommand(before.io, commands);
            const row: Row = { side: 'troupe', rate: s.troupe, node: s.cpuTroupe, beam: (cpuOf(beam) - before.beam) / commands, redis: (cpuOf(redis) - before.redis) / commands };
            (on ? entry.on : entry.off).push(row);
            console.log(`w ${String(w).padStart(4)} ${ab}=${on ? 'on ' : 'off'} ${Math.round(row.rate).toString().padStart(6)}/s  node ${row.node.toFixed(0).padStart(4)} µs  beam ${row.beam.toFixed(0).padStart(4)} µs  redis ${row.redis.toFixed(0).padStart(3)} µs  ${io}  load ${loadavg()[0]!.toFixed(2)}`);
          }
          continue;
        }
        for (const side of (pair % 2 === 0 ? ['troupe', 'raw'] : ['raw', 'troupe']) as ('troupe' | 'raw')[]) {
          const before = { beam: cpuOf(beam), redis: cpuOf(redis), io: ioOf() };
          const s = await throughputRound(ctx, prefetch, `p${pair}w${w}${side}`, commands, [side], worker, { window: w, actors: w });
          const io = ioPerCommand(before.io, commands);
          const row: Row = {
            side,
            rate: side === 'troupe' ? s.troupe : s.raw,
            node: side === 'troupe' ? s.cpuTroupe : s.cpuRaw,
            beam: (cpuOf(beam) - before.beam) / commands,
            redis: (cpuOf(redis) - before.redis) / commands,
          };
          rows.set(w, [...(rows.get(w) ?? []), row]);
          console.log(
            `w ${String(w).padStart(4)} ${side.padEnd(6)} ${Math.round(row.rate).toString().padStart(6)}/s  node ${row.node.toFixed(0).padStart(4)} µs  beam ${row.beam.toFixed(0).padStart(4)} µs  redis ${row.redis.toFixed(0).padStart(3)} µs  sum ${(row.node + row.beam + row.redis).toFixed(0).padStart(4)} µs  ${io}  load ${loadavg()[0]!.toFixed(2)}`,
          );
        }
      }
    }
  });
});
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
for (const [w, { off, on }] of abRows) {
  const m = (rs: Row[], k: keyof Omit<Row, 'side'>) => median(rs.map((r) => r[k]));
  const ratio = median(on.map((r, i) => r.node / off[i]!.node));
  console.log(`A/B ${ab} w ${w}: node µs/cmd off ${m(off, 'node').toFixed(0)} on ${m(on, 'node').toFixed(0)} (on/off per pair, median ${ratio.toFixed(3)}); rate off ${m(off, 'rate').toFixed(0)} on ${m(on, 'rate').toFixed(0)}; redis off ${m(off, 'redis').toFixed(0)} on ${m(on, 'redis').toFixed(0)}; beam off ${m(off, 'beam').toFixed(0)} on ${m(on, 'beam').toFixed(0)}`);
}
console.log('\nmedians (ratio = troupe / raw per pair, median of pairs)');
for (const [w, rs] of rows) {
  const troupe = rs.filter((r) => r.side === 'troupe');
  const raw = rs.filter((r) => r.side === 'raw');
  const ratios = troupe.map((r, i) => r.rate / raw[i]!.rate);
  const m = (side: Row[], k: keyof Omit<Row, 'side'>) => median(side.map((r) => r[k]));
  console.log(
    `w ${String(w).padStart(4)}: ratio ${median(ratios).toFixed(2)} (${ratios.map((r) => r.toFixed(2)).join(' ')}); µs/cmd troupe node ${m(troupe, 'node').toFixed(0)} beam ${m(troupe, 'beam').toFixed(0)} redis ${m(troupe, 'redis').toFixed(0)}; raw node ${m(raw, 'node').toFixed(0)} beam ${m(raw, 'beam').toFixed(0)} redis ${m(raw, 'redis').toFixed(0)}`,
  );
}
console.log(`load ${loadavg().map((x) => x.toFixed(2)).join(' ')}; beam total ${((cpuOf(beam) - t0.beam) / 1e6).toFixed(1)} s, redis ${((cpuOf(redis) - t0.redis) / 1e6).toFixed(1)} s`);
process.exit(0);
