import { describe, expect, it } from 'vitest';
import { InvalidOptionError } from '@troupe/runtime';
import { MalformedMessageError } from '../errors/index.js';
import { type CommandMessage, busProtocolVersion, decodeCommand, decodeReply, encodeCommand, encodeReply, toCommandReply } from './messages.js';
import { replicasMax, replicasTimeoutMsMax, replicationRequest } from './replication.js';

const command: CommandMessage = { v: busProtocolVersion, type: 'counter', id: 'c1', command: 'add', payload: { by: 2 }, commandId: 'x.1', checkDuplicate: false };

describe('replicas on the wire', () => {
  it('round-trips a command that asks for replicas', () => {
    for (const replicas of ['all', 1, 3, replicasMax] as const) {
      const asking = { ...command, replicas, replicasTimeoutMs: 500 };
      expect(decodeCommand(encodeCommand(asking))).toEqual(asking);
    }
    expect(decodeCommand(encodeCommand({ ...command, replicas: 2, replicasTimeoutMs: replicasTimeoutMsMax })).replicasTimeoutMs).toBe(replicasTimeoutMsMax);
  });

  it.each([
    ['replicas 0', { replicas: 0, replicasTimeoutMs: 500 }],
    ['replicas -1', { replicas: -1, replicasTimeoutMs: 500 }],
    ['replicas 1.5', { replicas: 1.5, replicasTimeoutMs: 500 }],
    ['replicas over the maximum', { replicas: replicasMax + 1, replicasTimeoutMs: 500 }],
    ["replicas 'most'", { replicas: 'most', replicasTimeoutMs: 500 }],
    ["replicas '2' (a string)", { replicas: '2', replicasTimeoutMs: 500 }],
    ['replicas null', { replicas: null, replicasTimeoutMs: 500 }],
    ['replicas without replicasTimeoutMs', { replicas: 'all' }],
    ['replicasTimeoutMs without replicas', { replicasTimeoutMs: 500 }],
    ['replicasTimeoutMs 0', { replicas: 'all', replicasTimeoutMs: 0 }],
    ['replicasTimeoutMs over the maximum', { replicas: 'all', replicasTimeoutMs: replicasTimeoutMsMax + 1 }],
    ['replicasTimeoutMs a string', { replicas: 'all', replicasTimeoutMs: '500' }],
  ])('refuses %s with MalformedMessageError naming the field', (_name, fields) => {
    const bytes = encodeCommand({ ...command, ...(fields as object) } as CommandMessage);
    expect(() => decodeCommand(bytes)).toThrow(MalformedMessageError);
    expect(() => decodeCommand(bytes)).toThrow(/'replicas(TimeoutMs)?'/);
  });

  it('hands the replication report of an accepted reply to the caller, and drops a malformed one', () => {
    const accepted = { v: busProtocolVersion, status: 'accepted', commandId: 'x.1', version: { eu: 1 }, events: [], duplicate: false } as const;
    const replication = { confirmed: false, wanted: 2, holding: ['eu'], missing: ['us'], code: 'NOT_REPLICATED', reason: 'timed out' };
    const decoded = decodeReply(encodeReply({ ...accepted, replication }));
    expect(decoded && decoded.status === 'accepted' && toCommandReply(decoded)).toEqual({ status: 'accepted', commandId: 'x.1', version: { eu: 1 }, events: [], duplicate: false, replication });
    const bad = decodeReply(encodeReply({ ...accepted, replication: { confirmed: 'yes', holding: 'eu' } as never }));
    expect(bad && bad.status === 'accepted' && toCommandReply(bad)).not.toHaveProperty('replication');
    expect(bad && bad.status === 'accepted' && toCommandReply(bad)).toMatchObject({ status: 'accepted', version: { eu: 1 } });
  });
});

describe('replicationRequest (a send\'s options)', () => {
  it('is undefined without replicas, and defaults replicasTimeoutMs to half the reply timeout', () => {
    expect(replicationRequest(undefined, undefined, 30_000)).toBeUndefined();
    expect(replicationRequest('all', undefined, 30_000)).toEqual({ replicas: 'all', replicasTimeoutMs: 15_000 });
    expect(replicationRequest(3, 200, 1_000)).toEqual({ replicas: 3, replicasTimeoutMs: 200 });
    expect(replicationRequest(1, undefined, 3_600_000)).toEqual({ replicas: 1, replicasTimeoutMs: replicasTimeoutMsMax });
  });

  it.each([
    ['replicas', () => replicationRequest(0, undefined, 1_000)],
    ['replicas', () => replicationRequest(2.5, undefined, 1_000)],
    ['replicas', () => replicationRequest('most' as 'all', undefined, 1_000)],
    ['replicas', () => replicationRequest(replicasMax + 1, undefined, 1_000)],
    ['replicasTimeoutMs', () => replicationRequest(undefined, 500, 1_000)],
    ['replicasTimeoutMs', () => replicationRequest('all', 0, 1_000)],
    // The reply would time out before the worker stopped waiting.
    ['replicasTimeoutMs', () => replicationRequest('all', 1_000, 1_000)],
  ])('refuses a bad %s with InvalidOptionError naming it', (option, make) => {
    expect(make).toThrow(InvalidOptionError);
    expect(make).toThrow(expect.objectContaining({ option }));
  });
});
