import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const repositoryRoot = fileURLToPath(new URL('../../', import.meta.url));

/** The built CLI: the harness runs `troupe` exactly as a user does, one OS process per command. */
export const troupeMain = `${repositoryRoot}packages/cli/dist/main.js`;

/** Throws unless the CLI is built (the harness never runs a stale or missing build silently). */
export function requireBuiltCli(): void {
  if (!existsSync(troupeMain)) {
    throw new Error(`${troupeMain} is missing: build the CLI first (npx turbo run build --filter=@troupe/cli...)`);
  }
}

/** One pino JSON line of a troupe process. */
export interface LogLine {
  readonly level: number;
  readonly msg: string;
  readonly [field: string]: unknown;
}

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** Every process this module started that has not exited: killed if the test process exits first. */
const alive = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of alive) child.kill('SIGKILL');
});

/**
 * A long-running `troupe` child process (worker, replicate): its pino lines are parsed and kept,
 * stderr is kept as text, and a test can wait for a line, signal it, and wait for its exit.
 */
export class TroupeProcess {
  readonly lines: LogLine[] = [];
  /** Lines of stdout that were not JSON (none expected). */
  readonly text: string[] = [];
  stderr = '';
  readonly exited: Promise<Exit>;
  private exit: Exit | undefined;
  private readonly waiters = new Set<() => void>();
  private readonly child: ChildProcess;

  private constructor(
    /** e.g. `eu/replicate`, for messages. */
    readonly name: string,
    readonly args: readonly string[],
    env: NodeJS.ProcessEnv,
  ) {
    requireBuiltCli();
    this.child = spawn(process.execPath, [troupeMain, ...args], { cwd: repositoryRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
    alive.add(this.child);
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      try {
        this.lines.push(JSON.parse(line) as LogLine);
      } catch {
        this.text.push(line);
      }
      for (const wake of this.waiters) wake();
    });
    this.child.stderr!.on('data', (chunk: Buffer) => (this.stderr += chunk.toString('utf8')));
    this.exited = new Promise<Exit>((resolve) => {
      this.child.once('exit', (code, signal) => {
        alive.delete(this.child);
        this.exit = { code, signal };
        for (const wake of this.waiters) wake();
        resolve(this.exit);
      });
    });
  }

  static start(name: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): TroupeProcess {
    return new TroupeProcess(name, args, { ...process.env, ...env });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return this.exit === undefined;
  }

  /** The lines whose message starts with `msg`. */
  logs(msg: string): LogLine[] {
    return this.lines.filter((line) => line.msg.startsWith(msg));
  }

  /**
   * Resolves to the first line (from `from` on) that matches; rejects when the process exits
   * first or after `timeoutMs`, with its stderr and last lines in the message.
   */
  waitForLog(what: string, match: (line: LogLine) => boolean, timeoutMs = 30_000, from = 0): Promise<LogLine> {
    return new Promise((resolve, reject) => {
      const deadline = setTimeout(() => finish(new Error(`${this.name}: no log line ${what} within ${timeoutMs} ms${this.tail()}`)), timeoutMs);
      const finish = (result: LogLine | Error) => {
        clearTimeout(deadline);
        this.waiters.delete(check);
        if (result instanceof Error) reject(result);
        else resolve(result);
      };
      const check = () => {
        const found = this.lines.slice(from).find(match);
        if (found) finish(found);
        else if (this.exit) finish(new Error(`${this.name} exited (${this.exit.code ?? this.exit.signal}) before logging ${what}${this.tail()}`));
      };
      this.waiters.add(check);
      check();
    });
  }

  /** Sends a signal and resolves when the process is gone (at once if it already is). */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<Exit> {
    if (this.exit) return this.exit;
    this.child.kill(signal);
    return this.exited;
  }

  /** SIGTERM, then SIGKILL if it is still there after `graceMs`. */
  async stop(graceMs = 10_000): Promise<Exit> {
    if (this.exit) return this.exit;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Stderr and the last log lines, for error messages. */
  tail(count = 8): string {
    const last = this.lines.slice(-count).map((l) => JSON.stringify(l));
    return `\n  stderr: ${this.stderr.trim() || '(empty)'}\n  last lines:\n    ${last.join('\n    ') || '(none)'}`;
  }
}

export interface TroupeRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

/** Runs one short `troupe` command (status, inspect, a replicate that must refuse to start) to its end. */
export function runTroupe(args: readonly string[], options: { readonly timeoutMs?: number; readonly env?: NodeJS.ProcessEnv } = {}): Promise<TroupeRun> {
  requireBuiltCli();
  const started = performance.now();
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [troupeMain, ...args],
      { cwd: repositoryRoot, env: { ...process.env, ...options.env }, timeout: options.timeoutMs ?? 60_000, killSignal: 'SIGKILL', maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        resolve({ code, stdout, stderr, ms: Math.round(performance.now() - started) });
      },
    );
  });
}
