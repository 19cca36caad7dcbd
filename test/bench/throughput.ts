import { createRuntime, type Runtime } from '@troupe/runtime';
import { Counter, type CounterState, rawFoldOne } from './counter.js';
import { collectGarbage, settle, type Summary, summarize } from './stats.js';

export interface ThroughputOptions {
  readonly rounds: number;
  /** Commands per round, single actor awaited one by one. */
  readonly serialCommands: number;
  /** Commands per round, single actor, `window` in flight. */
  readonly pipelinedCommands: number;
  readonly window: number;
  /** Distinct actors; each round sends one command to each. */
  readonly actors: number;
  /** Rounds over the same live actors after the first (cold) one, per runtime. */
  readonly warmRounds: number;
  /** Commands folded per raw-baseline round (enough to last a few ms). */
  readonly rawCommands: number;
}

export interface ThroughputFigure {
  /** commands/s of the runtime, per round. */
  readonly runtime: Summary;
  /** commands/s of the raw in-process fold measured right before each runtime round. */
  readonly raw: Summary;
  /** runtime/raw, one ratio per round (each against the raw round next to it). */
  readonly ratio: Summary;
  readonly commandsPerRound: number;
}

export interface ThroughputResults {
  readonly serial: ThroughputFigure;
  readonly pipelined: ThroughputFigure & { readonly window: number };
  /** First command to each of `actors` fresh actors: entity creation and (empty) load included. */
  readonly distinctCold: ThroughputFigure & { readonly actors: number };
  /** Further rounds over the same, now live, actors. */
  readonly distinctWarm: ThroughputFigure & { readonly actors: number };
}

let sink = 0;
const rawDistinctPasses = 10;

/** Raw baseline for one actor: `n` commands folded on one state. */
function rawSingle(n: number): number {
  const start = performance.now();
  let s: CounterState = Counter.initial();
  for (let i = 0; i < n; i++) s = rawFoldOne(s, 1);
  const seconds = (performance.now() - start) / 1000;
  sink ^= s.value;
  return n / seconds;
}

/**
 * Raw baseline for many actors: states kept in a Map by actor key, one command to each actor per
 * pass, `passes` passes. Cold: every pass starts from an empty Map (each command creates its
 * actor's state, as the runtime's first command creates an entity); warm: the Map is filled first.
 * Several passes per measurement so a measurement lasts tens of ms, not two.
 */
function rawDistinct(actors: number, passes: number, cold: boolean): number {
  const keys = Array.from({ length: actors }, (_, i) => `counter:a${i}`);
  let states = new Map<string, CounterState>();
  if (!cold) for (const key of keys) states.set(key, Counter.initial());
  const start = performance.now();
  for (let pass = 0; pass < passes; pass++) {
    if (cold) states = new Map();
    for (let i = 0; i < actors; i++) {
      const key = keys[i]!;
      states.set(key, rawFoldOne(states.get(key) ?? Counter.initial(), 1));
    }
  }
  const seconds = (performance.now() - start) / 1000;
  sink ^= states.size;
  return (actors * passes) / seconds;
}

function expectAccepted(status: string): void {
  if (status !== 'accepted') throw new Error(`command was ${status}`);
}

async function serialRound(runtime: Runtime, n: number): Promise<number> {
  const ref = Counter.ref('serial');
  const start = performance.now();
  for (let i = 0; i < n; i++) expectAccepted((await runtime.send(ref, { type: 'add', payload: { by: 1 } })).status);
  return n / ((performance.now() - start) / 1000);
}

/** Keeps exactly `window` commands in flight to one actor until `n` were sent, then waits for all. */
async function pipelinedRound(runtime: Runtime, n: number, window: number): Promise<number> {
  const ref = Counter.ref('pipelined');
  const start = performance.now();
  let sent = 0;
  await new Promise<void>((resolve, reject) => {
    let inFlight = 0;
    const launch = (): void => {
      while (inFlight < window && sent < n) {
        sent++;
        inFlight++;
        runtime.send(ref, { type: 'add', payload: { by: 1 } }).then((reply) => {
          expectAccepted(reply.status);
          inFlight--;
          if (sent === n && inFlight === 0) resolve();
          else launch();
        }, reject);
      }
    };
    launch();
  });
  return n / ((performance.now() - start) / 1000);
}

/** One command to each actor, all in flight at once. */
async function distinctRound(runtime: Runtime, actors: number): Promise<number> {
  const start = performance.now();
  const replies = await Promise.all(
    Array.from({ length: actors }, (_, i) => runtime.send(Counter.ref(`a${i}`), { type: 'add', payload: { by: 1 } })),
  );
  const rate = actors / ((performance.now() - start) / 1000);
  for (const reply of replies) expectAccepted(reply.status);
  return rate;
}

function figure(runtime: number[], raw: number[], commandsPerRound: number): ThroughputFigure {
  return {
    runtime: summarize(runtime),
    raw: summarize(raw),
    ratio: summarize(runtime.map((r, i) => r / raw[i]!)),
    commandsPerRound,
  };
}

/**
 * Each round: a fresh runtime on a fresh MemoryStore (so no round pays for an earlier round's
 * history), the raw baseline measured right before, then the runtime measured. Round 0 is an
 * unrecorded warm-up of every path.
 */
export async function benchThroughput(o: ThroughputOptions): Promise<ThroughputResults> {
  const serial = { rt: [] as number[], raw: [] as number[] };
  const pipelined = { rt: [] as number[], raw: [] as number[] };
  const cold = { rt: [] as number[], raw: [] as number[] };
  const warm = { rt: [] as number[], raw: [] as number[] };

  for (let round = 0; round <= o.rounds; round++) {
    const record = round > 0;
    const scale = record ? 1 : 0.2;

    collectGarbage();
    await settle();
    let raw = rawSingle(o.rawCommands);
    let runtime = createRuntime({ actors: [Counter] });
    let rate = await serialRound(runtime, Math.ceil(o.serialCommands * scale));
    await runtime.stop();
    if (record) (serial.rt.push(rate), serial.raw.push(raw));

    collectGarbage();
    await settle();
    raw = rawSingle(o.rawCommands);
    runtime = createRuntime({ actors: [Counter] });
    rate = await pipelinedRound(runtime, Math.ceil(o.pipelinedCommands * scale), o.window);
    await runtime.stop();
    if (record) (pipelined.rt.push(rate), pipelined.raw.push(raw));

    collectGarbage();
    await settle();
    const actors = record ? o.actors : Math.ceil(o.actors * scale);
    raw = rawDistinct(actors, rawDistinctPasses, true);
    runtime = createRuntime({ actors: [Counter] });
    rate = await distinctRound(runtime, actors);
    if (record) (cold.rt.push(rate), cold.raw.push(raw));
    for (let w = 0; w < o.warmRounds; w++) {
      await settle();
      raw = rawDistinct(actors, rawDistinctPasses, false);
      rate = await distinctRound(runtime, actors);
      if (record) (warm.rt.push(rate), warm.raw.push(raw));
    }
    await runtime.stop();
  }
  return {
    serial: figure(serial.rt, serial.raw, o.serialCommands),
    pipelined: { ...figure(pipelined.rt, pipelined.raw, o.pipelinedCommands), window: o.window },
    distinctCold: { ...figure(cold.rt, cold.raw, o.actors), actors: o.actors },
    distinctWarm: { ...figure(warm.rt, warm.raw, o.actors), actors: o.actors },
  };
}

export function throughputSink(): number {
  return sink;
}
