/**
 * Probe of RedisStore.merge alone (not part of `npm run bench`): the packs of the regions
 * throughput copy read once with changesSince (batches of 500), then merged into fresh targets
 * `reps` times; per pack: Node CPU inside merge calls, the target redis-server's CPU and its
 * EVALSHA usec (INFO), on a private server pair.
 *   cd test && npx tsx bench/regionsMergeProbe.ts [reps] [packs] [actors]
 */
import { connectRedisStore } from '@troupe/redis';
import { RedisServer } from '@troupe/redis/testing';
import type { Changes } from '@troupe/runtime/store';
import { Redis } from 'ioredis';
import os from 'node:os';
import { accountPacks, mergeAll, RegionWriter } from './regions.js';

const [reps = 10, n = 5_000, actors = 500] = process.argv.slice(2).map(Number);
const servers = [await RedisServer.start(), await RedisServer.start()];
const [serverA, serverB] = servers as [RedisServer, RedisServer];
const dst = new Redis(serverB.url);
const info = async (section: string, name: string) => {
  const text = await dst.info(section);
  return text;
};
const serverCpu = async () => {
  const text = await info('cpu', '');
  const get = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(text)?.[1] ?? 0);
  return (get('used_cpu_user') + get('used_cpu_sys')) * 1e6;
};
const evalUsec = async () => {
  const text = await info('commandstats', '');
  let usec = 0;
  for (const m of text.matchAll(/^cmdstat_(evalsha|eval):calls=\d+,usec=(\d+)/gm)) usec += Number(m[2]);
  return usec;
};
try {
  const source = await connectRedisStore({ url: serverA.url, prefix: 'tp' });
  const packs = accountPacks(new RegionWriter('eu', 1), actors, Math.ceil(n / actors)).slice(0, n);
  await mergeAll(source, packs);
  const batches: Changes[] = [];
  let cursor: string | undefined;
  for (;;) {
    const changes = await source.changesSince(cursor, 500);
    if (changes.packs.length === 0) break;
    batches.push(changes);
    cursor = changes.cursor;
  }
  // The reads alone: changesSince through the whole log, node CPU per pack.
  const reads: number[] = [];
  for (let rep = 0; rep <= reps; rep++) {
    const c = process.cpuUsage();
    let at: string | undefined;
    for (;;) {
      const changes = await source.changesSince(at, 500);
      if (changes.packs.length === 0) break;
      at = changes.cursor;
    }
    const d = process.cpuUsage(c);
    if (rep > 0) reads.push((d.user + d.system) / n);
  }
  const rows: { node: number; redis: number; evalsha: number; wall: number }[] = [];
  for (let rep = 0; rep <= reps; rep++) {
    const target = await connectRedisStore({ url: serverB.url, prefix: `m${rep}` });
    await new Promise((r) => setTimeout(r, 20));
    const [r0, e0] = [await serverCpu(), await evalUsec()];
    let node = 0;
    const t0 = performance.now();
    for (const b of batches) {
      const c = process.cpuUsage();
      await target.merge(b.packs, b.snapshots);
      const d = process.cpuUsage(c);
      node += d.user + d.system;
    }
    const wall = performance.now() - t0;
    const [r1, e1] = [await serverCpu(), await evalUsec()];
    if (rep > 0) rows.push({ node: node / n, redis: (r1 - r0) / n, evalsha: (e1 - e0) / n, wall: (wall * 1000) / n });
    await target.destroy();
  }
  const median = (k: keyof (typeof rows)[0]) => [...rows.map((r) => r[k])].sort((a, b) => a - b)[Math.floor(rows.length / 2)]!.toFixed(1);
  console.log(`changesSince per pack (median of ${reps}): node CPU ${[...reads].sort((a, b) => a - b)[Math.floor(reads.length / 2)]!.toFixed(1)} µs`);
  console.log(`merge per pack (median of ${reps}): node CPU ${median('node')} µs, redis-server CPU ${median('redis')} µs (EVALSHA ${median('evalsha')} µs), wall ${median('wall')} µs; load ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  await source.destroy();
} finally {
  dst.disconnect();
  await Promise.all(servers.map((s) => s.destroy()));
}
