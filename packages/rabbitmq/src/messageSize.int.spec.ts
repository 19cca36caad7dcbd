import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import amqp from 'amqplib';
import { LimitExceededError, MemoryStore, type UntypedRef } from '@troupe/runtime';
import { connectBus } from './client/index.js';
import { CommandTimeoutError } from './errors/index.js';
import { startWorker } from './worker/index.js';
import { SequenceLog } from './testing/sequenceActor.js';
import { amqpUrl, deleteTopology, requireRabbitMq, testTopology } from './testing/amqpTest.js';
import { maxMessageBytes, requireMessageSizeLimit } from './testing/brokerLimits.js';
import { busProtocolVersion, encodeCommand } from './protocol/messages.js';
import { shardOf } from './topology.js';

const available = (await requireRabbitMq()) && (await requireMessageSizeLimit());
const quiet = pino({ level: 'silent' });
const memoryWorkerScript = fileURLToPath(new URL('../dist-testing/testing/memoryWorker.js', import.meta.url));

/** A process's resident set now and at its peak (VmRSS, VmHWM), bytes. */
function rssOf(pid: number): { now: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)![1]) * 1024;
  return { now: kib('VmRSS'), peak: kib('VmHWM') };
}

const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;

// Issue #14 defect 3: the size limit was checked only once a whole message was in the worker's
// memory (one 100 MB message took a worker from 82 to 468 MB RSS). The broker's
// max_message_size now refuses oversize publishes before any worker sees them.
describe.skipIf(!available)('message size bound by the broker', () => {
  it(`a command over the broker's max_message_size (${maxMessageBytes} bytes) fails with LimitExceededError naming it; the bus keeps working`, async () => {
    const t = testTopology(2);
    const worker = await startWorker({ url: amqpUrl, ...t, actors: [SequenceLog], store: new MemoryStore(), logger: quiet, defaultMetrics: false });
    // A client whose own limit is above the broker's: the broker is the one to refuse.
    const bus = await connectBus({ url: amqpUrl, ...t, commandBytesMax: 4 * maxMessageBytes, timeoutMs: 10_000 });
    try {
      const ref = { type: 'seqlog', id: 'big' } as UntypedRef;
      const error = await bus.send(ref, { type: 'record', payload: { client: 'x'.repeat(maxMessageBytes + 10), seq: 1 } }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(LimitExceededError);
      expect((error as LimitExceededError).limit).toBe('max_message_size');
      expect((error as Error).message).toMatch(/the broker refused command \S+: its \d+ bytes exceed the broker's max_message_size of \d+ bytes/);
      // The broker closed the channel; the bus opened another on the same connection.
      expect(await bus.send(ref, { type: 'record', payload: { client: 'c', seq: 2 } })).toMatchObject({ status: 'accepted' });
      const view = await worker.runtime.inspect<{ seen: unknown[] }>(ref);
      expect(view.state.seen).toEqual([['c', 2]]);
    } finally {
      await bus.close();
      await worker.stop();
      await deleteTopology(t);
    }
  });

  it("a worker's memory stays bounded while 32 MiB messages are published to its shard queue", { timeout: 60_000 }, async () => {
    const t = testTopology(2);
    const child = spawn(process.execPath, [memoryWorkerScript], {
      env: { ...process.env, AMQP_URL: amqpUrl, PREFIX: t.prefix, SHARDS: String(t.shards) },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = new Promise<unknown>((resolve) => child.once('exit', resolve));
    const connection = await amqp.connect(amqpUrl);
    try {
      const pid = await new Promise<number>((resolve, reject) => {
        createInterface({ input: child.stdout! }).on('line', (line) => {
          if (line.startsWith('{"ready":true')) resolve((JSON.parse(line) as { pid: number }).pid);
        });
        void exited.then((code) => reject(new Error(`memory worker exited (${String(code)}) before it was ready`)));
      });
      const bus = await connectBus({ url: amqpUrl, ...t, timeoutMs: 20_000 });
      try {
        const ref = { type: 'seqlog', id: Array.from({ length: 50 }, (_, i) => `m${i}`).find((id) => shardOf({ type: 'seqlog', id }, t.shards) === 0)! } as UntypedRef;
        for (let seq = 0; seq < 20; seq++) expect((await bus.send(ref, { type: 'record', payload: { client: 'm', seq } })).status).toBe('accepted');
        const before = rssOf(pid);
        // Four 32 MiB commands at once, each on its own channel, as a hostile client would.
        const huge = encodeCommand({ v: busProtocolVersion, type: 'seqlog', id: ref.id, command: 'record', payload: { client: 'x'.repeat(32 << 20), seq: -1 }, commandId: 'huge', checkDuplicate: true });
        const outcomes = await Promise.all(
          Array.from({ length: 4 }, async () => {
            const channel = await connection.createConfirmChannel();
            channel.on('error', () => undefined);
            channel.publish(t.commandsExchange, t.shardQueues[0]!, huge, { persistent: true });
            return channel.waitForConfirms().then(
              () => 'queued',
              () => 'refused',
            );
          }),
        );
        // A command behind them in the same queue is answered: the worker has had every message
        // queued before it.
        expect((await bus.send(ref, { type: 'record', payload: { client: 'm', seq: 20 } })).status).toBe('accepted');
        const after = rssOf(pid);
        // Generous: one 32 MiB message in the worker raises its peak by more than this.
        expect(after.peak - before.peak, `peak RSS ${mib(before.peak)} -> ${mib(after.peak)}`).toBeLessThan(32 << 20);
        expect(outcomes).toEqual(['refused', 'refused', 'refused', 'refused']);
      } finally {
        await bus.close();
      }
    } finally {
      await connection.close().catch(() => undefined);
      child.kill('SIGTERM');
      await exited;
      await deleteTopology(t);
    }
  });

  // Replies go out on a connection of their own (see Session.replyChannel), so an oversize reply
  // can no longer close a shard's channel and loop its command; what the broker still does is
  // close the channel the reply went on, and drop with it the replies of other commands published
  // on that channel before the worker learnt of the close. replyBytesMax keeps such a reply from
  // being published at all. (With replyBytesMax above the broker's limit this test fails: 'reply
  // channel error' is logged.)
  it("a reply over the broker's limit is not sent: the reply channel stays open and the other commands' replies in flight arrive; its client times out, the actor goes on", { timeout: 60_000 }, async () => {
    const t = testTopology(2);
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, new Writable({ write: (chunk, _encoding, next) => (lines.push(String(chunk)), next()) }));
    // The runtime's limits raised so one event can carry (almost) a whole command's worth.
    const worker = await startWorker({ url: amqpUrl, ...t, actors: [SequenceLog], store: new MemoryStore(), logger, defaultMetrics: false, commandBytesMax: maxMessageBytes, runtime: { commandBytesMax: 4 * maxMessageBytes, packBytesMax: 4 * maxMessageBytes } });
    const bus = await connectBus({ url: amqpUrl, ...t, commandBytesMax: maxMessageBytes, timeoutMs: 10_000 });
    try {
      const ref = { type: 'seqlog', id: 'echo' } as UntypedRef;
      // A command just under the broker's limit; its reply (the event with its metadata) is over it.
      // (With the fields the client sends: `batchReplies` too, since the replies of a turn are batched.)
      const overhead = encodeCommand({ v: busProtocolVersion, type: 'seqlog', id: 'echo', command: 'record', payload: { client: '', seq: 1 }, commandId: 'x'.repeat(40), checkDuplicate: false, batchReplies: true }).length;
      const client = 'x'.repeat(maxMessageBytes - overhead - 16);
      // Other actors' commands in flight all along, each answered within 5 s or counted lost.
      let big = false;
      const outcomes: Record<string, number> = {};
      const others = Promise.all(
        Array.from({ length: 16 }, async (_, i) => {
          const other = { type: 'seqlog', id: `other-${i}` } as UntypedRef;
          for (let seq = 0; seq < 400 && !(big && seq >= 20); seq++) {
            const outcome = await bus.send(other, { type: 'record', payload: { client: 'o', seq } }, { timeoutMs: 5_000 }).then(
              (r) => r.status,
              (e: { code?: string }) => e.code ?? 'error',
            );
            outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
          }
        }),
      );
      await new Promise((r) => setTimeout(r, 200));
      const error = await bus.send(ref, { type: 'record', payload: { client, seq: 1 } }, { timeoutMs: 3_000 }).catch((e: unknown) => e);
      big = true;
      await others;
      expect(error, String(error)).toBeInstanceOf(CommandTimeoutError);
      const logged = lines.map((line) => JSON.parse(line) as { msg: string; level: number });
      expect(outcomes, JSON.stringify(outcomes)).toEqual({ accepted: expect.any(Number) });
      expect(logged.filter((l) => /reply channel error|lost the reply connection|could not send the reply/.test(l.msg)).map((l) => l.msg)).toEqual([]);
      expect(logged.filter((l) => l.msg.startsWith('not answering: the reply is larger than replyBytesMax'))).toHaveLength(1);
      // The next command of the same actor is served at once: the big one was acknowledged once,
      // not redelivered.
      expect(await bus.send(ref, { type: 'record', payload: { client: 'c', seq: 2 } })).toMatchObject({ status: 'accepted' });
      expect((await worker.metrics.redeliveries.get()).values[0]?.value ?? 0).toBe(0);
      expect((await worker.metrics.replyConnectionLosses.get()).values[0]?.value ?? 0).toBe(0);
      expect(worker.connectionCount).toBe(1);
      const view = await worker.runtime.inspect<{ seen: [string, number][] }>(ref);
      expect(view.state.seen.map(([, seq]) => seq)).toEqual([1, 2]);
    } finally {
      await bus.close();
      await worker.stop();
      await deleteTopology(t);
    }
  });
});
