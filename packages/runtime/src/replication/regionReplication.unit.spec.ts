import { describe, expect, it, vi } from 'vitest';
import { NotReplicatedError } from '../errors/index.js';
import type { ActorRef } from '../model/index.js';
import {
  type LinkEvent,
  LinkCutError,
  type TestRegion,
  TestNetwork,
  convergedOn,
  holdingCheck,
  makeRegions,
  recordingObserver,
  replicationOf,
  stateAfter,
  regionsStoppedAfterEach,
} from '../specHelpers/regions.js';
import { Ledger, type LedgerState } from '../testkit/ledger.js';
import { VC, type VectorClock } from '../vectorClock/index.js';
import type { RegionReplicationOptions } from './regionReplication.js';
import { replicationState } from './stability.js';

const ids = ['eu', 'us', 'ap'] as const;
const alice = Ledger.ref('alice');
const bob = Ledger.ref('bob');
const waitLong = { timeout: 10_000, interval: 5 };

const running = regionsStoppedAfterEach();

type Tuning = Partial<Omit<RegionReplicationOptions, 'region' | 'store' | 'sources' | 'resolve'>>;

/** eu, us and ap, each replicating from the other two through `net`, with short waits and no jitter. */
async function deployment(net: TestNetwork, events: LinkEvent[], tuning: Tuning = {}): Promise<[TestRegion, TestRegion, TestRegion]> {
  const regions = makeRegions(ids);
  running.push(...regions);
  for (const region of regions) {
    region.replication = replicationOf(region, regions, net, {
      idleMs: 5,
      backoff: { initialMs: 10, maxMs: 80 },
      random: () => 0,
      observer: recordingObserver(region.id, events),
      ...tuning,
    });
  }
  await Promise.all(regions.map((r) => r.replication!.start()));
  return regions as [TestRegion, TestRegion, TestRegion];
}

async function accepted(region: TestRegion, actor: ActorRef, type: 'deposit' | 'withdraw', n: number): Promise<VectorClock> {
  const reply = await region.runtime.send(actor, { type, payload: { n } });
  if (reply.status !== 'accepted') throw new Error(`${type} ${n} at ${region.id} was rejected: ${reply.reason}`);
  return reply.version;
}

async function holds(region: TestRegion, actor: ActorRef, version: VectorClock): Promise<boolean> {
  return (await region.store.getPacks(actor, [VC.encode(version)]))[0] !== undefined;
}

function linkOf(region: TestRegion, source: string) {
  return region.replication!.status().find((s) => s.source === source)!;
}

