import { createHash } from 'node:crypto';
import { StoreUnavailableError } from '@troupe/runtime/store';
import { type Cluster, Command, type Redis } from 'ioredis';
import { appendLua, commandVersionsLua, commonLua, headsLua, loadChainLua, mergeLua, readFieldsLua, recordMergeLua, saveFrontierLua, saveMetaStringLua, saveSnapshotLua } from '../scripts/index.js';
import type { CommandRunner, KeysOfCommand } from './errorMapping.js';

/** A reply of a troupe script, as ioredis returns it with Buffer replies. */
export type Reply = Buffer | Reply[] | number | null;
export type ScriptCall = (...args: (string | Buffer | number)[]) => Promise<Reply>;

/** Scripts with a fixed number of KEYS (the first arguments of a call). */
const fixedKeyScripts = {
  troupeAppend: { numberOfKeys: 8, lua: appendLua },
  troupeLoadChain: { numberOfKeys: 4, lua: loadChainLua },
  troupeHeads: { numberOfKeys: 3, lua: headsLua },
  troupeSaveSnapshot: { numberOfKeys: 2, lua: saveSnapshotLua },
  troupeSaveMetaString: { numberOfKeys: 2, lua: saveMetaStringLua },
  troupeSaveFrontier: { numberOfKeys: 2, lua: saveFrontierLua },
  troupeRecordMerge: { numberOfKeys: 2, lua: recordMergeLua },
  troupeCommandVersions: { numberOfKeys: 2, lua: commandVersionsLua },
} as const;

export type FixedKeyScript = keyof typeof fixedKeyScripts;
type ScriptName = FixedKeyScript | 'troupeMerge' | 'troupeReadFields';

/** How a write waits for replicas: `WAIT replicas timeoutMs` after it, on the same connection. */
export interface ReplicaWait {
  readonly replicas: number;
  readonly timeoutMs: number;
}

/** A write script's reply and, when a `ReplicaWait` was asked for, how many replicas confirmed it. */
export interface WriteReply {
  readonly reply: Reply;
  readonly replicasAcknowledged: number | undefined;
}

/** MOVED / ASK replies to a pipeline (a slot moved, a failover): the script did not run; refresh the slot map and send it again, this many times. */
const redirectionsMax = 3;

/**
 * The troupe scripts on one client: EVALSHA, EVAL when Redis answers NOSCRIPT (after a restart or
 * `SCRIPT FLUSH`), replies as Buffers (packs travel as binary). A standalone client sends them
 * encoded here (`encodedScriptCall`); a Cluster, or a client with a keyPrefix, through ioredis
 * `defineCommand` (its `…Buffer` variants).
 */
export class ScriptCalls {
  private readonly calls: Record<ScriptName, ScriptCall>;
  private readonly sources: Record<ScriptName, { lua: string; sha: string }>;

  constructor(
    private readonly client: Redis | Cluster,
    private readonly runner: CommandRunner,
  ) {
    const named = client as unknown as Record<string, ScriptCall>;
    const source = (lua: string) => ({ lua: commonLua + lua, sha: createHash('sha1').update(commonLua + lua).digest('hex') });
    const sources = {} as Record<ScriptName, { lua: string; sha: string }>;
    for (const [name, definition] of Object.entries(fixedKeyScripts)) {
      sources[name as FixedKeyScript] = source(definition.lua);
      client.defineCommand(name, { numberOfKeys: definition.numberOfKeys, lua: commonLua + definition.lua });
    }
    // The merge and readFields scripts declare a variable number of keys (one per pack or field): their first argument says how many.
    client.defineCommand('troupeMerge', { lua: commonLua + mergeLua });
    sources.troupeMerge = source(mergeLua);
    client.defineCommand('troupeReadFields', { lua: commonLua + readFieldsLua });
    sources.troupeReadFields = source(readFieldsLua);
    this.sources = sources;
    // A standalone client without a key prefix sends the scripts' calls encoded here (see `EncodedScriptCall`);
    // a Cluster (slots read from the arguments) or a client with a keyPrefix through ioredis's defined commands.
    const encoded = !('isCluster' in client && client.isCluster) && !(client as Redis).options?.keyPrefix && typeof (client as Redis).sendCommand === 'function';
    const bound = (name: ScriptName): ScriptCall => {
      if (!encoded) return named[`${name}Buffer`]!.bind(client);
      const { lua, sha } = sources[name];
      const numberOfKeys = name in fixedKeyScripts ? fixedKeyScripts[name as FixedKeyScript].numberOfKeys : undefined;
      return encodedScriptCall(client as Redis, lua, sha, numberOfKeys);
    };
    this.calls = {
      troupeAppend: bound('troupeAppend'),
      troupeLoadChain: bound('troupeLoadChain'),
      troupeHeads: bound('troupeHeads'),
      troupeSaveSnapshot: bound('troupeSaveSnapshot'),
      troupeSaveMetaString: bound('troupeSaveMetaString'),
      troupeSaveFrontier: bound('troupeSaveFrontier'),
      troupeRecordMerge: bound('troupeRecordMerge'),
      troupeCommandVersions: bound('troupeCommandVersions'),
      troupeMerge: bound('troupeMerge'),
      troupeReadFields: bound('troupeReadFields'),
    };
  }

