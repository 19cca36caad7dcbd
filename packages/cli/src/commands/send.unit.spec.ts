import { describe, expect, it } from 'vitest';
import { LimitExceededError } from '@troupe/runtime';
import { BusUnavailableError, CommandFailedError, CommandTimeoutError } from '@troupe/rabbitmq';
import { CliError } from '../shared.js';
import { sendFailure, unknownOutcomeExitCode } from './send.js';

describe('troupe send error mapping', () => {
  it('exits 4 with the id to resend when the outcome is unknown: a timeout, or a lost channel or connection after publishing', () => {
    const lost = new BusUnavailableError('amqp://guest:***@h:5672', 'the broker did not confirm command c-9 (Error: channel closed); it may still be applied', undefined, 'c-9');
    for (const error of [lost, new CommandTimeoutError('c-9', 300, 'account:bob')]) {
      const mapped = sendFailure(error);
      expect(mapped).toBeInstanceOf(CliError);
      expect((mapped as CliError).exitCode).toBe(unknownOutcomeExitCode);
      expect((mapped as CliError).message).toMatch(/ \[(BUS_UNAVAILABLE|COMMAND_TIMEOUT)\]; resend with --command-id c-9 to get its result$/);
    }
    expect(unknownOutcomeExitCode).toBe(4);
  });

  it('passes on errors whose outcome is known (nothing sent, refused, dead-lettered): exit 1 through the usual mapping', () => {
    const known = [
      new BusUnavailableError('amqp://h', 'not connected (reconnecting); nothing was sent'),
      new LimitExceededError('max_message_size', 'the broker refused command c-1'),
      new CommandFailedError('c-1', 'UNKNOWN_COMMAND', 'no such command'),
      new Error('plain'),
    ];
    for (const error of known) expect(sendFailure(error)).toBe(error);
  });
});
