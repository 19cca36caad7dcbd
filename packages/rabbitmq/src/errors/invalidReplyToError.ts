import { TroupeError } from '@troupe/runtime';
import type { BusErrorCode } from './busErrorCode.js';

/**
 * Worker side: a command whose `replyTo` is not a RabbitMQ direct reply-to name. Answering it
 * would let any publisher make a worker write into a queue of its choosing, so the worker
 * dead-letters it unexecuted and answers nobody; travels as `x-troupe-error-code`.
 */
export class InvalidReplyToError extends TroupeError<BusErrorCode> {
  readonly replyTo: string;
  constructor(replyTo: string) {
    super('INVALID_REPLY_TO', `replyTo '${replyTo.slice(0, 300)}' is not a direct reply-to name (amq.rabbitmq.reply-to.<...>, as the broker rewrites 'amq.rabbitmq.reply-to'): not executed, not answered`);
    this.replyTo = replyTo;
  }
}