  /**
   * A call of a script with fixed KEYS whose errors are mapped (see `CommandRunner`); `touches`
   * lists (lazily, for error reports only) keys it reaches beyond its declared ones.
   */
  fixed(name: FixedKeyScript, touches: KeysOfCommand = []): ScriptCall {
    const call = this.calls[name];
    const numberOfKeys = fixedKeyScripts[name].numberOfKeys;
    return (...args) =>
      this.runner.run(
        () => call(...args),
        () => [...args.slice(0, numberOfKeys).map(String), ...(typeof touches === 'function' ? touches() : touches)],
      );
  }

  /** `HGET keys[i] fields[i]` for every i, in one script call (all keys of one slot): the values, null where absent. */
  async readFields(keys: readonly string[], fields: readonly string[]): Promise<(Buffer | null)[]> {
    const call = this.calls.troupeReadFields;
    return (await this.runner.run(() => call(keys.length, ...keys, ...fields), keys)) as (Buffer | null)[];
  }

  /**
   * A write script (`troupeAppend`, `troupeMerge`, or `troupeCommandVersions`, which writes to make
   * its WAIT count): `keys`, then `args`. With `wait`, the script
   * and `WAIT replicas timeoutMs` go in one pipeline, so WAIT runs on the connection (the master)
   * that ran the script, right after it, and counts the replicas that have everything up to that
   * write. Sent apart, a failover in between could send WAIT to a promoted replica that never got
   * the write, which would confirm a lost write. A WRONGTYPE reply is searched for the foreign key
   * among `keys` (each script declares every key it touches).
   */
  async write(name: 'troupeAppend' | 'troupeMerge' | 'troupeCommandVersions', keys: readonly string[], args: readonly (string | Buffer | number)[], wait?: ReplicaWait): Promise<WriteReply> {
    if (!wait || wait.replicas <= 0) {
      const call = this.calls[name];
      const reply = await this.runner.run(() => (name === 'troupeMerge' ? call(keys.length, ...keys, ...args) : call(...keys, ...args)), keys);
      return { reply, replicasAcknowledged: undefined };
    }
    return this.runner.run(() => this.writeAndWait(name, keys, args, wait), keys);
  }

  private async writeAndWait(name: ScriptName, keys: readonly string[], args: readonly (string | Buffer | number)[], wait: ReplicaWait): Promise<WriteReply> {
    const { lua, sha } = this.sources[name];
    let sendSource = false;
    for (let redirections = 0; ; ) {
      // evalsha / eval directly, not the defined command: ioredis would answer NOSCRIPT by sending
      // the script again outside the pipeline, after the WAIT.
      const pipeline = this.client.pipeline();
      // The …Buffer variants (replies as Buffers, like the defined commands) exist at run time but not in ioredis's types.
      const buffered = pipeline as unknown as Record<'evalBuffer' | 'evalshaBuffer', (...args: (string | Buffer | number)[]) => unknown>;
      if (sendSource) buffered.evalBuffer(lua, keys.length, ...keys, ...args);
      else buffered.evalshaBuffer(sha, keys.length, ...keys, ...args);
      pipeline.wait(wait.replicas, wait.timeoutMs);
      const results = await pipeline.exec();
      if (!results || results.length !== 2) throw new StoreUnavailableError(this.runner.endpoint, 'the pipeline of a write and its WAIT got no reply');
      const [[scriptError, reply], [waitError, acknowledged]] = results as [[Error | null, Reply], [Error | null, number]];
      if (scriptError) {
        if (/^NOSCRIPT/.test(scriptError.message) && !sendSource) {
          sendSource = true;
          continue;
        }
        if (/^(MOVED|ASK) /.test(scriptError.message) && redirections < redirectionsMax) {
          redirections++;
          await this.refreshSlots();
          continue;
        }
        throw scriptError;
      }
      // A WAIT that failed after a script that ran: the write's replication is unknown.
      if (waitError) throw waitError;
      return { reply, replicasAcknowledged: Number(acknowledged) };
    }
  }

