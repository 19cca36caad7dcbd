/**
 * Probe of the regions copy (not part of `npm run bench`): per pack, Redis server time and command
 * counts of the target (INFO commandstats after CONFIG RESETSTAT on a private server pair), client
 * CPU, wall of the Replicator copy vs the raw copy, repeated `reps` times, alternating order.
 *   cd test && npx tsx bench/regionsProbe.ts [reps] [packs] [actors]
 */
import { Account } from '@troupe/bank';
import { connectRedisStore } from '@troupe/redis';
import { RedisServer } from '@troupe/redis/testing';
import { createRuntime, Replicator } from '@troupe/runtime';
import { Redis } from 'ioredis';
import os from 'node:os';
import { accountPacks, mergeAll, rawCopy, RegionWriter, shardLog } from './regions.js';

const [reps = 5, n = 5_000, actors = 500] = process.argv.slice(2).map(Number);
const servers = [await RedisServer.start(), await RedisServer.start()];
const [serverA, serverB] = servers as [RedisServer, RedisServer];
const src = new Redis(serverA.url);
const dst = new Redis(serverB.url);
const stats = async (client: Redis) => {
  const info = await client.info('commandstats');
  const out: Record<string, { calls: number; usec: number }> = {};
  for (const line of info.split('\n')) {
    const m = /^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/.exec(line.trim());
    if (m && m[1] !== 'info' && m[1] !== 'config') out[m[1]!] = { calls: Number(m[2]), usec: Number(m[3]) };
  }
  return out;
};
/** CPU seconds the redis-server process used so far (INFO cpu: user + sys, main thread and others). */
const serverCpu = async (client: Redis) => {
  const info = await client.info('cpu');
  const get = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1] ?? 0);
  return get('used_cpu_user') + get('used_cpu_sys');
};
try {
  const source = await connectRedisStore({ url: serverA.url, prefix: 'tp' });
  const packs = accountPacks(new RegionWriter('eu', 1), actors, Math.ceil(n / actors)).slice(0, n);
  await mergeAll(source, packs);
  // BASE_REDIS=<path of another build's dist/index.js>: a third side, 'base', copies with that
  // build's RedisStore (source and target), for a same-run comparison with an earlier version.
  const base = process.env.BASE_REDIS ? ((await import(process.env.BASE_REDIS)) as { connectRedisStore: typeof connectRedisStore }) : undefined;
  const baseSource = base ? await base.connectRedisStore({ url: serverA.url, prefix: 'tp' }) : undefined;
  const sides = base ? ['troupe', 'raw', 'base'] : ['troupe', 'raw'];
  const ratios: number[] = [];
  const cpuRatios: number[] = [];
  const baseRatios: number[] = [];
  const baseCpuRatios: number[] = [];
  for (let rep = 0; rep <= reps; rep++) {
    const order = sides.map((_, k) => sides[(k + rep) % sides.length]!);
    const wall: Record<string, number> = {};
    const cpu: Record<string, number> = {};
    const redisCpu: Record<string, number> = {};
    let server: Record<string, { calls: number; usec: number }> = {};
    // PROBE_SIDE=troupe: the troupe copies only (e.g. for a CPU profile of them alone).
    for (const side of order.filter((s) => !process.env.PROBE_SIDE || s === process.env.PROBE_SIDE)) {
      await new Promise((r) => setTimeout(r, 50));
      const prefix = `p${rep}${side}`;
      await dst.config('RESETSTAT');
      const r0 = (await serverCpu(src)) + (await serverCpu(dst));
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      if (side === 'troupe' || side === 'base') {
        const target = side === 'base' ? await base!.connectRedisStore({ url: serverB.url, prefix }) : await connectRedisStore({ url: serverB.url, prefix });
        const from = side === 'base' ? baseSource! : source;
        const runtime = createRuntime({ actors: [Account], store: target, replicaId: 'us' });
        await dst.config('RESETSTAT');
        const r1 = (await serverCpu(src)) + (await serverCpu(dst));
        const t1 = performance.now();
        const c1 = process.cpuUsage();
        const report = await new Replicator({ store: from, resolve: () => Promise.reject(new Error('no')) }, { store: target, resolve: (a) => runtime.resolve(a) }, { checkpoint: target.checkpoint('from-a') }).sync();
        wall[side] = performance.now() - t1;
        const cu = process.cpuUsage(c1);
        cpu[side] = (cu.user + cu.system) / 1000;
        redisCpu[side] = ((await serverCpu(src)) + (await serverCpu(dst)) - r1) * 1000;
        if (report.copied !== packs.length) throw new Error(`copied ${report.copied}`);
        if (side === 'troupe') server = await stats(dst);
        await runtime.stop();
        await target.destroy();
      } else {
        await rawCopy(src, dst, (actor) => source.keysOf(actor), (shard) => shardLog(source, shard), prefix, Array.from({ length: source.shards }, () => 0), 500);
        wall.raw = performance.now() - t0;
        const cu = process.cpuUsage(c0);
        cpu.raw = (cu.user + cu.system) / 1000;
        redisCpu.raw = ((await serverCpu(src)) + (await serverCpu(dst)) - r0) * 1000;
        const keys = await dst.keys(`${prefix}:*`);
        for (let i = 0; i < keys.length; i += 1000) await dst.unlink(...keys.slice(i, i + 1000));
      }
    }
    if (process.env.PROBE_SIDE) {
      console.log(`${rep === 0 ? 'warm' : `rep ${rep}`}: ${Object.entries(wall).map(([k, v]) => `${k} ${v.toFixed(0)} ms, cpu node ${cpu[k]!.toFixed(0)} + redis ${redisCpu[k]!.toFixed(0)}`).join('; ')}`);
      continue;
    }
    const perPack = Object.entries(server).map(([k, v]) => `${k} ${(v.calls / packs.length).toFixed(2)}/${(v.usec / packs.length).toFixed(1)}µs`).join(', ');
    const ratio = wall.raw! / wall.troupe!;
    const cpuRatio = (cpu.raw! + redisCpu.raw!) / (cpu.troupe! + redisCpu.troupe!);
    if (rep > 0) {
      ratios.push(ratio);
      cpuRatios.push(cpuRatio);
      if (base) {
        baseRatios.push(wall.raw! / wall.base!);
        baseCpuRatios.push((cpu.raw! + redisCpu.raw!) / (cpu.base! + redisCpu.base!));
      }
    }
    const baseText = base ? `; base ${wall.base!.toFixed(0)} ms (cpu node ${cpu.base!.toFixed(0)} + redis ${redisCpu.base!.toFixed(0)}), ratio ${(wall.raw! / wall.base!).toFixed(2)}` : '';
    console.log(`${rep === 0 ? 'warm' : `rep ${rep}`}: troupe ${wall.troupe!.toFixed(0)} ms (cpu node ${cpu.troupe!.toFixed(0)} + redis ${redisCpu.troupe!.toFixed(0)}), raw ${wall.raw!.toFixed(0)} ms (cpu node ${cpu.raw!.toFixed(0)} + redis ${redisCpu.raw!.toFixed(0)}), ratio ${ratio.toFixed(2)} (cpu ${cpuRatio.toFixed(2)})${baseText}; B per pack: ${perPack}; load ${os.loadavg()[0]!.toFixed(2)}`);
  }
  if (process.env.PROBE_SIDE) process.exit(0);
  const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!.toFixed(2);
  console.log(`median ratio ${median(ratios)} (wall), ${median(cpuRatios)} (CPU: raw node + both redis-servers / troupe's)${base ? `; base: ${median(baseRatios)} (wall), ${median(baseCpuRatios)} (CPU)` : ''}; load ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  await baseSource?.close();
  await source.destroy();
} finally {
  src.disconnect();
  dst.disconnect();
  await Promise.all(servers.map((s) => s.destroy()));
}
