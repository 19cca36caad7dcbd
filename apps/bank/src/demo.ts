/**
 * The bank demo: one account on two replicas, eu and us. Both accept withdrawals while partitioned,
 * together spending more than the account holds; after the heal the replicas merge the branches,
 * keep every acknowledged withdrawal, record the overdraft once, and converge. Each replica keeps
 * the bank's two views (`balancesByOwner`, `overdrafts`) in `MemoryView`s that follow its store
 * through the whole story: the merge corrects them, and after the heal they equal each other and
 * the views computed from scratch.
 *
 * `runBankScenario()` runs the story and returns what happened (the tests call it);
 * `formatScenario()` turns that into text; running this file prints it and exits 1 unless the
 * replicas and their views converged.
 */
import { resolve as resolvePath } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import {
  type ActorRef,
  type CommandOf,
  type CommandReply,
  type EventRecord,
  type EventStore,
  type Pack,
  type ResolveReply,
  type Runtime,
  type VectorClock,
  MemoryStore,
  ReplicationLink,
  createRuntime,
} from '@troupe/runtime';
import { compareEvents, computeMerge, findDivergence, fold, stateAt } from '@troupe/runtime/resolution';
import { VC } from '@troupe/runtime/store';
import { ManualClock, afterEveryWrite } from '@troupe/runtime/testkit';
import { Account, type AccountDefinition, type AccountState } from './account.js';
import { type BankViewRows, type ViewRowChange, BankViews, fmtViewRow, sameViewRows, viewLines } from './demoViews.js';

/** Where the manual clock starts: a fixed instant, so timestamps and event ids are reproducible. */
export const demoStartMs = Date.UTC(2025, 0, 1, 9, 0, 0);
/** How far the clock moves before each command. */
export const demoStepMs = 5;

export type Phase = 'before partition' | 'during partition';

export interface ScenarioStep {
  readonly phase: Phase;
  readonly replica: string;
  /** Clock at the command, ms since `startMs`. */
  readonly atMs: number;
  readonly command: CommandOf<AccountDefinition>;
  readonly reply: CommandReply;
  /** The replica's own view right after the command. */
  readonly version: VectorClock | undefined;
  readonly state: AccountState;
}

export interface ReplicaView {
  readonly replica: string;
  readonly version: VectorClock | undefined;
  readonly state: AccountState;
  /** Heads of the account in this replica's store. */
  readonly heads: number;
}

export interface BranchView {
  /** The replica whose writes make up this branch (the writer of its head). */
  readonly replica: string;
  readonly head: VectorClock;
  /** Events after the common ancestor on this branch, in replay order. */
  readonly events: readonly EventRecord[];
}

export interface MergeExplanation {
  readonly version: VectorClock;
  readonly ancestor: VectorClock | undefined;
  readonly ancestorState: AccountState;
  /** Events after the ancestor on every branch, in replay order. */
  readonly replayed: readonly EventRecord[];
  readonly compensations: readonly EventRecord[];
  readonly state: AccountState;
}

export interface Resolution {
  /** Replica whose runtime wrote the merge pack. */
  readonly replica: string;
  readonly reply: ResolveReply;
}

export interface ScenarioCheck {
  readonly ok: boolean;
  readonly what: string;
}

