import type { Cluster, Redis } from 'ioredis';
import type { CommandRunner } from './errorMapping.js';
import type { KeySchema } from './keySchema.js';
import type { ResolvedOptions } from './options.js';
import type { ScriptCalls } from './scriptCalls.js';
import type { StoreIdentity } from './storeIdentity.js';

/** What the store's operations (one module each) share: the client, key names, error mapping, scripts, options, the store identity. */
export interface StoreContext {
  readonly client: Redis | Cluster;
  readonly keys: KeySchema;
  readonly runner: CommandRunner;
  readonly scripts: ScriptCalls;
  readonly options: ResolvedOptions;
  readonly identity: StoreIdentity;
}
