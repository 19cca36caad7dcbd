import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { PendingReplies } from './pendingReplies.js';

const command = (commandId: string, channel = 1) => ({ commandId, channel, bytes: 10 });
const accepted = (commandId: string) => ({ status: 'rejected', commandId, reason: 'r' }) as const;

describe('PendingReplies', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('times each command out after its own timeoutMs, never before, with one timer', async () => {
    const pending = new PendingReplies();
    const outcomes: string[] = [];
    const track = (id: string, p: Promise<unknown>) => p.then(() => outcomes.push(`${id} ok`), (e: Error) => outcomes.push(`${id} ${e.message}`));
    track('a', pending.wait('ca', command('a'), 1_000, () => new Error('timeout')));
    vi.advanceTimersByTime(300);
    track('b', pending.wait('cb', command('b'), 200, () => new Error('timeout')));
    track('c', pending.wait('cc', command('c'), 1_000, () => new Error('timeout')));
    expect(vi.getTimerCount()).toBe(1);
    await vi.advanceTimersByTimeAsync(199);
    expect(outcomes).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(outcomes).toEqual(['b timeout']);
    await vi.advanceTimersByTimeAsync(499);
    expect(outcomes).toEqual(['b timeout']);
    await vi.advanceTimersByTimeAsync(1);
    expect(outcomes).toEqual(['b timeout', 'a timeout']);
    pending.resolve('cc', accepted('c'));
    await vi.advanceTimersByTimeAsync(0);
    expect(outcomes).toEqual(['b timeout', 'a timeout', 'c ok']);
    expect(pending.size).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a settled command does not time out; nothing is left armed once nothing waits', async () => {
    const pending = new PendingReplies();
    const a = pending.wait('ca', command('a'), 100, () => new Error('timeout'));
    pending.resolve('ca', accepted('a'));
    await expect(a).resolves.toEqual(accepted('a'));
    expect(vi.getTimerCount()).toBe(0);
    const b = pending.wait('cb', command('b', 2), 100, () => new Error('timeout'));
    const c = pending.wait('cc', command('c', 3), 100, () => new Error('timeout'));
    pending.rejectChannel(2, () => new Error('closed'));
    await expect(b).rejects.toThrow('closed');
    expect(pending.commandIdOf('cc')).toBe('c');
    pending.rejectAll((id) => new Error(`lost ${id}`));
    await expect(c).rejects.toThrow('lost c');
    expect(vi.getTimerCount()).toBe(0);
  });
});
