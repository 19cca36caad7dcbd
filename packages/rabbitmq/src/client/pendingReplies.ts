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
  readonly timer: NodeJS.Timeout;
}

/**
 * The commands a client waits for, by correlation id, each with its timeout. Whatever settles
 * one first (its reply, its timeout, a returned message, a lost connection) wins; the others
 * find nothing.
 */
export class PendingReplies {
  private readonly pending = new Map<string, Pending>();

  get size(): number {
    return this.pending.size;
  }

  /** Waits for the reply to `correlationId`; rejects with `onTimeout()` after `timeoutMs`. */
  wait(correlationId: string, command: PendingCommand, timeoutMs: number, onTimeout: () => Error): Promise<BusReply> {
    return new Promise<BusReply>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(correlationId);
        reject(onTimeout());
      }, timeoutMs);
      this.pending.set(correlationId, { ...command, resolve, reject, timer });
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
    clearTimeout(entry.timer);
    this.pending.delete(correlationId);
    return entry;
  }
}
