/**
 * `troupe replicate`'s faults and bad input (#15 item 5 and "Bad input"), each with real
 * processes: the regions harness (test/regions/) without workers; the packs are written into a
 * region's Redis by an embedded runtime writing as that region, as its workers would.
 * Needs the redis-server program (fails under CI=true without it, skips loudly otherwise).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { RedisStore } from '@troupe/redis';
import { freePort } from '@troupe/redis/testing';
import { Deployment } from './regions/deployment.js';
import { requireProgram } from './regions/gates.js';
import { metric, scrape } from './regions/metrics.js';
import { runTroupe } from './regions/troupeProcess.js';
import { holdsAll, until, writeDeposits } from './regions/writer.js';

const available = requireProgram('redis-server');

let deployment: Deployment | undefined;
afterEach(async () => {
  const problems = (await deployment?.close()) ?? [];
  deployment = undefined;
  expect(problems).toEqual([]);
});

async function start(regions: string[], options: { replicate?: boolean; appendOnly?: string[] } = {}): Promise<Deployment> {
  deployment = await Deployment.start({ regions, workersPerRegion: 0, replicate: options.replicate ?? true, appendOnly: options.appendOnly ?? [] });
  return deployment;
}

/** Packs in the store's log (every pack written or copied there). */
const logPacks = (store: RedisStore) => store.backlog(undefined);

