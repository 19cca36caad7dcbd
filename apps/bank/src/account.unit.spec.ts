import { afterEach, describe, expect, it } from 'vitest';
import {
  type CommandOf,
  type EventRecord,
  type MergeContext,
  type Runtime,
  InvalidPayloadError,
  MemoryStore,
  ReplicationLink,
  createRuntime,
} from '@troupe/runtime';
import { VC } from '@troupe/runtime/store';
import { computeMerge, fold } from '@troupe/runtime/resolution';
import { ManualClock, given } from '@troupe/runtime/testkit';
import {
  Account,
  type AccountEvent,
  type AccountState,
  amountMax,
  balanceMax,
  bankActors,
  initialAccount,
  overdraftCompensation,
  overdraftFee,
  unrecordedOverdraft,
} from './index.js';
import { copyAll, formatScenario, linearHistory, runBankScenario } from './demo.js';

// ---------------------------------------------------------------------------------------------
// Pure given / when / then on the definition itself (the runtime's decider kit).

const ref = Account.ref('acc-1');

/** Events as event records, for folding onto a state that is not the initial one. */
function records(events: readonly AccountEvent[], replica = 'test'): EventRecord[] {
  return events.map((e, i) => ({
    id: String(i + 1).padStart(20, '0'),
    actor: ref,
    type: e.type,
    data: e.data,
    ts: 1_000 + i,
    correlationId: `c${i}`,
    causationId: `c${i}`,
    replica,
  }));
}

/** The state after these events. */
function stateAfter(...events: AccountEvent[]): AccountState {
  return given(Account, events).state;
}

const opened = (owner = 'Alice'): AccountEvent => ({ type: 'opened', data: { owner } });
const deposited = (amount: number): AccountEvent => ({ type: 'deposited', data: { amount } });
const withdrew = (amount: number): AccountEvent => ({ type: 'withdrew', data: { amount } });
const charged = (overdrawn: number, fee: number): AccountEvent => ({ type: 'overdraftCharged', data: { overdrawn, fee } });

function mergeContext(ancestorState: AccountState = initialAccount()): MergeContext<AccountState> {
  return { actor: ref, ancestorState, replayed: [], branches: [] };
}

