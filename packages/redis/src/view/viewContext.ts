import type { AnyActorDefinition, ProjectionDefinition } from '@troupe/runtime';
import type { Cluster, Redis } from 'ioredis';
import type { CommandRunner } from '../redisStore/errorMapping.js';
import type { RedisStore } from '../redisStore/index.js';
import type { ResolvedViewOptions } from './viewOptions.js';
import type { ViewScripts } from './viewScripts.js';
import type { StateCache } from './stateCache.js';

/** What the parts of one view share: the store it follows (and lives beside), the client, the scripts, the projection, the options. */
export interface ViewContext<Row> {
  readonly store: RedisStore;
  readonly client: Redis | Cluster;
  readonly runner: CommandRunner;
  readonly scripts: ViewScripts;
  readonly projection: ProjectionDefinition<Row>;
  readonly definitions: ReadonlyMap<string, AnyActorDefinition>;
  readonly options: ResolvedViewOptions;
  readonly states: StateCache;
}