export interface ScenarioResult {
  readonly account: ActorRef;
  readonly startMs: number;
  readonly steps: readonly ScenarioStep[];
  readonly settledBeforePartition: { readonly rounds: number; readonly views: readonly ReplicaView[] };
  /** Each replica's own view at the end of the partition. */
  readonly partitionViews: readonly ReplicaView[];
  /** Both branches, read before healing from a scratch store holding both replicas' packs. */
  readonly divergence: {
    readonly heads: number;
    readonly ancestor: VectorClock | undefined;
    readonly ancestorState: AccountState;
    readonly branches: readonly BranchView[];
    /** What resolving those heads gives, computed before the heal. */
    readonly preview: MergeExplanation;
  };
  readonly settledAfterHeal: { readonly rounds: number; readonly resolutions: readonly Resolution[] };
  /** The merge as recomputed from each replica's store after the heal, by replica. */
  readonly merge: Readonly<Record<string, MergeExplanation>>;
  /** The whole history of the account at the converged head, in replay order (compensations included). */
  readonly history: readonly EventRecord[];
  readonly final: readonly ReplicaView[];
  /** The bank's views on each replica (eu, us), following its store during the whole story. */
  readonly views: {
    readonly settledBeforePartition: readonly BankViewRows[];
    readonly partition: readonly BankViewRows[];
    readonly final: readonly BankViewRows[];
    /** `viewFromScratch` over each replica's store after the heal. */
    readonly fromScratch: readonly BankViewRows[];
    /** Every change the views' subscribers were told: eu's in order, then us's; `during` is a `Phase` or 'heal'. */
    readonly changes: readonly ViewRowChange[];
  };
  readonly checks: readonly ScenarioCheck[];
  readonly ok: boolean;
}

/** Runs the partition story on two fresh in-memory replicas and reports what happened. */
export async function runBankScenario(): Promise<ScenarioResult> {
  const clock = new ManualClock(demoStartMs);
  const resolutions: Resolution[] = [];
  // Each replica's views follow its store from before the first command to the end: they catch up
  // after every write to it (commands, replicated packs, merges).
  const bankViews = [new BankViews('eu', new MemoryStore()), new BankViews('us', new MemoryStore())] as const;
  const replica = (views: BankViews, machineId: number): Runtime =>
    createRuntime({
      actors: [Account],
      replicaId: views.replica,
      machineId,
      store: afterEveryWrite(views.store, () => views.catchUp()),
      clock,
      observer: {
        resolved: ({ outcome }) =>
          resolutions.push({
            replica: views.replica,
            reply: { resolved: true, version: outcome.pack.version, headsMerged: outcome.heads.length, compensations: outcome.compensations },
          }),
      },
    });
  const eu = replica(bankViews[0], 1);
  const us = replica(bankViews[1], 2);
  const link = new ReplicationLink(eu, us);
  const account = Account.ref('alice-checking');
  const steps: ScenarioStep[] = [];
  const commandsSent = new Map<string, number>();
  /** Labels the views' changes from now on with what the demo is doing. */
  const viewsDuring = (during: string) => {
    for (const views of bankViews) views.during = during;
  };
  const viewRows = () => bankViews.map((views) => views.rows());

  const view = async (rt: Runtime): Promise<ReplicaView> => {
    const seen = await rt.inspect<AccountState>(account);
    return { replica: rt.replicaId, version: seen.version, state: seen.state, heads: (await rt.store.heads(account)).length };
  };
  const send = async (phase: Phase, rt: Runtime, command: CommandOf<AccountDefinition>): Promise<CommandReply> => {
    clock.advance(demoStepMs);
    viewsDuring(phase);
    const n = (commandsSent.get(rt.replicaId) ?? 0) + 1;
    commandsSent.set(rt.replicaId, n);
    // Caller-chosen command ids (idempotency keys) keep the events' causation ids reproducible.
    const reply = await rt.send(account, { ...command, commandId: `${rt.replicaId}-cmd-${n}` });
    const after = await view(rt);
    steps.push({ phase, replica: rt.replicaId, atMs: clock.now() - demoStartMs, command, reply, version: after.version, state: after.state });
    return reply;
  };

  try {
    // 1. Open and fund the account on eu; replicate it to us.
    await send('before partition', eu, { type: 'open', payload: { owner: 'Alice' } });
    await send('before partition', eu, { type: 'deposit', payload: { amount: 100 } });
    const before = await link.settle();
    const settledBeforePartition = { rounds: before.rounds, views: [await view(eu), await view(us)] };
    const viewsBeforePartition = viewRows();

    // 2. Partition. Each side sees 100 and lets a withdrawal through; eu refuses a second one
    //    locally; us takes a deposit.
    link.partition();
    await send('during partition', eu, { type: 'withdraw', payload: { amount: 80 } });
    await send('during partition', us, { type: 'withdraw', payload: { amount: 70 } });
    await send('during partition', eu, { type: 'withdraw', payload: { amount: 50 } });
    await send('during partition', us, { type: 'deposit', payload: { amount: 30 } });
    const partitionViews = [await view(eu), await view(us)];
    const viewsInPartition = viewRows();

    // 3. Look at both branches before healing: copy both stores' packs into a scratch store (the
    //    replicas stay apart) and ask the resolution code what it sees there.
    const scratch = new MemoryStore();
    await copyAll(eu.store, scratch);
    await copyAll(us.store, scratch);
    const heads = await scratch.heads(account);
    const divergence = await findDivergence(scratch, account, heads);
    const ancestorState = (divergence.ancestor
      ? (await stateAt(scratch, Account, account, divergence.ancestor.version)).state
      : Account.initial()) as AccountState;
    const branches: BranchView[] = heads.map((head, i) => ({
      replica: head.replica,
      head: head.version,
      events: divergence.packs
        .filter((p) => p.headMask & (1 << i))
        .flatMap((p) => p.pack.events)
        .sort(compareEvents),
    }));
    const preview = await explainMerge(scratch, account, heads);

    // 4. Heal: the link copies each side's packs to the other and the receiving replica resolves.
    viewsDuring('heal');
    link.heal();
    const after = await link.settle();
    const settledAfterHeal = { rounds: after.rounds, resolutions: [...resolutions] };
    const viewsAfterHeal = viewRows();
    const viewsFromScratch = await Promise.all(bankViews.map((views) => views.fromScratch([account])));

    const final = [await view(eu), await view(us)];
    const merge: Record<string, MergeExplanation> = {};
    for (const rt of [eu, us]) merge[rt.replicaId] = await explainMerge(rt.store, account, await rt.store.heads(account));
    const history = await linearHistory(eu.store, account);

    const result = {
      account,
      startMs: demoStartMs,
      steps,
      settledBeforePartition,
      partitionViews,
      divergence: { heads: heads.length, ancestor: divergence.ancestor?.version, ancestorState, branches, preview },
      settledAfterHeal,
      merge,
      history,
      final,
      views: {
        settledBeforePartition: viewsBeforePartition,
        partition: viewsInPartition,
        final: viewsAfterHeal,
        fromScratch: viewsFromScratch,
        changes: bankViews.flatMap((views) => views.changes),
      },
    };
    const checks = checkScenario(result, await linearHistory(us.store, account));
    return { ...result, checks, ok: checks.every((c) => c.ok) };
  } finally {
    for (const views of bankViews) await views.stop();
    await eu.stop();
    await us.stop();
  }
}