  /** A Cluster's slot map, read again (after MOVED / ASK); nothing for a single Redis. */
  private refreshSlots(): Promise<void> {
    const client = this.client as Cluster;
    if (!('isCluster' in client) || !client.isCluster) return Promise.resolve();
    return new Promise((resolve) => client.refreshSlotsCache(() => resolve()));
  }
}

/**
 * A script call written as one RESP buffer: `EVALSHA sha [numberOfKeys] ...args`, resent as
 * `EVAL lua ...` when Redis answers NOSCRIPT (after a restart or `SCRIPT FLUSH`; nothing ran, so
 * sending it again is safe), replies as Buffers. It does what ioredis's defined command does, but
 * ioredis builds a command from a copied, flattened argument array, a reject wrapper and a
 * `.catch` per call, and writes it through a list of strings and Buffers concatenated at the end
 * (~5 KB allocated per append, the largest allocation site of a worker); this writes every
 * argument once into one buffer of the exact size.
 */
function encodedScriptCall(client: Redis, lua: string, sha: string, numberOfKeys: number | undefined): ScriptCall {
  const head = (name: string, body: string) => `$${name.length}\r\n${name}\r\n$${Buffer.byteLength(body)}\r\n${body}\r\n` + (numberOfKeys === undefined ? '' : `$${String(numberOfKeys).length}\r\n${numberOfKeys}\r\n`);
  const evalsha = Buffer.from(head('evalsha', sha));
  const fixed = numberOfKeys === undefined ? 2 : 3;
  const send = (prefix: Buffer, args: (string | Buffer | number)[]): Promise<Reply> => {
    const command = new EncodedCommand(encodeCall(prefix, fixed, args));
    return client.sendCommand(command) as Promise<Reply>;
  };
  return (...args) =>
    send(evalsha, args).catch((error: unknown) => {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return send(Buffer.from(head('eval', lua)), args);
    });
}

/** `*<count>` + `prefix` (the command name and its first `fixed` - 1 arguments, encoded) + each argument as a bulk string. */
export function encodeCall(prefix: Buffer, fixed: number, args: readonly (string | Buffer | number)[]): Buffer {
  const count = args.length + fixed;
  // Sizes first (one buffer of the exact size); ASCII strings, most arguments (keys, versions,
  // ids), are measured and written byte by byte in JS: cheaper than Buffer.byteLength and
  // buffer.write (a native call each, with their argument checks) for strings this short.
  let size = 3 + digits(count) + prefix.length;
  const lengths: number[] = new Array(args.length);
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const length = typeof arg === 'string' ? utf8Length(arg) : Buffer.isBuffer(arg) ? arg.length : Buffer.byteLength(String(arg));
    lengths[i] = length;
    size += 5 + digits(length) + length;
  }
  const out = Buffer.allocUnsafe(size);
  out[0] = 42; // *
  let at = writeDigits(out, 1, count);
  out[at++] = 13;
  out[at++] = 10;
  at += prefix.copy(out, at);
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const length = lengths[i]!;
    out[at++] = 36; // $
    at = writeDigits(out, at, length);
    out[at++] = 13;
    out[at++] = 10;
    if (typeof arg === 'string') {
      if (length === arg.length && length <= shortString) {
        for (let c = 0; c < length; c++) out[at + c] = arg.charCodeAt(c);
        at += length;
      } else {
        at += out.write(arg, at, length, 'utf8');
      }
    } else if (Buffer.isBuffer(arg)) {
      at += arg.copy(out, at);
    } else {
      at += out.write(String(arg), at, length, 'latin1');
    }
    out[at++] = 13;
    out[at++] = 10;
  }
  return out;
}

/** Strings up to this length are measured and copied in JS when they are ASCII. */
const shortString = 128;

/** The UTF-8 length of `s`: counted in JS for short ASCII strings, else Buffer.byteLength. */
function utf8Length(s: string): number {
  if (s.length > shortString) return Buffer.byteLength(s);
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) >= 0x80) return Buffer.byteLength(s);
  return s.length;
}

/** The number of decimal digits of a non-negative integer. */
function digits(n: number): number {
  let count = 1;
  while (n >= 10) {
    n = Math.floor(n / 10);
    count++;
  }
  return count;
}

/** Writes the decimal digits of a non-negative integer at `at`; returns the position after them. */
function writeDigits(out: Buffer, at: number, n: number): number {
  const end = at + digits(n);
  for (let i = end - 1; i >= at; i--) {
    out[i] = 48 + (n % 10);
    n = Math.floor(n / 10);
  }
  return end;
}

/** An ioredis command whose bytes are already written (its `args` stay empty: nothing reads them for a standalone client). */
class EncodedCommand extends Command {
  constructor(private readonly bytes: Buffer) {
    super('evalsha', [], { replyEncoding: null });
  }

  override toWritable(): Buffer {
    return this.bytes;
  }
}
