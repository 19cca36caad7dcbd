import amqp from 'amqplib';
import { amqpUrl } from './amqpTest.js';

/** The broker's message size limit this package's README asks for (and `.ci/run` sets): 2 MiB. */
export const maxMessageBytes = 2 << 20;

/**
 * Publishes `bytes` bytes to nowhere (the default exchange, a routing key no queue has) and
 * reports whether the broker refused them for their size (it closes the channel with
 * PRECONDITION_FAILED, "message size ... is larger than configured max size ..."). Nothing is
 * stored either way.
 */
export async function brokerRefuses(bytes: number, url = amqpUrl): Promise<{ refused: boolean; reason: string | undefined }> {
  const connection = await amqp.connect(url);
  try {
    const channel = await connection.createConfirmChannel();
    let reason: string | undefined;
    channel.on('error', (error: Error) => (reason = error.message));
    channel.publish('', `troupe-size-probe-${process.pid}`, Buffer.alloc(bytes));
    try {
      await channel.waitForConfirms();
      return { refused: false, reason };
    } catch {
      return { refused: /larger than (configured )?max size/.test(reason ?? ''), reason };
    }
  } finally {
    await connection.close().catch(() => undefined);
  }
}

/**
 * Whether the broker enforces a `max_message_size` of at most `maxMessageBytes`. Throws under
 * CI=true when it does not (`.ci/run` sets it), warns loudly and returns false otherwise, as
 * `requireService` does for a missing service.
 */
export async function requireMessageSizeLimit(url = amqpUrl): Promise<boolean> {
  const { refused } = await brokerRefuses(maxMessageBytes + 1, url);
  if (refused) return true;
  const problem = `RabbitMQ at ${url.replace(/:[^:@/]*@/, ':***@')} accepts messages over ${maxMessageBytes} bytes: set its max_message_size (packages/rabbitmq/README.md, "Message size and memory"; .ci/run does it)`;
  if (process.env.CI === 'true') throw new Error(`${problem}, and CI=true: the message size tests must run, not skip`);
  const line = '!'.repeat(78);
  console.warn(`\n${line}\n!! ${problem}: SKIPPING the message size tests.\n${line}\n`);
  return false;
}
