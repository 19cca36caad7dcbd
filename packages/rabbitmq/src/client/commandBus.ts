import { randomUUID } from 'node:crypto';
import type { ChannelModel, ConfirmChannel, ConsumeMessage, RecoveringChannelModel } from 'amqplib';
import {
  type ActorRef,
  type CommandOf,
  type CommandOptions,
  InvalidPayloadError,
  LimitExceededError,
  type TypedRef,
  type UntypedRef,
} from '@troupe/runtime';
import { connectRecovering, redactUrl } from '../connection.js';
import { BusUnavailableError, CommandFailedError, CommandTimeoutError, TopologyMismatchError } from '../errors/index.js';
import { type CommandMessage, type ReplyMessage, busProtocolVersion, decodeReply, decodeReplyBatch, encodeCommand, replyBatchType, toCommandReply } from '../protocol/messages.js';
import { type BusReply, type Replicas, replicationRequest } from '../protocol/replication.js';
import { type Topology, checkTopology, shardOf, topology as resolveTopology } from '../topology.js';
import { type BusOptions, type BusSettings, type SendOptions, busSettings, checkTimeout } from './options.js';
import { PendingReplies } from './pendingReplies.js';
import { PublishGate } from './publishGate.js';
import { unknownOutcomeError } from './unknownOutcome.js';
import { directReplyTo as replyQueue } from '../protocol/replyTo.js';

/**
 * The channel commands are published and replies consumed on. Direct reply-to ties a reply to
 * the channel that published the command, so when it closes, the replies of its commands can no
 * longer come.
 */
interface ChannelState {
  readonly channel: ConfirmChannel;
  /** Names the channel in `PendingReplies`. */
  readonly number: number;
  /** The connection it belongs to. */
  readonly model: ChannelModel;
  /** Why the broker closed it (its 'error' event comes before its confirms fail). */
  closeReason: Error | undefined;
}

/**
 * Sends commands to actors over RabbitMQ and waits for their replies (direct reply-to, publisher
 * confirms). Each command is routed to the shard queue of its actor, so commands to one actor are
 * executed one at a time and in the order this client sent them.
 */
export class CommandBus {
  readonly topology: Topology;
  private readonly pending = new PendingReplies();
  private readonly gate = new PublishGate();
  /** 122 random bits: generated command ids must not collide across clients (they skip the duplicate lookup). */
  private readonly clientId = randomUUID();
  private current: ChannelState | undefined;
  /** The connection now up (set by the recovery's setup, cleared when it is lost). */
  private connection: ChannelModel | undefined;
  private channels = 0;
  /** A new channel being opened on the same connection after the broker closed the last one. */
  private reopening: Promise<void> | undefined;
  private model: RecoveringChannelModel | undefined;
  private sequence = 0;
  private closed = false;

  private constructor(
    private readonly settings: BusSettings,
    t: Topology,
  ) {
    this.topology = t;
  }

