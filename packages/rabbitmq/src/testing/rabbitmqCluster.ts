/**
 * A throw-away RabbitMQ cluster on this machine, for the cluster failover test: three nodes
 * (each its own node name, AMQP port, distribution port, data, logs, config and plugins file under
 * one temp dir, one Erlang cookie of their own), joined with `rabbitmqctl join_cluster`. It never
 * touches the machine's own broker (`rabbit@localhost` on 5672, shared by everyone): its nodes use
 * their own cookie, so they cannot even talk to it.
 *
 * Needs the RabbitMQ server scripts (`rabbitmq-server`, `rabbitmqctl`), not a running broker:
 * `requireRabbitMqBinaries()` is the suite's gate.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { accessSync, closeSync, constants, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface RabbitMqClusterOptions {
  /** Nodes in the cluster. Default 3. */
  readonly nodes?: number;
  /** Longest wait for one `rabbitmqctl` call (a node's startup included), ms. Default 60,000. */
  readonly ctlTimeoutMs?: number;
  /**
   * `vm_memory_high_watermark.relative` of each node: the share of the machine's RAM a node may
   * use before it blocks publishers. Default 0.05 (1.2 GB on a 24 GB machine; the test needs far less).
   */
  readonly memoryWatermarkRelative?: number;
  /** Erlang schedulers per node (`+S n:n`): few cores are shared by every node. Default 1. */
  readonly schedulers?: number;
  /** Prefix of the node names, `<prefix><i>-<random>@localhost`. Default 'troupe-c'. */
  readonly namePrefix?: string;
  /** Keep the temp dir (the nodes' logs) after `stop()`, to read why something failed. Default false. */
  readonly keepFiles?: boolean;
}

/** Every default of `RabbitMqClusterOptions`. */
export const rabbitMqClusterDefaults = {
  nodes: 3,
  ctlTimeoutMs: 60_000,
  memoryWatermarkRelative: 0.05,
  schedulers: 1,
  namePrefix: 'troupe-c',
  keepFiles: false,
} as const;

/** Where the RabbitMQ scripts are, for a cluster of throw-away nodes. */
export interface RabbitMqBinaries {
  readonly server: string;
  readonly ctl: string;
}

/**
 * Directories searched for `rabbitmq-server` and `rabbitmqctl`, first match wins. Debian's
 * /usr/sbin scripts re-run themselves as the `rabbitmq` user through `su` (which resets HOME, so
 * the node would not read this cluster's cookie, and cannot write a root-owned temp dir), so the
 * real scripts in /usr/lib/rabbitmq/bin come first. `RABBITMQ_SCRIPTS_DIR` overrides.
 */
const scriptDirs = [process.env.RABBITMQ_SCRIPTS_DIR, '/usr/lib/rabbitmq/bin', '/usr/local/sbin', '/opt/homebrew/sbin', '/usr/sbin'];

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The RabbitMQ server scripts on this machine, or undefined. */
export function findRabbitMqBinaries(): RabbitMqBinaries | undefined {
  for (const dir of scriptDirs) {
    if (!dir) continue;
    const server = join(dir, 'rabbitmq-server');
    const ctl = join(dir, 'rabbitmqctl');
    if (executable(server) && executable(ctl)) return { server, ctl };
  }
  return undefined;
}

/**
 * Gate for suites that start their own RabbitMQ nodes: true when the scripts are installed. When
 * they are not: with CI=true it throws (a CI run must never pass by skipping its real part);
 * otherwise it warns loudly and returns false, for `describe.skipIf(!available)`.
 */
export function requireRabbitMqBinaries(): boolean {
  if (findRabbitMqBinaries()) return true;
  const searched = scriptDirs.filter(Boolean).join(', ');
  if (process.env.CI === 'true') {
    throw new Error(`rabbitmq-server and rabbitmqctl are not installed (searched ${searched}) and CI=true: the RabbitMQ cluster tests must run, not skip`);
  }
  const line = '!'.repeat(78);
  console.warn(
    `\n${line}\n!! rabbitmq-server / rabbitmqctl not found (searched ${searched}): SKIPPING the RabbitMQ cluster tests.\n!! Install RabbitMQ (apt-get install rabbitmq-server) or set RABBITMQ_SCRIPTS_DIR; CI=true makes this a failure.\n${line}\n`,
  );
  return false;
}