describe('RegionReplication: three regions', () => {
  it('converges: commands on every region end with one head, the same version and the same state everywhere', async () => {
    const events: LinkEvent[] = [];
    const regions = await deployment(new TestNetwork(), events);
    const [eu, us, ap] = regions;
    await Promise.all([
      accepted(eu, alice, 'deposit', 100),
      accepted(us, alice, 'deposit', 50),
      accepted(ap, alice, 'deposit', 7),
      accepted(us, bob, 'deposit', 3),
      accepted(ap, bob, 'deposit', 4),
    ]);
    await vi.waitFor(async () => {
      expect(await convergedOn(regions, alice)).toBe(true);
      expect(await convergedOn(regions, bob)).toBe(true);
    }, waitLong);
    const views = await Promise.all(regions.map((r) => r.runtime.inspect<LedgerState>(alice)));
    expect(views.map((v) => v.state.balance)).toEqual([157, 157, 157]);
    expect(views[1]).toEqual(views[0]);
    expect(views[2]).toEqual(views[0]);
    expect((await Promise.all(regions.map((r) => r.runtime.inspect<LedgerState>(bob)))).map((v) => v.state.balance)).toEqual([7, 7, 7]);
    await vi.waitFor(() => {
      for (const region of regions) {
        for (const link of region.replication!.status()) expect(link).toMatchObject({ state: 'up', lagPacks: 0, lagMs: 0, failures: 0 });
      }
    }, waitLong);
    // Every link came up once and never went down.
    expect(events.filter((e) => e.kind === 'linkUp')).toHaveLength(6);
    expect(events.filter((e) => e.kind === 'linkDown' || e.kind === 'linkBroken')).toEqual([]);
    expect((await holdingCheck(regions)).violations).toEqual([]);
  });

  it("awaitReplicated('all') resolves only once every region copied the version; before, the version is held by this region alone", async () => {
    const net = new TestNetwork();
    const [eu, us, ap] = await deployment(net, []);
    net.isolate('eu', ids);
    const version = await accepted(eu, alice, 'deposit', 10);
    expect(await replicationState(eu.store, 'eu', alice, version)).toEqual({ regions: ['eu', 'us', 'ap'], holding: ['eu'], missing: ['us', 'ap'] });

    const all = eu.runtime.awaitReplicated(alice, version, { pollMs: 5 });
    // Where the other regions stood the moment it resolved (MemoryStore reads answer synchronously).
    const heldWhenResolved = all.then(() => Promise.all([us, ap].map((r) => holds(r, alice, version))));
    expect(await stateAfter(all, 100)).toBe('pending');
    expect(await holds(us, alice, version)).toBe(false);
    expect(await replicationState(eu.store, 'eu', alice, version)).toMatchObject({ holding: ['eu'] });

    net.healAll();
    const state = await all;
    expect(state).toEqual({ regions: ['eu', 'us', 'ap'], holding: ['eu', 'us', 'ap'], missing: [] });
    expect(await heldWhenResolved).toEqual([true, true]);
  });

  it("regions: 2 resolves while a third region is cut off; 'all' times out naming it, then resolves after the heal", async () => {
    const net = new TestNetwork();
    const [eu, us, ap] = await deployment(net, []);
    const first = await accepted(eu, alice, 'deposit', 10);
    await eu.runtime.awaitReplicated(alice, first, { pollMs: 5, timeoutMs: 5_000 });
    // ap has read eu's log up to the first version: its entry is there, but behind the next one.
    net.isolate('ap', ids);
    const version = await accepted(eu, alice, 'deposit', 10);
    expect((await eu.store.frontier()).ap?.eu).toBeDefined();

    const two = await eu.runtime.awaitReplicated(alice, version, { regions: 2, pollMs: 5, timeoutMs: 5_000 });
    expect(two).toEqual({ regions: ['eu', 'us', 'ap'], holding: ['eu', 'us'], missing: ['ap'] });
    expect(await holds(us, alice, version)).toBe(true);

    const all = eu.runtime.awaitReplicated(alice, version, { pollMs: 5, timeoutMs: 150 });
    await expect(all).rejects.toBeInstanceOf(NotReplicatedError);
    await expect(all).rejects.toMatchObject({ code: 'NOT_REPLICATED', wanted: 3, holding: ['eu', 'us'], missing: ['ap'] });
    await expect(all).rejects.toThrow(/reached 2 of the 3 regions.*not known to be held by ap/);
    expect(await holds(ap, alice, version)).toBe(false);

    net.healAll();
    expect(await eu.runtime.awaitReplicated(alice, version, { pollMs: 5, timeoutMs: 5_000 })).toMatchObject({ holding: ['eu', 'us', 'ap'] });
    expect(await holds(ap, alice, version)).toBe(true);
  });

  it('a region cut off: its links go down with a doubling backoff up to maxMs, come back up after the heal, and the data converges', async () => {
    const events: LinkEvent[] = [];
    const net = new TestNetwork();
    const regions = await deployment(net, events, { backoff: { initialMs: 10, maxMs: 40 } });
    const [eu, us, ap] = regions;
    await vi.waitFor(() => expect(events.filter((e) => e.kind === 'linkUp')).toHaveLength(6), waitLong);

    net.isolate('ap', ids);
    await accepted(ap, alice, 'deposit', 5);
    await accepted(eu, alice, 'deposit', 20);
    const downs = () => events.filter((e): e is Extract<LinkEvent, { kind: 'linkDown' }> => e.kind === 'linkDown' && e.region === 'eu' && e.source === 'ap');
    await vi.waitFor(() => expect(downs().length).toBeGreaterThanOrEqual(5), waitLong);
    expect(downs().slice(0, 5).map((e) => [e.failures, e.retryInMs])).toEqual([
      [1, 10],
      [2, 20],
      [3, 40],
      [4, 40],
      [5, 40],
    ]);
    expect(downs()[0]!.error).toBeInstanceOf(LinkCutError);
    expect(linkOf(eu, 'ap')).toMatchObject({ state: 'down', error: "network cut: eu cannot reach ap's store" });
    expect(linkOf(eu, 'ap').failures).toBeGreaterThanOrEqual(5);
    // The other links of the cut-off region fail too; eu's link from us carries on.
    expect(linkOf(ap, 'eu').state).toBe('down');
    expect(linkOf(us, 'ap').state).toBe('down');
    expect(linkOf(eu, 'us').state).toBe('up');
    expect(events.filter((e) => e.kind === 'linkDown' && e.region !== 'ap' && e.source !== 'ap')).toEqual([]);
    expect(await convergedOn(regions, alice)).toBe(false);

    const upsBefore = events.filter((e) => e.kind === 'linkUp' && e.region === 'eu' && e.source === 'ap').length;
    net.healAll();
    await vi.waitFor(async () => expect(await convergedOn(regions, alice)).toBe(true), waitLong);
    await vi.waitFor(() => {
      for (const region of regions) for (const link of region.replication!.status()) expect(link).toMatchObject({ state: 'up', failures: 0, lagPacks: 0 });
    }, waitLong);
    expect(events.filter((e) => e.kind === 'linkUp' && e.region === 'eu' && e.source === 'ap')).toHaveLength(upsBefore + 1);
    expect(linkOf(eu, 'ap').error).toBeUndefined();
    expect('error' in linkOf(eu, 'ap')).toBe(false);
    // Every region saw one linkUp per link at start and one more per link of ap after the heal.
    expect(events.filter((e) => e.kind === 'linkUp')).toHaveLength(6 + 4);
    expect((await Promise.all(regions.map((r) => r.runtime.inspect<LedgerState>(alice)))).map((v) => v.state.balance)).toEqual([25, 25, 25]);
  });

  it('jitter takes a random share of each wait off: random 0.5 with jitter 0.5 waits three quarters of it', async () => {
    const events: LinkEvent[] = [];
    const net = new TestNetwork();
    net.isolate('ap', ids);
    await deployment(net, events, { backoff: { initialMs: 8, maxMs: 1_000, jitter: 0.5 }, random: () => 0.5 });
    await vi.waitFor(() => expect(events.filter((e) => e.kind === 'linkDown' && e.region === 'eu').length).toBeGreaterThanOrEqual(3), waitLong);
    const waits = events.filter((e): e is Extract<LinkEvent, { kind: 'linkDown' }> => e.kind === 'linkDown' && e.region === 'eu').map((e) => e.retryInMs);
    expect(waits.slice(0, 3)).toEqual([6, 12, 24]);
  });

  it('status() reports starting before the first sync, then the cursor, copies and resolutions of each link', async () => {
    const regions = makeRegions(ids);
    running.push(...regions);
    const [eu, us] = regions;
    await accepted(eu!, alice, 'deposit', 1);
    await accepted(us!, alice, 'deposit', 2);
    await accepted(us!, bob, 'deposit', 2);
    eu!.replication = replicationOf(eu!, regions, new TestNetwork(), { idleMs: 5 });
    expect(eu!.replication.status()).toEqual([
      { source: 'us', state: 'starting', cursor: undefined, lagPacks: 0, lagMs: 0, copied: 0, resolved: 0, failures: 0 },
      { source: 'ap', state: 'starting', cursor: undefined, lagPacks: 0, lagMs: 0, copied: 0, resolved: 0, failures: 0 },
    ]);
    await eu!.replication.start();
    await vi.waitFor(() => expect(linkOf(eu!, 'us')).toEqual({ source: 'us', state: 'up', cursor: '2', lagPacks: 0, lagMs: 0, copied: 2, resolved: 1, failures: 0 }), waitLong);
    // An empty source: the link has read everything there is, and publishes the start of its log.
    expect(linkOf(eu!, 'ap')).toEqual({ source: 'ap', state: 'up', cursor: '0', lagPacks: 0, lagMs: 0, copied: 0, resolved: 0, failures: 0 });
    expect((await eu!.store.frontier()).eu?.ap?.cursor).toBe('0');
    expect(await eu!.store.checkpoint('from-us').load()).toBe('2');
  });
});

