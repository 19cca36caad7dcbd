import { type BusReply, type CommandBus, type SendOptions, BusUnavailableError, CommandTimeoutError, connectBus } from '@troupe/rabbitmq';

export type BankCommand = { readonly type: 'open'; readonly payload: { readonly owner: string } } | { readonly type: 'deposit' | 'withdraw'; readonly payload: { readonly amount: number } };

/** One command the test sent, and what became of it. */
export interface SentCommand {
  readonly commandId: string;
  readonly region: string;
  readonly account: string;
  readonly command: BankCommand;
  /** The scenario's phase when it was sent (for reports). */
  readonly phase: string;
  /** The final reply; undefined only when every attempt failed (a lost reply: the test fails). */
  reply?: BusReply;
  /** Sends of it, retries included (a retry reuses the command id, so it applies at most once). */
  attempts: number;
  /** Errors of the attempts that failed, `Class: message`. */
  readonly errors: string[];
  /** An error that is not an unknown outcome (no retry); the test fails on it. */
  unexpected?: string;
}

export interface BankClientOptions {
  readonly amqpUrl: string;
  readonly queuePrefix: string;
  readonly shards: number;
  /** Per attempt. Default 8,000 ms (a worker killed mid-command hands its shard over within that). */
  readonly timeoutMs?: number;
  /** Attempts per command before its reply counts as lost. Default 8. */
  readonly attemptsMax?: number;
}

/**
 * A region's client: sends bank commands over that region's bus with caller-chosen command ids,
 * retries the errors whose outcome is unknown (a timeout, a connection lost after the publish)
 * with the same id, and keeps every command and its final reply: the ledger the test's oracle
 * reads (what was accepted, by whom, with which events).
 */
export class BankClient {
  readonly sent: SentCommand[] = [];
  private sequence = 0;

  private constructor(
    readonly region: string,
    private readonly bus: CommandBus,
    private readonly options: BankClientOptions,
    private readonly runId: string,
  ) {}

  static async connect(region: string, runId: string, options: BankClientOptions): Promise<BankClient> {
    const bus = await connectBus({ url: options.amqpUrl, prefix: options.queuePrefix, shards: options.shards, timeoutMs: options.timeoutMs ?? 8_000, connectRetriesMax: 3 });
    return new BankClient(region, bus, options, runId);
  }

  /** Sends one command; resolves once it has its final reply or has failed for good (never rejects). */
  async send(account: string, command: BankCommand, phase: string, options: Pick<SendOptions, 'replicas' | 'replicasTimeoutMs'> = {}): Promise<SentCommand> {
    const commandId = `${this.runId}-${this.region}-${(this.sequence++).toString().padStart(5, '0')}`;
    const sent: SentCommand = { commandId, region: this.region, account, command, phase, attempts: 0, errors: [] };
    this.sent.push(sent);
    const attemptsMax = this.options.attemptsMax ?? 8;
    while (sent.attempts < attemptsMax) {
      sent.attempts++;
      try {
        sent.reply = await this.bus.send({ type: 'account', id: account }, { type: command.type, payload: command.payload }, { ...options, commandId });
        return sent;
      } catch (error) {
        sent.errors.push(`${(error as Error).constructor.name}: ${(error as Error).message}`);
        // Unknown outcome, or nothing sent while the connection recovers: the same id again.
        const retry = error instanceof CommandTimeoutError || error instanceof BusUnavailableError;
        if (!retry) {
          sent.unexpected = sent.errors.at(-1);
          return sent;
        }
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    return sent;
  }

  async close(): Promise<void> {
    await this.bus.close();
  }
}
