import { describe, expect, it } from 'vitest';
import { withHeartbeat } from './connection.js';

describe('withHeartbeat', () => {
  it('adds the heartbeat to the query amqplib reads it from', () => {
    expect(withHeartbeat('amqp://guest:guest@127.0.0.1:5672', 10)).toBe('amqp://guest:guest@127.0.0.1:5672?heartbeat=10');
    expect(withHeartbeat('amqp://h:5672/%2F?frameMax=8192', 5)).toBe('amqp://h:5672/%2F?frameMax=8192&heartbeat=5');
  });

  it('keeps a heartbeat the URL names', () => {
    expect(withHeartbeat('amqp://h:5672?heartbeat=0', 10)).toBe('amqp://h:5672?heartbeat=0');
    expect(withHeartbeat('amqp://h:5672?locale=en_US&heartbeat=30', 10)).toBe('amqp://h:5672?locale=en_US&heartbeat=30');
  });
});
