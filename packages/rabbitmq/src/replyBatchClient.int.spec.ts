/**
 * The client's side of reply batches (`troupe.replies`) on a real broker, answered by a fake
 * worker that sends what a faulty or hostile one could: every command is settled by its own
 * entry, once; an entry that does not decode, an unknown correlation id, a second entry for a
 * command already answered, an entry whose `commandId` is another command's, and an entry for a
 * command that already timed out are skipped without disturbing the rest; a batch that does not
 * decode at all changes nothing; the reply channel stays usable after all of it.
 */
import { describe, expect, it } from 'vitest';
import amqp, { type ConsumeMessage } from 'amqplib';
import type { UntypedRef } from '@troupe/runtime';
import { encodeValue } from '@troupe/runtime/store';
import { connectBus } from './client/index.js';
import { CommandFailedError, CommandTimeoutError } from './errors/index.js';
import { type ReplyMessage, busProtocolVersion, decodeCommand, encodeReply, replyBatchType } from './protocol/messages.js';
import { declareTopology } from './topology.js';
import { amqpUrl, deleteTopology, requireRabbitMq, testTopology } from './testing/amqpTest.js';

const available = await requireRabbitMq();

const accepted = (commandId: string): ReplyMessage => ({ v: busProtocolVersion, status: 'accepted', commandId, version: { r1: 1 }, events: [], duplicate: false });
const rejected = (commandId: string): ReplyMessage => ({ v: busProtocolVersion, status: 'rejected', commandId, reason: 'no' });
const failed = (commandId: string): ReplyMessage => ({ v: busProtocolVersion, status: 'failed', commandId, code: 'ACTOR_FAILED', message: 'boom' });

async function until(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe.skipIf(!available)('a client reading reply batches', () => {
  it('settles each command from its own entry, once, and skips every other entry', { timeout: 30_000 }, async () => {
    const t = testTopology(1);
    const connection = await amqp.connect(amqpUrl);
    const channel = await connection.createChannel();
    await declareTopology(channel, t);
    const commands: ConsumeMessage[] = [];
    await channel.consume(t.shardQueues[0]!, (message) => message && commands.push(message), { noAck: true });
    const bus = await connectBus({ url: amqpUrl, ...t });
    try {
      const ref = { type: 'seqlog', id: 'batch-client' } as UntypedRef;
      const send = (n: number, timeoutMs = 10_000) => bus.send(ref, { type: 'record', payload: { n } }, { timeoutMs });
      const outcome = (n: number, timeoutMs?: number) => send(n, timeoutMs).then((reply) => reply, (error: unknown) => error);
      const settled = [outcome(1), outcome(2), outcome(3), outcome(4), outcome(5, 300)];
      await until(() => commands.length === 5);
      const sent = new Map(
        commands.map((message) => {
          const command = decodeCommand(message.content);
          return [(command.payload as { n: number }).n, { commandId: command.commandId, correlationId: String(message.properties.correlationId) }];
        }),
      );
      const id = (n: number) => sent.get(n)!.commandId;
      const corr = (n: number) => sent.get(n)!.correlationId;
      const replyTo = String(commands[0]!.properties.replyTo);
      // Command 5 times out before any answer comes.
      expect(await settled[4]).toBeInstanceOf(CommandTimeoutError);

      channel.sendToQueue(
        replyTo,
        encodeValue([
          [corr(1), accepted(id(1))],
          [corr(1), rejected(id(1))], // a second entry for command 1
          [corr(2), accepted(id(3))], // command 3's reply under command 2's correlation id
          ['nobody-waits-for-this', accepted('cmd-x')],
          [corr(5), accepted(id(5))], // timed out already
          [corr(3), { v: 99, status: 'accepted', commandId: id(3) }], // not a reply of this protocol
          'junk',
          [corr(3)],
          [corr(4), failed(id(4))],
        ]),
        { type: replyBatchType },
      );
      channel.sendToQueue(replyTo, Buffer.from([9, 9, 9]), { type: replyBatchType }); // not a batch
      channel.sendToQueue(replyTo, encodeReply(accepted(id(2))), { correlationId: corr(2) });
      channel.sendToQueue(replyTo, encodeValue([[corr(3), rejected(id(3))]]), { type: replyBatchType });

      const [first, second, third, fourth] = await Promise.all(settled.slice(0, 4));
      expect(first).toMatchObject({ status: 'accepted', commandId: id(1) });
      expect(second).toMatchObject({ status: 'accepted', commandId: id(2) });
      expect(third).toMatchObject({ status: 'rejected', commandId: id(3) });
      expect(fourth).toBeInstanceOf(CommandFailedError);
      expect((fourth as CommandFailedError).commandId).toBe(id(4));

      // The reply consumer survived all of it: a later command is answered as usual.
      const later = outcome(6);
      await until(() => commands.length === 6);
      const command = decodeCommand(commands[5]!.content);
      channel.sendToQueue(String(commands[5]!.properties.replyTo), encodeValue([[String(commands[5]!.properties.correlationId), accepted(command.commandId)]]), { type: replyBatchType });
      expect(await later).toMatchObject({ status: 'accepted', commandId: command.commandId });
    } finally {
      await bus.close();
      await connection.close();
      await deleteTopology(t);
    }
  });
});
