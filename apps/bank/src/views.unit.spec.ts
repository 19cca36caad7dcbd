import { afterEach, describe, expect, it } from 'vitest';
import {
  type ActorRef,
  type CommandOf,
  type EventStore,
  type Runtime,
  type ViewChange,
  MemoryStore,
  MemoryView,
  ReplicationLink,
  createRuntime,
  viewFromScratch,
} from '@troupe/runtime';
import { afterEveryWrite, given, ManualClock } from '@troupe/runtime/testkit';
import {
  Account,
  type AccountEvent,
  type AccountState,
  type OwnerBalance,
  addOwnerBalances,
  balancesByOwner,
  bankActors,
  bankProjections,
  overdraftFee,
  overdraftKey,
  overdraftRows,
  overdrafts,
  ownerBalanceRows,
} from './index.js';
import { formatScenario, runBankScenario } from './demo.js';
import type { BankViewRows } from './demoViews.js';

const stateAfter = (...events: AccountEvent[]): AccountState => given(Account, events).state;
const opened = (owner = 'Alice'): AccountEvent => ({ type: 'opened', data: { owner } });
const deposited = (amount: number): AccountEvent => ({ type: 'deposited', data: { amount } });
const withdrew = (amount: number): AccountEvent => ({ type: 'withdrew', data: { amount } });
const charged = (overdrawn: number, fee: number): AccountEvent => ({ type: 'overdraftCharged', data: { overdrawn, fee } });

// ---------------------------------------------------------------------------------------------
// The rows of one account, from its state.

describe('balancesByOwner rows', () => {
  it('given an account that is not open, then it contributes nothing', () => {
    expect([...ownerBalanceRows(Account.initial())]).toEqual([]);
  });

  it('given an open account, then it contributes its balance and one account under its owner', () => {
    expect([...ownerBalanceRows(stateAfter(opened('Alice'), deposited(100), withdrew(30)))]).toEqual([['Alice', { balance: 70, accounts: 1 }]]);
  });

  it('given an overdrawn account, then its negative balance (fee included) is contributed', () => {
    const state = stateAfter(opened('Alice'), deposited(100), withdrew(80), withdrew(70), charged(60, overdraftFee));
    expect([...ownerBalanceRows(state)]).toEqual([['Alice', { balance: -60, accounts: 1 }]]);
  });

  it('adds balances and account counts under one owner, in any order', () => {
    const a: OwnerBalance = { balance: 70, accounts: 1 };
    const b: OwnerBalance = { balance: -20, accounts: 2 };
    const c: OwnerBalance = { balance: 5, accounts: 1 };
    expect(addOwnerBalances(a, b)).toEqual({ balance: 50, accounts: 3 });
    expect(addOwnerBalances(b, a)).toEqual(addOwnerBalances(a, b));
    expect(addOwnerBalances(addOwnerBalances(a, b), c)).toEqual(addOwnerBalances(a, addOwnerBalances(b, c)));
  });
});

describe('overdrafts rows', () => {
  it('given an account with no recorded overdraft, then it contributes nothing', () => {
    expect([...overdraftRows('a', Account.initial())]).toEqual([]);
    expect([...overdraftRows('a', stateAfter(opened(), deposited(100), withdrew(100)))]).toEqual([]);
  });

  it('given a negative balance that no merge recorded yet, then it contributes nothing', () => {
    // A merge replays two withdrawals; until its compensation is folded the overdraft is not recorded.
    const state = stateAfter(opened(), deposited(100), withdrew(80), withdrew(70));
    expect(state.balance).toBe(-50);
    expect([...overdraftRows('a', state)]).toEqual([]);
  });

  it('given an overdraft recorded by the compensation, then it is contributed under the account and under the total', () => {
    const state = stateAfter(opened(), deposited(100), withdrew(80), withdrew(70), charged(60, overdraftFee));
    expect([...overdraftRows('alice', state)]).toEqual([
      ['account:alice', 60],
      ['total', 60],
    ]);
  });

  it('given deposits that pay it down, then the row shrinks, and goes once it is paid', () => {
    const charges = [opened(), deposited(100), withdrew(80), withdrew(70), charged(60, overdraftFee)];
    expect([...overdraftRows('alice', stateAfter(...charges, deposited(45)))]).toEqual([
      ['account:alice', 15],
      ['total', 15],
    ]);
    expect([...overdraftRows('alice', stateAfter(...charges, deposited(60)))]).toEqual([]);
  });

  it('keys an account by its actor key, so no account id can collide with the total', () => {
    expect(overdraftKey('total')).toBe('account:total');
    expect([...overdraftRows('total', stateAfter(opened(), charged(10, overdraftFee)))]).toEqual([
      ['account:total', 10],
      ['total', 10],
    ]);
  });
});

