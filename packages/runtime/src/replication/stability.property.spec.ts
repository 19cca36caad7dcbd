import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type TestRegion, TestNetwork, holdingCheck, makeRegions, replicationOf } from '../specHelpers/regions.js';
import { Ledger, type LedgerState } from '../testkit/ledger.js';
import type { MemoryStore } from '../store/index.js';
import { VC } from '../vectorClock/index.js';

/**
 * I8 on random schedules: three regions (each a Runtime on its own MemoryStore), random commands,
 * random one-way link cuts and heals, and sync steps. A sync step runs the real service: a fresh
 * RegionReplication of one, two or three regions at once (a restarted `troupe replicate`: it
 * resumes from the checkpoints kept in its store), started, left until each uncut link has synced
 * to the end of its source's log and each cut link has failed once, then stopped. Its waits are
 * long, so nothing runs between steps. A step is a whole service run (rather than Replicators
 * driven with `publishProgress`): the loop under test is the service's own. With several regions
 * at once, one reads another's tables while that one is mid-batch, and a region's own store may
 * fail a merge mid-sync. Safety: after every batch and every step, no region reports a region
 * holding a pack that region lacks. Liveness: after healing every link, a bounded number of rounds
 * converges every actor and makes every pack known to every region as held by all.
 */
const numRuns = Number(process.env.FC_NUM_RUNS ?? 300);
const ids = ['eu', 'us', 'ap'] as const;
const actors = [Ledger.ref('acc0'), Ledger.ref('acc1')] as const;
/** Rounds of "every region syncs once" allowed after the heal before liveness fails. */
const healRoundsMax = 12;
/** Long enough that a link never wakes by itself within a step (setTimeout takes at most 2^31 - 1 ms). */
const neverMs = 1_000_000;

/** What a region's own store throws when a step makes its merge fail. */
class TargetDownError extends Error {
  constructor(region: string) {
    super(`${region}'s store is down`);
  }
}

interface Command {
  readonly region: number;
  readonly actor: number;
  readonly type: 'deposit' | 'withdraw';
  readonly n: number;
}
type Step =
  | ({ readonly kind: 'command' } & Command)
  | { readonly kind: 'cut' | 'heal'; readonly reader: number; readonly source: number }
  | {
      readonly kind: 'sync';
      readonly regions: readonly number[];
      readonly during: readonly Command[];
      /** Regions whose own store fails the first merge of the step (the target store down mid-sync). */
      readonly failMerge: readonly number[];
    };

const command: fc.Arbitrary<Command> = fc.record({
  region: fc.nat(2),
  actor: fc.nat(actors.length - 1),
  type: fc.constantFrom('deposit' as const, 'withdraw' as const),
  n: fc.integer({ min: 1, max: 6 }),
});
const link = fc.tuple(fc.nat(2), fc.nat(1)).map(([reader, k]) => ({ reader, source: (reader + 1 + k) % 3 }));
const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 3, arbitrary: command.map((c) => ({ kind: 'command' as const, ...c })) },
  { weight: 1, arbitrary: link.map((l) => ({ kind: 'cut' as const, ...l })) },
  { weight: 1, arbitrary: link.map((l) => ({ kind: 'heal' as const, ...l })) },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('sync' as const),
      // Several regions' services at once: one may read another's table while that one is mid-batch.
      regions: fc.subarray([0, 1, 2], { minLength: 1 }),
      during: fc.array(command, { maxLength: 2 }),
      failMerge: fc.oneof({ weight: 4, arbitrary: fc.constant([]) }, { weight: 1, arbitrary: fc.subarray([0, 1, 2], { minLength: 1, maxLength: 1 }) }),
    }),
  },
);
const schedule = fc.array(step, { minLength: 5, maxLength: 60 });

/** What the runs reached, summed: the property asserts it met the hard cases. */
const reached = { syncsWithCutLinks: 0, concurrentServices: 0, failedMerges: 0, commandsDuringSync: 0, merges: 0, claimsChecked: 0, understatedDuringRun: 0, stableDuringRun: 0, stableAtMarkDuringRun: 0, progressLearned: 0 };

