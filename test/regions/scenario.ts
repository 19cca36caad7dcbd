/**
 * The three-region story, end to end with real processes: what `test/regions.e2e.spec.ts`
 * asserts and what `npm run demo:regions` prints. Three regions (default eu, us, ap), each its own
 * redis-server, queue prefix, two `troupe worker`s and a `troupe replicate` reading the others
 * through link proxies. The bank workload runs on every region while
 *   1. eu | us+ap are cut both ways (double spends on both sides), the us replicator and an eu
 *      worker SIGKILLed mid-run and restarted;
 *   2. the cut becomes one way (eu reads us and ap, they cannot read eu; more double spends);
 * then every link heals and the regions must converge. `RegionsScenarioResult.checks` holds every
 * verdict; nothing in it is taken from the replicators' own reports alone.
 */
import type { EventStore, VectorClock } from '@troupe/runtime';
import { awaitReplicated } from '@troupe/runtime';
import { VC } from '@troupe/runtime/store';
import { Account } from '@troupe/bank';
import type { RedisStore } from '@troupe/redis';
import { BankClient, type SentCommand } from './bankClient.js';
import { type InspectRegion, type StatusRegion, troupeInspect, waitForStatusCaughtUp } from './cliViews.js';
import { type AccountView, waitForConvergence } from './convergence.js';
import { Deployment, quickReplicateFlags } from './deployment.js';
import { type AccountOutcome, type Check, checkRegions } from './oracle.js';
import { randomWorkload } from './workload.js';

export interface RegionsScenarioOptions {
  /** Three region ids; the first is the one cut off. Default ['eu', 'us', 'ap']. */
  readonly regions?: readonly [string, string, string];
  /** Seed of the random workload. Default: drawn, and reported. */
  readonly seed?: number;
  /** Random commands per region and phase. Default 40. */
  readonly commandsPerRegion?: number;
  readonly amqpUrl?: string;
  /** Progress lines, as the story goes (the demo prints them). */
  readonly progress?: (line: string) => void;
}

export interface PhaseReport {
  readonly name: string;
  /** Links cut during the phase, `reader<-source`. */
  readonly cut: readonly string[];
  readonly ms: number;
}

export interface RegionReport {
  readonly region: string;
  readonly sent: number;
  readonly accepted: number;
  readonly rejected: number;
  /** Sends that needed a retry (same command id) after an unknown outcome. */
  readonly retried: number;
  /** Merge records this region's store holds (merges its replicator or workers wrote). */
  readonly merges: number;
  /** Compensation events in those merges. */
  readonly compensations: number;
  /** "link down" lines of its replicators. */
  readonly linkDowns: number;
}

export interface RegionsScenarioResult {
  readonly seed: number;
  readonly regions: readonly string[];
  readonly phases: readonly PhaseReport[];
  /** What was killed and restarted. */
  readonly faults: readonly string[];
  readonly perRegion: readonly RegionReport[];
  /** From the heal to every region agreeing on every account. */
  readonly convergedMs?: number;
  /** awaitReplicated('all') of a command sent after the heal. */
  readonly replicated?: { readonly ms: number; readonly holding: readonly string[] };
  readonly status?: readonly StatusRegion[];
  /** `troupe inspect --merges` of the first double-spent account. */
  readonly inspect?: { readonly account: string; readonly regions: readonly InspectRegion[] };
  readonly accounts: readonly AccountOutcome[];
  readonly doubleSpent: readonly string[];
  readonly checks: readonly Check[];
  readonly ok: boolean;
  readonly totalMs: number;
  /** Set when the story stopped before its end (the checks so far say where). */
  readonly error?: string;
  readonly teardownProblems: readonly string[];
}

const opening = 100;

