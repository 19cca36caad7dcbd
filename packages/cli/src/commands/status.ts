import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import type { EventStore, FrontierTable, RegionLog } from '@troupe/runtime';
import { redactUrl } from '@troupe/runtime/store';
import { connectRedisStore } from '@troupe/redis';
import { type RegionEndpoint, parseRegionsFile } from '../regionsConfig.js';
import { CliError, type RedisTlsFlags, json, redisPrefixOption, redisTls, redisTlsOptions } from '../shared.js';

interface StatusFlags extends RedisTlsFlags {
  readonly regionsFile?: string;
  readonly redis?: string;
  readonly region?: string;
  readonly redisPrefix: string;
  readonly json: boolean;
}

/** One region as `troupe status` saw it. */
export interface RegionStatus {
  readonly region: string;
  readonly redis: string;
  readonly reachable: boolean;
  readonly error?: string;
  /** Regions its replicator declared. */
  readonly regions?: readonly string[];
  /** Packs in its log. */
  readonly logPacks?: number;
  /** What it copies from each other region: how far behind, and when its cursor was last saved. */
  readonly links?: readonly { readonly source: string; readonly lagPacks: number | null; readonly savedAgoMs: number | null }[];
  /**
   * Its log's stable frontier: per other region, how many packs of this region's log that region
   * has not read yet (as this region's table knows); `stablePacks` = the log minus the largest.
   */
  readonly readers?: readonly { readonly region: string; readonly behindPacks: number | null }[];
  readonly stablePacks?: number;
}

/** Reads every region's frontier table and log size (no writes). A region that does not answer is reported, not fatal. */
export async function regionsStatus(endpoints: readonly RegionEndpoint[], connect: (r: RegionEndpoint) => Promise<EventStore & RegionLog>, now = Date.now()): Promise<RegionStatus[]> {
  const stores: { endpoint: RegionEndpoint; store?: EventStore & RegionLog; error?: string }[] = await Promise.all(
    endpoints.map(async (endpoint) => {
      try {
        return { endpoint, store: await connect(endpoint) };
      } catch (error) {
        return { endpoint, error: (error as Error).message };
      }
    }),
  );
  try {
    const reads = await Promise.all(
      stores.map(async (s) => {
        if (!s.store) return undefined;
        try {
          return { regions: await s.store.regions(), table: await s.store.frontier(), logPacks: await s.store.backlog(undefined) };
        } catch (error) {
          s.error = (error as Error).message;
          return undefined;
        }
      }),
    );
    const storeOf = new Map(stores.filter((s) => s.store && !s.error).map((s) => [s.endpoint.id, s.store!]));
    const statuses: RegionStatus[] = [];
    for (const [i, s] of stores.entries()) {
      const read = reads[i];
      const base = { region: s.endpoint.id, redis: redactUrl(s.endpoint.redis) };
      if (!read) {
        statuses.push({ ...base, reachable: false, error: s.error ?? 'no answer' });
        continue;
      }
      const others = (read.regions.length > 0 ? read.regions : endpoints.map((e) => e.id)).filter((r) => r !== s.endpoint.id);
      const links = [];
      for (const source of others) {
        const entry = read.table[s.endpoint.id]?.[source];
        const sourceStore = storeOf.get(source);
        links.push({ source, lagPacks: await backlogOr(sourceStore, entry?.cursor), savedAgoMs: entry ? Math.max(0, now - entry.at) : null });
      }
      const readers = [];
      for (const reader of others) readers.push({ region: reader, behindPacks: await behind(s.store!, read.table, reader, s.endpoint.id) });
      const known = readers.map((r) => r.behindPacks);
      const stablePacks = known.some((b) => b === null) ? 0 : read.logPacks - Math.max(0, ...(known as number[]));
      statuses.push({ ...base, reachable: true, regions: read.regions, logPacks: read.logPacks, links, readers, stablePacks });
    }
    return statuses;
  } finally {
    await Promise.all(stores.map((s) => s.store?.close().catch(() => undefined)));
  }
}