interface Run {
  readonly regions: TestRegion[];
  readonly net: TestNetwork;
  readonly violations: string[];
  readonly unexpected: string[];
  copied: number;
  /** Set once every link is healed (the liveness part). */
  healing: boolean;
}

async function send(run: Run, c: Command): Promise<void> {
  // A withdrawal may be refused (insufficient funds): a reply either way, never an error.
  await run.regions[c.region]!.runtime.send(actors[c.actor]!, { type: c.type, payload: { n: c.n } });
}

/**
 * Runs the service of each of `regions` at once, until in each every uncut link has synced to the
 * end of its source and every cut one has failed once; `during` are sent meanwhile.
 */
async function syncStep(run: Run, regions: readonly TestRegion[], during: readonly Command[] = [], failMerge: readonly string[] = []): Promise<void> {
  if (regions.length > 1) reached.concurrentServices++;
  const checks: Promise<void>[] = [];
  const check = () =>
    holdingCheck(run.regions).then((found) => {
      run.violations.push(...found.violations);
      reached.claimsChecked += found.claims;
      if (!run.healing) {
        reached.understatedDuringRun += found.understated;
        reached.stableDuringRun += found.stable;
        reached.stableAtMarkDuringRun += found.stableAtMark;
      }
    });
  const services = regions.map((region) => service(run, region, failMerge.includes(region.id), () => checks.push(check())));
  await Promise.all(services.map((s) => s.replication.start()));
  reached.commandsDuringSync += during.length;
  await Promise.all(during.map((c) => send(run, c)));
  let timer: NodeJS.Timeout | undefined;
  const stuck = new Promise<void>((resolve) => (timer = setTimeout(resolve, 10_000)));
  await Promise.race([Promise.all(services.map((s) => s.finished)), stuck]);
  clearTimeout(timer);
  for (const s of services) if (s.waiting.size > 0) run.unexpected.push(`${s.region}: links from ${[...s.waiting].join(', ')} never settled within the step`);
  await Promise.all(services.map((s) => s.replication.stop()));
  await Promise.all(checks);
  await check();
}

