import type { BusReply } from '../protocol/replication.js';

/** What a waiting command is known by. */
export interface PendingCommand {
  readonly commandId: string;
  /** The channel it was published on (`ChannelState.number`): its replies come on that channel only. */
  readonly channel: number;
  /** Its encoded size, bytes: tells which commands a broker's size refusal was about. */
  readonly bytes: number;
}

interface Pending extends PendingCommand {
  readonly resolve: (reply: BusReply) => void;
  readonly reject: (error: unknown) => void;
  /** `performance.now()` after which it times out. */
  readonly deadline: number;
  readonly onTimeout: () => Error;
}

/**
 * The commands a client waits for, by correlation id, each with its timeout. Whatever settles
 * one first (its reply, its timeout, a returned message, a lost connection) wins; the others
 * find nothing.
 *
 * One timer for all of them, armed for the earliest deadline, instead of a timer per command
 * (a setTimeout and a clearTimeout per command were ~4 % of a client's CPU at 1,000 in flight):
 * when it fires, every command past its deadline is rejected and the timer is armed for the
 * earliest one left. A command never times out before its `timeoutMs`.
 */
export class PendingReplies {
  private readonly pending = new Map<string, Pending>();
  private timer: NodeJS.Timeout | undefined;
  /** When the timer fires (Infinity: not armed). */
  private timerAt = Infinity;

  get size(): number {
    return this.pending.size;
  }

  /** Waits for the reply to `correlationId`; rejects with `onTimeout()` after `timeoutMs`. */
  wait(correlationId: string, command: PendingCommand, timeoutMs: number, onTimeout: () => Error): Promise<BusReply> {
    return new Promise<BusReply>((resolve, reject) => {
      const deadline = performance.now() + timeoutMs;
      this.pending.set(correlationId, { commandId: command.commandId, channel: command.channel, bytes: command.bytes, resolve, reject, deadline, onTimeout });
      if (deadline < this.timerAt) this.arm(deadline);
    });
  }

  /** The command id awaited under `correlationId`, if it still waits. */
  commandIdOf(correlationId: string): string | undefined {
    return this.pending.get(correlationId)?.commandId;
  }

  resolve(correlationId: string, reply: BusReply): void {
    this.take(correlationId)?.resolve(reply);
  }

  reject(correlationId: string, error: unknown): void {
    this.take(correlationId)?.reject(error);
  }

  /** Rejects everything still waiting, each with its own error. */
  rejectAll(error: (commandId: string) => Error): void {
    this.rejectWhere(() => true, (entry) => error(entry.commandId));
  }

  /** Rejects every waiting command published on `channel` (its replies can no longer come). */
  rejectChannel(channel: number, error: (command: PendingCommand) => Error): void {
    this.rejectWhere((entry) => entry.channel === channel, error);
  }

  private rejectWhere(selected: (entry: Pending) => boolean, error: (command: PendingCommand) => Error): void {
    for (const [key, entry] of [...this.pending]) {
      if (!selected(entry)) continue;
      this.take(key);
      entry.reject(error(entry));
    }
  }

  private take(correlationId: string): Pending | undefined {
    const entry = this.pending.get(correlationId);
    if (!entry) return undefined;
    this.pending.delete(correlationId);
    if (this.pending.size === 0) this.disarm();
    return entry;
  }

  private arm(at: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => this.expire(), Math.max(0, Math.ceil(at - performance.now())));
  }

  private disarm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = Infinity;
  }

  /** Rejects what is past its deadline; arms the timer for the earliest deadline left. */
  private expire(): void {
    this.timer = undefined;
    this.timerAt = Infinity;
    const now = performance.now();
    let next = Infinity;
    for (const [key, entry] of this.pending) {
      if (entry.deadline <= now) {
        this.pending.delete(key);
        entry.reject(entry.onTimeout());
      } else if (entry.deadline < next) {
        next = entry.deadline;
      }
    }
    if (next < Infinity) this.arm(next);
  }
}
