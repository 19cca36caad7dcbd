import { createHash } from 'node:crypto';
import { canonical } from './canonical.js';

/** One event of the trace (the canonical line parsed back), with its position `i` in the trace and its tick `t`. */
export interface TraceEvent {
  readonly i: number;
  readonly t: number;
  readonly k: string;
  readonly [field: string]: unknown;
}

/** A resolution computed at a replica (not part of the hashed trace): `i` is the index of the next trace event. */
export interface TraceResolution {
  readonly i: number;
  readonly t: number;
  readonly r: number;
  readonly actor: string;
  readonly heads: number;
}

/** What a run recorded, for reports such as the HTML timeline. The hashed trace is `events` (minus `i`). */
export interface SimTrace {
  readonly events: readonly TraceEvent[];
  readonly resolutions: readonly TraceResolution[];
}

/**
 * The run's trace: one canonical JSON line per observable event, hashed as it is written. The
 * lines themselves are kept only on request (`keepLines`, for `simulateWithTrace`): a long run's
 * trace is large, its hash and length are not.
 */
export class TraceLog {
  /** The tick every line is stamped with (`t`). */
  tick = 0;
  private readonly lines: string[] = [];
  private readonly resolutionTimes: TraceResolution[] = [];
  private readonly hasher = createHash('sha256');
  private count = 0;

  constructor(private readonly keepLines: boolean) {}

  get length(): number {
    return this.count;
  }

  record(entry: Record<string, unknown>): void {
    const line = canonical({ t: this.tick, ...entry });
    // Hashed as it is written: the same digest as hashing the lines joined by '\n', without
    // building one string as long as the whole trace at the end.
    this.hasher.update(this.count === 0 ? line : `\n${line}`);
    this.count++;
    if (this.keepLines) this.lines.push(line);
  }

  /** A resolution at replica `r` (kept out of the hash: when it runs is the runtime's business). */
  resolution(r: number, actor: string, heads: number): void {
    if (this.keepLines) this.resolutionTimes.push({ i: this.count, t: this.tick, r, actor, heads });
  }

  /** The sha256 of every line so far; call once, at the end. */
  digest(): string {
    return this.hasher.digest('hex');
  }

  expose(): SimTrace {
    return {
      events: this.lines.map((line, i) => ({ ...(JSON.parse(line) as { t: number; k: string }), i })),
      resolutions: [...this.resolutionTimes],
    };
  }
}