describe.skipIf(!available)('troupe replicate under faults (real processes, real redis-servers)', () => {
  it('its own Redis down: the links go down and back off, the process stays up, and it resumes when Redis is back', { timeout: 120_000 }, async () => {
    const d = await start(['a', 'b'], { appendOnly: ['b'] });
    const [a, b] = [d.region('a'), d.region('b')];
    const first = await writeDeposits(await a.connect(), 'a', 'acc', 10, 'first');
    await until('b holds the first 10 packs of a', async () => holdsAll(await b.connect(), 'acc', first));
    const replicate = b.replicate!;
    await b.disconnect();
    const mark = replicate.lines.length;
    await b.server.stop();
    const second = await writeDeposits(await a.connect(), 'a', 'acc', 15, 'second');
    const down = await replicate.waitForLog('"link down"', (l) => l.msg.startsWith('link down'), 20_000, mark);
    expect(down).toMatchObject({ source: 'a', failures: 1 });
    // Backing off: the waits grow (jitter takes at most half) up to --backoff-max-ms 1000.
    const third = await replicate.waitForLog('a third "link down"', (l) => l.msg.startsWith('link down') && (l.failures as number) >= 3, 20_000, mark);
    expect(third.retryInMs as number).toBeGreaterThanOrEqual(200);
    expect(third.retryInMs as number).toBeLessThanOrEqual(1_000);
    expect(replicate.running).toBe(true);
    const restartedAt = replicate.lines.length;
    await b.server.boot();
    await replicate.waitForLog('"link up" after Redis came back', (l) => l.msg === 'link up' && l.source === 'a', 30_000, restartedAt);
    await until('b holds every pack of a once its Redis is back', async () => holdsAll(await b.connect(), 'acc', [...first, ...second]), 30_000);
    expect(replicate.running).toBe(true);
    expect(replicate.logs('link broken')).toEqual([]);
  });

  it('a source down for long, its reader restarted meanwhile: the catch-up copies only what lies after the saved cursor', { timeout: 120_000 }, async () => {
    const d = await start(['a', 'b'], { appendOnly: ['a'] });
    const [a, b] = [d.region('a'), d.region('b')];
    const before = await writeDeposits(await a.connect(), 'a', 'acc', 20, 'before');
    await until('b holds a\'s first 20 packs', async () => holdsAll(await b.connect(), 'acc', before));
    await a.disconnect();
    await a.server.stop();
    await b.replicate!.waitForLog('"link down" for a', (l) => l.msg.startsWith('link down') && l.source === 'a', 20_000);
    // The reader dies while the source is away: only its checkpoint (in b's Redis) remembers how far it got.
    await b.replicate!.kill('SIGKILL');
    const restarted = await d.startReplicate('b', ['--allow-unreachable-sources']);
    await restarted.waitForLog('a failing link retried with a backoff', (l) => l.msg.startsWith('link down') && l.source === 'a' && (l.failures as number) >= 3, 30_000);
    await a.server.boot();
    const after = await writeDeposits(await a.connect(), 'a', 'acc', 7, 'after');
    await until('b holds a\'s 7 new packs', async () => holdsAll(await b.connect(), 'acc', after), 30_000);
    const text = await scrape(await b.metricsUrl());
    expect(metric(text, 'troupe_replication_packs_copied_total', { source: 'a' })).toBe(7);
    expect(metric(text, 'troupe_replication_packs_skipped_total', { source: 'a' })).toBe(0);
    const synced = restarted.logs('synced').filter((l) => l.source === 'a');
    expect(synced.reduce((n, l) => n + (l.copied as number), 0)).toBe(7);
    expect(synced.reduce((n, l) => n + (l.skipped as number), 0)).toBe(0);
    expect(await logPacks(await b.connect())).toBe(27);
  });

  it('a source whose Redis restarted empty (a new store identity): nothing copied; a replicator started then reports the link broken, naming both identities', { timeout: 120_000 }, async () => {
    const d = await start(['a', 'b']);
    const [a, b] = [d.region('a'), d.region('b')];
    const old = await writeDeposits(await a.connect(), 'a', 'acc', 10, 'old');
    await until('b holds a\'s 10 packs', async () => holdsAll(await b.connect(), 'acc', old));
    const cursor = (await (await b.connect()).checkpoint('from-a').load())!;
    expect(cursor).toMatch(/^[^:]+:[\d.]+$/);
    // Region a loses everything (its replicator stopped first: only b's link is the subject).
    await a.replicate!.stop();
    await a.disconnect();
    await a.server.kill();
    await a.server.boot();
    // More packs than the old cursor's offsets: read from the old positions, the first ten would be skipped without a sign.
    const fresh = await writeDeposits(await a.connect(), 'a', 'other', 14, 'fresh');
    // The running replicator's connection to a notices the loss. It reports it as a failing link
    // (StoreDataLostError, retried) rather than a broken one: reported to the lead; either is loud.
    const noticed = await b.replicate!.waitForLog(
      'the loss of a\'s data reported',
      (l) => l.source === 'a' && (l.msg.startsWith('link broken') || (l.msg.startsWith('link down') && (l.err as { code?: string }).code === 'STORE_DATA_LOST')),
      30_000,
    );
    expect((noticed.err as { message: string }).message).toMatch(/lost the data of the troupe store|invalid log cursor/);
    await new Promise((r) => setTimeout(r, 1_500));
    expect(await holdsAll(await b.connect(), 'other', fresh.slice(0, 1))).toBe(false);
    expect(await (await b.connect()).checkpoint('from-a').load()).toBe(cursor);
    // A replicator started now meets the new identity at once: broken, both identities named.
    await b.replicate!.stop();
    const replicate = await d.startReplicate('b');
    const broken = await replicate.waitForLog('"link broken" for a', (l) => l.msg.startsWith('link broken') && l.source === 'a', 30_000);
    const message = (broken.err as { message: string }).message;
    const identities = [...message.matchAll(/identity (\w[\w-]*)/g)].map((m) => m[1]);
    expect(identities[0], message).toBe(cursor.split(':')[0]);
    expect(new Set(identities).size, message).toBe(2);
    await new Promise((r) => setTimeout(r, 1_000));
    expect(await holdsAll(await b.connect(), 'other', fresh.slice(0, 1))).toBe(false);
    expect(await (await b.connect()).checkpoint('from-a').load()).toBe(cursor);
    const text = await scrape(await b.metricsUrl());
    expect(metric(text, 'troupe_replication_link_broken', { source: 'a' })).toBe(1);
    expect(metric(text, 'troupe_replication_packs_copied_total', { source: 'a' }) ?? 0).toBe(0);
    expect(replicate.running).toBe(true);
  });

  it('a checkpoint ahead of the source\'s log (as after restoring an old backup): broken, naming both positions, nothing copied', { timeout: 120_000 }, async () => {
    const d = await start(['a', 'b']);
    const [a, b] = [d.region('a'), d.region('b')];
    const first = await writeDeposits(await a.connect(), 'a', 'acc', 6, 'first');
    await until('b holds a\'s 6 packs', async () => holdsAll(await b.connect(), 'acc', first));
    await b.replicate!.stop();
    const checkpoint = (await b.connect()).checkpoint('from-a');
    const cursor = (await checkpoint.load())!;
    const [identity, offsets] = cursor.split(':') as [string, string];
    const ahead = `${identity}:${offsets.split('.').map((n) => Number(n) + 1_000_000).join('.')}`;
    await checkpoint.save(ahead);
    const more = await writeDeposits(await a.connect(), 'a', 'acc', 10, 'more');
    const before = await logPacks(await b.connect());
    const replicate = await d.startReplicate('b');
    const broken = await replicate.waitForLog('"link broken" for a', (l) => l.msg.startsWith('link broken') && l.source === 'a', 30_000);
    const message = (broken.err as { message: string }).message;
    expect(message).toContain(ahead.slice(0, 60));
    expect(message).toMatch(/at entry 1000\d+ of shard \d+, whose log \S+ holds \d+/);
    await new Promise((r) => setTimeout(r, 1_500));
    expect(await logPacks(await b.connect())).toBe(before);
    expect(await holdsAll(await b.connect(), 'acc', more.slice(-1))).toBe(false);
    expect(await checkpoint.load()).toBe(ahead);
  });

  it('C catches up through B while A is down (the log carries what B copied)', { timeout: 120_000 }, async () => {
    const d = await start(['a', 'b', 'c']);
    const [a, b, c] = [d.region('a'), d.region('b'), d.region('c')];
    d.cut('c', 'a');
    d.cut('c', 'b');
    const packs = await writeDeposits(await a.connect(), 'a', 'acc', 12, 'a');
    await until('b holds a\'s 12 packs', async () => holdsAll(await b.connect(), 'acc', packs));
    expect(await holdsAll(await c.connect(), 'acc', packs.slice(0, 1))).toBe(false);
    await a.replicate!.kill('SIGKILL');
    await a.disconnect();
    await a.server.kill();
    d.heal();
    await until('c holds a\'s 12 packs, a being down', async () => holdsAll(await c.connect(), 'acc', packs), 30_000);
    expect(a.server.running).toBe(false);
    expect(c.replicate!.logs('link down').some((l) => l.source === 'a')).toBe(true);
    expect(c.replicate!.running).toBe(true);
  });
});