/** Copies every pack of `from`'s replication log into `to` (idempotent). */
export async function copyAll(from: EventStore, to: EventStore): Promise<void> {
  let cursor: string | undefined;
  for (;;) {
    const changes = await from.changesSince(cursor, 500);
    if (changes.packs.length === 0) return;
    await to.merge(changes.packs);
    cursor = changes.cursor;
  }
}

/**
 * What resolving `heads` gives (or gave: a single merge head is unfolded into the heads it merged,
 * so this recomputes an existing merge from the store).
 */
async function explainMerge(store: EventStore, account: ActorRef, heads: readonly Pack[]): Promise<MergeExplanation> {
  const outcome = await computeMerge(store, Account, account, heads);
  return {
    version: outcome.pack.version,
    ancestor: outcome.ancestor?.version,
    ancestorState: (outcome.ancestor ? (await stateAt(store, Account, account, outcome.ancestor.version)).state : Account.initial()) as AccountState,
    replayed: outcome.replayed,
    compensations: outcome.compensations,
    state: outcome.state as AccountState,
  };
}

/**
 * The account's history at its (single) head, linearized the way it is folded: a command pack is
 * its parent's history plus its events; a merge pack is its common ancestor's history, plus the
 * replayed branch events, plus its compensations.
 */
export async function linearHistory(store: EventStore, account: ActorRef): Promise<EventRecord[]> {
  const heads = await store.heads(account);
  if (heads.length !== 1) throw new Error(`expected one head for ${account.type}:${account.id}, found ${heads.length}`);
  const upTo = async (pack: Pack): Promise<EventRecord[]> => {
    if (pack.kind === 'merge') {
      const outcome = await computeMerge(store, Account, account, [pack]);
      const before = outcome.ancestor ? await upTo(outcome.ancestor) : [];
      return [...before, ...outcome.replayed, ...pack.events];
    }
    const parent = pack.parents[0];
    if (parent === undefined) return [...pack.events];
    const [parentPack] = await store.getPacks(account, [VC.encode(parent)]);
    if (!parentPack) throw new Error(`missing pack ${VC.encode(parent)}`);
    return [...(await upTo(parentPack)), ...pack.events];
  };
  return upTo(heads[0]!);
}

