/**
 * `troupe projections` against the local Redis (database 9, a fresh prefix): the list before and
 * after a runner, `troupe projections run` as a process (its lease shown by the list, SIGTERM:
 * the current batch finished, the lease given back, exit 0), `rebuild`, and the errors.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { type AnyActorDefinition, type ProjectionDefinition, createRuntime, viewFromScratch } from '@troupe/runtime';
import { connectRedisStore, openRedisView } from '@troupe/redis';
import { requireService } from '@troupe/runtime/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { capture } from '../testing/capture.js';
import type { ProjectionListing } from './projections.js';

const redisUrl = 'redis://127.0.0.1:6379/9';
const available = await requireService({ name: 'Redis', host: '127.0.0.1', port: 6379 });
const cliDir = fileURLToPath(new URL('../..', import.meta.url));

/** A self-contained app: a counter actor and two views over it, in plain JavaScript. */
const appSource = `
export const Thing = {
  type: 'thing',
  initial: () => ({ n: 0 }),
  commands: { bump: (_s, p) => [{ type: 'bumped', data: { by: p.by } }] },
  events: { bumped: (s, d) => ({ n: s.n + d.by }) },
  snapshotEvery: 100,
};
const view = (name, rows) => ({ name, version: 1, id: name + '-1', types: new Set(['thing']), from: [Thing], rows, combine: (a, b) => a + b });
export const totals = view('totals', (actor, s) => [[actor.id, s.n], ['all', s.n]]);
export const parity = view('parity', (_actor, s) => [[s.n % 2 === 0 ? 'even' : 'odd', 1]]);
`;

describe.skipIf(!available)('troupe projections', () => {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'troupe-views-')));
  const appFile = join(dir, 'app.mjs');
  const prefix = `cliviews-${randomUUID().slice(0, 8)}`;
  const redis = ['--redis', redisUrl, '--redis-prefix', prefix, '--app', appFile];
  let app: { Thing: AnyActorDefinition; totals: ProjectionDefinition<number>; parity: ProjectionDefinition<number> };
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    writeFileSync(appFile, appSource);
    app = (await import(pathToFileURL(appFile).href)) as typeof app;
    const store = await connectRedisStore({ url: redisUrl, prefix });
    const runtime = createRuntime({ actors: [app.Thing], store, replicaId: 'eu' });
    for (let i = 0; i < 30; i++) await runtime.send({ type: 'thing', id: `t${i % 10}` }, { type: 'bump', payload: { by: 1 + (i % 3) } });
    await runtime.stop();
    await store.close();
  });
  afterAll(async () => {
    for (const child of children) child.kill('SIGKILL');
    const store = await connectRedisStore({ url: redisUrl, prefix });
    await store.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  const list = async (): Promise<ProjectionListing[]> => {
    const { code, out, err } = await capture(['projections', ...redis, '--json']);
    expect(err).toBe('');
    expect(code).toBe(0);
    return JSON.parse(out) as ProjectionListing[];
  };
  const statusOf = (listings: ProjectionListing[], name: string) => {
    const listing = listings.find((l) => l.projection === name)!;
    if ('error' in listing) throw new Error(listing.error);
    return listing.status;
  };

  it('lists the app\'s views before any runner: not there yet, the whole log behind', async () => {
    const listings = await list();
    expect(listings.map((l) => `${l.projection}-${l.version}`)).toEqual(['totals-1', 'parity-1']);
    expect(statusOf(listings, 'totals')).toMatchObject({ view: 'totals-1', exists: false, lagPacks: 30, ready: false, rows: 0, lease: null });
    const text = await capture(['projections', ...redis]);
    expect(text.out).toMatch(/^view +read +lag \(packs\) +ready +rows +lease\ntotals-1 +0 +30 +no +0 +none \(no runner\)\nparity-1 /);
  });

  it('`run NAME` runs one view as a process: listed with its lease, caught up; SIGTERM stops it and gives the lease back', async () => {
    const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', 'src/main.ts', 'projections', 'run', 'totals', ...redis, '--holder', 'cli-runner', '--batch-size', '4', '--poll-ms', '20'], {
      cwd: cliDir,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => (output += String(chunk)));
    child.stderr!.on('data', (chunk: Buffer) => (output += String(chunk)));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const store = await connectRedisStore({ url: redisUrl, prefix });
    try {
      const view = await openRedisView({ store, projection: app.totals });
      await view.waitUntilReady({ timeoutMs: 30_000 });
      const listed = statusOf(await list(), 'totals');
      expect(listed).toMatchObject({ exists: true, lagPacks: 0, ready: true, rows: 11, lease: { holder: 'cli-runner' } });
      expect(statusOf(await list(), 'parity')).toMatchObject({ exists: false, lease: null });
      // It follows new writes.
      const runtime = createRuntime({ actors: [app.Thing], store, replicaId: 'eu' });
      await runtime.send({ type: 'thing', id: 't0' }, { type: 'bump', payload: { by: 100 } });
      await runtime.stop();
      const rows = await view.waitUntil((r) => r.get('all') === 160, { timeoutMs: 10_000 });
      expect(new Map(rows)).toEqual(new Map(await viewFromScratch(app.totals, store, Array.from({ length: 10 }, (_, i) => ({ type: 'thing', id: `t${i}` })))));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(output).toContain('lease acquired: running the view');
      expect(output).toContain('caught up');
      expect(output).toContain('stopping after the current batch');
      expect(statusOf(await list(), 'totals').lease).toBeNull();
    } finally {
      await store.close();
    }
  }, 60_000);

  it('`rebuild NAME` builds the view again and swaps it in', async () => {
    const { code, out } = await capture(['projections', 'rebuild', 'parity', ...redis]);
    expect(code).toBe(0);
    expect(out).toMatch(/^view parity-1 rebuilt from 31 packs in \d+ batches \(\d+\.\d s\) and swapped in/);
    // The options may come before the subcommand's name too.
    const before = await capture(['projections', ...redis, 'rebuild', 'parity', '--json']);
    expect(before.code).toBe(0);
    expect(JSON.parse(before.out)).toMatchObject({ view: 'parity-1', packs: 31 });
    const status = statusOf(await list(), 'parity');
    expect(status).toMatchObject({ exists: true, lagPacks: 0, ready: true });
    const store = await connectRedisStore({ url: redisUrl, prefix });
    try {
      const view = await openRedisView({ store, projection: app.parity });
      expect(new Map(await view.rows())).toEqual(new Map(await viewFromScratch(app.parity, store, Array.from({ length: 10 }, (_, i) => ({ type: 'thing', id: `t${i}` })))));
    } finally {
      await store.close();
    }
  });

  it('errors: an unknown view, no --redis, an app without views', async () => {
    const unknown = await capture(['projections', 'run', 'nope', ...redis]);
    expect(unknown.code).toBe(1);
    expect(unknown.err).toBe("troupe: no view 'nope' in the app (views: totals-1, parity-1)");
    const noRedis = await capture(['projections', '--app', appFile]);
    expect(noRedis.code).toBe(1);
    expect(noRedis.err).toMatch(/^troupe: --redis is required/);
    const bare = join(dir, 'bare.mjs');
    writeFileSync(bare, 'export const Thing = { type: "thing", initial: () => ({}), commands: {}, events: {} };');
    const none = await capture(['projections', '--redis', redisUrl, '--app', bare]);
    expect(none.code).toBe(1);
    expect(none.err).toMatch(/exports no projection definitions/);
  });
});