describe.skipIf(!available)('troupe replicate refuses bad input: one line, a non-zero exit, nothing copied', () => {
  /** Two regions' servers (no replicator), a pack in source 'us', and what a refused start must leave untouched. */
  async function setup(): Promise<{ d: Deployment; eu: RedisStore; us: RedisStore }> {
    const d = await start(['eu', 'us'], { replicate: false });
    const [eu, us] = [await d.region('eu').connect(), await d.region('us').connect()];
    await writeDeposits(us, 'us', 'acc', 3, 'us');
    return { d, eu, us };
  }

  async function expectNothingCopied(eu: RedisStore): Promise<void> {
    expect(await logPacks(eu)).toBe(0);
    expect(await eu.checkpoint('from-us').load()).toBeUndefined();
    expect(await eu.regions()).toEqual([]);
  }

  function expectOneLine(run: { code: number; stdout: string; stderr: string }, pattern: RegExp): void {
    expect(run.code, run.stderr).not.toBe(0);
    expect(run.stderr.trimEnd().split('\n'), run.stderr).toHaveLength(1);
    expect(run.stderr.trimEnd()).toMatch(pattern);
  }

  it('an unreachable region, without --allow-unreachable-sources', { timeout: 60_000 }, async () => {
    const { d, eu } = await setup();
    const nobody = await freePort();
    const run = await runTroupe(d.region('eu').replicateArgs([{ id: 'us', url: `redis://127.0.0.1:${nobody}`, prefix: 'troupe' }]));
    expectOneLine(run, new RegExp(`^troupe: region us at redis://127\\.0\\.0\\.1:${nobody} \\(prefix 'troupe'\\) does not answer: .*pass --allow-unreachable-sources to start anyway`));
    await expectNothingCopied(eu);
  });

  it('a region id used twice (a source with this region\'s id, or two sources with one id)', { timeout: 60_000 }, async () => {
    const { d, eu } = await setup();
    const us = d.sourcesOf('eu')[0]!;
    const own = await runTroupe(d.region('eu').replicateArgs([{ ...us, id: 'eu' }]));
    expectOneLine(own, /^troupe: region id 'eu' is used twice \(a source has this region's id\): every region needs its own id$/);
    const twice = await runTroupe(d.region('eu').replicateArgs([us, { ...us, url: `redis://127.0.0.1:${d.region('us').server.port}` }]));
    expectOneLine(twice, /^troupe: region id 'us' is used twice: every region needs its own id$/);
    await expectNothingCopied(eu);
  });

  it('a regions file with an unknown key', { timeout: 60_000 }, async () => {
    const { d, eu } = await setup();
    const file = join(d.regionsFile, '..', 'typo.json');
    writeFileSync(file, JSON.stringify({ regions: { eu: { redis: d.region('eu').redisUrl }, us: { redis: d.region('us').redisUrl, prefixx: 'troupe' } } }));
    const run = await runTroupe(['replicate', '--region', 'eu', '--regions-file', file, '--allow-volatile-store', '--no-metrics']);
    expectOneLine(run, /^troupe: regions file \S+typo\.json: region "us": unknown key "prefixx" \(known: redis, prefix\)$/);
    await expectNothingCopied(eu);
  });

  it('a source whose store declares other regions (another deployment)', { timeout: 60_000 }, async () => {
    const { d, eu, us } = await setup();
    await us.declareRegions(['us', 'sa']);
    const run = await runTroupe(d.region('eu').replicateArgs(d.sourcesOf('eu')));
    expectOneLine(run, /^troupe: region us's store declares the regions us, sa, but this replicator was given eu, us: .* \[\w+\]$/);
    await expectNothingCopied(eu);
  });
});
