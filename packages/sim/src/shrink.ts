import type { InvariantName } from './checkers/index.js';
import type { SimOptions } from './options.js';
import type { SimReport } from './report.js';
import type { Schedule, ScheduleFields, ScheduleStep } from './schedule.js';
import { type SimHooks, simulate } from './simulate.js';

export interface ShrinkLimits {
  /** Simulation runs allowed, the first (recording) run included. Default 300. */
  readonly maxRuns?: number;
  /** Wall-clock budget in ms; the best schedule so far is returned when it runs out. Default 20 000. */
  readonly timeBudgetMs?: number;
}

export interface ShrinkResult {
  /** 'passed': the run did not fail, nothing to shrink. 'shrunk': `schedule` still fails. */
  readonly status: 'passed' | 'shrunk';
  /** The invariant the original run violated and every kept candidate still violates (first failing, I1..I6). */
  readonly invariant?: InvariantName;
  /** Steps of the recorded schedule. */
  readonly originalSize: number;
  /** Steps of the shrunk schedule. */
  readonly size: number;
  /** The smallest failing schedule found. */
  readonly schedule: ScheduleStep[];
  /** Options that replay it: `simulate({ ...options, schedule })` (fewer replicas / ticks when those still failed). */
  readonly options: SimOptions & SimHooks;
  /** Simulation runs it took (the recording run included). */
  readonly runs: number;
  /** Why it stopped: the schedule is 1-minimal for the passes below, or a limit was hit. */
  readonly stoppedBy: 'minimal' | 'maxRuns' | 'timeBudget';
  readonly durationMs: number;
  /** The report of the shrunk schedule's run (the original run's when it passed). */
  readonly report: SimReport & ScheduleFields;
  readonly originalReport: SimReport & ScheduleFields;
}

const invariantNames: readonly InvariantName[] = ['I1', 'I2', 'I3', 'I4', 'I5', 'I6', 'I7', 'I8', 'I9'];

class OutOfBudget extends Error {
  constructor(readonly why: 'maxRuns' | 'timeBudget') {
    super(why);
  }
}

/**
 * Delta debugging of a failing run under its fixed seed. Records the run's schedule, then keeps
 * removing parts of it while the run still fails with the same violated invariant (or while
 * `isFailing` holds): ddmin over the steps (halves, quarters, ... single steps), every step of one
 * actor at once, one replica at once (then the run uses one replica fewer), and the empty ticks
 * before the first step and after the last. Bounded by `maxRuns` and `timeBudgetMs`.
 */
export async function shrink(
  options: SimOptions & SimHooks,
  isFailing?: (report: SimReport) => boolean,
  limits: ShrinkLimits = {},
): Promise<ShrinkResult> {
  const started = Date.now();
  const maxRuns = limits.maxRuns ?? 300;
  const deadline = started + (limits.timeBudgetMs ?? 20_000);
  const { schedule: given, recordSchedule: _, ...base } = options;
  let runs = 1;
  const original = given
    ? { ...(await simulate({ ...base, schedule: given })), schedule: [...given] }
    : await simulate({ ...base, recordSchedule: true });
  const originalSchedule = original.schedule!;
  const invariant = invariantNames.find((name) => !original.invariants[name].ok);
  const fails = isFailing ?? ((r: SimReport) => invariant !== undefined && !r.invariants[invariant].ok);
  const done = (status: ShrinkResult['status'], stoppedBy: ShrinkResult['stoppedBy'], best: Candidate): ShrinkResult => ({
    status,
    ...(invariant ? { invariant } : {}),
    originalSize: originalSchedule.length,
    size: best.schedule.length,
    schedule: best.schedule,
    options: { ...base, replicas: best.replicas, steps: best.steps },
    runs,
    stoppedBy,
    durationMs: Date.now() - started,
    report: best.report,
    originalReport: original,
  });
  let best: Candidate = { schedule: originalSchedule, replicas: original.options.replicas, steps: original.options.steps, report: original };
  if (!fails(original)) return done('passed', 'minimal', best);

  /** Runs a candidate; keeps it as the best when it still fails. */
  const attempt = async (schedule: ScheduleStep[], replicas = best.replicas, steps = best.steps): Promise<boolean> => {
    if (runs >= maxRuns) throw new OutOfBudget('maxRuns');
    if (Date.now() >= deadline) throw new OutOfBudget('timeBudget');
    runs++;
    let report: SimReport & ScheduleFields;
    try {
      report = await simulate({ ...base, replicas, steps, schedule });
    } catch {
      return false;
    }
    if (!fails(report)) return false;
    best = { schedule, replicas, steps, report };
    return true;
  };

  try {
    // Cheap big cuts first: empty ticks, whole replicas, whole actors; then ddmin over the steps.
    await trimTicks(best, attempt);
    for (let again = true; again; ) {
      again = false;
      for (let r = best.replicas - 1; r >= 0 && best.replicas > 2; r--) {
        if (await attempt(withoutReplica(best.schedule, r), best.replicas - 1)) again = true;
      }
      for (const actor of actorsOf(best.schedule)) {
        const candidate = withoutActor(best.schedule, actor);
        if (candidate.length < best.schedule.length && (await attempt(candidate))) again = true;
      }
      const before = best.schedule.length;
      await ddmin(() => best.schedule, attempt);
      await trimTicks(best, attempt);
      if (best.schedule.length < before) again = true;
    }
  } catch (error) {
    if (error instanceof OutOfBudget) return done('shrunk', error.why, best);
    throw error;
  }
  return done('shrunk', 'minimal', best);
}

