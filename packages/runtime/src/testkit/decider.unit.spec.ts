import { AssertionError } from 'node:assert';
import { describe, expect, it } from 'vitest';
import { type DecideContext, defineActor, reject } from '../actor/index.js';
import { CorruptDataError, InvalidDecisionError, InvalidPayloadError, UnknownCommandError } from '../errors/index.js';
import { deciderContextDefaults, given } from './decider.js';

interface Wallet {
  readonly balance: number;
  readonly owner: string | null;
  readonly log: readonly string[];
}

let decisions = 0;

const Wallet = defineActor({
  type: 'wallet',
  initial: (): Wallet => ({ balance: 0, owner: null, log: [] }),
  commands: {
    open: (s, p: { owner: string }) => (s.owner === null ? [{ type: 'opened', data: { owner: p.owner } }] : reject('already open')),
    spend: (s, p: { amount: number }) => {
      decisions++;
      return s.balance >= p.amount ? [{ type: 'spent', data: { amount: p.amount } }] : reject(`only ${s.balance} left`);
    },
    stamp: (_s, _p: Record<string, never>, ctx: DecideContext) => [{ type: 'stamped', data: { ...ctx } }],
    // Deliberately broken deciders, to show the kit catches what the runtime would refuse.
    broken: () => 'not a decision' as never,
    unknownEvent: () => [{ type: 'vanished', data: {} }] as never,
    prototypeEvent: () => [{ type: 'constructor', data: {} }] as never,
    explode: () => {
      throw new RangeError('decider bug');
    },
    mutateState: (s) => {
      (s.log as string[]).push('mutated');
      return [];
    },
    mutatePayload: (_s, p: { tags: string[] }) => {
      p.tags.push('mutated');
      return [];
    },
    poison: () => [{ type: 'poisoned', data: {} }],
    noop: () => [],
  },
  events: {
    opened: (s, d: { owner: string }) => ({ ...s, owner: d.owner, log: [...s.log, 'opened'] }),
    spent: (s, d: { amount: number }) => ({ ...s, balance: s.balance - d.amount, log: [...s.log, 'spent'] }),
    funded: (s, d: { amount: number }) => ({ ...s, balance: s.balance + d.amount, log: [...s.log, 'funded'] }),
    stamped: (s, _d: DecideContext) => s,
    poisoned: (): Wallet => {
      throw new Error('handler bug');
    },
  },
  validate: {
    spend: (p) => (typeof (p as { amount?: unknown })?.amount === 'number' && (p as { amount: number }).amount > 0 ? undefined : 'amount must be positive'),
  },
});

const funded = (amount: number) => ({ type: 'funded', data: { amount } }) as const;
const opened = { type: 'opened', data: { owner: 'Ann' } } as const;

