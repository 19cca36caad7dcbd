import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { type EventStore, MemoryStore, Runtime, type UntypedRef } from '@troupe/runtime';
import { connectBus, type CommandBus } from './client/index.js';
import { BusUnavailableError, CommandTimeoutError } from './errors/index.js';
import { startWorker } from './worker/index.js';
import { SequenceLog, type SequenceState } from './testing/sequenceActor.js';
import { amqpUrl, deleteTopology, requireRabbitMq, testTopology } from './testing/amqpTest.js';
import { TcpProxy } from './testing/tcpProxy.js';

const available = await requireRabbitMq();
const quiet = pino({ level: 'silent' });

/** The command id an error says to retry with, when it says the outcome is unknown. */
function unknownOutcomeId(error: unknown): string | undefined {
  return error instanceof BusUnavailableError || error instanceof CommandTimeoutError ? error.commandId : undefined;
}

/** Every seq each actor recorded (in the order applied). */
async function recorded(store: EventStore, actors: number): Promise<number[][]> {
  const reader = new Runtime({ actors: [SequenceLog], store });
  try {
    const out: number[][] = [];
    for (let i = 0; i < actors; i++) out.push((await reader.inspect<SequenceState>({ type: 'seqlog', id: `u${i}` })).state.seen.map(([, seq]) => seq));
    return out;
  } finally {
    await reader.stop();
  }
}

describe.skipIf(!available)('a send whose outcome is unknown', () => {
  // Issue #14 defect 1: a publish confirm failed by the cut ('channel closed') came back as
  // BusUnavailableError without commandId, so the caller could only resend it as a new command,
  // and the worker had often applied the first one already.
  it('carries the command id on every error after the connection is cut under load; resending with it applies each command once', { timeout: 60_000 }, async () => {
    const t = testTopology(4);
    const store = new MemoryStore();
    const worker = await startWorker({ url: amqpUrl, ...t, actors: [SequenceLog], store, logger: quiet, defaultMetrics: false });
    const proxy = await TcpProxy.start('127.0.0.1', Number(new URL(amqpUrl).port || 5672));
    const { username, password } = new URL(amqpUrl);
    let bus: CommandBus | undefined;
    const actors = 40;
    const perActor = 25;
    try {
      bus = await connectBus({ url: `amqp://${username}:${password}@127.0.0.1:${proxy.port}`, ...t, timeoutMs: 10_000 });
      // Each actor gets its commands one after another, 40 actors at once, and the client's
      // connection is cut at the 200th reply: the commands then in flight were just published,
      // most of them not yet confirmed (the broker confirms once the worker acks, or the message
      // is on disk), some confirmed and waiting for their reply. Each actor stops at its first
      // error; the caller below resends.
      let replies = 0;
      const failed: { ref: UntypedRef; seq: number; error: Error }[] = [];
      const next: number[] = [];
      await Promise.all(
        Array.from({ length: actors }, async (_, i) => {
          const ref = { type: 'seqlog', id: `u${i}` } as UntypedRef;
          for (let seq = 0; seq < perActor; seq++) {
            next[i] = seq + 1;
            try {
              await bus!.send(ref, { type: 'record', payload: { client: 'u', seq } });
            } catch (error) {
              failed.push({ ref, seq, error: error as Error });
              return;
            }
            if (++replies === 200) proxy.cut();
          }
        }),
      );
      if (process.env.DEBUG_OUTCOME) console.log(failed.length, [...new Set(failed.map((f) => f.error.message.replace(/[0-9a-f-]{36}\.\w+/g, 'ID')))]);
      expect(failed.length).toBeGreaterThan(0); // the cut happened while commands were in flight
      const withoutId = failed.filter((f) => unknownOutcomeId(f.error) === undefined).map((f) => `${f.error.name}: ${f.error.message}`);
      expect(withoutId).toEqual([]);
      // The careful caller resends each with its id once the broker is back: nothing twice.
      proxy.restore();
      for (const f of failed) {
        const commandId = unknownOutcomeId(f.error)!;
        for (let attempt = 0; ; attempt++) {
          try {
            const reply = await bus.send(f.ref, { type: 'record', payload: { client: 'u', seq: f.seq } }, { commandId });
            expect(reply.status).toBe('accepted');
            break;
          } catch (error) {
            if (attempt > 100 || !(error instanceof BusUnavailableError)) throw error; // reconnecting
            await new Promise((r) => setTimeout(r, 100));
          }
        }
      }
      await Promise.all(
        Array.from({ length: actors }, async (_, i) => {
          const ref = { type: 'seqlog', id: `u${i}` } as UntypedRef;
          for (let seq = next[i]!; seq < perActor; seq++) expect((await bus!.send(ref, { type: 'record', payload: { client: 'u', seq } })).status).toBe('accepted');
        }),
      );
      for (const seqs of await recorded(store, actors)) {
        expect([...seqs].sort((a, b) => a - b)).toEqual(Array.from({ length: perActor }, (_, s) => s));
      }
    } finally {
      await bus?.close();
      await worker.stop();
      await proxy.close();
      await deleteTopology(t);
    }
  });

  it('fails the commands waiting on a channel the broker closed at once, each with its id, and publishes on a new channel after', { timeout: 30_000 }, async () => {
    const t = testTopology(2);
    const store = new MemoryStore();
    // A worker declares the topology and stops: commands then wait in their queue, unanswered.
    await (await startWorker({ url: amqpUrl, ...t, actors: [SequenceLog], store, logger: quiet, defaultMetrics: false })).stop();
    const bus = await connectBus({ url: amqpUrl, ...t, timeoutMs: 20_000 });
    let worker: Awaited<ReturnType<typeof startWorker>> | undefined;
    try {
      const ref = { type: 'seqlog', id: 'closed' } as UntypedRef;
      const waiting = Array.from({ length: 5 }, (_, seq) => bus.send(ref, { type: 'record', payload: { client: 'c', seq } }).catch((e: unknown) => e as Error));
      await new Promise((r) => setTimeout(r, 200)); // published and confirmed
      // Make the broker close the bus's channel (its connection stays up): acknowledge a
      // delivery tag it never gave out, a channel-level protocol error like an oversize publish.
      const current = (bus as unknown as { current: { channel: { ack(m: unknown): void } } }).current;
      const started = Date.now();
      current.channel.ack({ fields: { deliveryTag: 987_654 } });
      const errors = await Promise.all(waiting);
      expect(Date.now() - started).toBeLessThan(5_000); // not the 20 s timeout
      for (const error of errors) {
        expect(error).toBeInstanceOf(BusUnavailableError);
        expect((error as BusUnavailableError).commandId).toEqual(expect.any(String));
      }
      // A new channel takes its place; retries with the ids apply each command once.
      worker = await startWorker({ url: amqpUrl, ...t, actors: [SequenceLog], store, logger: quiet, defaultMetrics: false });
      await new Promise((r) => setTimeout(r, 200));
      for (const [seq, error] of errors.entries()) {
        const reply = await bus.send(ref, { type: 'record', payload: { client: 'c', seq } }, { commandId: (error as BusUnavailableError).commandId! });
        expect(reply).toMatchObject({ status: 'accepted', duplicate: true });
      }
      expect((await bus.send(ref, { type: 'record', payload: { client: 'c', seq: 5 } })).status).toBe('accepted');
      const view = await worker.runtime.inspect<SequenceState>(ref);
      expect(view.state.seen.map(([, seq]) => seq)).toEqual([0, 1, 2, 3, 4, 5]);
    } finally {
      await bus.close();
      await worker?.stop();
      await deleteTopology(t);
    }
  });
});
