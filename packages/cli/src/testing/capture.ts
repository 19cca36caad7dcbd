import { expect, vi } from 'vitest';
import { run } from '../program.js';

/** Runs `troupe <argv>` in-process and captures what it prints (console.log / console.error). Tests only. */
export async function capture(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
  const error = vi.spyOn(console, 'error').mockImplementation(() => undefined);
  try {
    const code = await run(argv);
    return { code, out: log.mock.calls.map((c) => String(c[0])).join('\n'), err: error.mock.calls.map((c) => String(c[0])).join('\n') };
  } finally {
    log.mockRestore();
    error.mockRestore();
  }
}

/**
 * Runs `troupe sim <args>` in-process: its exit code, what it printed (console.log and stdout
 * writes) and stderr (console.error and commander's messages, written to the stream). Tests only.
 */
export async function captureSim(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
  const error = vi.spyOn(console, 'error').mockImplementation(() => undefined);
  const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  const stdout = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  try {
    const code = await run(['sim', ...args]);
    return {
      code,
      out: [...log.mock.calls.map((c) => String(c[0])), ...stdout.mock.calls.map((c) => String(c[0]))].join('\n'),
      err: [...error.mock.calls.map((c) => String(c[0])), ...stderr.mock.calls.map((c) => String(c[0]))].join(''),
    };
  } finally {
    vi.restoreAllMocks();
  }
}

/** Each `troupe sim <args>` is a usage error: exit 2, one line on stderr matching its pattern, nothing on stdout. */
export async function expectSimUsageErrors(cases: readonly (readonly [readonly string[], RegExp])[]): Promise<void> {
  for (const [args, message] of cases) {
    const { code, out, err } = await captureSim(...args);
    expect(code, args.join(' ')).toBe(2);
    expect(err, args.join(' ')).toMatch(message);
    expect(err.trim().split('\n'), args.join(' ')).toHaveLength(1);
    expect(out).toBe('');
  }
}
