/**
 * Three regions end to end with real processes and real network cuts (#15 item 6): see
 * regions/scenario.ts for the story. Needs RabbitMQ on 127.0.0.1:5672 and the redis-server
 * program (fails under CI=true without them, skips loudly otherwise) and the built CLI.
 */
import { describe, expect, it } from 'vitest';
import { regionServicesAvailable } from './regions/gates.js';
import { formatScenario } from './regions/report.js';
import { type RegionsScenarioResult, runRegionsScenario } from './regions/scenario.js';

const available = await regionServicesAvailable();

describe.skipIf(!available)('three regions (eu, us, ap) as separate processes, partitioned through link proxies, then healed', () => {
  let result: RegionsScenarioResult;

  it('converge after a both-ways and a one-way cut with double spends, a replicator and a worker SIGKILLed', { timeout: 300_000 }, async () => {
    result = await runRegionsScenario();
    const report = formatScenario(result);
    console.log(report);
    expect(result.checks.filter((c) => !c.ok).map((c) => c.what), report).toEqual([]);
    expect(result.error).toBeUndefined();
    expect(result.teardownProblems).toEqual([]);
    // The story reached every part it claims (a scenario that skipped one could pass its checks).
    expect(result.faults.filter((f) => /SIGKILL \w+\/replicate-1 .*: SIGKILL$/.test(f))).toHaveLength(1);
    expect(result.faults.filter((f) => /SIGKILL \w+\/worker-\d .*: SIGKILL;/.test(f))).toHaveLength(1);
    expect(result.phases.map((p) => p.name)).toEqual(['setup', 'eu | us+ap, both ways', 'eu <- us+ap only (one way)']);
    expect([...result.phases[1]!.cut].sort()).toEqual(['ap<-eu', 'eu<-ap', 'eu<-us', 'us<-eu']);
    expect([...result.phases[2]!.cut].sort()).toEqual(['ap<-eu', 'us<-eu']);
    expect(result.convergedMs).toBeGreaterThan(0);
    expect([...result.replicated!.holding].sort()).toEqual(['ap', 'eu', 'us']);
    for (const account of result.doubleSpent) {
      const outcome = result.accounts.find((a) => a.account === account)!;
      expect(outcome.state.balance, account).toBeLessThan(0);
      expect(outcome.state.overdrawn, account).toBe(-outcome.state.balance);
    }
    // The cuts were seen by the replicators themselves, on both sides.
    const downs = Object.fromEntries(result.perRegion.map((r) => [r.region, r.linkDowns]));
    expect(downs.eu, 'eu logged its links down').toBeGreaterThan(0);
    expect(downs.us! + downs.ap!, 'us and ap logged their links to eu down').toBeGreaterThan(0);
    expect(result.perRegion.reduce((n, r) => n + r.merges, 0)).toBeGreaterThan(0);
  });
});