describe('the projections', () => {
  it('are named and versioned, and read the account actor only', () => {
    expect(bankProjections.map((p) => p.id)).toEqual(['balances-by-owner-1', 'overdrafts-1']);
    for (const projection of bankProjections) expect([...projection.types]).toEqual(['account']);
    expect([...balancesByOwner.rows(Account.ref('x'), stateAfter(opened('Bob'), deposited(5)))]).toEqual([['Bob', { balance: 5, accounts: 1 }]]);
    expect([...overdrafts.rows(Account.ref('x'), stateAfter(opened('Bob'), charged(10, overdraftFee)))]).toEqual([
      ['account:x', 10],
      ['total', 10],
    ]);
  });
});

// ---------------------------------------------------------------------------------------------
// Views of several accounts, through the runtime.

const running: Runtime[] = [];
const views: MemoryView<unknown>[] = [];
afterEach(async () => {
  await Promise.all(views.splice(0).map((view) => view.stop()));
  await Promise.all(running.splice(0).map((rt) => rt.stop()));
});

function replica(replicaId: string, machineId: number, clock: ManualClock, store: EventStore = new MemoryStore()): Runtime {
  const rt = createRuntime({ actors: bankActors, replicaId, machineId, clock, store });
  running.push(rt);
  return rt;
}

function follow<Row>(view: MemoryView<Row>): MemoryView<Row> {
  views.push(view as MemoryView<unknown>);
  return view;
}

/** Both bank views of one store. */
function bankViews(store: EventStore) {
  return { balances: follow(new MemoryView(balancesByOwner, store)), overdrafts: follow(new MemoryView(overdrafts, store)) };
}

const plain = <Row>(rows: ReadonlyMap<string, Row>) => Object.fromEntries(rows);

describe('the bank views following a store', () => {
  it('combine the accounts of one owner, and equal the from-scratch view after every command', async () => {
    const clock = new ManualClock(1_700_000_000_000);
    const rt = replica('eu', 1, clock);
    const { balances, overdrafts: owed } = bankViews(rt.store);
    const [aliceChecking, aliceSavings, bob, carol] = [Account.ref('alice-checking'), Account.ref('alice-savings'), Account.ref('bob'), Account.ref('carol')];
    const accounts = [aliceChecking, aliceSavings, bob, carol];
    const commands: [ActorRef, CommandOf<typeof Account>][] = [
      [aliceChecking, { type: 'open', payload: { owner: 'Alice' } }],
      [aliceChecking, { type: 'deposit', payload: { amount: 100 } }],
      [bob, { type: 'open', payload: { owner: 'Bob' } }],
      [aliceSavings, { type: 'open', payload: { owner: 'Alice' } }],
      [aliceSavings, { type: 'deposit', payload: { amount: 250 } }],
      [bob, { type: 'deposit', payload: { amount: 40 } }],
      [aliceChecking, { type: 'withdraw', payload: { amount: 30 } }],
      [carol, { type: 'deposit', payload: { amount: 10 } }], // rejected: not open, contributes nothing
      [bob, { type: 'withdraw', payload: { amount: 41 } }], // rejected: insufficient funds
    ];
    for (const [account, command] of commands) {
      clock.advance(1);
      await rt.send(account, command);
      expect(plain(await balances.read())).toEqual(plain(await viewFromScratch(balancesByOwner, rt.store, accounts)));
      expect(plain(await owed.read())).toEqual(plain(await viewFromScratch(overdrafts, rt.store, accounts)));
    }
    expect(plain(balances.current)).toEqual({ Alice: { balance: 320, accounts: 2 }, Bob: { balance: 40, accounts: 1 } });
    expect(plain(owed.current)).toEqual({});

    // A view started after the fact reads the whole log and ends the same.
    const late = follow(new MemoryView(balancesByOwner, rt.store, { batchSize: 2 }));
    expect(plain(await late.read())).toEqual(plain(balances.current));
  });

  it('are corrected by a merge: the overdraft appears and the balances drop on both replicas, equal to the from-scratch views', async () => {
    const clock = new ManualClock(1_700_000_000_000);
    const [eu, us] = [replica('eu', 1, clock), replica('us', 2, clock)] as const;
    const link = new ReplicationLink(eu, us);
    const onEu = bankViews(eu.store);
    const onUs = bankViews(us.store);
    const all = [onEu.balances, onEu.overdrafts, onUs.balances, onUs.overdrafts];
    const catchUp = () => Promise.all(all.map((view) => view.catchUp()));
    const told: { replica: string; view: string; changed: readonly string[] }[] = [];
    for (const [replicaId, pair] of [['eu', onEu], ['us', onUs]] as const) {
      for (const view of [pair.balances, pair.overdrafts] as MemoryView<unknown>[]) {
        view.subscribe((change: ViewChange<unknown>) => {
          if (change.changed.length > 0) told.push({ replica: replicaId, view: view.projection.name, changed: change.changed });
        });
      }
    }
    const alice = Account.ref('alice');
    const bob = Account.ref('bob');
    const send = async (rt: Runtime, account: ActorRef, command: CommandOf<typeof Account>) => {
      clock.advance(5);
      expect((await rt.send(account, command)).status).toBe('accepted');
      await catchUp();
    };

    await send(eu, alice, { type: 'open', payload: { owner: 'Alice' } });
    await send(eu, alice, { type: 'deposit', payload: { amount: 100 } });
    await send(us, bob, { type: 'open', payload: { owner: 'Bob' } });
    await link.settle();
    await catchUp();
    expect(plain(onUs.balances.current)).toEqual({ Alice: { balance: 100, accounts: 1 }, Bob: { balance: 0, accounts: 1 } });

    link.partition();
    await send(eu, alice, { type: 'withdraw', payload: { amount: 80 } });
    await send(us, alice, { type: 'withdraw', payload: { amount: 70 } });
    await send(us, bob, { type: 'deposit', payload: { amount: 5 } });
    // Each replica's views follow its own branch.
    expect(plain(onEu.balances.current)).toEqual({ Alice: { balance: 20, accounts: 1 }, Bob: { balance: 0, accounts: 1 } });
    expect(plain(onUs.balances.current)).toEqual({ Alice: { balance: 30, accounts: 1 }, Bob: { balance: 5, accounts: 1 } });
    expect(plain(onEu.overdrafts.current)).toEqual({});

    told.length = 0;
    link.heal();
    await link.settle();
    await catchUp();
    // 100 - 80 - 70 = -50, and the compensation's fee: -60, recorded as owed.
    const balances = { Alice: { balance: -60, accounts: 1 }, Bob: { balance: 5, accounts: 1 } };
    const owed = { 'account:alice': 60, total: 60 };
    for (const pair of [onEu, onUs]) {
      expect(plain(pair.balances.current)).toEqual(balances);
      expect(plain(pair.overdrafts.current)).toEqual(owed);
    }
    for (const rt of [eu, us]) {
      expect(plain(await viewFromScratch(balancesByOwner, rt.store, [alice, bob]))).toEqual(balances);
      expect(plain(await viewFromScratch(overdrafts, rt.store, [alice, bob]))).toEqual(owed);
    }
    // The merge, not a command of theirs, changed the rows: both replicas' subscribers were told.
    const keysTold = (view: string) => told.filter((t) => t.view === view).map((t) => `${t.replica}: ${[...t.changed].sort().join(' ')}`).sort();
    expect(keysTold('overdrafts')).toEqual(['eu: account:alice total', 'us: account:alice total']);
    // eu also learnt of Bob's deposit from us.
    expect(keysTold('balances-by-owner')).toEqual(['eu: Alice Bob', 'us: Alice']);
  });
});

