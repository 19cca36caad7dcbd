import type { Channel } from 'amqplib';
import type { Logger } from 'pino';
import { type Accepted, type ActorRef, type CommandOptions, type CommandReply, type Runtime, type RuntimeErrorCode, TroupeError } from '@troupe/runtime';
import { actorKey } from '@troupe/runtime/store';
import { ActorFailedError } from '../errors/index.js';
import { type CommandMessage, busProtocolVersion, encodeCommand } from '../protocol/messages.js';
import type { DeadLetters } from './deadLetters.js';
import type { Delivery } from './delivery.js';
import type { ReplyBatches } from './replyBatches.js';
import type { WorkerMetrics } from './metrics.js';
import type { WorkerHooks } from './options.js';
import type { BusReply } from '../protocol/replication.js';
import type { ReplicationRequest } from './replicationWaits.js';
import type { ShardConsumers } from './shardConsumers.js';

/**
 * Codes worth retrying in place: the store was unreachable, the head kept moving, or the runtime
 * is stopping (then the delivery is no longer current and goes back to the queue instead).
 */
const transientCodes: ReadonlySet<string> = new Set<RuntimeErrorCode>(['STORE_UNAVAILABLE', 'APPEND_CONFLICT', 'RUNTIME_STOPPED']);

/**
 * Store errors no command can get past: the store lost its data (`STORE_DATA_LOST`) or refuses
 * this process's credentials (`STORE_AUTHENTICATION_FAILED`, codes of @troupe/redis). Dead-lettering
 * every command one by one would empty the queues into the dead-letter queue; the worker stops
 * instead, leaving the message unacknowledged for a worker with a sound store.
 */
export const fatalStoreCodes: ReadonlySet<string> = new Set(['STORE_DATA_LOST', 'STORE_AUTHENTICATION_FAILED']);

/** One decoded command to execute, with the delivery it came in. */
export interface Execution {
  readonly delivery: Delivery;
  readonly command: CommandMessage;
  readonly ref: ActorRef;
}

export interface ExecutorOptions {
  readonly runtime: Runtime;
  readonly shards: ShardConsumers;
  readonly deadLetters: DeadLetters;
  readonly metrics: WorkerMetrics;
  readonly log: Logger;
  readonly retryDelayMaxMs: number;
  /** Answers and acknowledges, batching the replies of a turn to one client when its commands ask for it. */
  readonly replies: ReplyBatches;
  readonly hooks: WorkerHooks | undefined;
  /** The channel to answer on (the worker's reply connection), waiting for it while it reconnects. */
  readonly replyChannel: () => Promise<Channel | undefined>;
  /** That channel when it is up now (no wait). */
  readonly replyChannelNow: () => Channel | undefined;
  /** Called with a store error in `fatalStoreCodes`; the command is left unacknowledged. */
  readonly onFatal: (error: TroupeError) => void;
  /**
   * Takes an accepted command sent with `replicas`: answers it (`answer`) once its pack reached
   * those regions or the wait ended, and returns at once, so the actor's chain goes on.
   */
  readonly waitForReplication: (delivery: Delivery, ref: ActorRef, result: Accepted, request: ReplicationRequest) => void;
}

/** The runtime's command for a bus command (optional fields only when present). */
function runtimeCommand(command: CommandMessage, checkDuplicate: boolean): { readonly type: string; readonly payload?: unknown } & CommandOptions {
  const sent: { type: string; payload: unknown; commandId: string; checkDuplicate: boolean; correlationId?: string; initiatedBy?: string } = {
    type: command.command,
    payload: command.payload,
    commandId: command.commandId,
    checkDuplicate,
  };
  if (command.correlationId !== undefined) sent.correlationId = command.correlationId;
  if (command.initiatedBy !== undefined) sent.initiatedBy = command.initiatedBy;
  return sent;
}

/**
 * Executes a delivered command on the runtime: retries transient failures in place (so the
 * actor's later commands keep waiting behind it), dead-letters what can never succeed, and
 * answers then acknowledges once the pack is durable.
 */
export class CommandExecutor {
  constructor(private readonly options: ExecutorOptions) {}