/** A RegionReplication of `region` whose `finished` resolves once each link synced to the end of its source, or failed (cut). */
function service(run: Run, region: TestRegion, failMerge: boolean, onBatch: () => void) {
  const sources = ids.filter((id) => id !== region.id);
  let merges = 0;
  const store = new Proxy(region.store, {
    get(target, property) {
      if (property === 'merge' && failMerge) {
        return (...args: Parameters<MemoryStore['merge']>) => {
          if (merges++ > 0) return target.merge(...args);
          reached.failedMerges++;
          return Promise.reject(new TargetDownError(region.id));
        };
      }
      const value: unknown = Reflect.get(target, property);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  const waiting = new Set<string>(sources);
  if (sources.some((s) => run.net.isCut(region.id, s))) reached.syncsWithCutLinks++;
  let finish!: () => void;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  const done = (source: string) => {
    waiting.delete(source);
    if (waiting.size === 0) finish();
  };
  const replication = replicationOf(region, run.regions, run.net, {
    store,
    idleMs: neverMs,
    backoff: { initialMs: neverMs, maxMs: neverMs },
    random: () => 0,
    observer: {
      batch: ({ batch }) => {
        run.copied += batch.copied;
        onBatch();
      },
      synced: ({ source, report }) => {
        reached.merges += report.resolved.length;
        if (report.failed.length > 0) run.unexpected.push(`${region.id}<-${source}: resolutions failed: ${String(report.failed[0]!.error)}`);
        if (report.copied === 0 || report.failed.length > 0) done(source);
      },
      linkDown: ({ source, error }) => {
        if (!run.net.isCut(region.id, source) && !(error instanceof TargetDownError)) run.unexpected.push(`${region.id}<-${source} went down: ${String(error)}`);
        done(source);
      },
      linkBroken: ({ source, error }) => {
        run.unexpected.push(`${region.id}<-${source} broke: ${String(error)}`);
        done(source);
      },
    },
  });
  return { region: region.id, replication, finished, waiting };
}

async function execute(steps: readonly Step[]): Promise<Run> {
  const regions = makeRegions(ids);
  const run: Run = { regions, net: new TestNetwork(), violations: [], unexpected: [], copied: 0, healing: false };
  // Declared up front (as each region's first start would), so the check runs from the first step.
  for (const region of regions) await region.store.declareRegions(ids);
  for (const s of steps) {
    if (s.kind === 'command') await send(run, s);
    else if (s.kind === 'sync') await syncStep(run, s.regions.map((i) => regions[i]!), s.during, s.failMerge.map((i) => ids[i]!));
    else if (s.kind === 'cut') run.net.cut(ids[s.reader]!, ids[s.source]!);
    else run.net.heal(ids[s.reader]!, ids[s.source]!);
  }
  for (const region of regions) {
    // Entries of another region's progress on this one: a region learns them only through gossip.
    const table = await region.store.frontier();
    for (const reader of ids) if (reader !== region.id && table[reader]?.[region.id] !== undefined) reached.progressLearned++;
  }
  return run;
}

/** After every link is healed: rounds of every region syncing once, until two rounds copy nothing. */
async function heal(run: Run): Promise<number> {
  run.net.healAll();
  run.healing = true;
  let quiet = 0;
  let rounds = 0;
  while (quiet < 2 && rounds < healRoundsMax) {
    rounds++;
    const before = run.copied;
    for (const region of run.regions) await syncStep(run, [region]);
    quiet = run.copied === before ? quiet + 1 : 0;
  }
  return quiet === 2 ? rounds : Number.POSITIVE_INFINITY;
}

describe('region stability (property)', () => {
  it('never reports a region holding a pack it lacks (I8); after the heal every pack is known held by every region, and every actor converged', async () => {
    await fc.assert(
      fc.asyncProperty(schedule, async (steps) => {
        const run = await execute(steps);
        try {
          expect(run.violations).toEqual([]);
          const rounds = await heal(run);
          expect(run.unexpected).toEqual([]);
          expect(run.violations).toEqual([]);
          expect(rounds).toBeLessThanOrEqual(healRoundsMax);
          for (const actor of actors) {
            // One head, the same everywhere (or none anywhere: an actor every command of which was refused).
            const heads = await Promise.all(run.regions.map(async (r) => (await r.store.heads(actor)).map((p) => VC.encode(p.version))));
            expect(heads[0]!.length).toBeLessThanOrEqual(1);
            expect(heads[1]).toEqual(heads[0]);
            expect(heads[2]).toEqual(heads[0]);
          }
          for (const actor of actors) {
            const views = await Promise.all(run.regions.map((r) => r.runtime.inspect<LedgerState>(actor)));
            expect(views[1]).toEqual(views[0]);
            expect(views[2]).toEqual(views[0]);
          }
          const final = await holdingCheck(run.regions);
          expect(final.violations).toEqual([]);
          // Liveness: every region knows every pack it holds is held by all three.
          expect(final.understated).toBe(0);
          const packs = (await Promise.all(run.regions.map((r) => r.store.changesSince(undefined, 1_000_000)))).reduce((n, c) => n + c.packs.length, 0);
          expect(final.stable).toBe(packs);
        } finally {
          await Promise.all(run.regions.map((r) => r.runtime.stop()));
        }
      }),
      { numRuns, ...(process.env.FC_SEED ? { seed: Number(process.env.FC_SEED) } : {}) },
    );
    console.log('region stability property reached:', reached);
    expect(reached.syncsWithCutLinks).toBeGreaterThan(0);
    expect(reached.concurrentServices).toBeGreaterThan(0);
    expect(reached.failedMerges).toBeGreaterThan(0);
    expect(reached.commandsDuringSync).toBeGreaterThan(0);
    expect(reached.merges).toBeGreaterThan(0);
    expect(reached.claimsChecked).toBeGreaterThan(0);
    // During the schedule the table lags (packs held by a region not yet known to be) and some packs became stable.
    expect(reached.understatedDuringRun).toBeGreaterThan(0);
    expect(reached.stableAtMarkDuringRun).toBeGreaterThan(0);
    expect(reached.progressLearned).toBeGreaterThan(0);
  }, 600_000);
});
