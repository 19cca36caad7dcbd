import type { BankClient, SentCommand } from './bankClient.js';

/** A small seeded PRNG (mulberry32), so a run's workload is reproducible from its seed. */
export function seededRandom(seed: number): { int(min: number, max: number): number } {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { int: (min, max) => min + Math.floor(next() * (max - min + 1)) };
}

export interface RandomWorkloadOptions {
  readonly accounts: readonly string[];
  readonly commands: number;
  /** Commands in flight at once. */
  readonly concurrency: number;
  readonly phase: string;
  readonly seed: number;
  /** Called once, when half of the commands were sent (where a test plants its faults). */
  readonly halfway?: () => Promise<void>;
}

/**
 * The bank's client mix on one region: deposits (45 %) and withdrawals (55 %) of 1-60 on the
 * given (open) accounts. Withdrawals that the region's view cannot cover are rejected; those that
 * the other side of a partition also made become overdrafts when the regions merge.
 */
export async function randomWorkload(client: BankClient, options: RandomWorkloadOptions): Promise<SentCommand[]> {
  const random = seededRandom(options.seed);
  const plan = Array.from({ length: options.commands }, () => {
    const account = options.accounts[random.int(0, options.accounts.length - 1)]!;
    const amount = random.int(1, 60);
    return { account, command: random.int(0, 99) < 45 ? ({ type: 'deposit', payload: { amount } } as const) : ({ type: 'withdraw', payload: { amount } } as const) };
  });
  const sent: SentCommand[] = [];
  let next = 0;
  let halfway: Promise<void> | undefined;
  const lane = async () => {
    while (next < plan.length) {
      const step = plan[next++]!;
      if (options.halfway && next >= plan.length / 2) halfway ??= options.halfway();
      sent.push(await client.send(step.account, step.command, options.phase));
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, lane));
  await halfway;
  return sent;
}