// ---------------------------------------------------------------------------------------------
// Random partitions: views following every write equal the from-scratch views at the end.

describe('the bank views across random partitions', () => {
  it('equal the from-scratch views on every replica after the final heal, and the replicas agree', async () => {
    let seed = 7;
    const random = () => ((seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0) / 2 ** 32);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
    // a1 and a2 are Alice's, a3 Bob's, all funded before the run; a4 is opened during it, maybe on
    // several sides of a partition under different owners (its merge keeps the first owner).
    const accounts = ['a1', 'a2', 'a3', 'a4'].map((id) => Account.ref(id));
    let runsWithFees = 0;
    let runsOwing = 0;
    let merges = 0;
    for (let run = 0; run < 30; run++) {
      const clock = new ManualClock(1_700_000_000_000);
      const raw = [new MemoryStore(), new MemoryStore(), new MemoryStore()];
      const followed = raw.map(bankViews);
      const stores = raw.map((store, i) => afterEveryWrite(store, () => Promise.all([followed[i]!.balances.catchUp(), followed[i]!.overdrafts.catchUp()])));
      const replicas = stores.map((store, i) => replica(`r${i}`, i + 1, clock, store));
      const links = [
        new ReplicationLink(replicas[0]!, replicas[1]!),
        new ReplicationLink(replicas[0]!, replicas[2]!),
        new ReplicationLink(replicas[1]!, replicas[2]!),
      ];
      const settleAll = async () => {
        for (let round = 0; round < 3; round++) for (const link of links) await link.settle();
      };
      for (const [account, owner] of [[accounts[0]!, 'Alice'], [accounts[1]!, 'Alice'], [accounts[2]!, 'Bob']] as const) {
        await replicas[0]!.send(account, { type: 'open', payload: { owner } });
        await replicas[0]!.send(account, { type: 'deposit', payload: { amount: 100 } });
      }
      await settleAll();
      for (let step = 0; step < 40; step++) {
        const roll = random();
        if (roll < 0.1) pick(links).partition();
        else if (roll < 0.15) pick(links).heal();
        else if (roll < 0.25) await pick(links).settle();
        else {
          clock.advance(1 + Math.floor(random() * 5));
          const kind = random();
          const command: CommandOf<typeof Account> =
            kind < 0.1
              ? { type: 'open', payload: { owner: pick(['Bob', 'Carol']) } }
              : { type: kind < 0.35 ? 'deposit' : 'withdraw', payload: { amount: 1 + Math.floor(random() * 60) } };
          await pick(replicas).send(kind < 0.1 ? accounts[3]! : pick(accounts), command);
        }
      }
      for (const link of links) link.heal();
      await settleAll();

      const expected = {
        balances: plain(await viewFromScratch(balancesByOwner, raw[0]!, accounts)),
        overdrafts: plain(await viewFromScratch(overdrafts, raw[0]!, accounts)),
      };
      for (const [i, views] of followed.entries()) {
        expect(plain(await viewFromScratch(balancesByOwner, raw[i]!, accounts))).toEqual(expected.balances);
        expect(plain(await viewFromScratch(overdrafts, raw[i]!, accounts))).toEqual(expected.overdrafts);
        expect(plain(await views.balances.read())).toEqual(expected.balances);
        expect(plain(await views.overdrafts.read())).toEqual(expected.overdrafts);
      }
      const states = await Promise.all(accounts.map(async (account) => (await replicas[0]!.inspect<AccountState>(account)).state));
      if (states.some((state) => state.feesCharged > 0)) runsWithFees++;
      if (expected.overdrafts.total !== undefined) runsOwing++;
      for (const account of accounts) merges += (await raw[0]!.history(account)).filter((pack) => pack.kind === 'merge').length;
      await Promise.all(running.splice(0).map((rt) => rt.stop()));
      await Promise.all(views.splice(0).map((view) => view.stop()));
    }
    // The runs reached the hard cases: merges rewrote histories under the views, compensations
    // were charged, and some overdrafts were still owed at the end (others were paid down).
    expect(merges).toBeGreaterThan(0);
    expect(runsWithFees).toBeGreaterThan(0);
    expect(runsOwing).toBeGreaterThan(0);
  }, 60_000);
});

