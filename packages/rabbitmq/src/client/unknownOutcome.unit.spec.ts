import { describe, expect, it } from 'vitest';
import { LimitExceededError } from '@troupe/runtime';
import { BusUnavailableError } from '../errors/index.js';
import { sizeRefusalOf, unknownOutcomeError } from './unknownOutcome.js';

const refusal = new Error('Channel closed by server: 406 (PRECONDITION-FAILED) with message "PRECONDITION_FAILED - message size 2097161 is larger than configured max size 2097152"');

describe('errors of a command whose confirm or reply was lost', () => {
  it("reads the broker's size refusal, and nothing else, from a channel's close reason", () => {
    expect(sizeRefusalOf(refusal)).toEqual({ maxBytes: 2097152 });
    expect(sizeRefusalOf(new Error('PRECONDITION_FAILED - message size 300000000 is larger than max size 134217728'))).toEqual({ maxBytes: 134217728 });
    expect(sizeRefusalOf(new Error('Channel closed by server: 406 (PRECONDITION-FAILED) with message "PRECONDITION_FAILED - unknown delivery tag 987654"'))).toBeUndefined();
    expect(sizeRefusalOf(undefined)).toBeUndefined();
  });

  it('carries the command id unless the broker refused this very command for its size', () => {
    const lost = unknownOutcomeError('amqp://h', { commandId: 'c1', bytes: 100 }, 'the channel closed', refusal);
    expect(lost).toBeInstanceOf(BusUnavailableError);
    expect(lost).toMatchObject({ code: 'BUS_UNAVAILABLE', commandId: 'c1' });
    expect(unknownOutcomeError('amqp://h', { commandId: 'c2', bytes: 100 }, 'the connection closed')).toMatchObject({ commandId: 'c2' });
    const refused = unknownOutcomeError('amqp://h', { commandId: 'c3', bytes: 2097161 }, 'the channel closed', refusal);
    expect(refused).toBeInstanceOf(LimitExceededError);
    expect(refused).toMatchObject({ code: 'LIMIT_EXCEEDED', limit: 'max_message_size' });
  });
});
