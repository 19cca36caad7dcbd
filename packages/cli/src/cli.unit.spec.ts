import { describe, expect, it, vi, afterEach } from 'vitest';
import { fileURLToPath } from 'node:url';
import { loadApp } from './appModule.js';
import { formatLoad } from './commands/load.js';
import { parsePayload } from './commands/send.js';
import { formatInspect } from './commands/inspect.js';
import { run } from './program.js';

const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));

afterEach(() => vi.restoreAllMocks());

describe('app modules', () => {
  it('loads the default app (bank): its actors and its workload', async () => {
    const app = await loadApp();
    expect(app.actors.map((a) => a.type)).toEqual(['account']);
    expect(app.workload?.name).toBe('bank');
  });

  it('collects actor definitions exported one by one from a file path, ignoring other exports', async () => {
    const app = await loadApp(fixture('tallyApp.mjs'));
    expect(app.actors.map((a) => a.type)).toEqual(['tally']);
    expect(app.workload?.name).toBe('tally');
  });

  it('says clearly when a module has no actors or cannot be loaded', async () => {
    await expect(loadApp(fixture('emptyApp.mjs'))).rejects.toThrow(/exports no actor definitions/);
    await expect(loadApp('./no/such/module.js')).rejects.toThrow(/cannot load app module '.\/no\/such\/module.js'/);
    await expect(loadApp('@troupe/no-such-package')).rejects.toThrow(/cannot load app module/);
  });
});

describe('command helpers', () => {
  it('parses JSON payloads and reports bad JSON in one line', () => {
    expect(parsePayload('{"amount":5}')).toEqual({ amount: 5 });
    expect(parsePayload(undefined)).toEqual({});
    expect(() => parsePayload('{amount:5}')).toThrow(/the payload is not valid JSON/);
  });

  it('formats an inspected actor, diverged or not', () => {
    const text = formatInspect({
      actor: 'account:a',
      version: null,
      heads: [{ version: 'eu:1', state: { balance: 1 } }, { version: 'us:1', state: { balance: 2 } }],
      ancestors: [{ version: 'eu:1', kind: 'command', parents: [], replica: 'eu', commandIds: ['c'], events: [{ type: 'deposited', data: { amount: 1 } }] }],
      state: null,
    });
    expect(text).toMatch(/diverged: 2 heads/);
    expect(text).toMatch(/state @ us:1 \{"balance":2\}/);
    expect(text).toMatch(/eu:1 +command deposited \{"amount":1\}/);
    expect(formatLoad({ app: 'x', sent: 3, accepted: 2, rejected: 1, failed: 0, durationMs: 1_000, throughput: 3, latencyMs: { p50: 1, p99: 2, max: 3 }, failures: [] })).toMatch(/3 sent, 2 accepted, 1 rejected, 0 failed/);
  });
});

describe('troupe', () => {
  it('prints help and exits 0; an unknown command or option exits 1', async () => {
    const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    expect(await run(['--help'])).toBe(0);
    expect(out.mock.calls.join('')).toMatch(/worker[\s\S]*send[\s\S]*inspect[\s\S]*load[\s\S]*sim/);
    expect(await run(['fly'])).toBe(1);
    expect(await run(['send', 'a', 'b', 'c', '--bogus'])).toBe(1);
    expect(err.mock.calls.join('')).toMatch(/unknown option '--bogus'/);
  });

  it('rejects a bad --shards value before connecting', async () => {
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const errors = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    expect(await run(['send', 'account', 'a', 'open', '{}', '--shards', 'many'])).toBe(1);
    expect(errors).not.toHaveBeenCalled(); // commander reported it
  });

  it('fails with one line and exit 1 for bad JSON and for an unreachable broker', async () => {
    const errors = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    expect(await run(['send', 'account', 'a', 'open', '{oops'])).toBe(1);
    expect(await run(['send', 'account', 'a', 'open', '{}', '--amqp', 'amqp://guest:guest@127.0.0.1:1'])).toBe(1);
    const lines = errors.mock.calls.map((c) => String(c[0]));
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^troupe: the payload is not valid JSON/);
    expect(lines[1]).toMatch(/^troupe: RabbitMQ at amqp:\/\/guest:\*\*\*@127\.0\.0\.1:1 is unavailable: .*\[BUS_UNAVAILABLE\]$/);
    for (const line of lines) expect(line).not.toContain('\n');
  });
});