/** Runs `fn`, expects it to throw node's AssertionError, and returns its message. */
function failure(fn: () => unknown): string {
  let thrown: unknown;
  try {
    fn();
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(AssertionError);
  return (thrown as AssertionError).message;
}

describe('decider kit: given(...).when(...).then...', () => {
  describe('given', () => {
    it('folds the given events from initial() through the event handlers', () => {
      expect(given(Wallet).state).toEqual({ balance: 0, owner: null, log: [] });
      expect(given(Wallet, [opened, funded(10), funded(5)]).state).toEqual({ balance: 15, owner: 'Ann', log: ['opened', 'funded', 'funded'] });
    });

    it('refuses a given event the definition has no handler for', () => {
      expect(() => given(Wallet, [{ type: 'vanished', data: {} } as never])).toThrow(CorruptDataError);
    });
  });

  describe('then(events)', () => {
    it('passes when the decider emits exactly those events, and returns the state after them', () => {
      const state = given(Wallet, [opened, funded(10)]).when({ type: 'spend', payload: { amount: 4 } }).then([{ type: 'spent', data: { amount: 4 } }]);
      expect(state).toEqual({ balance: 6, owner: 'Ann', log: ['opened', 'funded', 'spent'] });
    });

    it('passes for a decider that emits nothing when [] is expected', () => {
      expect(given(Wallet, [funded(2)]).when({ type: 'noop', payload: {} }).then([])).toEqual({ balance: 2, owner: null, log: ['funded'] });
    });

    it('fails with a diff naming the command when other events were emitted', () => {
      const message = failure(() =>
        given(Wallet, [funded(10)]).when({ type: 'spend', payload: { amount: 4 } }).then([{ type: 'spent', data: { amount: 5 } }]),
      );
      expect(message).toContain('wallet.spend emitted other events than expected');
      expect(message).toMatch(/\+ actual - expected/);
      expect(message).toContain('amount: 4');
      expect(message).toContain('amount: 5');
    });

    it('fails when the decider emitted more or fewer events than expected', () => {
      failure(() => given(Wallet, [funded(10)]).when({ type: 'spend', payload: { amount: 4 } }).then([]));
      failure(() =>
        given(Wallet, [funded(10)])
          .when({ type: 'spend', payload: { amount: 4 } })
          .then([{ type: 'spent', data: { amount: 4 } }, { type: 'spent', data: { amount: 4 } }]),
      );
    });

    it('fails saying why when the command was rejected instead', () => {
      const message = failure(() => given(Wallet).when({ type: 'spend', payload: { amount: 4 } }).then([{ type: 'spent', data: { amount: 4 } }]));
      expect(message).toBe("expected wallet.spend to emit events, but it was rejected: 'only 0 left'");
    });

    it('fails with the error as cause when deciding threw', () => {
      let thrown: unknown;
      try {
        given(Wallet).when({ type: 'explode', payload: {} }).then([]);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(AssertionError);
      expect((thrown as Error).message).toBe('expected wallet.explode to emit events, but it threw RangeError: decider bug');
      expect((thrown as Error).cause).toBeInstanceOf(RangeError);
    });
  });

  describe('thenRejects(reason?)', () => {
    it('passes on reject(reason), for any reason, that exact reason or a matching pattern, and returns it', () => {
      const spend = given(Wallet, [funded(3)]).when({ type: 'spend', payload: { amount: 4 } });
      expect(spend.thenRejects()).toBe('only 3 left');
      expect(spend.thenRejects('only 3 left')).toBe('only 3 left');
      expect(spend.thenRejects(/only \d+ left/)).toBe('only 3 left');
    });

    it('fails on another reason, showing both', () => {
      const spend = given(Wallet, [funded(3)]).when({ type: 'spend', payload: { amount: 4 } });
      const message = failure(() => spend.thenRejects('insufficient funds'));
      expect(message).toContain('wallet.spend was rejected for another reason than expected');
      expect(message).toContain("'only 3 left'");
      expect(message).toContain("'insufficient funds'");
      expect(failure(() => spend.thenRejects(/funds/))).toBe("wallet.spend was rejected for another reason than expected: 'only 3 left' does not match /funds/");
    });

    it('fails when the command was accepted, listing what it emitted', () => {
      const message = failure(() => given(Wallet, [funded(10)]).when({ type: 'spend', payload: { amount: 4 } }).thenRejects());
      expect(message).toBe("expected wallet.spend to be rejected, but it emitted [ { type: 'spent', data: { amount: 4 } } ]");
    });
  });

  describe('thenThrows(ErrorClass?)', () => {
    it('an unknown command is an UnknownCommandError', () => {
      const error = given(Wallet).when({ type: 'steal', payload: {} } as never).thenThrows(UnknownCommandError);
      expect(error.code).toBe('UNKNOWN_COMMAND');
      given(Wallet).when({ type: 'toString', payload: {} } as never).thenThrows(UnknownCommandError);
    });

    it('a payload the validator refuses is an InvalidPayloadError, and the decider never runs', () => {
      decisions = 0;
      const error = given(Wallet, [funded(10)]).when({ type: 'spend', payload: { amount: -1 } }).thenThrows(InvalidPayloadError);
      expect(error).toMatchObject({ code: 'INVALID_PAYLOAD', actorType: 'wallet', command: 'spend', reason: 'amount must be positive' });
      expect(decisions).toBe(0);
      given(Wallet).when({ type: 'spend', payload: { amount: 1n } as never }).thenThrows(InvalidPayloadError);
    });

    it('a decision that is neither events nor reject(), or an event of an undeclared type, is an InvalidDecisionError', () => {
      expect(given(Wallet).when({ type: 'broken', payload: {} }).thenThrows(InvalidDecisionError).code).toBe('INVALID_DECISION');
      expect(given(Wallet).when({ type: 'unknownEvent', payload: {} }).thenThrows(InvalidDecisionError).message).toContain("'vanished'");
      expect(given(Wallet).when({ type: 'prototypeEvent', payload: {} }).thenThrows(InvalidDecisionError).message).toContain("'constructor'");
    });

    it('an exception in the decider or in the handler of an emitted event is what it throws', () => {
      expect(given(Wallet).when({ type: 'explode', payload: {} }).thenThrows(RangeError).message).toBe('decider bug');
      expect(given(Wallet).when({ type: 'poison', payload: {} }).thenThrows().message).toBe('handler bug');
    });

    it('a decider that mutates its state or its payload throws (both are frozen)', () => {
      given(Wallet, [opened]).when({ type: 'mutateState', payload: {} }).thenThrows(TypeError);
      given(Wallet).when({ type: 'mutatePayload', payload: { tags: ['a'] } }).thenThrows(TypeError);
    });

    it('fails when nothing was thrown, or something of another class', () => {
      expect(failure(() => given(Wallet).when({ type: 'spend', payload: { amount: 1 } }).thenThrows())).toBe(
        "expected wallet.spend to throw, but it was rejected: 'only 0 left'",
      );
      expect(failure(() => given(Wallet).when({ type: 'explode', payload: {} }).thenThrows(InvalidPayloadError))).toBe(
        'expected wallet.explode to throw InvalidPayloadError, but it threw RangeError: decider bug',
      );
    });
  });

  describe('types', () => {
    it('checks given events, commands and expected events against the definition at compile time', () => {
      // @ts-expect-error: 'funded' carries { amount: number }
      expect(() => given(Wallet, [{ type: 'funded', data: { amount: 'x' } }])).not.toThrow();
      // @ts-expect-error: no such command
      given(Wallet).when({ type: 'steal', payload: {} }).thenThrows(UnknownCommandError);
      // @ts-expect-error: spend takes { amount: number }
      given(Wallet).when({ type: 'spend', payload: { amount: '1' } }).thenThrows(InvalidPayloadError);
      // @ts-expect-error: 'spent' carries { amount: number }
      failure(() => given(Wallet, [funded(9)]).when({ type: 'spend', payload: { amount: 1 } }).then([{ type: 'spent', data: {} }]));
      const state: Wallet = given(Wallet, [funded(9)]).when({ type: 'spend', payload: { amount: 1 } }).then([{ type: 'spent', data: { amount: 1 } }]);
      expect(state.balance).toBe(8);
    });
  });

  describe('the decide context and determinism', () => {
    it('deciders see a fixed context: the definition type with id "test", a fixed clock and replica; the command id when given', () => {
      const base = { actor: { type: 'wallet', id: 'test' }, commandId: deciderContextDefaults.commandId, now: deciderContextDefaults.now, replica: 'test' };
      given(Wallet).when({ type: 'stamp', payload: {} }).then([{ type: 'stamped', data: base }]);
      given(Wallet).when({ type: 'stamp', payload: {}, commandId: 'c-7' }).then([{ type: 'stamped', data: { ...base, commandId: 'c-7' } }]);
      given(Wallet, [], { context: { now: 5, replica: 'eu' } })
        .when({ type: 'stamp', payload: {} })
        .then([{ type: 'stamped', data: { ...base, now: 5, replica: 'eu' } }]);
    });

    it('hands event handlers records as the runtime writes them: ids in order after the given ones, one ts, the command as cause', () => {
      const Trail = defineActor({
        type: 'trail',
        initial: () => ({ seen: [] as string[] }),
        commands: { note: () => [{ type: 'noted', data: {} }, { type: 'noted', data: {} }] },
        events: { noted: (s, _d: Record<string, never>, e) => ({ seen: [...s.seen, `${e.id.slice(-2)} ${e.causationId} ${e.ts - deciderContextDefaults.now}`] }) },
      });
      const state = given(Trail, [{ type: 'noted', data: {} }])
        .when({ type: 'note', payload: {}, commandId: 'c-1' })
        .then([{ type: 'noted', data: {} }, { type: 'noted', data: {} }]);
      expect(state.seen).toEqual(['01 given-1 -1', '02 c-1 0', '03 c-1 0']);
    });

    it('a state holding a typed array (which cannot be frozen) is decided on as any other', () => {
      const Bytes = defineActor({
        type: 'bytes',
        initial: () => ({ raw: new Uint8Array([1, 2]) }),
        commands: { check: (s) => (s.raw.length === 2 ? [] : reject('bad')) },
        events: {},
      });
      given(Bytes).when({ type: 'check', payload: {} }).then([]);
    });

    it('decides once, however many then... calls follow', () => {
      decisions = 0;
      const spend = given(Wallet, [funded(1)]).when({ type: 'spend', payload: { amount: 4 } });
      expect(decisions).toBe(0);
      spend.thenRejects();
      spend.thenRejects('only 1 left');
      failure(() => spend.then([]));
      expect(decisions).toBe(1);
    });
  });
});
