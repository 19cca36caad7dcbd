import { randomUUID } from 'node:crypto';
import type { ChannelModel, ConfirmChannel, ConsumeMessage, RecoveringChannelModel } from 'amqplib';
import {
  type ActorRef,
  type CommandOf,
  type CommandOptions,
  type CommandReply,
  InvalidPayloadError,
  LimitExceededError,
  type TypedRef,
  type UntypedRef,
} from '@troupe/runtime';
import { connectRecovering, defaultAmqpUrl, redactUrl } from './connection.js';
import { BusUnavailableError, CommandFailedError, CommandTimeoutError, TopologyMismatchError } from './errors.js';
import { type CommandMessage, busProtocolVersion, decodeReply, encodeCommand, toCommandReply } from './protocol.js';
import { type Topology, type TopologyOptions, shardOf, topology as resolveTopology } from './topology.js';

export interface BusOptions extends TopologyOptions {
  /** `amqp://user:pass@host:port/vhost`. Default amqp://guest:guest@127.0.0.1:5672. */
  readonly url?: string;
  /** Default time to wait for a reply, ms. Default 30,000. */
  readonly timeoutMs?: number;
  /** Largest encoded command accepted, bytes; larger ones fail before publishing. Default 1 MiB. */
  readonly maxCommandBytes?: number;
  /** Connection attempts before `connectBus` gives up. Default 0 (fail fast). */
  readonly connectRetries?: number;
}

export const busDefaults = { timeoutMs: 30_000, maxCommandBytes: 1 << 20 } as const;

export interface SendOptions {
  /** Time to wait for the reply, ms. Default: the bus's `timeoutMs`. */
  readonly timeout?: number;
  /** Idempotency key (same as `command.commandId`): retry with it after a timeout. */
  readonly commandId?: string;
}

interface Pending {
  readonly commandId: string;
  readonly resolve: (reply: CommandReply) => void;
  readonly reject: (error: unknown) => void;
  readonly timer: NodeJS.Timeout;
}

const replyQueue = 'amq.rabbitmq.reply-to';

/**
 * Sends commands to actors over RabbitMQ and waits for their replies (direct reply-to, publisher
 * confirms). Each command is routed to the shard queue of its actor, so commands to one actor are
 * executed one at a time and in the order this client sent them.
 */
export class CommandBus {
  readonly topology: Topology;
  private readonly pending = new Map<string, Pending>();
  /** 122 random bits: generated command ids must not collide across clients (they skip the duplicate lookup). */
  private readonly clientId = randomUUID();
  private channel: ConfirmChannel | undefined;
  private model: RecoveringChannelModel | undefined;
  private sequence = 0;
  private closed = false;
  private drain: { readonly promise: Promise<void>; readonly release: () => void } | undefined;

  private constructor(
    private readonly url: string,
    private readonly options: Required<Pick<BusOptions, 'timeoutMs' | 'maxCommandBytes'>>,
    t: Topology,
  ) {
    this.topology = t;
  }

  /** Connects, checks that workers declared this topology, and opens the reply consumer. */
  static async connect(options: BusOptions = {}): Promise<CommandBus> {
    const t = resolveTopology(options);
    const bus = new CommandBus(options.url ?? defaultAmqpUrl, {
      timeoutMs: options.timeoutMs ?? busDefaults.timeoutMs,
      maxCommandBytes: options.maxCommandBytes ?? busDefaults.maxCommandBytes,
    }, t);
    let setupError: unknown;
    try {
      bus.model = await connectRecovering({
        url: bus.url,
        initialRetries: options.connectRetries ?? 0,
        setup: async (model) => {
          try {
            await bus.setup(model);
          } catch (error) {
            setupError = error;
            throw error;
          }
        },
        onDisconnect: (error) => bus.lost(error),
      });
    } catch (error) {
      throw setupError instanceof TopologyMismatchError ? setupError : error;
    }
    return bus;
  }

  /** Number of commands waiting for their reply. */
  get inFlight(): number {
    return this.pending.size;
  }