type Checked = Omit<ScenarioResult, 'checks' | 'ok'>;

function checkScenario(result: Checked, usHistory: readonly EventRecord[]): ScenarioCheck[] {
  const [eu, us] = result.final as [ReplicaView, ReplicaView];
  const checks: ScenarioCheck[] = [];
  const check = (ok: boolean, what: string) => checks.push({ ok, what });

  check(eu.heads === 1 && us.heads === 1, `one head on each replica (eu ${eu.heads}, us ${us.heads})`);
  check(
    eu.version !== undefined && us.version !== undefined && VC.encode(eu.version) === VC.encode(us.version),
    `same version on eu and us (${fmtVersion(eu.version)} / ${fmtVersion(us.version)})`,
  );
  check(isDeepStrictEqual(eu.state, us.state), 'same state on eu and us');
  check(
    isDeepStrictEqual(result.history.map((e) => e.id), usHistory.map((e) => e.id)),
    'same history on eu and us',
  );

  const counts = new Map<string, number>();
  for (const event of result.history) counts.set(event.id, (counts.get(event.id) ?? 0) + 1);
  const acknowledged = result.steps.flatMap((s) => (s.reply.status === 'accepted' ? s.reply.events : []));
  const lost = acknowledged.filter((e) => (counts.get(e.id) ?? 0) === 0);
  const doubled = acknowledged.filter((e) => (counts.get(e.id) ?? 0) > 1);
  const withdrawals = acknowledged.filter((e) => e.type === 'withdrew').length;
  check(
    lost.length === 0 && doubled.length === 0,
    `every acknowledged event is in the history exactly once (${acknowledged.length} events, ${withdrawals} withdrawals` +
      (lost.length ? `; lost ${lost.map((e) => e.id).join(', ')}` : '') +
      (doubled.length ? `; doubled ${doubled.map((e) => e.id).join(', ')}` : '') +
      ')',
  );

  const compensations = result.history.filter((e) => e.type === 'overdraftCharged');
  check(compensations.length === 1, `exactly one overdraft compensation in the history (found ${compensations.length})`);

  const replayed = fold(Account, Account.initial(), result.history);
  check(isDeepStrictEqual(replayed, eu.state), 'the final state is the fold of the history');

  const total = (type: string) =>
    acknowledged.filter((e) => e.type === type).reduce((sum, e) => sum + (e.data as { amount: number }).amount, 0);
  const [deposits, withdrawn] = [total('deposited'), total('withdrew')];
  check(
    eu.state.balance === deposits - withdrawn - eu.state.feesCharged,
    `balance = acknowledged deposits - withdrawals - fees (${deposits} - ${withdrawn} - ${eu.state.feesCharged} = ${eu.state.balance})`,
  );
  check(
    eu.state.balance >= 0 || eu.state.overdrawn === -eu.state.balance,
    `the overdraft is recorded in full (overdrawn ${eu.state.overdrawn}, balance ${eu.state.balance})`,
  );

  const { preview } = result.divergence;
  check(
    VC.encode(preview.version) === VC.encode(eu.version ?? {}) && isDeepStrictEqual(preview.state, eu.state),
    'the merge equals the one previewed before the heal (deterministic resolution)',
  );

  const views = result.views;
  const [euViews, usViews] = views.final as [BankViewRows, BankViewRows];
  check(sameViewRows(euViews, usViews), 'same views on eu and us (balances-by-owner, overdrafts)');
  for (const [i, rows] of views.final.entries()) {
    check(sameViewRows(rows, views.fromScratch[i]!), `${rows.replica}'s views equal viewFromScratch over ${rows.replica}'s store`);
  }
  const corrected = (replica: string) => views.changes.some((c) => c.during === 'heal' && c.replica === replica && c.view === 'overdrafts');
  check(corrected('eu') && corrected('us'), "the merge corrected both replicas' views (the overdraft reached their subscribers)");
  return checks;
}

