import { type AnyActorDefinition, type EventRecord, type Pack, type VectorClock, defineActor } from '@troupe/runtime';
import { makeEvent, makePack } from '@troupe/runtime/testkit';
import { describe, expect, it } from 'vitest';
import { canonical } from './canonical.js';
import { OrderingOracle, clockKey } from './oracle/index.js';
import { lcg } from './testing/lcg.js';
import { PlainRules } from './testing/plainRules.js';

/**
 * oracleRules.unit.spec.ts holds the oracle's command heads, cuts and ancestries to the plain
 * rules; this holds its states and merges to them: the packs after the cut on any branch, the
 * duplicate copies dropped, the replay order, the branches `onMerge` is given, the compensations
 * and the states, written the plain way (key sets, filters, sorts, nothing kept between calls),
 * on random histories with events (ts and id ties, a command id applied on two branches, replica
 * ids that are prefixes of each other, zero clock entries, merges at wrong versions, a missing
 * parent), asked in random orders (the oracle keeps states, cuts and merges between calls).
 */
type S = { value: number; ids: string[] };
const Mixer = defineActor({
  type: 'mixer',
  initial: (): S => ({ value: 0, ids: [] }),
  commands: { add: (_s: S, p: { n: number }) => [{ type: 'added' as const, data: { n: p.n } }] },
  events: {
    added: (s: S, d: { n: number }, e: EventRecord): S => ({ value: (s.value * 3 + d.n) % 1_000_003, ids: [...s.ids, e.id] }),
    fixed: (s: S, d: { n: number }, e: EventRecord): S => ({ value: s.value - d.n, ids: [...s.ids, e.id] }),
  },
  // Reads everything it is given: a wrong ancestor state, replay or branch changes what it emits.
  onMerge: (merged: S, ctx: { ancestorState: S; replayed: readonly EventRecord[]; branches: readonly (readonly EventRecord[])[] }) =>
    merged.value % 3 === 0 ? [] : [{ type: 'fixed' as const, data: { n: ctx.ancestorState.value + 7 * ctx.replayed.length + ctx.branches.map((b) => b.map((e) => e.id).join('.')).join('|').length } }],
  snapshotEvery: 5,
}) as unknown as AnyActorDefinition;

const actor = { type: 'mixer', id: 'x' };

function randomHistory(seed: number): Pack[] {
  const rand = lcg(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rand() * items.length)]!;
  const replicas = ['r1', 'r10', 'r1x', 'b'];
  const packs: Pack[] = [];
  const known = new Set<string>();
  const commandIds: string[] = [];
  let ids = 0;
  const add = (pack: Pack) => {
    if (known.has(clockKey(pack.version))) return;
    known.add(clockKey(pack.version));
    packs.push(pack);
  };
  const command = (version: VectorClock, parents: VectorClock[]) => {
    // Now and then a command applied again (a retry accepted on another branch).
    const again = commandIds.length > 0 && rand() < 0.2;
    const commandId = again ? pick(commandIds) : `c${commandIds.length}`;
    if (!again) commandIds.push(commandId);
    const ts = 1_000 + Math.floor(rand() * 4);
    const events = Array.from({ length: Math.floor(rand() * 3) }, () =>
      makeEvent(actor, { id: String(rand() < 0.1 ? 5 : ids++).padStart(6, '0'), type: 'added', data: { n: Math.floor(rand() * 9) }, ts, replica: pick(replicas), causationId: commandId }),
    );
    add(makePack({ actor, version, parents, events, commandIds: [commandId], ts }));
  };
  for (let n = 0; n < 35; n++) {
    const r = rand();
    if (packs.length === 0 || r < 0.06) command(rand() < 0.5 ? { [pick(replicas)]: 1 } : { r1: 1, b: 0 }, []);
    else if (r < 0.72) {
      const parent = pick(packs);
      const replica = pick(replicas);
      command({ ...parent.version, [replica]: (parent.version[replica] ?? 0) + 1 }, [parent.version]);
    } else {
      const heads = [pick(packs), pick(packs), ...(rand() < 0.3 ? [pick(packs)] : [])];
      const version: Record<string, number> = {};
      for (const h of heads) for (const [replica, counter] of Object.entries(h.version)) version[replica] = Math.max(version[replica] ?? 0, counter);
      // Now and then at a version that is not the heads' maximum.
      if (rand() < 0.3) version[pick(replicas)] = (version[pick(replicas)] ?? 0) + 1;
      add(makePack({ actor, kind: 'merge', version, parents: heads.map((h) => h.version), events: [], state: {} }));
    }
  }
  if (rand() < 0.2) add(makePack({ actor, version: { z: 9 }, parents: [{ y: 1 }] }));
  // Given in any order.
  for (let i = packs.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [packs[i], packs[j]] = [packs[j]!, packs[i]!];
  }
  return packs;
}

const attempt = (f: () => unknown): string => {
  try {
    return canonical(f() ?? null);
  } catch (error) {
    return `throws ${(error as Error).message}`;
  }
};

describe('the ordering oracle merges by its rules exactly', () => {
  it('states, merges of merge packs and of any heads as the plain rules give them, asked in any order', () => {
    let merges = 0;
    let compensated = 0;
    for (let seed = 1; seed <= 150; seed++) {
      const packs = randomHistory(seed);
      const plain = new PlainRules(Mixer, packs);
      const rand = lcg(seed * 13);
      const keys = packs.map((p) => clockKey(p.version));
      const questions: { name: string; ask: (o: OrderingOracle | PlainRules) => unknown }[] = [];
      for (const [n, key] of keys.entries()) {
        questions.push({ name: `state at ${key}`, ask: (o) => o.stateAt(key) });
        if (packs[n]!.kind === 'merge') questions.push({ name: `merge at ${key}`, ask: (o) => (o instanceof OrderingOracle ? o.mergeAt(key) : o.merge(o.commandHeadsAt(packs[n]!.version))) });
      }
      for (let n = 0; n < 15; n++) {
        const heads = Array.from({ length: 1 + Math.floor(rand() * 3) }, () => keys[Math.floor(rand() * keys.length)]!);
        questions.push({ name: `merge of ${heads.join(' ')}`, ask: (o) => o.merge(heads) });
      }
      const expected = new Map(questions.map((q) => [q, attempt(() => q.ask(plain))]));
      for (let round = 0; round < 2; round++) {
        for (let i = questions.length - 1; i > 0; i--) {
          const j = Math.floor(rand() * (i + 1));
          [questions[i], questions[j]] = [questions[j]!, questions[i]!];
        }
        const oracle = new OrderingOracle(Mixer, packs);
        for (const q of questions) {
          const answer = expected.get(q)!;
          expect(attempt(() => q.ask(oracle)), `seed ${seed} round ${round}: ${q.name}`).toBe(answer);
          if (q.name.startsWith('merge') && !answer.startsWith('throws')) {
            merges++;
            if (answer.includes('"fixed"')) compensated++;
          }
        }
      }
    }
    expect(merges).toBeGreaterThan(1_000);
    expect(compensated).toBeGreaterThan(200);
  });
});
