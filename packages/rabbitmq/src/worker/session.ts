import type { ChannelModel, ConfirmChannel } from 'amqplib';

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

  /** Forgets the lost connection: deliveries of it are not started any more. */
  lost(): void {
    this.model = undefined;
    this.confirmChannel = undefined;
    this.generation++;
  }
}