/** One node of the cluster. */
export interface ClusterNode {
  /** Erlang node name, `troupe-c1-ab12cd34@localhost`. */
  readonly name: string;
  /** AMQP port on 127.0.0.1. */
  readonly port: number;
  /** Erlang distribution port on 127.0.0.1. */
  readonly distPort: number;
  /** `amqp://guest:guest@127.0.0.1:<port>`. */
  readonly url: string;
  /** OS pid of the node's beam.smp process (from `os:getpid()`). */
  readonly pid: number;
}

interface NodeProcess {
  readonly node: ClusterNode;
  readonly child: ChildProcess;
  readonly exited: Promise<void>;
  killed: boolean;
}

/** Free TCP ports on 127.0.0.1 (bound, read, released: good enough for a test on one machine). */
async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
          const server = createServer();
          server.once('error', reject);
          server.listen(0, '127.0.0.1', () => resolve(server));
        }),
    ),
  );
  const ports = servers.map((s) => (s.address() as AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  return ports;
}

/** Whether pid is still the named node's process: its environment names the node (Linux /proc; elsewhere false). */
function isNodeProcess(pid: number, name: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0').includes(`RABBITMQ_NODENAME=${name}`);
  } catch {
    return false;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits for a promise at most `ms`, leaving no timer behind (it would hold the process open). */
async function atMost(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([promise, new Promise((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}

/** A running cluster; `stop()` it in `afterAll` (it also runs, synchronously, at process exit). */
export class RabbitMqCluster {
  /** How long starting and joining every node took, ms. */
  startupMs = 0;
  private readonly processes: NodeProcess[] = [];
  private stopped: Promise<void> | undefined;
  private readonly onExit = () => {
    this.killAllNow();
    if (!this.options.keepFiles) rmSync(this.dir, { recursive: true, force: true });
  };

  private constructor(
    private readonly binaries: RabbitMqBinaries,
    /** The temp dir everything of this cluster lives in. */
    readonly dir: string,
    private readonly options: Required<RabbitMqClusterOptions>,
  ) {
    // A crashed or interrupted test run must not leave beam.smp processes (or their files) behind.
    process.once('exit', this.onExit);
  }

  /** Starts the nodes, joins the 2nd..nth to the first, and waits until each is up. */
  static async start(options: RabbitMqClusterOptions = {}): Promise<RabbitMqCluster> {
    const binaries = findRabbitMqBinaries();
    if (!binaries) throw new Error('rabbitmq-server / rabbitmqctl not found: gate the suite with requireRabbitMqBinaries()');
    const settings = { ...rabbitMqClusterDefaults, ...options };
    const dir = mkdtempSync(join(tmpdir(), 'troupe-rmq-cluster-'));
    const cluster = new RabbitMqCluster(binaries, dir, settings);
    const started = Date.now();
    try {
      await cluster.boot();
    } catch (error) {
      await cluster.stop();
      throw error;
    }
    cluster.startupMs = Date.now() - started;
    return cluster;
  }

  /** The nodes, index = the `i` of `kill(i)`. */
  get nodes(): readonly ClusterNode[] {
    return this.processes.map((p) => p.node);
  }

  /** Whether node i was neither killed nor stopped. */
  alive(i: number): boolean {
    return !this.processes[i]!.killed;
  }

  /** Runs `rabbitmqctl -n <node i> ...args` and resolves to its stdout. */
  ctl(i: number, args: readonly string[], timeoutMs = this.options.ctlTimeoutMs): Promise<string> {
    return this.run(this.nodeName(i), args, timeoutMs);
  }

  /**
   * SIGKILLs node i's beam.smp (its pid came from `os:getpid()` at startup), as a crash or an OOM
   * kill would: no goodbye to its peers or clients. Resolves when the process is gone.
   */
  async kill(i: number): Promise<void> {
    const p = this.processes[i]!;
    if (p.killed) return;
    p.killed = true;
    process.kill(p.node.pid, 'SIGKILL');
    await p.exited;
  }

  /**
   * Stops every node this cluster started (`rabbitmqctl stop`, then SIGKILL for any process left
   * in a node's process group) and removes the temp dir. Safe to call twice and after a failed start.
   */
  stop(): Promise<void> {
    this.stopped ??= (async () => {
      await Promise.all(
        this.processes.map(async (p) => {
          if (p.killed) return;
          p.killed = true;
          await this.run(p.node.name, ['stop'], 15_000).catch(() => undefined);
          await atMost(p.exited, 5_000);
        }),
      );
      this.killAllNow();
      await Promise.all(this.processes.map((p) => atMost(p.exited, 5_000)));
      if (!this.options.keepFiles) rmSync(this.dir, { recursive: true, force: true });
      process.removeListener('exit', this.onExit);
    })();
    return this.stopped;
  }

  /**
   * SIGKILL to what is left of every node: the process group of a script still running, and a
   * beam.smp pid only while it is still that node's process (not a pid the OS handed on since).
   * The last resort of `stop()`, and what runs at process exit.
   */
  private killAllNow(): void {
    for (const p of this.processes) {
      const targets: number[] = [];
      if (p.child.pid !== undefined && p.child.exitCode === null && p.child.signalCode === null) targets.push(-p.child.pid);
      if (p.node.pid > 0 && isNodeProcess(p.node.pid, p.node.name)) targets.push(p.node.pid);
      for (const target of targets) {
        try {
          process.kill(target, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
  }

  private nodeName(i: number): string {
    const p = this.processes[i];
    if (!p) throw new RangeError(`no node ${i} (the cluster has ${this.processes.length})`);
    return p.node.name;
  }

  /** Environment of both the nodes and the CLI: HOME holds this cluster's own cookie. */
  private get env(): NodeJS.ProcessEnv {
    return { ...process.env, HOME: join(this.dir, 'home') };
  }

  private run(node: string, args: readonly string[], timeoutMs: number): Promise<string> {
    return new Promise((resolve, reject) => {
      execFile(this.binaries.ctl, ['-n', node, ...args], { env: this.env, timeout: timeoutMs, killSignal: 'SIGKILL' }, (error, stdout, stderr) => {
        if (error) reject(new Error(`rabbitmqctl -n ${node} ${args.join(' ')} failed: ${error.message}\n${stderr}`));
        else resolve(stdout);
      });
    });
  }

  private async boot(): Promise<void> {
    const count = this.options.nodes;
    mkdirSync(join(this.dir, 'home'), { recursive: true });
    // The cookie must be readable by its owner only, or Erlang refuses it.
    writeFileSync(join(this.dir, 'home', '.erlang.cookie'), randomBytes(24).toString('hex').toUpperCase(), { mode: 0o400 });
    const ports = await freePorts(count * 2);
    const suffix = randomBytes(4).toString('hex');
    const spawned = Array.from({ length: count }, (_, i) => this.spawnNode(i, `${this.options.namePrefix}${i + 1}-${suffix}@localhost`, ports[2 * i]!, ports[2 * i + 1]!));
    // Boot concurrently; `await_startup` fails at once while a node is not yet registered with
    // epmd, so poll it until the node answers.
    await Promise.all(spawned.map((name) => this.awaitStartup(name)));
    const first = spawned[0]!;
    // One at a time: concurrent joins to one node race in its schema.
    for (const name of spawned.slice(1)) {
      await this.run(name, ['stop_app'], this.options.ctlTimeoutMs);
      await this.run(name, ['join_cluster', first], this.options.ctlTimeoutMs);
      await this.run(name, ['start_app'], this.options.ctlTimeoutMs);
      await this.run(name, ['await_startup'], this.options.ctlTimeoutMs);
    }
    for (const [i, name] of spawned.entries()) {
      const pid = Number(/"?(\d+)"?/.exec(await this.run(name, ['eval', 'os:getpid().'], this.options.ctlTimeoutMs))?.[1]);
      if (!Number.isInteger(pid) || pid <= 0) throw new Error(`could not read the OS pid of ${name}`);
      const p = this.processes[i]!;
      this.processes[i] = { ...p, node: { ...p.node, pid } };
    }
    const status = await this.run(first, ['cluster_status', '--formatter', 'json'], this.options.ctlTimeoutMs);
    const running = (JSON.parse(status) as { running_nodes?: string[] }).running_nodes ?? [];
    if (running.length !== count) throw new Error(`cluster formed with ${running.length} running nodes instead of ${count}: ${status}`);
  }

  private spawnNode(i: number, name: string, port: number, distPort: number): string {
    const base = join(this.dir, `node${i + 1}`);
    mkdirSync(join(base, 'mnesia'), { recursive: true });
    mkdirSync(join(base, 'log'), { recursive: true });
    writeFileSync(join(base, 'enabled_plugins'), '[].\n');
    writeFileSync(
      join(base, 'rabbitmq.conf'),
      [
        // 127.0.0.1 only: the distribution interface and epmd address come from the machine's
        // rabbitmq-env.conf (ERL_EPMD_ADDRESS, inet_dist_use_interface), which still applies.
        `listeners.tcp.1 = 127.0.0.1:${port}`,
        `vm_memory_high_watermark.relative = ${this.options.memoryWatermarkRelative}`,
        'disk_free_limit.absolute = 50MB',
        '',
      ].join('\n'),
    );
    const output = openSync(join(base, 'console.log'), 'a');
    const child = spawn(this.binaries.server, [], {
      env: {
        ...this.env,
        RABBITMQ_NODENAME: name,
        RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
        RABBITMQ_NODE_PORT: String(port),
        RABBITMQ_DIST_PORT: String(distPort),
        RABBITMQ_MNESIA_BASE: join(base, 'mnesia'),
        RABBITMQ_LOG_BASE: join(base, 'log'),
        RABBITMQ_CONFIG_FILE: join(base, 'rabbitmq.conf'),
        RABBITMQ_ENABLED_PLUGINS_FILE: join(base, 'enabled_plugins'),
        RABBITMQ_PID_FILE: join(base, 'pid'),
        RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS: `+S ${this.options.schedulers}:${this.options.schedulers}`,
      },
      cwd: base,
      // Its own process group, so stop() can SIGKILL whatever the script started.
      detached: true,
      stdio: ['ignore', output, output],
    });
    closeSync(output);
    const exited = new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve();
      else child.once('exit', () => resolve());
    });
    this.processes.push({ node: { name, port, distPort, url: `amqp://guest:guest@127.0.0.1:${port}`, pid: 0 }, child, exited, killed: false });
    return name;
  }

  private async awaitStartup(name: string): Promise<void> {
    const deadline = Date.now() + this.options.ctlTimeoutMs;
    for (;;) {
      try {
        await this.run(name, ['await_startup'], this.options.ctlTimeoutMs);
        return;
      } catch (error) {
        if (Date.now() > deadline) throw error;
        const p = this.processes.find((q) => q.node.name === name)!;
        if (p.child.exitCode !== null) {
          const console = readFileSync(join(this.dir, `node${this.processes.indexOf(p) + 1}`, 'console.log'), 'utf8');
          throw new Error(`${name} exited (${p.child.exitCode}) during startup:\n${console.slice(-2_000)}`);
        }
        await sleep(250);
      }
    }
  }
}

/** Starts a throw-away cluster; see `RabbitMqClusterOptions`. */
export function startRabbitMqCluster(options?: RabbitMqClusterOptions): Promise<RabbitMqCluster> {
  return RabbitMqCluster.start(options);
}