// ---------------------------------------------------------------------------------------------
// Printing

export function fmtVersion(version: VectorClock | undefined): string {
  return version === undefined ? '{}' : `{${VC.encode(version)}}`;
}

function fmtData(data: unknown): string {
  if (typeof data !== 'object' || data === null) return String(data);
  return Object.entries(data)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
}

function fmtMs(ms: number): string {
  const rounded = Math.round(ms * 1000) / 1000;
  return `+${Number.isInteger(rounded) ? rounded : rounded.toFixed(3)}ms`;
}

function fmtState(state: AccountState): string {
  const parts = [`balance ${state.balance}`, `overdrawn ${state.overdrawn}`, `fees ${state.feesCharged}`];
  return `${parts.join('  ')}  owner ${state.owner ?? '-'}${state.open ? '' : ' (not open)'}`;
}

/** Pads columns to their widest cell. */
function table(rows: readonly (readonly string[])[], indent = '   '): string[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((row) => (indent + row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ')).trimEnd());
}

export function formatScenario(result: ScenarioResult): string {
  const out: string[] = [];
  const line = (text = '') => out.push(text);
  const at = (ts: number) => fmtMs(ts - result.startMs);
  const commandRows = (phase: Phase) =>
    table([
      ['time', 'replica', 'command', 'reply', 'version', 'balance'],
      ...result.steps
        .filter((s) => s.phase === phase)
        .map((s) => [
          fmtMs(s.atMs),
          s.replica,
          `${s.command.type} ${fmtData(s.command.payload)}`,
          s.reply.status === 'accepted' ? 'accepted' : `REJECTED: ${s.reply.reason}`,
          fmtVersion(s.version),
          String(s.state.balance),
        ]),
    ]);
  const viewRows = (views: readonly ReplicaView[], indent = '   ') =>
    table(views.map((v) => [v.replica, fmtVersion(v.version), `${v.heads} head${v.heads === 1 ? '' : 's'}`, fmtState(v.state)]), indent);
  const eventRows = (events: readonly EventRecord[], start: AccountState, numbered: boolean, first = 1) => {
    let state = start;
    return events.map((e, i) => {
      state = fold(Account, state, [e]);
      return [...(numbered ? [String(first + i)] : []), at(e.ts), e.replica, e.type, fmtData(e.data), String(state.balance), e.id];
    });
  };

  line(`troupe bank demo: account ${result.account.type}:${result.account.id} on two replicas, eu and us,`);
  line('each with two views kept by MemoryViews that follow its store: balances-by-owner and overdrafts');
  line(`(both read a manual clock that moves ${demoStepMs} ms per command, so this output is the same on every run)`);
  line();
  line('1. Before the partition: open and fund the account on eu, replicate to us');
  out.push(...commandRows('before partition'));
  line(`   replication eu <-> us settled in ${result.settledBeforePartition.rounds} rounds:`);
  out.push(...viewRows(result.settledBeforePartition.views));
  line('   their views:');
  out.push(...table(viewLines(result.views.settledBeforePartition)));
  line();
  line('2. Partition: eu and us cannot reach each other, and both keep accepting commands');
  out.push(...commandRows('during partition'));
  line('   each replica now sees only its own branch, and so do its views:');
  out.push(...viewRows(result.partitionViews));
  out.push(...table(viewLines(result.views.partition)));
  line();
  const d = result.divergence;
  line('3. The two branches, still partitioned (both stores copied into a scratch store to look at them)');
  line(`   ${d.heads} heads; latest common ancestor ${fmtVersion(d.ancestor)}: ${fmtState(d.ancestorState)}`);
  for (const branch of [...d.branches].sort((a, b) => (a.replica < b.replica ? -1 : a.replica > b.replica ? 1 : 0))) {
    line(`   branch written by ${branch.replica}, head ${fmtVersion(branch.head)}:`);
    out.push(...table([['time', 'replica', 'event', 'data', 'balance*', 'event id'], ...eventRows(branch.events, d.ancestorState, false)], '     '));
  }
  line('     (* balance on that branch alone, from the ancestor)');
  line(
    `   resolving these heads would give ${fmtVersion(d.preview.version)}: ${fmtState(d.preview.state)}, ` +
      `${d.preview.compensations.length} compensation(s)`,
  );
  line();
  line('4. Heal and settle');
  const healed = result.settledAfterHeal;
  line(`   replication eu <-> us settled in ${healed.rounds} rounds`);
  for (const r of healed.resolutions) {
    line(
      `   ${r.replica} merged ${r.reply.headsMerged} heads into ${fmtVersion(r.reply.version)} ` +
        `with ${r.reply.compensations.length} compensation(s); the merge pack travelled to the other replica`,
    );
  }
  const merge = result.merge[result.final[0]!.replica]!;
  line(`   latest common ancestor ${fmtVersion(merge.ancestor)}: ${fmtState(merge.ancestorState)}`);
  line('   merged history after the ancestor, in replay order (causes first, then by (ts, event id)):');
  const replayRows = eventRows(merge.replayed, merge.ancestorState, true);
  const afterReplay = merge.replayed.length ? fold(Account, merge.ancestorState, merge.replayed) : merge.ancestorState;
  const compensationRows = eventRows(merge.compensations, afterReplay, true, merge.replayed.length + 1);
  const rows = table([['#', 'time', 'replica', 'event', 'data', 'balance', 'event id'], ...replayRows, ...compensationRows], '     ');
  out.push(...rows.slice(0, 1 + replayRows.length));
  line(`   compensation from onMerge (balance ${afterReplay.balance} after the replay):`);
  if (compensationRows.length === 0) line('     (none)');
  out.push(...rows.slice(1 + replayRows.length));
  line('   converged:');
  out.push(...viewRows(result.final, '     '));
  line(`   full history at the head: ${result.history.length} events`);
  line("   the merge corrected the views (the account's rows retracted, those of its merged state applied);");
  line('   what their subscribers were told during the heal:');
  const corrections = result.views.changes.filter((c) => c.during === 'heal');
  if (corrections.length === 0) line('     (nothing)');
  out.push(...table(corrections.map((c) => [c.replica, c.view, c.key, `${fmtViewRow(c.before)} -> ${fmtViewRow(c.after)}`]), '     '));
  line('   views after the heal:');
  out.push(...table(viewLines(result.views.final), '     '));
  const scratch = result.views.fromScratch;
  if (scratch.every((rows, i) => sameViewRows(rows, result.views.final[i]!))) {
    line("     the same as viewFromScratch over each replica's converged history");
  } else {
    line("     but viewFromScratch over each replica's converged history gives:");
    out.push(...table(viewLines(scratch), '     '));
  }
  line();
  line('Checks');
  for (const c of result.checks) line(`   ${c.ok ? 'ok  ' : 'FAIL'}  ${c.what}`);
  line();
  line(
    result.ok
      ? 'The replicas converged: both withdrawals kept, the overdraft recorded once, and the views agree.'
      : 'FAILED: the replicas or their views did not converge, or an invariant does not hold (see the checks above).',
  );
  return out.join('\n') + '\n';
}

const invokedDirectly = process.argv[1] !== undefined && resolvePath(process.argv[1]) === fileURLToPath(import.meta.url);
if (invokedDirectly) {
  try {
    const result = await runBankScenario();
    process.stdout.write(formatScenario(result));
    process.exitCode = result.ok ? 0 : 1;
  } catch (error) {
    console.error('bank demo failed:', error);
    process.exitCode = 1;
  }
}
