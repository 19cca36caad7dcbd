import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { canConnect } from '@troupe/runtime/testkit';

/** Every server this process started and has not stopped: killed if the process exits first. */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** A port on 127.0.0.1 that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

export interface RedisServerOptions {
  /** Default: a free port. */
  readonly port?: number;
  /** Extra redis-server arguments, e.g. ['--appendonly', 'yes']. */
  readonly args?: readonly string[];
  /** Working directory (AOF, RDB, cluster config). Default: a fresh temporary directory. */
  readonly dir?: string;
}

/**
 * A throw-away redis-server on 127.0.0.1 for tests (cluster, durability, faults). Nothing is saved
 * unless the test asks for it; `destroy()` stops it and deletes its directory.
 */
export class RedisServer {
  private child: ChildProcess | undefined;
  private constructor(
    readonly port: number,
    readonly dir: string,
    private readonly args: readonly string[],
    private readonly ownsDir: boolean,
  ) {}

  static async start(options: RedisServerOptions = {}): Promise<RedisServer> {
    const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'troupe-redis-'));
    const server = new RedisServer(options.port ?? (await freePort()), dir, options.args ?? [], options.dir === undefined);
    await server.boot();
    return server;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Starts the process again on the same port and directory (after `kill` or `stop`). */
  async boot(): Promise<void> {
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir, '--save', '', '--daemonize', 'no', '--protected-mode', 'no', ...this.args];
    const child = spawn('redis-server', args, { stdio: 'ignore' });
    this.child = child;
    running.add(child);
    child.once('exit', () => running.delete(child));
    const deadline = Date.now() + 10_000;
    while (!(await canConnect('127.0.0.1', this.port, 200))) {
      if (!this.running) throw new Error(`redis-server on port ${this.port} exited during start (args: ${args.join(' ')})`);
      if (Date.now() > deadline) throw new Error(`redis-server on port ${this.port} did not answer within 10 s`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** SIGKILL: no shutdown, no final save. Resolves when the process is gone. */
  kill(): Promise<void> {
    return this.signal('SIGKILL');
  }

  /** SIGTERM: a clean shutdown. */
  stop(): Promise<void> {
    return this.signal('SIGTERM');
  }

  /** Stops the process and removes the temporary directory. */
  async destroy(): Promise<void> {
    await this.kill();
    if (this.ownsDir) rmSync(this.dir, { recursive: true, force: true });
  }

  private signal(signal: NodeJS.Signals): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return Promise.resolve();
    return new Promise((resolve) => {
      child.once('exit', () => resolve());
      child.kill(signal);
    });
  }
}
