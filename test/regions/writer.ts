import { type EventStore, createRuntime } from '@troupe/runtime';
import { Account } from '@troupe/bank';

/**
 * Writes into one region's store the way its workers would, from the test process (an embedded
 * runtime writing as the region's replica id): for the fault tests, which need packs in a log,
 * not a bus. The first call for an account opens it; every command is one pack. Returns the
 * command ids, in order.
 */
export async function writeDeposits(store: EventStore, region: string, account: string, count: number, tag: string): Promise<string[]> {
  const runtime = createRuntime({ actors: [Account], store, replicaId: region });
  const ids: string[] = [];
  try {
    const ref = Account.ref(account);
    if ((await store.heads(ref)).length === 0) {
      const commandId = `${tag}-open`;
      const reply = await runtime.send(ref, { type: 'open', payload: { owner: account }, commandId });
      if (reply.status !== 'accepted') throw new Error(`open ${account} in ${region}: ${reply.reason}`);
      ids.push(commandId);
    }
    while (ids.length < count) {
      const commandId = `${tag}-${ids.length}`;
      const reply = await runtime.send(ref, { type: 'deposit', payload: { amount: 1 }, commandId });
      if (reply.status !== 'accepted') throw new Error(`deposit to ${account} in ${region}: ${reply.reason}`);
      ids.push(commandId);
    }
    return ids;
  } finally {
    await runtime.stop();
  }
}

/** Whether the store holds the pack of every one of these commands of the account. */
export async function holdsAll(store: EventStore, account: string, commandIds: readonly string[]): Promise<boolean> {
  for (const id of commandIds) if ((await store.commandVersions(Account.ref(account), id)).length === 0) return false;
  return true;
}

/** Polls until `condition` holds; throws `what` after `timeoutMs`. */
export async function until(what: string, condition: () => Promise<boolean>, timeoutMs = 20_000, pollMs = 100): Promise<number> {
  const started = performance.now();
  for (;;) {
    if (await condition().catch(() => false)) return Math.round(performance.now() - started);
    if (performance.now() - started > timeoutMs) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, pollMs));
  }
}