async function backlogOr(store: (EventStore & RegionLog) | undefined, cursor: string | undefined): Promise<number | null> {
  if (!store) return null;
  try {
    return await store.backlog(cursor);
  } catch {
    return null;
  }
}

/** How many packs of `source`'s log `reader` has not read, per `source`'s own table; null when unknown (no entry, or a cursor of an older store). */
async function behind(store: EventStore & RegionLog, table: FrontierTable, reader: string, source: string): Promise<number | null> {
  const entry = table[reader]?.[source];
  if (!entry) return null;
  try {
    return await store.backlog(entry.cursor);
  } catch {
    return null;
  }
}

export function formatStatus(statuses: readonly RegionStatus[]): string {
  const lines: string[] = [];
  const declared = statuses.find((s) => s.regions && s.regions.length > 0)?.regions;
  lines.push(`regions: ${declared ? declared.join(', ') : '(none declared yet: is troupe replicate running?)'}`);
  for (const s of statuses) {
    lines.push('');
    if (!s.reachable) {
      lines.push(`region ${s.region}  ${s.redis}  UNREACHABLE: ${s.error}`);
      continue;
    }
    lines.push(`region ${s.region}  ${s.redis}  log ${s.logPacks} packs`);
    lines.push('  copies from      lag (packs)   cursor saved');
    for (const link of s.links ?? []) {
      const lag = link.lagPacks === null ? '?' : String(link.lagPacks);
      const saved = link.savedAgoMs === null ? 'never' : `${(link.savedAgoMs / 1000).toFixed(1)} s ago`;
      lines.push(`  ${link.source.padEnd(16)} ${lag.padStart(11)}   ${saved}`);
    }
    const behindText = (s.readers ?? []).map((r) => `${r.region} ${r.behindPacks === null ? 'unknown' : `${r.behindPacks} behind`}`).join(', ');
    lines.push(`  stable: ${s.stablePacks}/${s.logPacks} packs of ${s.region}'s log reached every region (${behindText || 'no other region'})`);
  }
  return lines.join('\n');
}

export function statusCommand(): Command {
  const command = new Command('status')
    .description('print the regions, what each copies from the others and how far behind, and the stable frontier of each log')
    .addOption(new Option('--regions-file <path>', 'the regions file troupe replicate reads (every region is read)').env('TROUPE_REGIONS_FILE'))
    .addOption(new Option('--redis <url>', 'read one region only: its Redis (with --region)').env('TROUPE_REDIS_URL'))
    .addOption(new Option('--region <id>', 'the id of the region at --redis').env('TROUPE_REGION'))
    .addOption(redisPrefixOption())
    .option('--json', 'print JSON', false);
  for (const option of redisTlsOptions()) command.addOption(option);
  return command.action(async (flags: StatusFlags) => {
    let endpoints: RegionEndpoint[];
    if (flags.regionsFile !== undefined) {
      let text: string;
      try {
        text = readFileSync(flags.regionsFile, 'utf8');
      } catch (error) {
        throw new CliError(`regions file ${flags.regionsFile}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`);
      }
      endpoints = parseRegionsFile(flags.regionsFile, text, flags.redisPrefix);
    } else if (flags.redis !== undefined) {
      if (flags.region === undefined) throw new CliError('--redis needs --region: the id of the region whose Redis it is');
      endpoints = [{ id: flags.region, redis: flags.redis, prefix: flags.redisPrefix }];
    } else {
      throw new CliError('give --regions-file (every region) or --redis (one region)');
    }
    const statuses = await regionsStatus(endpoints, (endpoint) => connectRedisStore({ url: endpoint.redis, prefix: endpoint.prefix, ...redisTls(flags) }));
    console.log(flags.json ? json(statuses) : formatStatus(statuses));
  });
}
