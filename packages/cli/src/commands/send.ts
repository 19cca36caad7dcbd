import { Command, InvalidArgumentError, Option } from 'commander';
import { connectBus } from '@troupe/rabbitmq';
import type { UntypedRef } from '@troupe/runtime';
import { type BusFlags, CliError, busConnection, type Outcome, busOptions, integer, json, timeoutMaxMs } from '../shared.js';

/** Exit code of `troupe send` when the actor rejected the command (the reply is still printed). */
export const rejectedExitCode = 3;
/** Exit code when the outcome is unknown (no reply in time, connection lost): retry with the printed --command-id. */
export const unknownOutcomeExitCode = 4;
/** Exit code when the command was accepted but `--replicas` regions were not confirmed in time (the reply says which hold it). */
export const unconfirmedExitCode = 5;

interface SendFlags extends BusFlags {
  readonly timeout: number;
  readonly commandId?: string;
  readonly replicas?: number | 'all';
  readonly replicasTimeout?: number;
}

/** `--replicas`: a number of regions from 1 to 255, or 'all'. */
export function parseReplicas(value: string): number | 'all' {
  if (value === 'all') return 'all';
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 255) throw new InvalidArgumentError(`expected 'all' or an integer in 1..255, got '${value}'`);
  return n;
}

/**
 * The command id of an error whose outcome is unknown (no reply in time, the channel or the
 * connection lost once it was handed to the channel: the bus sets `commandId` on those), else
 * undefined. Read by code and property rather than by class, so a second copy of
 * @troupe/rabbitmq in node_modules cannot turn exit 4 into exit 1.
 */
export function unknownOutcomeCommandId(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { code, commandId } = error as { code?: unknown; commandId?: unknown };
  if (code !== 'COMMAND_TIMEOUT' && code !== 'BUS_UNAVAILABLE') return undefined;
  return typeof commandId === 'string' && commandId !== '' ? commandId : undefined;
}

/** The CLI error for a failed send: exit 4 with the id to resend when its outcome is unknown, else the error itself. */
export function sendFailure(error: unknown): unknown {
  const commandId = unknownOutcomeCommandId(error);
  if (commandId === undefined) return error;
  // Sent, but its fate is unknown: say how to find out without applying it twice.
  const { message, code } = error as Error & { code: string };
  return new CliError(`${message} [${code}]; resend with --command-id ${commandId} to get its result`, unknownOutcomeExitCode);
}

export function parsePayload(text: string | undefined): unknown {
  if (text === undefined) return {};
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new CliError(`the payload is not valid JSON: ${(error as Error).message}`);
  }
}

export function sendCommand(outcome: Outcome): Command {
  const command = new Command('send')
    .description('send one command through RabbitMQ and print the reply (exit 3 when rejected)')
    .argument('<type>', 'actor type, e.g. account')
    .argument('<id>', 'actor id, e.g. alice')
    .argument('<command>', 'command name, e.g. deposit')
    .argument('[payload]', 'command payload as JSON, e.g. \'{"amount":5}\'')
    .addOption(new Option('--timeout <ms>', 'how long to wait for the reply').default(10_000).argParser(integer(1, timeoutMaxMs)))
    .addOption(new Option('--command-id <id>', 'idempotency key: resending with it applies nothing twice'))
    .addOption(new Option('--replicas <n|all>', 'reply only once the events reached this many regions (this one included) or all; exit 5 if not confirmed in time').argParser(parseReplicas))
    .addOption(new Option('--replicas-timeout <ms>', 'how long the worker waits for --replicas (default: half of --timeout)').argParser(integer(1, 600_000)));
  for (const option of busOptions()) command.addOption(option);
  return command.action(async (type: string, id: string, name: string, payloadText: string | undefined, flags: SendFlags) => {
    const payload = parsePayload(payloadText);
    const bus = await connectBus({ ...busConnection(flags), shards: flags.shards, prefix: flags.prefix });
    try {
      let reply;
      try {
        reply = await bus.send({ type, id } as UntypedRef, { type: name, payload }, {
          timeoutMs: flags.timeout,
          ...(flags.commandId ? { commandId: flags.commandId } : {}),
          ...(flags.replicas !== undefined ? { replicas: flags.replicas } : {}),
          ...(flags.replicasTimeout !== undefined ? { replicasTimeoutMs: flags.replicasTimeout } : {}),
        });
      } catch (error) {
        throw sendFailure(error);
      }
      console.log(json(reply));
      if (reply.status === 'rejected') outcome.exitCode = rejectedExitCode;
      else if (reply.replication?.confirmed === false) outcome.exitCode = unconfirmedExitCode;
    } finally {
      await bus.close();
    }
  });
}