  /** Never rejects (it logs what it cannot handle), so an actor's chain of commands never breaks. */
  async execute({ delivery, command, ref }: Execution): Promise<void> {
    const { runtime, shards, deadLetters, metrics, log, retryDelayMaxMs } = this.options;
    if (!shards.isCurrent(delivery)) return;
    const running = shards.running(delivery.shard);
    running.enter();
    if (this.options.hooks?.beforeExecute) await this.hook('beforeExecute', ref, command.commandId);
    try {
      let checkDuplicate = command.checkDuplicate || delivery.message.fields.redelivered;
      let result: CommandReply;
      for (let attempt = 0; ; attempt++) {
        try {
          result = await runtime.send(ref, runtimeCommand(command, checkDuplicate));
          break;
        } catch (error) {
          // Anything but a TroupeError came from the actor's own code.
          const failure = error instanceof TroupeError ? error : new ActorFailedError(ref, command.command, error);
          const code = failure.code;
          if (fatalStoreCodes.has(code)) {
            this.options.onFatal(failure);
            return;
          }
          if (!transientCodes.has(code)) {
            await deadLetters.send(delivery, failure, { commandId: command.commandId, body: encodeCommand(command) });
            return;
          }
          if (!shards.isCurrent(delivery)) return; // back to the queue
          metrics.transientFailures.inc({ code });
          const delay = Math.min(retryDelayMaxMs, 50 * 2 ** Math.min(attempt, 8));
          log.warn({ actor: actorKey(ref), commandId: command.commandId, code, attempt, delayMs: delay, err: failure.message }, 'transient failure; retrying the command in place');
          // A timed-out write may have landed: from now on, look the id up first.
          checkDuplicate = true;
          await new Promise((resolve) => setTimeout(resolve, delay));
          if (!shards.isCurrent(delivery)) return; // stopped, reconnected or handed over while waiting
        }
      }
      // The pack is durable.
      const outcome = result.status === 'rejected' ? 'rejected' : result.duplicate ? 'duplicate' : 'accepted';
      metrics.commands.inc({ outcome });
      metrics.latency.observe((performance.now() - delivery.deliveredAt) / 1_000);
      if (result.status === 'accepted' && command.replicas !== undefined && command.replicasTimeoutMs !== undefined) {
        // Answered (reply, then ack) once other regions hold the pack, off the actor's chain:
        // the actor's next command may execute while this reply waits.
        this.options.waitForReplication(delivery, ref, result, { replicas: command.replicas, timeoutMs: command.replicasTimeoutMs });
      } else {
        const channel = this.options.replyChannelNow();
        if (channel) this.answerOn(delivery, result, channel, command.batchReplies === true);
        else await this.answer(delivery, result);
      }
    } catch (error) {
      // Not expected (runtime.send and dead-lettering handle their errors): keep the actor's chain
      // going; the message stays unacknowledged and comes back on the next connection.
      log.error({ err: (error as Error).message, actor: actorKey(ref), commandId: command.commandId }, 'unexpected error while executing a command');
    } finally {
      if (this.options.hooks?.afterExecute) await this.hook('afterExecute', ref, command.commandId);
      running.leave();
    }
  }

  /**
   * Answers a command whose pack is durable (or that was rejected, writing nothing). Reply first
   * (on the reply connection's channel), then ack (on the delivery's consuming channel): if the
   * consuming connection drops between them, the broker redelivers and the duplicate lookup
   * answers again. Ack first would lose the reply whenever the ack got through and the reply did
   * not (measured with the reconnect test when both went on one channel: ack first lost 2-4
   * replies in 4 runs of 8, reply first none in 8). The two channels are not ordered with each
   * other, so a reply lost with the reply connection is not covered by this: its caller times out
   * and resends with the command id. Never rejects.
   */
  async answer(delivery: Delivery, result: BusReply): Promise<void> {
    this.answerOn(delivery, result, this.options.replyChannelNow() ?? (await this.options.replyChannel()), false);
  }

  /**
   * `answer` on the reply channel at hand (undefined: none came back in time; the reply is not
   * sent); with `batch`, together with the turn's other replies to the same client (the ack
   * still follows the reply, see `ReplyBatches`).
   */
  private answerOn(delivery: Delivery, result: BusReply, channel: Channel | undefined, batch: boolean): void {
    this.options.replies.answer(delivery, { v: busProtocolVersion, ...result }, channel, batch);
  }

  /** Runs an instrumentation hook; one that throws is logged and does not disturb the command. */
  private async hook(name: 'beforeExecute' | 'afterExecute', ref: ActorRef, commandId: string): Promise<void> {
    try {
      await this.options.hooks?.[name]?.(ref, commandId);
    } catch (error) {
      this.options.log.error({ err: (error as Error).message, hook: name }, 'worker hook failed');
    }
  }
}