describe('RegionReplication: gossip of frontier tables', () => {
  it("a region that cannot reach eu copies eu's packs through us and learns us's progress on eu; eu never counts it as holding what it did not read from eu", async () => {
    const net = new TestNetwork();
    net.cut('ap', 'eu');
    const regions = await deployment(net, []);
    const [eu, us, ap] = regions;
    const version = await accepted(eu, alice, 'deposit', 10);
    const mark = await eu.store.logMark(alice);

    await vi.waitFor(async () => expect(await holds(ap, alice, version)).toBe(true), waitLong);
    // ap's table knows how far us has read eu's log, though ap never read eu itself.
    await vi.waitFor(async () => {
      const usOnEu = (await ap.store.frontier()).us?.eu;
      expect(usOnEu).toBeDefined();
      expect(eu.store.markReached(usOnEu!.cursor, mark)).toBe(true);
      // What ap knows of us is never ahead of us's own checkpoint.
      expect(Number(usOnEu!.cursor)).toBeLessThanOrEqual(Number(await us.store.checkpoint('from-eu').load()));
    }, waitLong);
    expect((await ap.store.frontier()).ap?.eu).toBeUndefined();
    // eu knows us holds it, and has ap's row (through both links) but no entry of ap reading eu.
    await vi.waitFor(async () => expect((await replicationState(eu.store, 'eu', alice, version)).holding).toEqual(['eu', 'us']), waitLong);
    const euTable = await eu.store.frontier();
    expect(euTable.ap?.us).toBeDefined();
    expect(euTable.ap?.eu).toBeUndefined();
    expect((await holdingCheck(regions)).violations).toEqual([]);
    await expect(eu.runtime.awaitReplicated(alice, version, { pollMs: 5, timeoutMs: 100 })).rejects.toMatchObject({ missing: ['ap'] });

    net.heal('ap', 'eu');
    expect(await eu.runtime.awaitReplicated(alice, version, { pollMs: 5, timeoutMs: 5_000 })).toMatchObject({ holding: ['eu', 'us', 'ap'] });
    expect((await holdingCheck(regions)).violations).toEqual([]);
  });

  it("a region's own row is never taken back from a source's copy of it (a copy from before eu's store was restored from a backup)", async () => {
    const net = new TestNetwork();
    // ap reads nobody, so its log stays empty and its table keeps the stale copy of eu's row; eu
    // reads ap's table on every sync. us does not read ap, so the copy reaches us only if eu takes it.
    net.cut('ap', 'eu');
    net.cut('ap', 'us');
    net.cut('us', 'ap');
    const regions = makeRegions(ids);
    running.push(...regions);
    const [eu, us, ap] = regions as [TestRegion, TestRegion, TestRegion];
    // ap's copy of eu's row says eu read far into us's log: eu's progress before a restore it no longer has.
    await ap.store.mergeFrontier({ eu: { us: { cursor: '999', at: Date.now() + 60_000 } } });
    for (const region of regions) region.replication = replicationOf(region, regions, net, { idleMs: 5, backoff: { initialMs: 10, maxMs: 20 } });
    await Promise.all(regions.map((r) => r.replication!.start()));
    await accepted(us, alice, 'deposit', 1);
    await vi.waitFor(async () => expect((await eu.store.frontier()).eu?.us?.cursor).toBe('1'), waitLong);
    await vi.waitFor(() => expect(linkOf(eu, 'ap')).toMatchObject({ state: 'up', cursor: '0' }), waitLong);
    // Several more gossips from ap: eu's own entry stays its own cursor.
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect((await eu.store.frontier()).eu?.us?.cursor).toBe('1');
    // Had eu taken '999', us would learn it and count eu as holding us's next pack.
    net.cut('eu', 'us');
    await accepted(us, alice, 'deposit', 1);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect((await holdingCheck(regions)).violations).toEqual([]);
  });

  it('every batch publishes its cursor in the frontier table before the next batch is read', async () => {
    const regions = makeRegions(ids);
    running.push(...regions);
    const [eu, us] = regions as [TestRegion, TestRegion];
    for (let i = 0; i < 5; i++) await accepted(us, alice, 'deposit', 1);
    const published: [string, string | undefined][] = [];
    eu.replication = replicationOf(eu, regions, new TestNetwork(), {
      idleMs: 5,
      batchSize: 2,
      observer: {
        // A MemoryStore's frontier() reads the table when called: this is the table as the batch left it.
        batch: ({ source, batch }) => void eu.store.frontier().then((table) => published.push([batch.cursor, table.eu?.[source]?.cursor])),
      },
    });
    await eu.replication.start();
    await vi.waitFor(() => expect(linkOf(eu, 'us')).toMatchObject({ state: 'up', cursor: '5' }), waitLong);
    expect(published).toEqual([
      ['2', '2'],
      ['4', '4'],
      ['5', '5'],
    ]);
  });

  it('the checker finds a region reported holding a pack it lacks (an overstated table entry)', async () => {
    const regions = makeRegions(ids);
    running.push(...regions);
    const [eu] = regions;
    await eu!.store.declareRegions(ids);
    await accepted(eu!, alice, 'deposit', 1);
    expect((await holdingCheck(regions)).violations).toEqual([]);
    // ap "read" eu's log up to the pack (cursor 1) without holding it: what a broken gossip would publish.
    await eu!.store.mergeFrontier({ ap: { eu: { cursor: '1', at: 1 } } });
    expect((await holdingCheck(regions)).violations).toEqual(['eu reports ap holding ledger:alice@eu:1, which ap lacks']);
  });
});
