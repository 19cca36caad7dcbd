import type { CommandReply } from '@troupe/runtime';

interface Pending {
  readonly commandId: string;
  readonly resolve: (reply: CommandReply) => void;
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
  wait(correlationId: string, commandId: string, timeoutMs: number, onTimeout: () => Error): Promise<CommandReply> {
    return new Promise<CommandReply>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(correlationId);
        reject(onTimeout());
      }, timeoutMs);
      this.pending.set(correlationId, { commandId, resolve, reject, timer });
    });
  }

  /** The command id awaited under `correlationId`, if it still waits. */
  commandIdOf(correlationId: string): string | undefined {
    return this.pending.get(correlationId)?.commandId;
  }

  resolve(correlationId: string, reply: CommandReply): void {
    this.take(correlationId)?.resolve(reply);
  }

  reject(correlationId: string, error: unknown): void {
    this.take(correlationId)?.reject(error);
  }

  /** Rejects everything still waiting, each with its own error. */
  rejectAll(error: (commandId: string) => Error): void {
    for (const key of [...this.pending.keys()]) {
      const entry = this.take(key)!;
      entry.reject(error(entry.commandId));
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