describe('Account deciders and folds', () => {
  it('exports the actor in bankActors', () => {
    expect(bankActors).toEqual([Account]);
    expect(Account.type).toBe('account');
    expect([...Account.commandNames].sort()).toEqual(['deposit', 'open', 'withdraw']);
  });

  describe('open', () => {
    it('given a new account, when opened, then it is open with its owner and no money', () => {
      const state = given(Account).when({ type: 'open', payload: { owner: 'Alice' } }).then([opened('Alice')]);
      expect(state).toEqual({ open: true, owner: 'Alice', balance: 0, overdrawn: 0, feesCharged: 0 });
    });

    it('given an open account, when opened again, then it is rejected', () => {
      given(Account, [opened()]).when({ type: 'open', payload: { owner: 'Bob' } }).thenRejects('account is already open');
    });

    it('given a new account, when opened without an owner, then the payload is refused before deciding', () => {
      const error = given(Account).when({ type: 'open', payload: { owner: '  ' } }).thenThrows(InvalidPayloadError);
      expect(error.reason).toBe('owner must be a non-empty string');
    });

    it('keeps the first owner when a merge replays two openings', () => {
      expect(stateAfter(opened('Alice'), opened('Bob')).owner).toBe('Alice');
    });
  });

  describe('deposit', () => {
    it('given an account that is not open, then it is rejected', () => {
      given(Account).when({ type: 'deposit', payload: { amount: 10 } }).thenRejects('account is not open');
    });

    it('given an open account, when depositing, then the balance grows', () => {
      const state = given(Account, [opened(), deposited(25)]).when({ type: 'deposit', payload: { amount: 10 } }).then([deposited(10)]);
      expect(state.balance).toBe(35);
    });

    it('given a balance near balanceMax, when a deposit would pass it, then it is rejected (#14 defect 8)', () => {
      const full = [opened(), ...Array.from({ length: 1_000 }, () => deposited(amountMax))];
      given(Account, full).when({ type: 'deposit', payload: { amount: 1 } }).thenRejects('balance limit reached');
      given(Account, full).when({ type: 'withdraw', payload: { amount: 1 } }).then([{ type: 'withdrew', data: { amount: 1 } }]);
      expect(1_000 * amountMax).toBe(balanceMax);
    });

    it('given a non-positive amount, then the payload is refused before deciding', () => {
      given(Account, [opened()]).when({ type: 'deposit', payload: { amount: 0 } }).thenThrows(InvalidPayloadError);
    });

    it('pays down a recorded overdraft', () => {
      const overdrawn = stateAfter(opened(), deposited(100), withdrew(80), withdrew(70), charged(60, 10));
      expect(overdrawn).toMatchObject({ balance: -60, overdrawn: 60, feesCharged: 10 });
      expect(fold(Account, overdrawn, records([deposited(25)]))).toMatchObject({ balance: -35, overdrawn: 35 });
      expect(fold(Account, overdrawn, records([deposited(100)]))).toMatchObject({ balance: 40, overdrawn: 0, feesCharged: 10 });
    });
  });

  describe('withdraw', () => {
    it('given an account that is not open, then it is rejected', () => {
      given(Account).when({ type: 'withdraw', payload: { amount: 1 } }).thenRejects('account is not open');
    });

    it('given too little money, then it is rejected with insufficient funds', () => {
      given(Account, [opened(), deposited(50)]).when({ type: 'withdraw', payload: { amount: 51 } }).thenRejects('insufficient funds');
    });

    it('given an overdrawn account, then every withdrawal is rejected', () => {
      given(Account, [opened(), withdrew(10), charged(20, 10)]).when({ type: 'withdraw', payload: { amount: 1 } }).thenRejects();
    });

    it('given enough money, when withdrawing all of it, then the balance is zero', () => {
      const state = given(Account, [opened(), deposited(50)]).when({ type: 'withdraw', payload: { amount: 50 } }).then([withdrew(50)]);
      expect(state.balance).toBe(0);
    });
  });

  describe('overdraftCharged (the compensation)', () => {
    it('subtracts the fee and sets the recorded overdraft from the balance', () => {
      const state = stateAfter(opened(), deposited(100), withdrew(80), withdrew(70));
      expect(state).toMatchObject({ balance: -50, overdrawn: 0 });
      expect(fold(Account, state, records([charged(60, 10)]))).toMatchObject({ balance: -60, overdrawn: 60, feesCharged: 10 });
    });

    it('sets the overdraft rather than adding to it: replayed before a deposit it records no stale debt', () => {
      // A merge computed -50 and charged; a later merge replays a concurrent deposit of 100 before it.
      const state = stateAfter(opened(), deposited(100), withdrew(80), withdrew(70), deposited(100), charged(60, 10));
      expect(state).toMatchObject({ balance: 40, overdrawn: 0, feesCharged: 10 });
    });
  });
});

