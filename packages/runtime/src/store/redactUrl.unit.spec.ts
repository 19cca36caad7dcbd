import { describe, expect, it } from 'vitest';
import { redactUrl } from './redactUrl.js';

describe('redactUrl', () => {
  it.each([
    ['redis://:s3cret@host:6379/2', 'redis://:***@host:6379/2'],
    ['redis://user:s3cret@host:6379', 'redis://user:***@host:6379'],
    ['rediss://default:s3cret@host', 'rediss://default:***@host'],
    ['redis://host:6379/0?password=s3cret&db=1', 'redis://host:6379/0?password=***&db=1'],
    ['redis://host:6379?username=u&password=s3cret', 'redis://host:6379?username=u&password=***'],
    ['store at redis://:p%40ss@10.0.0.1:6379/0 is unavailable', 'store at redis://:***@10.0.0.1:6379/0 is unavailable'],
    ['redis://:s3cret@word@host:6379', 'redis://:***@host:6379'],
    ['redis://host:6379/1', 'redis://host:6379/1'],
    ['redis://user@host:6379', 'redis://user@host:6379'],
    ['redis cluster 10.0.0.1:6379,10.0.0.2:6379', 'redis cluster 10.0.0.1:6379,10.0.0.2:6379'],
    ['amqp://guest:s3cret@127.0.0.1:5672', 'amqp://guest:***@127.0.0.1:5672'],
    ['amqps://:s3cret@broker/vhost?heartbeat=10', 'amqps://:***@broker/vhost?heartbeat=10'],
  ])('%s -> %s', (input, expected) => {
    expect(redactUrl(input)).toBe(expected);
    expect(redactUrl(input)).not.toContain('s3cret');
  });
});
