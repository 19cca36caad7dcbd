import { createRequire } from 'node:module';
import { FlakeIdSource, parseEventId } from '@troupe/runtime/store';
import { Bench } from 'tinybench';
import { type Summary, summarize } from './stats.js';

const require = createRequire(import.meta.url);
interface FlakeIdGenerator {
  gen(): string;
}
const FlakeId = require('flakeid') as new (options?: { mid?: number; timeOffset?: number }) => FlakeIdGenerator;

/** Ids made per tinybench iteration: one sample is one batch, so the timer never works at its resolution limit. */
export const idBatch = 1_000;
const machineId = 7;

export interface IdTaskResult {
  readonly name: string;
  /** ids per second over the pooled samples (each sample: one batch of `idBatch` ids). */
  readonly idsPerSecond: Summary;
  /** tinybench's relative margin of error of the latency mean, per pass. */
  readonly rmePercent: readonly number[];
  readonly samples: number;
}

export interface IdResults {
  readonly batch: number;
  readonly passes: number;
  readonly tasks: Record<'baseline' | 'counter' | 'flakeid' | 'troupe', IdTaskResult>;
  /** Per-pass ratios of medians, to show how stable a ratio is on this machine. */
  readonly passRatios: Record<'flakeidVsBaseline' | 'troupeVsBaseline' | 'troupeVsFlakeid', readonly number[]>;
  /** A flakeid id and a FlakeIdSource id made at the same millisecond with the same machine id are the same number. */
  readonly bitCompatible: boolean;
  readonly sampleIds: { readonly flakeid: string; readonly troupe: string };
  /**
   * How far ahead of the wall clock the millisecond inside FlakeIdSource's last id was at the end
   * of each pass: above 4,096 ids per ms it borrows future milliseconds instead of waiting.
   */
  readonly troupeLeadMs: readonly number[];
}

let sinkLength = 0;

/** Same millisecond, same machine id, sequence 0: both generators must produce the same 64-bit number. */
function checkBitCompatibility(): { ok: boolean; flakeid: string; troupe: string } {
  const realNow = Date.now;
  const fixedMs = realNow();
  let flakeid: string;
  try {
    Date.now = () => fixedMs; // flakeid reads Date.now() directly
    flakeid = new FlakeId({ mid: machineId }).gen();
  } finally {
    Date.now = realNow;
  }
  const troupe = new FlakeIdSource({ machineId, clock: { now: () => fixedMs } }).next();
  const parsed = parseEventId(flakeid);
  const ok = BigInt(flakeid) === BigInt(troupe) && parsed.ms === fixedMs && parsed.machineId === machineId && parsed.sequence === 0;
  return { ok, flakeid, troupe };
}

export async function benchIds(options: { passes: number; timeMs: number }): Promise<IdResults> {
  const pooled: Record<string, number[]> = { baseline: [], counter: [], flakeid: [], troupe: [] };
  const rme: Record<string, number[]> = { baseline: [], counter: [], flakeid: [], troupe: [] };
  const passRatios = { flakeidVsBaseline: [] as number[], troupeVsBaseline: [] as number[], troupeVsFlakeid: [] as number[] };
  let counter = 0;
  const troupeLeadMs: number[] = [];

  for (let pass = 0; pass < options.passes; pass++) {
    // Fresh generators each pass; FlakeIdSource on the system clock, as the runtime uses it.
    const flakeid = new FlakeId({ mid: machineId });
    let lastTroupeId = '';
    const troupe = new FlakeIdSource({ machineId });
    const bench = new Bench({ name: `ids pass ${pass + 1}`, time: options.timeMs, iterations: 20, warmupTime: 100, warmupIterations: 5, retainSamples: true, throws: true });
    bench
      .add('baseline', () => {
        // Raw baseline: read a nanosecond clock and print the 64-bit number in decimal, per id.
        let last = '';
        for (let i = 0; i < idBatch; i++) last = process.hrtime.bigint().toString();
        sinkLength ^= last.length;
      })
      .add('counter', () => {
        let last = '';
        for (let i = 0; i < idBatch; i++) last = (counter++).toString();
        sinkLength ^= last.length;
      })
      .add('flakeid', () => {
        let last = '';
        for (let i = 0; i < idBatch; i++) last = flakeid.gen();
        sinkLength ^= last.length;
      })
      .add('troupe', () => {
        let last = '';
        for (let i = 0; i < idBatch; i++) last = troupe.next();
        sinkLength ^= last.length;
        lastTroupeId = last;
      });
    await bench.run();
    troupeLeadMs.push(parseEventId(lastTroupeId).ms - Date.now());
    const medians: Record<string, number> = {};
    for (const task of bench.tasks) {
      const result = task.result;
      if (result.state !== 'completed') throw new Error(`id task ${task.name} ended ${result.state}`);
      const perSecond = (result.latency.samples ?? []).map((ms) => (idBatch * 1000) / ms);
      pooled[task.name]!.push(...perSecond);
      rme[task.name]!.push(result.latency.rme);
      medians[task.name] = summarize(perSecond).median;
    }
    passRatios.flakeidVsBaseline.push(medians.flakeid! / medians.baseline!);
    passRatios.troupeVsBaseline.push(medians.troupe! / medians.baseline!);
    passRatios.troupeVsFlakeid.push(medians.troupe! / medians.flakeid!);
  }
  const task = (name: string): IdTaskResult => ({
    name,
    idsPerSecond: summarize(pooled[name]!),
    rmePercent: rme[name]!,
    samples: pooled[name]!.length,
  });
  const compat = checkBitCompatibility();
  return {
    batch: idBatch,
    passes: options.passes,
    tasks: { baseline: task('baseline'), counter: task('counter'), flakeid: task('flakeid'), troupe: task('troupe') },
    passRatios,
    bitCompatible: compat.ok,
    sampleIds: { flakeid: compat.flakeid, troupe: compat.troupe },
    troupeLeadMs,
  };
}

export function idSinkLength(): number {
  return sinkLength;
}
