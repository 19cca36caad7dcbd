import type { MergeRecord } from '@troupe/runtime';
import { type TroupeRun, runTroupe } from './troupeProcess.js';

/** One region in `troupe status --json` (the fields the harness reads). */
export interface StatusRegion {
  readonly region: string;
  readonly reachable: boolean;
  readonly error?: string;
  readonly regions?: readonly string[];
  readonly logPacks?: number;
  readonly links?: readonly { readonly source: string; readonly lagPacks: number | null; readonly savedAgoMs: number | null }[];
  readonly stablePacks?: number;
}

/** One region in `troupe inspect --regions-file --json` (the fields the harness reads). */
export interface InspectRegion {
  readonly region: string;
  readonly error?: string;
  readonly version: string | null;
  readonly heads: readonly { readonly version: string; readonly state: unknown }[];
  readonly state: unknown;
  readonly merges?: readonly MergeRecord[];
}

/** `troupe status --regions-file <file> --json`, parsed; throws with its stderr when it fails. */
export async function troupeStatus(regionsFile: string): Promise<{ regions: StatusRegion[]; run: TroupeRun }> {
  const run = await runTroupe(['status', '--regions-file', regionsFile, '--json']);
  if (run.code !== 0) throw new Error(`troupe status exited with ${run.code}: ${run.stderr.trim()}`);
  return { regions: JSON.parse(run.stdout) as StatusRegion[], run };
}

/** Why the status is not "every region reachable, every link caught up", or undefined when it is. */
export function statusLagging(regions: readonly StatusRegion[], expected: readonly string[]): string | undefined {
  const problems: string[] = [];
  for (const id of expected) {
    const region = regions.find((r) => r.region === id);
    if (!region || !region.reachable) {
      problems.push(`${id} unreachable (${region?.error ?? 'missing'})`);
      continue;
    }
    const links = region.links ?? [];
    for (const source of expected.filter((s) => s !== id)) {
      const link = links.find((l) => l.source === source);
      if (!link || link.lagPacks !== 0) problems.push(`${id}<-${source} lag ${link?.lagPacks ?? 'unknown'}`);
    }
  }
  return problems.length ? problems.join(', ') : undefined;
}

/** Polls `troupe status` until every link of every region has no lag; throws after `timeoutMs` with the last status. */
export async function waitForStatusCaughtUp(regionsFile: string, expected: readonly string[], timeoutMs = 30_000): Promise<{ regions: StatusRegion[]; polls: number; ms: number }> {
  const started = performance.now();
  let polls = 0;
  for (;;) {
    polls++;
    const { regions } = await troupeStatus(regionsFile);
    const lagging = statusLagging(regions, expected);
    if (!lagging) return { regions, polls, ms: Math.round(performance.now() - started) };
    if (performance.now() - started > timeoutMs) throw new Error(`troupe status still shows lag after ${timeoutMs} ms (${polls} polls): ${lagging}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

/** `troupe inspect account <id> --regions-file <file> --merges --json`, parsed. */
export async function troupeInspect(regionsFile: string, account: string): Promise<{ regions: InspectRegion[]; run: TroupeRun }> {
  const run = await runTroupe(['inspect', 'account', account, '--app', '@troupe/bank', '--regions-file', regionsFile, '--merges', '--json', '--depth', '3']);
  if (run.code !== 0) throw new Error(`troupe inspect exited with ${run.code}: ${run.stderr.trim()}`);
  return { regions: JSON.parse(run.stdout) as InspectRegion[], run };
}