  /**
   * Sends a command and resolves to accepted (version, events) or rejected (reason), as
   * `Runtime.send` does. Rejects with CommandTimeoutError (retry with the same commandId),
   * BusUnavailableError, CommandFailedError (the worker dead-lettered it: bad input or a failing
   * actor), LimitExceededError (too large) or InvalidPayloadError (not plain data).
   */
  send<Def>(ref: TypedRef<Def>, command: CommandOf<Def>, options?: SendOptions): Promise<CommandReply>;
  send(ref: UntypedRef | ActorRef, command: { readonly type: string; readonly payload?: unknown } & CommandOptions, options?: SendOptions): Promise<CommandReply>;
  async send(ref: ActorRef, command: { readonly type: string; readonly payload?: unknown } & CommandOptions, options: SendOptions = {}): Promise<CommandReply> {
    if (this.closed) throw new BusUnavailableError(redactUrl(this.url), 'this bus is closed');
    const chosenId = options.commandId ?? command.commandId;
    const commandId = chosenId ?? `${this.clientId}.${(this.sequence++).toString(36)}`;
    const message: CommandMessage = {
      v: busProtocolVersion,
      type: String(ref?.type),
      id: String(ref?.id),
      command: String(command?.type),
      payload: command?.payload,
      commandId,
      checkDuplicate: chosenId !== undefined,
      ...(command?.correlationId === undefined ? {} : { correlationId: command.correlationId }),
      ...(command?.initiatedBy === undefined ? {} : { initiatedBy: command.initiatedBy }),
    };
    let body: Buffer;
    try {
      body = encodeCommand(message);
    } catch (error) {
      throw new InvalidPayloadError(message.type, message.command, `payload must be plain data (${(error as Error).message})`);
    }
    if (body.length > this.options.maxCommandBytes) {
      throw new LimitExceededError('maxCommandBytes', `command ${message.type}.${message.command} encodes to ${body.length} bytes, more than ${this.options.maxCommandBytes}`);
    }
    if (this.drain) await this.drain.promise;
    const channel = this.channel;
    if (this.closed) throw new BusUnavailableError(redactUrl(this.url), 'this bus is closed');
    if (!channel) throw new BusUnavailableError(redactUrl(this.url), 'not connected (reconnecting)');
    const queue = this.topology.shardQueues[shardOf(ref, this.topology.shards)]!;
    const correlationId = `${this.clientId}.r${(this.sequence++).toString(36)}`;
    const timeoutMs = options.timeout ?? this.options.timeoutMs;
    return new Promise<CommandReply>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(correlationId);
        reject(new CommandTimeoutError(commandId, timeoutMs, `${message.type}:${message.id}`));
      }, timeoutMs);
      this.pending.set(correlationId, { commandId, resolve, reject, timer });
      const fail = (error: unknown) => {
        const entry = this.pending.get(correlationId);
        if (!entry) return;
        clearTimeout(entry.timer);
        this.pending.delete(correlationId);
        reject(error);
      };
      try {
        const ok = channel.publish(
          this.topology.commandsExchange,
          queue,
          body,
          {
            persistent: true,
            mandatory: true,
            replyTo: replyQueue,
            correlationId,
            messageId: commandId,
            contentType: 'application/x-troupe-msgpack',
          },
          (error) => {
            if (error) fail(new BusUnavailableError(redactUrl(this.url), `the broker did not confirm command ${commandId}: ${String(error)}`));
          },
        );
        if (!ok && !this.drain) this.waitForDrain(channel);
      } catch (error) {
        fail(new BusUnavailableError(redactUrl(this.url), (error as Error).message, error));
      }
    });
  }

  /** Rejects what still waits, then closes the connection. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.releaseDrain();
    this.failPending((commandId) => new BusUnavailableError(redactUrl(this.url), `the bus was closed before the reply to ${commandId} came`, undefined, commandId));
    await this.model?.close().catch(() => undefined);
  }

  private async setup(model: ChannelModel): Promise<void> {
    await checkTopology(model, this.topology);
    const channel = await model.createConfirmChannel();
    channel.on('error', () => undefined);
    channel.on('return', (message: ConsumeMessage) => {
      const entry = this.pending.get(String(message.properties.correlationId));
      if (!entry) return;
      clearTimeout(entry.timer);
      this.pending.delete(String(message.properties.correlationId));
      entry.reject(new TopologyMismatchError(`no queue is bound for routing key '${message.fields.routingKey}' on exchange '${this.topology.commandsExchange}': start a worker with the same prefix and --shards ${this.topology.shards}`));
    });
    await channel.consume(replyQueue, (message) => message && this.onReply(message), { noAck: true });
    this.channel = channel;
  }

  private onReply(message: ConsumeMessage): void {
    const entry = this.pending.get(String(message.properties.correlationId));
    if (!entry) return; // timed out, or a reply to an earlier connection
    const reply = decodeReply(message.content);
    if (!reply || reply.commandId !== entry.commandId) return;
    clearTimeout(entry.timer);
    this.pending.delete(String(message.properties.correlationId));
    if (reply.status === 'failed') entry.reject(new CommandFailedError(reply.commandId, reply.code, reply.message));
    else entry.resolve(toCommandReply(reply));
  }

  private lost(error: Error): void {
    this.channel = undefined;
    this.releaseDrain();
    this.failPending(
      (commandId) =>
        new BusUnavailableError(redactUrl(this.url), `connection lost before the reply to ${commandId} (${error.message}); it may still be applied: retry with commandId ${commandId}`, error, commandId),
    );
  }

  /** Sends wait while the channel's buffer is full; released on 'drain', or when the channel goes. */
  private waitForDrain(channel: ConfirmChannel): void {
    let release!: () => void;
    const promise = new Promise<void>((resolve) => (release = resolve));
    const done = () => {
      channel.off('drain', done);
      channel.off('close', done);
      if (this.drain?.promise === promise) this.drain = undefined;
      release();
    };
    this.drain = { promise, release: done };
    channel.once('drain', done);
    channel.once('close', done);
  }

  private releaseDrain(): void {
    this.drain?.release();
    this.drain = undefined;
  }

  private failPending(error: (commandId: string) => Error): void {
    for (const [key, entry] of this.pending) {
      clearTimeout(entry.timer);
      entry.reject(error(entry.commandId));
      this.pending.delete(key);
    }
  }
}

/** Connects a client; see BusOptions for defaults. */
export function connectBus(options: BusOptions = {}): Promise<CommandBus> {
  return CommandBus.connect(options);
}

/**
 * Checks, without declaring anything, that every shard queue of this topology exists (workers
 * declare them). A missing queue means no worker of this prefix and shard count ever ran here.
 */
export async function checkTopology(model: ChannelModel, t: Topology): Promise<void> {
  const channel = await model.createChannel();
  channel.on('error', () => undefined);
  try {
    for (const queue of [t.shardQueues[0]!, t.shardQueues[t.shards - 1]!]) {
      try {
        await channel.checkQueue(queue);
      } catch {
        throw new TopologyMismatchError(
          `queue '${queue}' does not exist: no worker with prefix '${t.prefix}' and ${t.shards} shards has run on this broker (start \`troupe worker\` first, with the same --shards)`,
        );
      }
    }
  } finally {
    await channel.close().catch(() => undefined);
  }
}
