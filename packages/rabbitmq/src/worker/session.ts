import type { Channel, ChannelModel, ConfirmChannel } from 'amqplib';

/**
 * How long a reply waits for the reply connection to come back before it is given up (the client
 * then times out and resends with its command id), ms.
 */
export const replyWaitMs = 5_000;

/**
 * The worker's broker connection as its parts see it. A delivery remembers the generation it
 * came with: once the connection is lost (generation bumped) its channel is gone and the broker
 * gives the message to a consumer again, so it must not be started any more.
 */
export class Session {
  /** Bumped on every connection and on every loss of one. */
  generation = 0;
  /** Times this worker connected to the broker (1 + reconnections). */
  connections = 0;
  /** True before the first connection and once stopping: nothing new starts. */
  halted = true;
  /** The current connection; undefined while reconnecting. */
  model: ChannelModel | undefined;
  /** The channel dead-letters are published on (publisher confirms); undefined while reconnecting. */
  confirmChannel: ConfirmChannel | undefined;
  /**
   * The channel replies are published on, on a connection of its own; undefined while that
   * connection is down (replies then wait for it, `replyChannelWithin`). Why apart: RabbitMQ 3.10 closes
   * the whole connection that publishes to the direct reply-to name of a client whose node died
   * (541, a crash in deliver_reply); on the consuming connection that loses every in-flight command
   * of the worker and loops the redelivered one until the delivery limit (measured in the cluster
   * test: 48 reconnections in 70 s). On its own connection it costs that reply only, and the client,
   * whose connection died with its node, resends with the same command id.
   */
  replyChannel: Channel | undefined;
  private readonly replyWaiters = new Set<(channel: Channel) => void>();

  /** Sets (or clears) the reply channel; commands waiting for one get it. */
  setReplyChannel(channel: Channel | undefined): void {
    this.replyChannel = channel;
    if (!channel) return;
    for (const waiter of this.replyWaiters) waiter(channel);
    this.replyWaiters.clear();
  }

  /**
   * The reply channel, waiting up to `waitMs` while its connection comes back (a broker restart
   * drops both connections; the consuming one may be back first). Undefined if it is not back in
   * time: the reply is then not sent, and the caller's retry with its command id gets the result.
   * Never the consuming channel (see above).
   */
  replyChannelWithin(waitMs: number): Promise<Channel | undefined> {
    if (this.replyChannel) return Promise.resolve(this.replyChannel);
    return new Promise((resolve) => {
      const done = (channel: Channel | undefined) => {
        clearTimeout(timer);
        this.replyWaiters.delete(done);
        resolve(channel);
      };
      const timer = setTimeout(() => done(undefined), waitMs);
      this.replyWaiters.add(done);
    });
  }

  /** Forgets the lost connection: deliveries of it are not started any more. */
  lost(): void {
    this.model = undefined;
    this.confirmChannel = undefined;
    this.generation++;
  }
}
