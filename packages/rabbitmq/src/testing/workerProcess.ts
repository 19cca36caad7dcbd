import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/** The failover worker, compiled by the package's test script into dist-testing. */
export const failoverWorkerScript = fileURLToPath(new URL('../../dist-testing/testing/failoverWorker.js', import.meta.url));

export interface WorkerProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  /** The worker's id (its name in the membership). */
  readonly id: string;
  readonly metricsUrl: string;
  /** Resolves with the exit code or signal. */
  readonly exited: Promise<number | NodeJS.Signals | null>;
}

/** Spawns a failover worker and waits for its ready line. */
export async function spawnWorker(env: Record<string, string>): Promise<WorkerProcess> {
  const child = spawn(process.execPath, [failoverWorkerScript], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<number | NodeJS.Signals | null>((resolve) => child.once('exit', (code, signal) => resolve(signal ?? code)));
  const ready = await new Promise<{ pid: number; id: string; metricsUrl: string }>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      try {
        const parsed = JSON.parse(line) as { ready?: boolean; pid: number; id: string; metricsUrl: string };
        if (parsed.ready) resolve(parsed);
      } catch {
        // not our line
      }
    });
    void exited.then((code) => reject(new Error(`worker process exited (${String(code)}) before it was ready`)));
  });
  return { child, pid: ready.pid, id: ready.id, metricsUrl: ready.metricsUrl, exited };
}

/** The value of a counter in a Prometheus text exposition (0 when absent). */
export async function scrape(metricsUrl: string, series: string): Promise<number> {
  const text = await (await fetch(metricsUrl)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}
