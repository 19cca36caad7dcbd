import type { Cluster, Redis } from 'ioredis';
import { appendLua, commonLua, headsLua, loadChainLua, mergeLua } from '../scripts/index.js';
import type { CommandRunner, KeysOfCommand } from './errorMapping.js';

/** A reply of a troupe script, as ioredis returns it with Buffer replies. */
export type Reply = Buffer | Reply[] | number | null;
export type ScriptCall = (...args: (string | Buffer | number)[]) => Promise<Reply>;

/** Scripts with a fixed number of KEYS (the first arguments of a call). */
const fixedKeyScripts = {
  troupeAppend: { numberOfKeys: 7, lua: appendLua },
  troupeLoadChain: { numberOfKeys: 4, lua: loadChainLua },
  troupeHeads: { numberOfKeys: 2, lua: headsLua },
} as const;

export type FixedKeyScript = keyof typeof fixedKeyScripts;

/**
 * The troupe scripts on one client, registered with ioredis `defineCommand`, which sends EVALSHA
 * and falls back to EVAL when Redis answers NOSCRIPT (after a restart or `SCRIPT FLUSH`). Calls
 * use the `…Buffer` variants: packs travel as binary.
 */
export class ScriptCalls {
  private readonly calls: Record<FixedKeyScript | 'troupeMerge', ScriptCall>;

  constructor(
    client: Redis | Cluster,
    private readonly runner: CommandRunner,
  ) {
    const named = client as unknown as Record<string, ScriptCall>;
    for (const [name, definition] of Object.entries(fixedKeyScripts)) {
      client.defineCommand(name, { numberOfKeys: definition.numberOfKeys, lua: commonLua + definition.lua });
    }
    // The merge script declares a variable number of keys (6 per pack): its first argument says how many.
    client.defineCommand('troupeMerge', { lua: commonLua + mergeLua });
    const bound = (name: FixedKeyScript | 'troupeMerge'): ScriptCall => named[`${name}Buffer`]!.bind(client);
    this.calls = { troupeAppend: bound('troupeAppend'), troupeLoadChain: bound('troupeLoadChain'), troupeHeads: bound('troupeHeads'), troupeMerge: bound('troupeMerge') };
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

  /** The merge script: `keys.length`, the keys, then the arguments (see merge.lua). */
  merge(keys: readonly string[], args: readonly (string | Buffer)[]): Promise<Reply> {
    const call = this.calls.troupeMerge;
    return this.runner.run(() => call(keys.length, ...keys, ...args), keys);
  }
}
