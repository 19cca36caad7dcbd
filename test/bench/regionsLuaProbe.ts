/**
 * Probe of the merge script alone (not part of `npm run bench`): the merge calls of one regions
 * throughput copy (5,000 packs) are captured as the client sends them, then replayed with EVALSHA
 * against an emptied private redis-server for each given merge.lua (common.lua prepended), 7
 * rounds, alternating: EVALSHA usec per pack (INFO commandstats), min and median. For comparing
 * versions of the script on the same arguments (the argument format must be the one the client
 * sends now).
 *   cd test && npx tsx bench/regionsLuaProbe.ts ../packages/redis/src/scripts/merge.lua /tmp/other/merge.lua
 */
import { connectRedisStore } from '@troupe/redis';
import { RedisServer } from '@troupe/redis/testing';
import type { Changes } from '@troupe/runtime/store';
import { Redis } from 'ioredis';
import fs from 'node:fs';
import { accountPacks, mergeAll, RegionWriter } from './regions.js';

const servers = [await RedisServer.start(), await RedisServer.start()];
const [a, b] = servers as [RedisServer, RedisServer];
const source = await connectRedisStore({ url: a.url, prefix: 'tp' });
// PROBE_ACTORS (default 500) accounts x 10 packs: 5,000 actors is the full run's copy (about 1.6 packs per actor in a call).
const actorCount = Number(process.env.PROBE_ACTORS ?? 500);
const total = actorCount * 10;
await mergeAll(source, accountPacks(new RegionWriter('eu', 1), actorCount, 10));
const batches: Changes[] = [];
let cursor: string | undefined;
for (;;) { const c = await source.changesSince(cursor, 500); if (!c.packs.length) break; batches.push(c); cursor = c.cursor; }
const target = await connectRedisStore({ url: b.url, prefix: 'cap' });
const client = (target as unknown as { ctx: { client: Redis } }).ctx.client;
const captured: (string | Buffer)[][] = [];
const orig = client.sendCommand.bind(client);
(client as unknown as { sendCommand: (cmd: { name: string; args: (string | Buffer)[] }) => unknown }).sendCommand = (cmd) => {
  if (cmd.name === 'evalsha' || cmd.name === 'eval') captured.push(cmd.args.slice(1));
  return orig(cmd as never);
};
for (const c of batches) await target.merge(c.packs, c.snapshots);
const common = fs.readFileSync('/work/main/packages/redis/src/scripts/common.lua', 'utf8');
const variants: Record<string, string> = Object.fromEntries(process.argv.slice(2).map((f) => [f, common + fs.readFileSync(f, 'utf8')]));
const raw = new Redis(b.url);
const results: Record<string, number[]> = {};
const rounds = Number(process.env.PROBE_ROUNDS ?? 7);
for (let rep = 0; rep < rounds; rep++) {
  for (const [name, lua] of Object.entries(variants)) {
    await raw.flushall();
    await raw.config('RESETSTAT');
    const sha = (await raw.script('LOAD', lua)) as string;
    for (const args of captured) {
      const nkeys = Number(args[0]);
      await raw.set(args[2]!, args[1 + nkeys]!);
      await (raw as unknown as { evalshaBuffer: (...a: unknown[]) => Promise<unknown> }).evalshaBuffer(sha, nkeys, ...args.slice(1));
    }
    const stats = await raw.info('commandstats');
    const m = /cmdstat_evalsha:calls=(\d+),usec=(\d+)/.exec(stats)!;
    if (rep === rounds - 1 && process.env.PROBE_INNER) {
      const inner = [...stats.matchAll(/cmdstat_([a-z|]+):calls=(\d+),usec=(\d+)/g)].filter((x) => !['evalsha', 'flushall', 'config|resetstat', 'script|load', 'set'].includes(x[1]!));
      console.log(name, 'inner per pack:', inner.map((x) => `${x[1]} ${(Number(x[2]) / total).toFixed(2)}/${(Number(x[3]) / total).toFixed(2)}µs`).join(', '));
    }
    (results[name] ??= []).push(Number(m[2]) / total);
  }
}
for (const [name, v] of Object.entries(results)) { v.sort((x, y) => x - y); console.log(name.padEnd(60), 'evalsha µs/pack min', v[0]!.toFixed(2), 'median', v[Math.floor(v.length / 2)]!.toFixed(2)); }
raw.disconnect();
await source.destroy(); await target.destroy();
await Promise.all(servers.map((s) => s.destroy()));