/** Runs the story; always tears everything down; never throws (a failure is a failed check and `error`). */
export async function runRegionsScenario(options: RegionsScenarioOptions = {}): Promise<RegionsScenarioResult> {
  const started = performance.now();
  const [cutOff, west, east] = options.regions ?? (['eu', 'us', 'ap'] as const);
  const ids = [cutOff, west, east];
  const seed = options.seed ?? Math.floor(Math.random() * 2 ** 31);
  const commands = options.commandsPerRegion ?? 40;
  const say = options.progress ?? (() => undefined);
  const checks: Check[] = [];
  const check = (ok: boolean, what: string) => {
    checks.push({ ok, what });
    return ok;
  };
  const phases: PhaseReport[] = [];
  const faults: string[] = [];
  const doubleSpent = ['ds0', 'ds1', 'ds2', 'ds3', 'ds4', 'ds5'];
  const random = ['rw0', 'rw1', 'rw2', 'rw3', 'rw4', 'rw5'];
  const accounts = [...doubleSpent, ...random];
  const result: Partial<Mutable<RegionsScenarioResult>> = {};
  let deployment: Deployment | undefined;
  const clients = new Map<string, BankClient>();
  const stores = new Map<string, RedisStore>();
  let error: string | undefined;
  let teardownProblems: string[] = [];
  const clock = () => `${((performance.now() - started) / 1000).toFixed(1)} s`;

  try {
    say(`starting regions ${ids.join(', ')}: a redis-server, 2 workers and a replicator each; every link through its own proxy`);
    // Small batches: a sync is several batches, so the replicator killed mid-run is likely mid-sync.
    const replicateFlags = [...quickReplicateFlags, '--batch-size', '8'];
    deployment = await Deployment.start({ regions: ids, workersPerRegion: 2, replicateFlags, ...(options.amqpUrl ? { amqpUrl: options.amqpUrl } : {}) });
    const d = deployment;
    for (const id of ids) {
      clients.set(id, await BankClient.connect(id, d.runId, { amqpUrl: d.amqpUrl, queuePrefix: d.queuePrefix(id), shards: d.shards }));
      stores.set(id, await d.region(id).connect());
    }
    const client = (id: string) => clients.get(id)!;
    say(`[${clock()}] started; seed ${seed}`);

    // 0. Every account opened and funded in the cut-off region, and copied everywhere.
    let phaseStart = performance.now();
    await Promise.all(accounts.map((account) => client(cutOff).send(account, { type: 'open', payload: { owner: account } }, 'setup')));
    await Promise.all(accounts.map((account) => client(cutOff).send(account, { type: 'deposit', payload: { amount: opening } }, 'setup')));
    const setup = await waitForConvergence(stores, accounts, { timeoutMs: 60_000 });
    check(true, `setup: ${accounts.length} accounts opened with ${opening} in ${cutOff} reached every region in ${setup.ms} ms`);
    phases.push({ name: 'setup', cut: [], ms: Math.round(performance.now() - phaseStart) });

    // 1. eu | us+ap, both ways.
    phaseStart = performance.now();
    d.partition([cutOff], [west, east]);
    const cutLinks = d.cutLinks;
    const bytesAtCut = new Map(cutLinks.map((name) => [name, forwarded(d, name)]));
    say(`[${clock()}] partition ${cutOff} | ${west}+${east} (cut both ways: ${cutLinks.join(', ')})`);
    const spends1 = await Promise.all([
      client(cutOff).send('ds0', withdraw(80), 'partition'),
      client(west).send('ds0', withdraw(70), 'partition'),
      client(cutOff).send('ds1', withdraw(80), 'partition'),
      client(west).send('ds1', withdraw(70), 'partition'),
      client(cutOff).send('ds2', withdraw(80), 'partition'),
      client(east).send('ds2', withdraw(70), 'partition'),
      client(cutOff).send('ds3', withdraw(80), 'partition'),
      client(east).send('ds3', withdraw(70), 'partition'),
    ]);
    check(accepted(spends1), `partition: the same accounts withdrawn on both sides, all 8 accepted (${describeReplies(spends1)})`);
    await Promise.all([
      randomWorkload(client(cutOff), {
        accounts: random,
        commands,
        concurrency: 4,
        phase: 'partition',
        seed: seed + 1,
        // An eu worker dies mid-run: the other takes its shards; a new one joins later.
        halfway: async () => {
          const victim = d.region(cutOff).liveWorkers[0]!;
          const exit = await victim.kill('SIGKILL');
          faults.push(`[${clock()}] SIGKILL ${victim.name} (pid ${victim.pid}) mid-run: ${exit.signal}; the other worker took its shards`);
          say(faults.at(-1)!);
          const replacement = await d.region(cutOff).startWorker();
          faults.push(`[${clock()}] started ${replacement.name} in its place`);
          say(faults.at(-1)!);
        },
      }),
      randomWorkload(client(west), {
        accounts: random,
        commands,
        concurrency: 4,
        phase: 'partition',
        seed: seed + 2,
        // The us replicator dies while it copies ap's writes, and restarts from its checkpoint.
        halfway: async () => {
          const victim = d.region(west).replicate!;
          const exit = await victim.kill('SIGKILL');
          faults.push(`[${clock()}] SIGKILL ${victim.name} (pid ${victim.pid}) while it copied ${east}'s writes: ${exit.signal}`);
          say(faults.at(-1)!);
          // eu is cut off: without --allow-unreachable-sources it would refuse to start.
          const restarted = await d.startReplicate(west, ['--allow-unreachable-sources']);
          faults.push(`[${clock()}] restarted it as ${restarted.name} (--allow-unreachable-sources: ${cutOff} is cut off): resumes from its checkpoint in ${west}'s Redis`);
          say(faults.at(-1)!);
        },
      }),
      randomWorkload(client(east), { accounts: random, commands, concurrency: 4, phase: 'partition', seed: seed + 3 }),
    ]);
    // The connected side converges among itself while the cut-off region sees none of it.
    const sideStores = new Map([west, east].map((id) => [id, stores.get(id)! as EventStore]));
    const side = await waitForConvergence(sideStores, accounts, { timeoutMs: 45_000 });
    check(true, `partition: ${west} and ${east} converged with each other in ${side.ms} ms`);
    // A client of the connected side can ask for its reply once its pack reached n regions:
    // 2 are confirmed (us and ap), 'all' is not while eu is cut off (accepted, tentative).
    const two = await client(west).send('rw1', { type: 'deposit', payload: { amount: 1 } }, 'partition', { replicas: 2, replicasTimeoutMs: 6_000 });
    const all = await client(west).send('rw1', { type: 'deposit', payload: { amount: 1 } }, 'partition', { replicas: 'all', replicasTimeoutMs: 1_500 });
    const [confirmed, tentative] = [replication(two), replication(all)];
    check(
      confirmed?.confirmed === true && sameSet(confirmed.holding, [west, east]) && tentative?.confirmed === false && sameSet(tentative.missing, [cutOff]),
      `partition: a send with replicas 2 is confirmed (held by ${confirmed?.holding.join(', ')}); with replicas 'all' accepted but not confirmed (${tentative?.code}: missing ${tentative?.missing.join(', ')})`,
    );
    const [euSeesWest, westSeesEu] = await Promise.all([
      holds(stores.get(cutOff)!, 'ds0', spends1[1]!.commandId),
      holds(stores.get(west)!, 'ds0', spends1[0]!.commandId),
    ]);
    check(!euSeesWest && !westSeesEu, `partition: neither side holds the other's withdrawal from ds0 (${cutOff} holds ${west}'s: ${euSeesWest}; ${west} holds ${cutOff}'s: ${westSeesEu})`);
    const leaked = cutLinks.filter((name) => forwarded(d, name) !== bytesAtCut.get(name));
    check(leaked.length === 0, `partition: no byte crossed a cut link${leaked.length ? ` (LEAKED through ${leaked.join(', ')})` : ''}`);
    phases.push({ name: `${cutOff} | ${west}+${east}, both ways`, cut: cutLinks, ms: Math.round(performance.now() - phaseStart) });

    // 2. One way: eu reads us and ap again, they still cannot read eu.
    phaseStart = performance.now();
    d.link(cutOff, west).restore();
    d.link(cutOff, east).restore();
    const oneWay = d.cutLinks;
    say(`[${clock()}] one-way cut: ${cutOff} reads ${west} and ${east} again; ${oneWay.join(', ')} stay cut`);
    // eu spends first: its pack cannot leave eu, so us and ap still see the whole balance.
    const euSpends = await Promise.all([client(cutOff).send('ds4', withdraw(80), 'one-way'), client(cutOff).send('ds5', withdraw(80), 'one-way')]);
    const otherSpends = await Promise.all([client(west).send('ds4', withdraw(70), 'one-way'), client(east).send('ds5', withdraw(70), 'one-way')]);
    const spends2 = [...euSpends, ...otherSpends];
    check(accepted(spends2), `one-way cut: ds4 and ds5 withdrawn in ${cutOff} and on the other side, all 4 accepted (${describeReplies(spends2)})`);
    await Promise.all(
      ids.map((id, i) => randomWorkload(client(id), { accounts: random, commands, concurrency: 4, phase: 'one-way', seed: seed + 10 + i })),
    );
    const euGot = await eventually(() => holds(stores.get(cutOff)!, 'ds4', otherSpends[0]!.commandId), 20_000);
    const westGot = await holds(stores.get(west)!, 'ds4', euSpends[0]!.commandId);
    check(euGot && !westGot, `one-way cut: ${cutOff} holds ${west}'s withdrawal from ds4 (${euGot}), ${west} does not hold ${cutOff}'s (${westGot})`);
    phases.push({ name: `${cutOff} <- ${west}+${east} only (one way)`, cut: oneWay, ms: Math.round(performance.now() - phaseStart) });

    // 3. Heal; every region must converge.
    d.heal();
    const healedAt = performance.now();
    say(`[${clock()}] heal: every link restored; waiting for every region to agree on every account`);
    await waitForConvergence(stores, accounts, { timeoutMs: 60_000 });
    result.convergedMs = Math.round(performance.now() - healedAt);
    check(true, `after the heal every region has one head per account, with the same version and state, in ${result.convergedMs} ms`);
    say(`[${clock()}] converged ${result.convergedMs} ms after the heal`);

    // 4. A command after the heal reaches every region, as awaitReplicated tells.
    const after = await client(cutOff).send('rw0', { type: 'deposit', payload: { amount: 1 } }, 'after heal');
    if (after.reply?.status === 'accepted') {
      const t0 = performance.now();
      const state = await awaitReplicated(stores.get(cutOff)!, cutOff, Account.ref('rw0'), after.reply.version as VectorClock, { regions: 'all', timeoutMs: 30_000 });
      result.replicated = { ms: Math.round(performance.now() - t0), holding: state.holding };
      check(sameSet(state.holding, ids), `awaitReplicated('all') resolved for rw0@{${VC.encode(after.reply.version)}} after ${result.replicated.ms} ms: held by ${state.holding.join(', ')}`);
    } else {
      check(false, `the deposit after the heal was not accepted: ${JSON.stringify(after.reply ?? after.errors)}`);
    }
    const healed = await client(east).send('rw2', { type: 'deposit', payload: { amount: 1 } }, 'after heal', { replicas: 'all', replicasTimeoutMs: 6_000 });
    check(replication(healed)?.confirmed === true, `after the heal a send with replicas 'all' is confirmed (held by ${replication(healed)?.holding.join(', ')})`);
    const final = await waitForConvergence(stores, accounts, { timeoutMs: 30_000 });

    // 5. What the operator's tools show.
    const status = await waitForStatusCaughtUp(d.regionsFile, ids, 30_000);
    result.status = status.regions;
    check(
      status.regions.every((r) => sameSet(r.regions ?? [], ids)),
      `troupe status: every region reachable, declaring ${ids.join(', ')}, every link at lag 0 (after ${status.polls} polls)`,
    );
    const inspected = await troupeInspect(d.regionsFile, 'ds0');
    result.inspect = { account: 'ds0', regions: inspected.regions };
    const versions = new Set(inspected.regions.map((r) => r.version));
    const records = inspected.regions.flatMap((r) => r.merges ?? []);
    check(versions.size === 1 && !versions.has(null), `troupe inspect ds0: one version in every region (${[...versions].join(' / ')})`);
    check(
      records.some((m) => m.compensations.includes('overdraftCharged')),
      `troupe inspect --merges ds0: ${records.length} merge records (${inspected.regions.map((r) => `${r.region} ${r.merges?.length ?? 0}`).join(', ')}), one with the overdraft compensation`,
    );

    // 6. The oracle: every reply against every region's converged history.
    const sent = [...clients.values()].flatMap((c) => c.sent);
    const oracle = await checkRegions({ stores, views: final.views as AccountView[], sent, accounts, doubleSpent });
    checks.push(...oracle.checks);
    result.accounts = oracle.outcomes;

    // What the restarted replicator did afterwards (skipped: packs already here, e.g. us's own coming back through ap's log, or the batch in flight at the kill).
    const again = d.region(west).replicates[1]?.logs('synced').filter((l) => l.source === east) ?? [];
    const total = (field: string) => again.reduce((n, l) => n + (l[field] as number), 0);
    faults.push(`${d.region(west).replicates[1]?.name ?? 'the restarted replicator'} then copied ${total('copied')} packs from ${east} and skipped ${total('skipped')} already held`);

    // 7. Processes: the ones not killed on purpose are still up (nothing crashed).
    const crashed = d.processes.filter((p) => !p.running && !faults.some((f) => f.includes(p.name)));
    check(crashed.length === 0, `no troupe process crashed${crashed.length ? `: ${crashed.map((p) => `${p.name}${p.tail(3)}`).join('; ')}` : ''}`);
  } catch (caught) {
    error = (caught as Error)?.stack ?? String(caught);
    check(false, `the story stopped: ${(caught as Error)?.message ?? String(caught)}`);
  } finally {
    const reports = deployment ? perRegion(deployment, clients, result.accounts ?? []) : [];
    result.perRegion = reports;
    await Promise.all([...clients.values()].map((c) => c.close().catch(() => undefined)));
    say(`[${clock()}] tearing down`);
    teardownProblems = deployment ? await deployment.close() : [];
  }
  return {
    seed,
    regions: ids,
    phases,
    faults,
    perRegion: result.perRegion ?? [],
    ...(result.convergedMs === undefined ? {} : { convergedMs: result.convergedMs }),
    ...(result.replicated ? { replicated: result.replicated } : {}),
    ...(result.status ? { status: result.status } : {}),
    ...(result.inspect ? { inspect: result.inspect } : {}),
    accounts: result.accounts ?? [],
    doubleSpent,
    checks,
    ok: checks.length > 0 && checks.every((c) => c.ok),
    totalMs: Math.round(performance.now() - started),
    ...(error ? { error } : {}),
    teardownProblems,
  };
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

const withdraw = (amount: number) => ({ type: 'withdraw', payload: { amount } }) as const;

/** The replication report of an accepted reply to a send with `replicas`. */
function replication(sent: SentCommand) {
  return sent.reply?.status === 'accepted' ? sent.reply.replication : undefined;
}

function accepted(sent: readonly SentCommand[]): boolean {
  return sent.every((s) => s.reply?.status === 'accepted');
}

function describeReplies(sent: readonly SentCommand[]): string {
  return sent.map((s) => `${s.region} ${s.account} ${s.command.type} ${(s.command.payload as { amount?: number }).amount}: ${s.reply?.status === 'rejected' ? `rejected (${s.reply.reason})` : (s.reply?.status ?? 'no reply')}`).join(', ');
}

/** Whether the store holds the pack that applied `commandId` to the account. */
async function holds(store: EventStore, account: string, commandId: string): Promise<boolean> {
  return (await store.commandVersions(Account.ref(account), commandId)).length > 0;
}

async function eventually(condition: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return true;
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 100));
  }
}

function forwarded(deployment: Deployment, name: string): number {
  const [reader, source] = name.split('<-') as [string, string];
  return deployment.link(reader, source).forwardedBytes;
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
}

function perRegion(deployment: Deployment, clients: ReadonlyMap<string, BankClient>, outcomes: readonly AccountOutcome[]): RegionReport[] {
  return deployment.ids.map((id) => {
    const sent = clients.get(id)?.sent ?? [];
    const merges = outcomes.flatMap((o) => o.merges[id] ?? []);
    return {
      region: id,
      sent: sent.length,
      accepted: sent.filter((s) => s.reply?.status === 'accepted').length,
      rejected: sent.filter((s) => s.reply?.status === 'rejected').length,
      retried: sent.filter((s) => s.attempts > 1).length,
      merges: merges.length,
      compensations: merges.reduce((n, m) => n + m.compensations.length, 0),
      linkDowns: deployment.region(id).replicates.reduce((n, p) => n + p.logs('link down').length, 0),
    };
  });
}
