import { describe, expect, it } from 'vitest';
import { directReplyTo, isDirectReplyTo } from './replyTo.js';

describe('replyTo names a worker answers', () => {
  it('accepts direct reply-to names as the broker rewrites them, and nothing else', () => {
    expect(isDirectReplyTo('amq.rabbitmq.reply-to.g1h2AA5yZXBseUAxMjM0NTY3OAAAAAAAAAAA.ZUrsBp3kB3JKrJ8lO6vQOw==')).toBe(true);
    for (const name of ['victim-queue', '', directReplyTo, `${directReplyTo}.`, 'amq.rabbitmq.reply-toX.abc', 'x.amq.rabbitmq.reply-to.abc', `${directReplyTo}.${'a'.repeat(300)}`]) {
      expect(isDirectReplyTo(name)).toBe(false);
    }
  });
});
