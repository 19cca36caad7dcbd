/** Starts `viewRunner.ts` in a child process (tsx, sources resolved through the 'source' condition) and follows its JSON lines. */
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const packageDir = fileURLToPath(new URL('../..', import.meta.url));
const script = fileURLToPath(new URL('./viewRunner.ts', import.meta.url));

/** Every runner started and not exited: killed if the test process exits first. */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export interface RunnerLine {
  readonly event: string;
  readonly [field: string]: unknown;
}

export class RunnerProcess {
  readonly lines: RunnerLine[] = [];
  readonly exited: Promise<number | NodeJS.Signals | null>;
  private readonly listeners = new Set<() => void>();

  private constructor(readonly child: ChildProcess, readonly holder: string) {
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve(signal ?? code)));
    createInterface({ input: child.stdout! }).on('line', (text) => {
      try {
        this.lines.push(JSON.parse(text) as RunnerLine);
      } catch {
        return;
      }
      for (const listener of [...this.listeners]) listener();
    });
  }

  static start(env: Record<string, string>): RunnerProcess {
    const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', script], {
      cwd: packageDir,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    running.add(child);
    child.once('exit', () => running.delete(child));
    return new RunnerProcess(child, env.HOLDER!);
  }

  count(event: string): number {
    return this.lines.filter((l) => l.event === event).length;
  }

  /** Resolves with the first line (from `from` on) matching; rejects after `timeoutMs` or when the process exits first. */
  waitFor(match: (line: RunnerLine) => boolean, timeoutMs = 20_000, from = 0): Promise<RunnerLine> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = this.lines.slice(from).find(match);
        if (!found) return false;
        done();
        resolve(found);
        return true;
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`runner ${this.holder}: no matching line within ${timeoutMs} ms; lines: ${JSON.stringify(this.lines.slice(-5))}`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.listeners.delete(listener);
      };
      const listener = () => void check();
      this.listeners.add(listener);
      void this.exited.then((code) => {
        if (check()) return;
        done();
        reject(new Error(`runner ${this.holder} exited (${String(code)}) first; lines: ${JSON.stringify(this.lines.slice(-5))}`));
      });
      check();
    });
  }

  signal(name: NodeJS.Signals): void {
    this.child.kill(name);
  }

  async kill(): Promise<void> {
    this.child.kill('SIGKILL');
    await this.exited;
  }
}