  /** Connects, checks that workers declared this topology, and opens the reply consumer. */
  static async connect(options: BusOptions = {}): Promise<CommandBus> {
    const bus = new CommandBus(busSettings(options), resolveTopology(options));
    let setupError: unknown;
    try {
      bus.model = await connectRecovering({
        url: bus.settings.url,
        ...(bus.settings.tls ? { tls: bus.settings.tls } : {}),
        initialRetries: bus.settings.connectRetriesMax,
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
   * actor), LimitExceededError (too large for `commandBytesMax`, or refused by the broker's
   * `max_message_size`), InvalidPayloadError (not plain data) or InvalidOptionError (a
   * `timeoutMs`, `replicas` or `replicasTimeoutMs` out of range; nothing is published).
   *
   * With `replicas`, the worker replies only once that many regions hold the command's pack (or
   * its `replicasTimeoutMs` ran out): an accepted reply then carries `replication`, whose
   * `confirmed` says which it was. The command is applied and durable either way.
   *
   * Once the command was handed to the channel, every error whose outcome is unknown carries its
   * `commandId` (CommandTimeoutError, and BusUnavailableError for a failed publish, a failed
   * confirm, or the channel or connection closing before the reply): retrying with it applies
   * the command at most once. A BusUnavailableError without `commandId` means nothing was sent.
   */
  send<Def>(ref: TypedRef<Def>, command: CommandOf<Def>, options?: SendOptions): Promise<BusReply>;
  send(ref: UntypedRef | ActorRef, command: { readonly type: string; readonly payload?: unknown } & CommandOptions, options?: SendOptions): Promise<BusReply>;
  send(ref: ActorRef, command: { readonly type: string; readonly payload?: unknown } & CommandOptions, options: SendOptions = {}): Promise<BusReply> {
    let prepared: Prepared;
    try {
      prepared = this.prepare(ref, command, options);
    } catch (error) {
      return Promise.reject(error);
    }
    // Usually the channel takes it at once: publish in this turn, with no async step in between
    // (one promise per command instead of three).
    if (this.gate.waiting || (!this.current && this.reopening)) return this.publishLater(prepared);
    return this.publish(prepared);
  }

  /** Encodes and checks a command; throws what `send` rejects with before anything is sent. */
  private prepare(ref: ActorRef, command: { readonly type: string; readonly payload?: unknown } & CommandOptions, options: SendOptions): Prepared {
    if (this.closed) throw new BusUnavailableError(this.redactedUrl, 'this bus is closed');
    const timeoutMs = options.timeoutMs === undefined ? this.settings.timeoutMs : checkTimeout('timeoutMs', options.timeoutMs);
    const replication = replicationRequest(options.replicas, options.replicasTimeoutMs, timeoutMs);
    const chosenId = options.commandId ?? command.commandId;
    const commandId = chosenId ?? `${this.clientId}.${(this.sequence++).toString(36)}`;
    const fields: { -readonly [K in keyof CommandMessage]: CommandMessage[K] } = {
      v: busProtocolVersion,
      type: String(ref?.type),
      id: String(ref?.id),
      command: String(command?.type),
      payload: command?.payload,
      commandId,
      checkDuplicate: chosenId !== undefined,
      // This client reads reply batches (see `replyBatchType`).
      batchReplies: true,
    };
    if (command?.correlationId !== undefined) fields.correlationId = command.correlationId;
    if (command?.initiatedBy !== undefined) fields.initiatedBy = command.initiatedBy;
    if (replication) {
      fields.replicas = replication.replicas;
      fields.replicasTimeoutMs = replication.replicasTimeoutMs;
    }
    const message: CommandMessage = fields;
    let body: Buffer;
    try {
      body = encodeCommand(message);
    } catch (error) {
      throw new InvalidPayloadError(message.type, message.command, `payload must be plain data (${(error as Error).message})`);
    }
    const { commandBytesMax } = this.settings;
    if (body.length > commandBytesMax) {
      throw new LimitExceededError('commandBytesMax', `command ${message.type}.${message.command} encodes to ${body.length} bytes, more than ${commandBytesMax}`);
    }
    return { ref, message, body, commandId, timeoutMs, replication };
  }

  /** `publish` once the channel drained, or once the new channel is open after the broker closed the last one alone. */
  private async publishLater(prepared: Prepared): Promise<BusReply> {
    const waiting = this.gate.waiting;
    if (waiting) await waiting;
    // The broker closed the channel alone (the connection is up): wait the few ms for the new one.
    if (!this.current && this.reopening) await this.reopening;
    return this.publish(prepared);
  }

  /** Publishes a prepared command on the current channel and returns the wait for its reply (never throws). */
  private publish(prepared: Prepared): Promise<BusReply> {
    try {
      return this.publishNow(prepared);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  private publishNow({ ref, message, body, commandId, timeoutMs, replication }: Prepared): Promise<BusReply> {
    const state = this.current;
    if (this.closed) return Promise.reject(new BusUnavailableError(this.redactedUrl, 'this bus is closed'));
    if (!state) return Promise.reject(new BusUnavailableError(this.redactedUrl, 'not connected (reconnecting); nothing was sent'));
    const { channel } = state;
    const queue = this.topology.shardQueues[shardOf(ref, this.topology.shards)]!;
    const correlationId = `${this.clientId}.r${(this.sequence++).toString(36)}`;
    const sent = { commandId, channel: state.number, bytes: body.length };
    const reply = this.pending.wait(correlationId, sent, timeoutMs, () => new CommandTimeoutError(commandId, timeoutMs, `${message.type}:${message.id}`));
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
          // A confirm fails when the channel or its connection closes (or the broker nacks): the
          // broker may have queued the command before that, and a worker may have applied it.
          if (error) this.pending.reject(correlationId, unknownOutcomeError(this.redactedUrl, sent, `the broker did not confirm command ${commandId} (${String(error)})`, state.closeReason));
        },
      );
      if (!ok) this.gate.close(channel);
    } catch (error) {
      // amqplib refuses before writing when it already knows the channel closed, but nothing here
      // proves a partial write did not happen: the id costs the caller nothing.
      this.pending.reject(correlationId, unknownOutcomeError(this.redactedUrl, sent, `publishing command ${commandId} failed (${(error as Error).message})`, state.closeReason));
    }
    return replication ? reply.then((r) => withReplication(r, replication.replicas)) : reply;
  }

  /** Rejects what still waits, then closes the connection. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.gate.open();
    this.pending.rejectAll((commandId) => new BusUnavailableError(this.redactedUrl, `the bus was closed before the reply to ${commandId} came`, undefined, commandId));
    await this.model?.close().catch(() => undefined);
  }

  private get redactedUrl(): string {
    return redactUrl(this.settings.url);
  }

  private async setup(model: ChannelModel): Promise<void> {
    await checkTopology(model, this.topology);
    this.connection = model;
    await this.openChannel(model);
  }

  /** Opens the publishing channel and its reply consumer on `model`, and makes it current. */
  private async openChannel(model: ChannelModel): Promise<void> {
    const channel = await model.createConfirmChannel();
    const state: ChannelState = { channel, number: ++this.channels, model, closeReason: undefined };
    channel.on('error', (error: Error) => (state.closeReason = error));
    channel.on('close', () => this.channelClosed(state));
    channel.on('return', (message: ConsumeMessage) => {
      this.pending.reject(
        String(message.properties.correlationId),
        new TopologyMismatchError(`no queue is bound for routing key '${message.fields.routingKey}' on exchange '${this.topology.commandsExchange}': start a worker with the same prefix and --shards ${this.topology.shards}`),
      );
    });
    await channel.consume(replyQueue, (message) => message && this.onReply(message), { noAck: true });
    if (this.closed || this.connection !== model) {
      await channel.close().catch(() => undefined); // the bus closed or the connection dropped meanwhile
      return;
    }
    this.current = state;
  }

  /**
   * The publishing channel closed: with its connection, or alone (the broker closes a channel on
   * a protocol error, e.g. a message over its `max_message_size`). Its commands' replies cannot
   * come any more, so they fail now, each with its id, instead of timing out; and, when the
   * connection is still up, a new channel takes its place so later sends work again.
   */
  private channelClosed(state: ChannelState): void {
    if (this.current === state) this.current = undefined;
    this.pending.rejectChannel(state.number, (command) =>
      unknownOutcomeError(this.redactedUrl, command, `the channel closed before the reply to command ${command.commandId} came${state.closeReason ? ` (${state.closeReason.message})` : ''}`, state.closeReason),
    );
    // Deferred one turn: when the whole connection dropped, its 'disconnect' comes after the
    // channels' 'close' events, and the recovery's setup opens a channel on the next connection.
    const reopening = new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.reopen(state.model));
    this.reopening = reopening;
    void reopening.finally(() => {
      if (this.reopening === reopening) this.reopening = undefined;
    });
  }

