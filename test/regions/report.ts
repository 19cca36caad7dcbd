import type { RegionsScenarioResult } from './scenario.js';

/** Pads columns to their widest cell. */
function table(rows: readonly (readonly string[])[], indent = '   '): string[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((row) => (indent + row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ')).trimEnd());
}

const seconds = (ms: number | undefined) => (ms === undefined ? '-' : `${(ms / 1000).toFixed(1)} s`);

/** What happened in a three-region run, as text (the demo prints it; the spec prints it when it fails). */
export function formatScenario(result: RegionsScenarioResult): string {
  const out: string[] = [];
  const line = (text = '') => out.push(text);
  line(`troupe regions demo: ${result.regions.join(', ')}, each its own redis-server, RabbitMQ queue prefix, 2 workers and a troupe replicate;`);
  line(`every replication link through its own TCP proxy, so a partition is a real network cut (workload seed ${result.seed})`);
  line();
  line('Phases');
  out.push(...table([['phase', 'took', 'links cut'], ...result.phases.map((p) => [p.name, seconds(p.ms), p.cut.join(', ') || '-'])]));
  if (result.faults.length) {
    line();
    line('Faults planted');
    for (const fault of result.faults) line(`   ${fault}`);
  }
  line();
  line('Per region');
  out.push(
    ...table([
      ['region', 'sent', 'accepted', 'rejected', 'retried', 'merges written', 'compensations', 'link down (logged)'],
      ...result.perRegion.map((r) => [r.region, String(r.sent), String(r.accepted), String(r.rejected), String(r.retried), String(r.merges), String(r.compensations), String(r.linkDowns)]),
    ]),
  );
  if (result.accounts.length) {
    line();
    line('Accounts after convergence (the same in every region)');
    out.push(
      ...table([
        ['account', 'accepted', 'rejected', 'balance', 'overdrawn', 'fees', 'compensations', 'merges (by region)'],
        ...result.accounts.map((a) => [
          `${a.account}${result.doubleSpent.includes(a.account) ? ' (double spent)' : ''}`,
          String(a.accepted),
          String(a.rejected),
          String(a.state.balance),
          String(a.state.overdrawn),
          String(a.state.feesCharged),
          String(a.compensations),
          Object.entries(a.merges).map(([region, records]) => `${region} ${records.length}`).join(', '),
        ]),
      ]),
    );
  }
  const story = result.accounts.find((a) => a.account === result.doubleSpent[0]);
  if (story) {
    line();
    line(`The double spend of ${story.account}, as every region now folds it (opened with 100 in eu; both sides withdrew during the cut)`);
    let balance = 0;
    out.push(
      ...table([
        ['#', 'written by', 'event', 'data', 'balance'],
        ...story.history.map((event, i) => {
          const data = event.data as { amount?: number; owner?: string; fee?: number; overdrawn?: number };
          balance += event.type === 'deposited' ? data.amount! : event.type === 'withdrew' ? -data.amount! : event.type === 'overdraftCharged' ? -data.fee! : 0;
          const what = Object.entries(data).map(([k, v]) => `${k}=${String(v)}`).join(' ');
          return [String(i + 1), event.replica === 'merge' ? 'the merge (onMerge)' : event.replica, event.type, what, String(balance)];
        }),
      ]),
    );
  }
  line();
  line(`Converged ${seconds(result.convergedMs)} after the heal; a command sent after it reached ${result.replicated ? `${result.replicated.holding.join(', ')} in ${seconds(result.replicated.ms)} (awaitReplicated 'all')` : '-'}`);
  if (result.status) {
    line('troupe status:');
    for (const region of result.status) {
      const links = (region.links ?? []).map((l) => `${l.source} lag ${l.lagPacks ?? '?'}`).join(', ');
      line(`   ${region.region}: ${region.reachable ? `log ${region.logPacks} packs, ${region.stablePacks} stable; copies from ${links}` : `UNREACHABLE ${region.error}`}`);
    }
  }
  if (result.inspect) {
    line(`troupe inspect --merges ${result.inspect.account}:`);
    for (const region of result.inspect.regions) {
      const merges = region.merges ?? [];
      line(`   ${region.region}: version ${region.version}, ${merges.length} merge record(s)${merges.length ? `, compensations ${merges.map((m) => m.compensations.join('+') || 'none').join(' / ')}` : ''}`);
    }
  }
  line();
  line('Checks');
  for (const c of result.checks) line(`   ${c.ok ? 'ok  ' : 'FAIL'}  ${c.what}`);
  if (result.error) {
    line();
    line(`Stopped by: ${result.error}`);
  }
  if (result.teardownProblems.length) line(`Teardown problems: ${result.teardownProblems.join('; ')}`);
  line();
  line(
    result.ok
      ? `The regions converged: every accepted command applied once everywhere, every double spend compensated once (${seconds(result.totalMs)} in all).`
      : `FAILED: the regions did not converge or a check does not hold (see above; ${seconds(result.totalMs)} in all).`,
  );
  return out.join('\n') + '\n';
}
