import { Socket } from 'node:net';

export interface ServiceCheck {
  /** Shown in messages, e.g. 'Redis'. */
  readonly name: string;
  readonly host: string;
  readonly port: number;
  /** How long to wait for the TCP connection, ms. Default 1,000. */
  readonly timeoutMs?: number;
}

/** True when a TCP connection to host:port opens within the timeout. */
export function canConnect(host: string, port: number, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('error', () => done(false));
    socket.connect(port, host, () => done(true));
  });
}

/**
 * Gate for suites that need a real service. Returns true when it answers. When it does not:
 * with CI=true it throws (a CI run must never pass by skipping its real part); otherwise it
 * prints a loud warning and returns false, so the caller can `describe.skipIf(!available)`.
 */
export async function requireService(check: ServiceCheck): Promise<boolean> {
  if (await canConnect(check.host, check.port, check.timeoutMs)) return true;
  const where = `${check.host}:${check.port}`;
  if (process.env.CI === 'true') {
    throw new Error(`${check.name} is not reachable at ${where} and CI=true: its integration tests must run, not skip`);
  }
  const line = '!'.repeat(78);
  console.warn(`\n${line}\n!! ${check.name} is not reachable at ${where}: SKIPPING its integration tests.\n!! Start it (see README) or run with CI=true to make this a failure.\n${line}\n`);
  return false;
}
