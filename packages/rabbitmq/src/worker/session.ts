import type { Channel, ChannelModel, ConfirmChannel } from 'amqplib';

/**
 * How long a reply waits for the reply connection to come back before it is given up (the client
 * then times out and resends with its command id), ms.
 */
export const replyWaitMs = 5_000;

/**
 * How long a dead letter waits for the dead-letter channel while it is opened again after the
 * broker closed it alone (the connection staying up); then the message goes to the queue's own
 * dead-lettering instead (x-death, without the worker's x-troupe-* headers), ms.
 */
export const confirmWaitMs = 2_000;

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
  /**
   * The channel dead-letters are published on (publisher confirms), on the consuming connection;
   * undefined while reconnecting, and while it is opened again after the broker closed it alone
   * (`confirmChannelWithin`).
   */
  confirmChannel: ConfirmChannel | undefined;
  /**
   * The channel replies are published on, on a connection of its own; undefined while that
   * connection is down (replies then wait for it, `replyChannelWithin`). Why apart: RabbitMQ 3.10 closes
   * the whole connection that publishes to the direct reply-to name of a channel on a node that is
   * not there (541, a crash in deliver_reply): a client whose node died, or a well-formed name
   * forged for a node that does not exist. On the consuming connection that loses every in-flight command
   * of the worker and loops the redelivered one until the delivery limit (measured in the cluster
   * test: 48 reconnections in 70 s). On its own connection it costs the replies in flight on that
   * connection (their callers time out and resend with their command ids, and get the recorded
   * results); the consuming connection and its unacknowledged commands are untouched.
   */
  replyChannel: Channel | undefined;
  private readonly replyWaiters = new Set<(channel: Channel | undefined) => void>();
  private readonly confirmWaiters = new Set<(channel: ConfirmChannel | undefined) => void>();

  /** Sets the dead-letter channel (a new connection's, or one opened again); dead letters waiting for one get it. */
  setConfirmChannel(channel: ConfirmChannel): void {
    this.confirmChannel = channel;
    release(this.confirmWaiters, channel);
  }

  /**
   * The dead-letter channel, waiting up to `waitMs` while it is opened again on the same
   * connection. Undefined if it is not back in time, or once the connection is lost (the
   * delivery's own channel is gone with it: the broker redelivers the message).
   */
  confirmChannelWithin(waitMs: number): Promise<ConfirmChannel | undefined> {
    if (this.confirmChannel || !this.model) return Promise.resolve(this.confirmChannel);
    return waitFor(this.confirmWaiters, waitMs);
  }

  /** Sets (or clears) the reply channel; commands waiting for one get it. */
  setReplyChannel(channel: Channel | undefined): void {
    this.replyChannel = channel;
    if (channel) release(this.replyWaiters, channel);
  }

  /**
   * The reply channel, waiting up to `waitMs` while its connection comes back (a broker restart
   * drops both connections; the consuming one may be back first). Undefined if it is not back in
   * time: the reply is then not sent, and the caller's retry with its command id gets the result.
   * Never the consuming channel (see above).
   */
  replyChannelWithin(waitMs: number): Promise<Channel | undefined> {
    if (this.replyChannel) return Promise.resolve(this.replyChannel);
    return waitFor(this.replyWaiters, waitMs);
  }

  /** Forgets the lost connection: deliveries of it are not started any more. */
  lost(): void {
    this.model = undefined;
    this.confirmChannel = undefined;
    release(this.confirmWaiters, undefined);
    this.generation++;
  }
}

/** Hands `channel` to every waiter (each removes itself). */
function release<T>(waiters: Set<(channel: T | undefined) => void>, channel: T | undefined): void {
  for (const waiter of [...waiters]) waiter(channel);
}

/** Waits in `waiters` for a channel, up to `waitMs` (then undefined). */
function waitFor<T>(waiters: Set<(channel: T | undefined) => void>, waitMs: number): Promise<T | undefined> {
  return new Promise((resolve) => {
    const done = (channel: T | undefined) => {
      clearTimeout(timer);
      waiters.delete(done);
      resolve(channel);
    };
    const timer = setTimeout(() => done(undefined), waitMs);
    waiters.add(done);
  });
}
