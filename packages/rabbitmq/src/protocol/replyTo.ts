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
 *
 * A check of the form only: a well-formed name of a channel on a node that is not there (a client
 * on a dead cluster node, or a name a publisher forged) passes, and RabbitMQ 3.10.8 closes the
 * connection that replies to it (541). The worker replies on a connection of its own for that
 * reason, and counts its losses (`troupe_reply_connection_losses_total`); asking the broker first
 * (a passive declare of the name) closes the asking connection the same way. Publishing rights on
 * the bus belong to trusted clients only (see the package README, "Who may publish commands").
 */
export function isDirectReplyTo(replyTo: string): boolean {
  return replyTo.length > rewrittenPrefix.length && replyTo.length <= 255 && replyTo.startsWith(rewrittenPrefix);
}
