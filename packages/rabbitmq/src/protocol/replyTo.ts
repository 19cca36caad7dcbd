/**
 * What the client asks for in `replyTo`: RabbitMQ's direct reply-to pseudo-queue. The broker
 * rewrites it, on publish, into a name of the publishing channel.
 */
export const directReplyTo = 'amq.rabbitmq.reply-to';

const rewrittenPrefix = `${directReplyTo}.`;

/**
 * Whether a delivered `replyTo` is a direct reply-to name as the broker rewrites it
 * (`amq.rabbitmq.reply-to.<channel>`). The `amq.` namespace is reserved (no client can declare a
 * queue in it) and the default exchange routes these names only to the channel that published
 * the command, so a reply can reach no other queue. Anything else is a hostile or broken
 * publisher asking the worker to write into a queue of its choosing.
 */
export function isDirectReplyTo(replyTo: string): boolean {
  return replyTo.length > rewrittenPrefix.length && replyTo.length <= 255 && replyTo.startsWith(rewrittenPrefix);
}