interface Candidate {
  readonly schedule: ScheduleStep[];
  readonly replicas: number;
  readonly steps: number;
  readonly report: SimReport & ScheduleFields;
}

type Attempt = (schedule: ScheduleStep[], replicas?: number, steps?: number) => Promise<boolean>;

/** Removes chunks of the schedule (n = 2, 4, ... pieces, down to single steps) while it still fails. */
async function ddmin(current: () => ScheduleStep[], attempt: Attempt): Promise<void> {
  let n = 2;
  while (current().length >= 2) {
    const steps = current();
    const size = Math.ceil(steps.length / n);
    let removed = false;
    for (let start = 0; start < steps.length; start += size) {
      const complement = [...steps.slice(0, start), ...steps.slice(start + size)];
      if (await attempt(complement)) {
        removed = true;
        break;
      }
    }
    if (removed) n = Math.max(n - 1, 2);
    else if (n >= steps.length) return;
    else n = Math.min(n * 2, steps.length);
  }
  if (current().length === 1) await attempt([]);
}

/** Starts the steps at tick 0 (the empty ticks before only advance clocks) and ends the run right after the last. */
async function trimTicks(best: Candidate, attempt: Attempt): Promise<void> {
  const first = best.schedule.reduce((m, s) => Math.min(m, s.t), Number.POSITIVE_INFINITY);
  if (first > 0 && first !== Number.POSITIVE_INFINITY) {
    const shifted = best.schedule.map((s) => ({ ...s, t: s.t - first, ...(s.k === 'delay' ? { due: s.due - first } : {}) }) as ScheduleStep);
    await attempt(shifted, best.replicas, best.steps - first);
  }
  const last = best.schedule.reduce((m, s) => Math.max(m, s.t), -1);
  if (last + 1 < best.steps) await attempt(best.schedule, best.replicas, last + 1);
}

/** Every step that involves replica `r` removed, and the replicas after it renumbered. */
export function withoutReplica(schedule: Schedule, r: number): ScheduleStep[] {
  const shift = (i: number) => (i > r ? i - 1 : i);
  const out: ScheduleStep[] = [];
  for (const step of schedule) {
    switch (step.k) {
      case 'jitter':
        out.push({ ...step, ms: step.ms.filter((_, i) => i !== r) });
        break;
      case 'partition':
        if (step.link) {
          if (!step.link.includes(r)) out.push({ ...step, link: [shift(step.link[0]), shift(step.link[1])] });
        } else if (step.side && !step.side.includes(r)) out.push({ ...step, side: step.side.map(shift) });
        break;
      case 'heal':
        out.push(step);
        break;
      case 'clock':
      case 'crash':
      case 'send':
      case 'burst':
      case 'fault':
        if (step.r !== r) out.push({ ...step, r: shift(step.r) });
        break;
      default:
        if (step.from !== r && step.to !== r) out.push({ ...step, from: shift(step.from), to: shift(step.to) });
    }
  }
  return out;
}

const actorOf = (a: { type: string; id: string }) => `${a.type}/${a.id}`;

function actorsOf(schedule: Schedule): string[] {
  const keys = new Set<string>();
  for (const s of schedule) {
    if (s.k === 'send') keys.add(actorOf(s.actor));
    if (s.k === 'burst') for (const c of s.commands) keys.add(actorOf(c.actor));
  }
  return [...keys].sort();
}

/** Every command to one actor removed. */
export function withoutActor(schedule: Schedule, actor: string): ScheduleStep[] {
  return schedule.filter((s) => !((s.k === 'send' && actorOf(s.actor) === actor) || (s.k === 'burst' && s.commands.some((c) => actorOf(c.actor) === actor))));
}