describe('Account.onMerge', () => {
  it('emits nothing when the merged balance is not negative', () => {
    expect(Account.onMerge!(stateAfter(opened(), deposited(100), withdrew(30), withdrew(70)), mergeContext())).toEqual([]);
    expect(Account.onMerge!(stateAfter(), mergeContext())).toEqual([]);
  });

  it('records a negative merged balance once, with the fee', () => {
    const merged = stateAfter(opened(), deposited(100), withdrew(80), withdrew(70));
    const emitted = Account.onMerge!(merged, mergeContext());
    expect(emitted).toEqual([charged(50 + overdraftFee, overdraftFee)]);
    const after = fold(Account, merged, records(emitted));
    expect(after).toMatchObject({ balance: -60, overdrawn: 60, feesCharged: overdraftFee });
    expect(unrecordedOverdraft(after)).toBe(0);
  });

  it('emits nothing for a state that already records the same overdraft (re-merge)', () => {
    const merged = stateAfter(opened(), deposited(100), withdrew(80), withdrew(70));
    const compensated = fold(Account, merged, records(Account.onMerge!(merged, mergeContext())));
    expect(Account.onMerge!(compensated, mergeContext())).toEqual([]);
    // Paid down in part after the merge: still fully recorded, nothing to add.
    expect(Account.onMerge!(fold(Account, compensated, records([deposited(5)])), mergeContext())).toEqual([]);
  });

  it('records only the new part, without a second fee, when more was spent concurrently', () => {
    const state = stateAfter(opened(), deposited(100), withdrew(80), withdrew(70), charged(60, 10), withdrew(15));
    expect(state).toMatchObject({ balance: -75, overdrawn: 60 });
    const emitted = Account.onMerge!(state, mergeContext());
    expect(emitted).toEqual([charged(75, 0)]);
    expect(fold(Account, state, records(emitted))).toMatchObject({ balance: -75, overdrawn: 75, feesCharged: 10 });
  });

  it('is deterministic and idempotent over many random merged histories', () => {
    let seed = 42;
    const random = () => ((seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0) / 2 ** 32);
    for (let run = 0; run < 500; run++) {
      const events: AccountEvent[] = [opened()];
      for (let i = 0; i < 12; i++) {
        const amount = 1 + Math.floor(random() * 60);
        const pick = random();
        events.push(pick < 0.4 ? deposited(amount) : pick < 0.9 ? withdrew(amount) : charged(amount, pick < 0.95 ? 0 : overdraftFee));
      }
      const merged = stateAfter(...events);
      const emitted = overdraftCompensation(merged);
      expect(overdraftCompensation(merged)).toEqual(emitted);
      expect(emitted.length).toBe(merged.balance < 0 && merged.overdrawn < -merged.balance ? 1 : 0);
      const after = fold(Account, merged, records(emitted));
      expect(overdraftCompensation(after)).toEqual([]);
      expect(after.overdrawn).toBeGreaterThanOrEqual(0);
      expect(after.overdrawn).toBe(Math.max(0, -after.balance));
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Through the runtime: validation, rejections, partitions.

const running: Runtime[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((rt) => rt.stop()));
});

function replica(replicaId: string, machineId: number, clock: ManualClock): Runtime {
  const rt = createRuntime({ actors: bankActors, replicaId, machineId, clock, store: new MemoryStore() });
  running.push(rt);
  return rt;
}

describe('Account through runtime.send', () => {
  const invalid: [command: 'open' | 'deposit' | 'withdraw', payload: unknown, reason: string][] = [
    ['open', undefined, "payload must be an object with 'owner'"],
    ['open', 'Alice', "payload must be an object with 'owner'"],
    ['open', {}, 'owner must be a non-empty string'],
    ['open', { owner: '   ' }, 'owner must be a non-empty string'],
    ['open', { owner: 42 }, 'owner must be a non-empty string'],
    ['open', { owner: 'x'.repeat(101) }, 'owner must be at most 100 characters'],
    ['open', { owner: 'Alice', iban: 'X' }, "unexpected field 'iban'"],
    ['deposit', null, "payload must be an object with 'amount'"],
    ['deposit', [10], "payload must be an object with 'amount'"],
    ['deposit', { amount: 0 }, 'amount must be a whole number of cents from 1 to 1000000000000'],
    ['deposit', { amount: -5 }, 'amount must be a whole number of cents from 1 to 1000000000000'],
    ['deposit', { amount: Number.NaN }, 'amount must be a whole number of cents from 1 to 1000000000000'],
    ['deposit', { amount: Number.POSITIVE_INFINITY }, 'amount must be a whole number of cents from 1 to 1000000000000'],
    ['deposit', { amount: '10' }, 'amount must be a whole number of cents from 1 to 1000000000000'],
    ['withdraw', {}, 'amount must be a whole number of cents from 1 to 1000000000000'],
    ['withdraw', { amount: 0 }, 'amount must be a whole number of cents from 1 to 1000000000000'],
    ['withdraw', { amount: -1 }, 'amount must be a whole number of cents from 1 to 1000000000000'],
    ['withdraw', { amount: 10, amout: 10 }, "unexpected field 'amout'"],
    // #14 defect 8: amounts are bounded integer cents (two deposits of 1e308 made the balance Infinity).
    ['deposit', { amount: 1e308 }, 'amount must be a whole number of cents from 1 to 1000000000000'],
    ['deposit', { amount: 1_000_000_000_001 }, 'amount must be a whole number of cents from 1 to 1000000000000'],
    ['deposit', { amount: 10.5 }, 'amount must be a whole number of cents from 1 to 1000000000000'],
    ['withdraw', { amount: 2 ** 53 }, 'amount must be a whole number of cents from 1 to 1000000000000'],
  ];

  it.each(invalid)('%s %j is an InvalidPayloadError: %s (nothing persisted)', async (command, payload, reason) => {
    const rt = replica('local', 1, new ManualClock());
    const error = await rt.send(ref, { type: command, payload } as never).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidPayloadError);
    expect(error).toMatchObject({ code: 'INVALID_PAYLOAD', actorType: 'account', command, reason });
    expect((error as Error).message).toBe(`invalid payload for account.${command}: ${reason}`);
    expect(await rt.store.heads(ref)).toEqual([]);
  });

  it('given a new account, when opened, funded and spent, then replies carry versions and events', async () => {
    const clock = new ManualClock();
    const rt = replica('eu', 1, clock);
    const open = await rt.send(ref, { type: 'open', payload: { owner: 'Alice' } });
    expect(open).toMatchObject({ status: 'accepted', version: { eu: 1 }, events: [{ type: 'opened', data: { owner: 'Alice' }, replica: 'eu' }] });
    clock.advance(1);
    expect(await rt.send(ref, { type: 'deposit', payload: { amount: 100 } })).toMatchObject({ status: 'accepted', version: { eu: 2 } });
    clock.advance(1);
    expect(await rt.send(ref, { type: 'withdraw', payload: { amount: 60 } })).toMatchObject({
      status: 'accepted',
      version: { eu: 3 },
      events: [{ type: 'withdrew', data: { amount: 60 } }],
    });
    expect(await rt.inspect<AccountState>(ref)).toEqual({
      version: { eu: 3 },
      state: { open: true, owner: 'Alice', balance: 40, overdrawn: 0, feesCharged: 0 },
      heads: 1,
    });
  });

  it('returns rejected replies for domain refusals and persists nothing', async () => {
    const rt = replica('eu', 1, new ManualClock());
    expect(await rt.send(ref, { type: 'deposit', payload: { amount: 5 } })).toMatchObject({ status: 'rejected', reason: 'account is not open' });
    expect(await rt.send(ref, { type: 'withdraw', payload: { amount: 5 } })).toMatchObject({ status: 'rejected', reason: 'account is not open' });
    expect(await rt.store.heads(ref)).toEqual([]);
    await rt.send(ref, { type: 'open', payload: { owner: 'Alice' } });
    await rt.send(ref, { type: 'deposit', payload: { amount: 10 } });
    expect(await rt.send(ref, { type: 'open', payload: { owner: 'Bob' } })).toMatchObject({ status: 'rejected', reason: 'account is already open' });
    expect(await rt.send(ref, { type: 'withdraw', payload: { amount: 11 } })).toMatchObject({ status: 'rejected', reason: 'insufficient funds' });
    const view = await rt.inspect<AccountState>(ref);
    expect(view.version).toEqual({ eu: 2 });
    expect(view.state).toMatchObject({ owner: 'Alice', balance: 10 });
  });

  it('a retried command id applies once', async () => {
    const rt = replica('eu', 1, new ManualClock());
    await rt.send(ref, { type: 'open', payload: { owner: 'Alice' }, commandId: 'open-1' });
    await rt.send(ref, { type: 'deposit', payload: { amount: 10 }, commandId: 'dep-1' });
    const again = await rt.send(ref, { type: 'deposit', payload: { amount: 10 }, commandId: 'dep-1' });
    expect(again).toMatchObject({ status: 'accepted', duplicate: true, version: { eu: 2 } });
    expect((await rt.inspect<AccountState>(ref)).state.balance).toBe(10);
  });
});

/** Three replicas with a link between each pair, an account funded with 100 everywhere, then all cut. */
async function threeReplicasPartitioned() {
  const clock = new ManualClock(1_700_000_000_000);
  const [a, b, c] = [replica('a', 1, clock), replica('b', 2, clock), replica('c', 3, clock)] as const;
  const ab = new ReplicationLink(a, b);
  const ac = new ReplicationLink(a, c);
  const bc = new ReplicationLink(b, c);
  const settleAll = async () => {
    for (let i = 0; i < 3; i++) for (const link of [ab, ac, bc]) await link.settle();
  };
  const send = async (rt: Runtime, command: CommandOf<typeof Account>) => {
    clock.advance(3);
    const reply = await rt.send(ref, command);
    expect(reply.status).toBe('accepted');
    return reply;
  };
  await send(a, { type: 'open', payload: { owner: 'Alice' } });
  await send(a, { type: 'deposit', payload: { amount: 100 } });
  await settleAll();
  for (const link of [ab, ac, bc]) link.partition();
  return { clock, a, b, c, ab, ac, bc, settleAll, send };
}

async function expectConverged(replicas: readonly Runtime[]) {
  const views = await Promise.all(replicas.map((rt) => rt.inspect<AccountState>(ref)));
  for (const rt of replicas) expect(await rt.store.heads(ref)).toHaveLength(1);
  for (const view of views) {
    expect(VC.encode(view.version!)).toBe(VC.encode(views[0]!.version!));
    expect(view.state).toEqual(views[0]!.state);
  }
  const history = await linearHistory(replicas[0]!.store, ref);
  expect(fold(Account, Account.initial(), history)).toEqual(views[0]!.state);
  return { view: views[0]!, history };
}

const compensationsIn = (history: readonly EventRecord[]) => history.filter((e) => e.type === 'overdraftCharged');

describe('Account across a partition', () => {
  it('merges concurrent spending that stays covered without any compensation', async () => {
    const { a, b, ab, send } = await threeReplicasPartitioned();
    await send(a, { type: 'withdraw', payload: { amount: 30 } });
    await send(b, { type: 'withdraw', payload: { amount: 40 } });
    ab.heal();
    await ab.settle();
    const { view, history } = await expectConverged([a, b]);
    expect(view.state).toMatchObject({ balance: 30, overdrawn: 0, feesCharged: 0 });
    expect(compensationsIn(history)).toEqual([]);
  });

  it('converges to one compensation however three branches are grouped', async () => {
    const { a, b, c, ab, ac, bc, settleAll, send } = await threeReplicasPartitioned();
    const spent = [await send(a, { type: 'withdraw', payload: { amount: 60 } }), await send(b, { type: 'withdraw', payload: { amount: 60 } }), await send(c, { type: 'withdraw', payload: { amount: 60 } })];

    // What merging all three branches at once gives, computed on a store holding only them.
    const allAtOnce = new MemoryStore();
    for (const rt of [a, b, c]) await copyAll(rt.store, allAtOnce);
    const heads = await allAtOnce.heads(ref);
    expect(heads).toHaveLength(3);
    const direct = await computeMerge(allAtOnce, Account, ref, heads);

    // Here: {a, b} first (balance -20: compensated), then with c.
    ab.heal();
    await ab.settle();
    const first = await a.inspect<AccountState>(ref);
    expect(first.state).toMatchObject({ balance: -30, overdrawn: 30, feesCharged: overdraftFee });
    ac.heal();
    bc.heal();
    await settleAll();

    const { view, history } = await expectConverged([a, b, c]);
    expect(view.state).toMatchObject({ balance: -90, overdrawn: 90, feesCharged: overdraftFee });
    expect(VC.encode(view.version!)).toBe(VC.encode(direct.pack.version));
    expect(view.state).toEqual(direct.state);
    const compensations = compensationsIn(history);
    expect(compensations).toHaveLength(1);
    expect(compensations.map((e) => e.id)).toEqual(direct.compensations.map((e) => e.id));
    // No acknowledged withdrawal lost or applied twice.
    for (const reply of spent) {
      if (reply.status !== 'accepted') throw new Error('unreachable');
      for (const event of reply.events) expect(history.filter((e) => e.id === event.id)).toHaveLength(1);
    }
  });

  it('does not compensate again when a later merge replays an earlier compensation', async () => {
    const { a, b, c, ab, ac, bc, settleAll, send, clock } = await threeReplicasPartitioned();
    await send(c, { type: 'deposit', payload: { amount: 10 } });
    await send(a, { type: 'withdraw', payload: { amount: 80 } });
    await send(b, { type: 'withdraw', payload: { amount: 70 } });
    ab.heal();
    await ab.settle();
    expect((await a.inspect<AccountState>(ref)).state).toMatchObject({ balance: -60, overdrawn: 60, feesCharged: 10 });
    // A command on top of that merge: the merge (and its compensation) is now in a's causal past.
    clock.advance(3);
    expect(await a.send(ref, { type: 'deposit', payload: { amount: 5 } })).toMatchObject({ status: 'accepted' });
    ac.heal();
    bc.heal();
    await settleAll();

    const { view, history } = await expectConverged([a, b, c]);
    expect(view.state).toMatchObject({ balance: -45, overdrawn: 45, feesCharged: 10 });
    expect(compensationsIn(history)).toHaveLength(1);
  });

  it('records a further concurrent overdraft found by a later merge without a second fee', async () => {
    const { a, b, c, ab, ac, bc, settleAll, send, clock } = await threeReplicasPartitioned();
    await send(a, { type: 'withdraw', payload: { amount: 80 } });
    await send(b, { type: 'withdraw', payload: { amount: 70 } });
    await send(c, { type: 'withdraw', payload: { amount: 10 } });
    ab.heal();
    await ab.settle();
    clock.advance(3);
    await a.send(ref, { type: 'deposit', payload: { amount: 5 } });
    ac.heal();
    bc.heal();
    await settleAll();

    const { view, history } = await expectConverged([a, b, c]);
    // 100 - 80 - 70 - 10 - fee 10 + 5
    expect(view.state).toMatchObject({ balance: -65, overdrawn: 65, feesCharged: 10 });
    expect(compensationsIn(history).map((e) => e.data)).toEqual([
      { overdrawn: 60, fee: 10 },
      { overdrawn: 65, fee: 0 },
    ]);
  });
});

describe('Account across a partition: client retries and independent openings', () => {
  it('a withdrawal retried with the same command id on the other replica is applied once', async () => {
    const { a, b, ab, send } = await threeReplicasPartitioned();
    await send(a, { type: 'withdraw', payload: { amount: 60 }, commandId: 'pay-rent' });
    // The client timed out on a and retried the same command at b.
    await send(b, { type: 'withdraw', payload: { amount: 60 }, commandId: 'pay-rent' });
    ab.heal();
    await ab.settle();
    const { view, history } = await expectConverged([a, b]);
    expect(view.state).toMatchObject({ balance: 40, overdrawn: 0, feesCharged: 0 });
    expect(history.filter((e) => e.causationId === 'pay-rent')).toHaveLength(1);
    expect(compensationsIn(history)).toEqual([]);
  });

  it('an account opened on both sides of a partition (no common ancestor) keeps the first owner and all money', async () => {
    const clock = new ManualClock(1_700_000_000_000);
    const [a, b] = [replica('a', 1, clock), replica('b', 2, clock)];
    const link = new ReplicationLink(a, b);
    link.partition();
    for (const [rt, owner, amount] of [[a, 'Alice', 10], [b, 'Bob', 20]] as const) {
      clock.advance(2);
      await rt.send(ref, { type: 'open', payload: { owner } });
      clock.advance(2);
      await rt.send(ref, { type: 'deposit', payload: { amount } });
    }
    link.heal();
    await link.settle();
    const { view, history } = await expectConverged([a, b]);
    expect(view.state).toEqual({ open: true, owner: 'Alice', balance: 30, overdrawn: 0, feesCharged: 0 });
    expect(history.map((e) => e.type)).toEqual(['opened', 'deposited', 'opened', 'deposited']);
  });
});

describe('the demo scenario', () => {
  it('converges, keeps every acknowledged withdrawal and compensates exactly once', async () => {
    const result = await runBankScenario();
    expect(result.checks.filter((c) => !c.ok)).toEqual([]);
    expect(result.ok).toBe(true);

    const [eu, us] = result.final;
    expect(eu!.heads).toBe(1);
    expect(us!.heads).toBe(1);
    expect(VC.encode(eu!.version!)).toBe(VC.encode(us!.version!));
    expect(eu!.version).toEqual({ eu: 3, us: 2 });
    expect(us!.state).toEqual(eu!.state);
    expect(eu!.state).toEqual({ open: true, owner: 'Alice', balance: -30, overdrawn: 30, feesCharged: overdraftFee });

    // Both withdrawals made during the partition were acknowledged; the third was refused locally.
    const withdrawals = result.steps.filter((s) => s.command.type === 'withdraw');
    expect(withdrawals.map((s) => s.reply.status)).toEqual(['accepted', 'accepted', 'rejected']);
    const ids = result.history.map((e) => e.id);
    for (const step of result.steps) {
      if (step.reply.status !== 'accepted') continue;
      for (const event of step.reply.events) expect(ids.filter((id) => id === event.id)).toHaveLength(1);
    }
    expect(compensationsIn(result.history)).toHaveLength(1);
    expect(result.merge.eu!.compensations).toHaveLength(1);
    expect(result.merge.us!.compensations.map((e) => e.id)).toEqual(result.merge.eu!.compensations.map((e) => e.id));

    // The branches were seen before the heal, and the merge matched the preview.
    expect(result.divergence.heads).toBe(2);
    expect(result.divergence.ancestor).toEqual({ eu: 2 });
    expect(result.divergence.branches.map((b) => [b.replica, b.events.map((e) => e.type)]).sort()).toEqual([
      ['eu', ['withdrew']],
      ['us', ['withdrew', 'deposited']],
    ]);
    expect(result.divergence.preview.version).toEqual(eu!.version);
    expect(result.settledAfterHeal.resolutions).toHaveLength(1);
  });

  it('prints the same story on every run', async () => {
    const first = formatScenario(await runBankScenario());
    const second = formatScenario(await runBankScenario());
    expect(second).toBe(first);
    expect(first).toContain('REJECTED: insufficient funds');
    expect(first).toContain('overdraftCharged');
    expect(first).toContain('The replicas converged');
    expect(first).not.toContain('FAIL');
  });
});