// ---------------------------------------------------------------------------------------------
// The demo (`npm start`): the views on both replicas, corrected by the merge.

describe("the demo's views", () => {
  it('follow each replica through the partition, are corrected by the merge on both, and equal the from-scratch views', async () => {
    const result = await runBankScenario();
    expect(result.checks.filter((c) => !c.ok)).toEqual([]);
    const rows = (views: readonly BankViewRows[]) => views.map((v) => [v.replica, plain(v.balances), plain(v.overdrafts)]);
    expect(rows(result.views.settledBeforePartition)).toEqual([
      ['eu', { Alice: { balance: 100, accounts: 1 } }, {}],
      ['us', { Alice: { balance: 100, accounts: 1 } }, {}],
    ]);
    expect(rows(result.views.partition)).toEqual([
      ['eu', { Alice: { balance: 20, accounts: 1 } }, {}],
      ['us', { Alice: { balance: 60, accounts: 1 } }, {}],
    ]);
    const healed = [{ Alice: { balance: -30, accounts: 1 } }, { 'account:alice-checking': 30, total: 30 }];
    expect(rows(result.views.final)).toEqual([['eu', ...healed], ['us', ...healed]]);
    expect(rows(result.views.fromScratch)).toEqual(rows(result.views.final));
    expect(result.views.changes.filter((c) => c.during === 'heal').map(({ replica, view, key, before, after }) => ({ replica, view, key, before, after }))).toEqual([
      { replica: 'eu', view: 'balances-by-owner', key: 'Alice', before: { balance: 20, accounts: 1 }, after: { balance: -30, accounts: 1 } },
      { replica: 'eu', view: 'overdrafts', key: 'account:alice-checking', before: undefined, after: 30 },
      { replica: 'eu', view: 'overdrafts', key: 'total', before: undefined, after: 30 },
      { replica: 'us', view: 'balances-by-owner', key: 'Alice', before: { balance: 60, accounts: 1 }, after: { balance: -30, accounts: 1 } },
      { replica: 'us', view: 'overdrafts', key: 'account:alice-checking', before: undefined, after: 30 },
      { replica: 'us', view: 'overdrafts', key: 'total', before: undefined, after: 30 },
    ]);
    const printed = formatScenario(result);
    expect(printed).toContain("the same as viewFromScratch over each replica's converged history");
    expect(printed).toContain('us  balances-by-owner  Alice                   60 (1 account) -> -30 (1 account)');
    expect(printed).toContain('and the views agree');
  });
});
