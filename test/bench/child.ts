import { spawn } from 'node:child_process';

/**
 * Runs a benchmark script (TypeScript, through tsx) in a child process of its own, so what it
 * measures (peak RSS, heap) is its own, and returns the JSON of the last line it printed on stdout.
 * The child gets `--expose-gc` and a heap limit of `maxOldSpaceMiB` (Node's default without it);
 * its stderr goes to ours.
 * Waits for 'close', not 'exit': at 'exit' the child's stdout may not have been read yet.
 */
export async function runJsonChild<T>(name: string, script: string, args: readonly string[], options: { readonly cwd: string; readonly maxOldSpaceMiB?: number }): Promise<T> {
  const heap = options.maxOldSpaceMiB === undefined ? [] : [`--max-old-space-size=${options.maxOldSpaceMiB}`];
  const child = spawn(process.execPath, ['--expose-gc', ...heap, '--import', 'tsx', script, ...args], {
    cwd: options.cwd,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  const { code, signal } = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (c, s) => resolve({ code: c, signal: s }));
  });
  if (code !== 0) throw new Error(`${name} child exited with ${code ?? signal}`);
  const line = out.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(line) as T;
  } catch {
    throw new Error(`${name} child printed no result line (stdout ended with: ${line.slice(0, 200) || '(nothing)'})`);
  }
}
