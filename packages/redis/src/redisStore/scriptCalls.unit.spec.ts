import { Command } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { encodeCall } from './scriptCalls.js';

describe('encodeCall', () => {
  it('writes the same bytes as ioredis for a script call with strings, Buffers, numbers, empty and multi-byte arguments', () => {
    const sha = 'a'.repeat(40);
    const args = ['p:{Counter:a1}:log', Buffer.from([0, 1, 2, 255]), '', Buffer.alloc(0), 'é—x', 42, 'w', 'x'.repeat(300), 'é'.repeat(200), '😀', '\ud800', Buffer.alloc(70_000, 7), 1.5, 'k'.repeat(128)];
    const ours = encodeCall(Buffer.from(`$7\r\nevalsha\r\n$40\r\n${sha}\r\n$1\r\n8\r\n`), 3, args);
    const theirs = new Command('evalsha', [sha, 8, ...args], { replyEncoding: null }).toWritable(undefined as never);
    expect(ours.equals(Buffer.isBuffer(theirs) ? theirs : Buffer.from(theirs))).toBe(true);
  });

  it('writes a call without a key count (scripts that take it as their first argument) the same as ioredis', () => {
    const ours = encodeCall(Buffer.from(`$4\r\neval\r\n$6\r\nreturn\r\n`), 2, [2, 'k1', 'k2', 'v']);
    const theirs = new Command('eval', ['return', 2, 'k1', 'k2', 'v']).toWritable(undefined as never);
    expect(ours.toString('latin1')).toBe(String(theirs));
  });
});
