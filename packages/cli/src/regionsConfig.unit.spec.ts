import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseRegionsFile, parseSource, resolveRegions } from './regionsConfig.js';
import { CliError } from './shared.js';

const file = 'regions.json';
const parse = (value: unknown, defaultPrefix = 'troupe') => parseRegionsFile(file, typeof value === 'string' ? value : JSON.stringify(value), defaultPrefix);

/** The CliError `run` throws, checked to be one line (what `troupe` prints). */
function refusal(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(CliError);
    const message = (error as CliError).message;
    expect(message).not.toContain('\n');
    return message;
  }
  throw new Error('expected a CliError, nothing was thrown');
}

describe('parseRegionsFile', () => {
  it('reads every region with its Redis, the file\'s prefix as the default and a region\'s own prefix over it', () => {
    expect(parse({ prefix: 'bank', regions: { eu: { redis: 'redis://eu:6379' }, us: { redis: 'rediss://us:6380', prefix: 'bank-us' } } })).toEqual([
      { id: 'eu', redis: 'redis://eu:6379', prefix: 'bank' },
      { id: 'us', redis: 'rediss://us:6380', prefix: 'bank-us' },
    ]);
  });

  it('without a "prefix", uses the one it is given (--redis-prefix)', () => {
    expect(parse({ regions: { eu: { redis: 'redis://eu:6379' } } }, 'flagged')).toEqual([{ id: 'eu', redis: 'redis://eu:6379', prefix: 'flagged' }]);
  });

  it('refuses unknown keys at the top and in a region, naming them and the known ones (a typo is never a region left out)', () => {
    expect(refusal(() => parse({ regions: { eu: { redis: 'redis://eu' } }, region: {} }))).toBe('regions file regions.json: unknown key "region" (known: prefix, regions)');
    expect(refusal(() => parse({ regions: { eu: { redis: 'redis://eu', tls: true } } }))).toBe('regions file regions.json: region "eu": unknown key "tls" (known: redis, prefix)');
    expect(refusal(() => parse({ regions: { eu: { redis: 'redis://eu', prefx: 'x', tls: true } } }))).toBe(
      'regions file regions.json: region "eu": unknown key "prefx", "tls" (known: redis, prefix)',
    );
  });

  it('refuses what is not a regions file: not JSON, not an object, no region, a bad id, URL or prefix', () => {
    expect(refusal(() => parse('{"regions": '))).toMatch(/^regions file regions\.json: not JSON \(/);
    expect(refusal(() => parse([]))).toBe('regions file regions.json: expected an object with "regions"');
    expect(refusal(() => parse({ regions: {} }))).toBe('regions file regions.json: "regions" must be an object naming at least one region');
    expect(refusal(() => parse({ regions: [{ redis: 'redis://eu' }] }))).toBe('regions file regions.json: "regions" must be an object naming at least one region');
    expect(refusal(() => parse({ regions: { 'e u': { redis: 'redis://eu' } } }))).toMatch(/^regions file regions\.json: region "e u": a region id is 1-64 characters of \[A-Za-z0-9_.-\]/);
    expect(refusal(() => parse({ regions: { eu: 'redis://eu' } }))).toBe('regions file regions.json: region "eu": expected an object with "redis"');
    expect(refusal(() => parse({ regions: { eu: { redis: 'http://eu' } } }))).toBe('regions file regions.json: region "eu": "redis" must be a redis:// or rediss:// URL');
    expect(refusal(() => parse({ regions: { eu: {} } }))).toBe('regions file regions.json: region "eu": "redis" must be a redis:// or rediss:// URL');
    expect(refusal(() => parse({ prefix: '', regions: { eu: { redis: 'redis://eu' } } }))).toBe('regions file regions.json: "prefix" must be a non-empty string');
    expect(refusal(() => parse({ regions: { eu: { redis: 'redis://eu', prefix: 7 } } }))).toBe('regions file regions.json: region "eu": "prefix" must be a non-empty string');
  });
});

describe('parseSource (--source)', () => {
  it('reads <region>=<url>, with an optional #prefix after the URL', () => {
    expect(parseSource('us=redis://10.0.0.2:6379', 'troupe')).toEqual({ id: 'us', redis: 'redis://10.0.0.2:6379', prefix: 'troupe' });
    expect(parseSource('us=rediss://:pw@10.0.0.2:6380/2#bank', 'troupe')).toEqual({ id: 'us', redis: 'rediss://:pw@10.0.0.2:6380/2', prefix: 'bank' });
  });

  it('refuses a flag without a region, a bad id, a URL that is not Redis\'s and an empty prefix', () => {
    expect(refusal(() => parseSource('redis://10.0.0.2:6379', 'troupe'))).toBe('--source redis://10.0.0.2:6379: expected <region>=<redis url>, e.g. us=redis://10.0.0.2:6379');
    expect(refusal(() => parseSource('=redis://h', 'troupe'))).toMatch(/^--source =redis:\/\/h: expected <region>=<redis url>/);
    expect(refusal(() => parseSource('u s=redis://h', 'troupe'))).toBe("--source u s=redis://h: region id 'u s' must be 1-64 characters of [A-Za-z0-9_.-]");
    expect(refusal(() => parseSource('us=10.0.0.2:6379', 'troupe'))).toBe("--source us=10.0.0.2:6379: '10.0.0.2:6379' is not a redis:// or rediss:// URL");
    expect(refusal(() => parseSource('us=redis://h#', 'troupe'))).toBe("--source us=redis://h#: empty prefix after '#'");
  });
});

describe('resolveRegions', () => {
  const dir = mkdtempSync(join(tmpdir(), 'troupe-regions-config-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const regionsFile = (value: unknown) => {
    const path = join(dir, `regions-${Math.random().toString(36).slice(2)}.json`);
    writeFileSync(path, JSON.stringify(value));
    return path;
  };
  const flags = { region: 'eu', redis: undefined, redisPrefix: 'troupe', regionsFile: undefined, sources: [] as string[] };
  const three = { regions: { eu: { redis: 'redis://eu:6379' }, us: { redis: 'redis://us:6379' }, ap: { redis: 'redis://ap:6379', prefix: 'p' } } };

  it('from a regions file: this region is its entry, the others are every other entry', () => {
    expect(resolveRegions({ ...flags, regionsFile: regionsFile(three) })).toEqual({
      here: { id: 'eu', redis: 'redis://eu:6379', prefix: 'troupe' },
      others: [
        { id: 'us', redis: 'redis://us:6379', prefix: 'troupe' },
        { id: 'ap', redis: 'redis://ap:6379', prefix: 'p' },
      ],
    });
  });

  it('from flags: --redis and --redis-prefix for this region, every --source for the others', () => {
    expect(resolveRegions({ ...flags, redis: 'redis://127.0.0.1:7000', redisPrefix: 'bank', sources: ['us=redis://127.0.0.1:7001', 'ap=redis://127.0.0.1:7002#other'] })).toEqual({
      here: { id: 'eu', redis: 'redis://127.0.0.1:7000', prefix: 'bank' },
      others: [
        { id: 'us', redis: 'redis://127.0.0.1:7001', prefix: 'bank' },
        { id: 'ap', redis: 'redis://127.0.0.1:7002', prefix: 'other' },
      ],
    });
  });

  it('--redis overrides this region\'s entry in the file (with --redis-prefix), and --source adds to the file\'s regions', () => {
    const resolved = resolveRegions({ ...flags, redis: 'redis://local:1', regionsFile: regionsFile(three), sources: ['sa=redis://sa:6379'] });
    expect(resolved.here).toEqual({ id: 'eu', redis: 'redis://local:1', prefix: 'troupe' });
    expect(resolved.others.map((r) => r.id)).toEqual(['us', 'ap', 'sa']);
  });

  it('refuses a region id used twice, whether a source repeats another or has this region\'s own id', () => {
    expect(refusal(() => resolveRegions({ ...flags, redis: 'redis://h:1', sources: ['us=redis://h:2', 'us=redis://h:3'] }))).toBe("region id 'us' is used twice: every region needs its own id");
    expect(refusal(() => resolveRegions({ ...flags, redis: 'redis://h:1', sources: ['eu=redis://h:2'] }))).toBe("region id 'eu' is used twice (a source has this region's id): every region needs its own id");
    expect(refusal(() => resolveRegions({ ...flags, regionsFile: regionsFile(three), sources: ['ap=redis://h:2'] }))).toBe("region id 'ap' is used twice: every region needs its own id");
  });

  it('refuses two regions on one Redis and prefix (a trailing slash is the same URL), but not on one Redis with two prefixes', () => {
    expect(refusal(() => resolveRegions({ ...flags, redis: 'redis://h:1', sources: ['us=redis://h:1/'] }))).toBe("regions 'eu' and 'us' are the same store (redis://h:1/, prefix 'troupe'): every region needs its own");
    expect(resolveRegions({ ...flags, redis: 'redis://h:1', sources: ['us=redis://h:1#us'] }).others).toEqual([{ id: 'us', redis: 'redis://h:1', prefix: 'us' }]);
  });

  it('refuses: no --region, a bad --region, a region missing from the file without --redis, no other region, a missing file', () => {
    expect(refusal(() => resolveRegions({ ...flags, region: undefined, sources: ['us=redis://h:2'] }))).toMatch(/^--region is required/);
    expect(refusal(() => resolveRegions({ ...flags, region: 'e u', sources: ['us=redis://h:2'] }))).toMatch(/^--region 'e u': a region id is 1-64 characters/);
    expect(refusal(() => resolveRegions({ ...flags, region: 'sa', regionsFile: regionsFile(three) }))).toMatch(/^region 'sa' is not in the regions file .*regions-\w+\.json \(it names eu, us, ap\), and no --redis was given$/);
    expect(refusal(() => resolveRegions({ ...flags, redis: 'redis://h:1' }))).toMatch(/^no other region to replicate from: give --source/);
    expect(refusal(() => resolveRegions({ ...flags, regionsFile: regionsFile({ regions: { eu: { redis: 'redis://eu' } } }) }))).toMatch(/^no other region to replicate from/);
    expect(refusal(() => resolveRegions({ ...flags, regionsFile: join(dir, 'absent.json') }))).toBe(`regions file ${join(dir, 'absent.json')}: no such file`);
  });
});