  /** Opens a new publishing channel on a connection that is still up, retrying a few times. */
  private async reopen(model: ChannelModel): Promise<void> {
    for (let attempt = 0; attempt < 5; attempt++) {
      if (this.closed || this.connection !== model || this.current) return;
      try {
        await this.openChannel(model);
        return;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 100 * 2 ** attempt));
      }
    }
  }

  /** A reply, or a batch of replies (`replyBatchType`) to commands of this client. */
  private onReply(message: ConsumeMessage): void {
    if (message.properties.type === replyBatchType) {
      for (const { correlationId, reply } of decodeReplyBatch(message.content) ?? []) this.settle(correlationId, reply);
      return;
    }
    const correlationId = String(message.properties.correlationId);
    if (this.pending.commandIdOf(correlationId) === undefined) return; // timed out, or a reply to an earlier connection
    const reply = decodeReply(message.content);
    if (reply) this.settle(correlationId, reply);
  }

  private settle(correlationId: string, reply: ReplyMessage): void {
    const commandId = this.pending.commandIdOf(correlationId);
    if (commandId === undefined || reply.commandId !== commandId) return; // timed out, a reply to an earlier connection, or not this command's
    if (reply.status === 'failed') this.pending.reject(correlationId, new CommandFailedError(reply.commandId, reply.code, reply.message));
    else this.pending.resolve(correlationId, toCommandReply(reply));
  }

  private lost(error: Error): void {
    this.current = undefined;
    this.connection = undefined;
    this.gate.open();
    this.pending.rejectAll(
      (commandId) =>
        new BusUnavailableError(this.redactedUrl, `connection lost before the reply to ${commandId} (${error.message}); it may still be applied: retry with commandId ${commandId}`, error, commandId),
    );
  }
}

/** A command encoded and checked by `send`, not yet published. */
interface Prepared {
  readonly ref: ActorRef;
  readonly message: CommandMessage;
  readonly body: Buffer;
  readonly commandId: string;
  readonly timeoutMs: number;
  readonly replication: { readonly replicas: Replicas; readonly replicasTimeoutMs: number } | undefined;
}

/**
 * An accepted reply to a command that asked for `replicas` always carries `replication`: a worker
 * older than the option executes the command and answers without one, which is said as such.
 */
function withReplication(reply: BusReply, replicas: Replicas): BusReply {
  if (reply.status !== 'accepted' || reply.replication) return reply;
  return {
    ...reply,
    replication: {
      confirmed: false,
      wanted: replicas,
      holding: [],
      missing: [],
      code: 'REPLICATION_UNSUPPORTED',
      reason: 'the worker sent no replication report: it is older than the replicas option (upgrade the workers); the command was applied',
    },
  };
}

/** Connects a client; see BusOptions for defaults. */
export function connectBus(options: BusOptions = {}): Promise<CommandBus> {
  return CommandBus.connect(options);
}
